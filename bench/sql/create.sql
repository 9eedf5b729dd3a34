-- POST /api/me/tasks with one tag: the owner's lock and counter, the task and its tag row in
-- one transaction.
\set u random(1, 1000)
BEGIN;
UPDATE "users" SET "append_seq" = "append_seq" + 1 WHERE "users"."id" = 'u' || :u AND (SELECT TRUE FROM (SELECT pg_advisory_xact_lock(hashtextextended('u' || :u, 0))) AS locked) RETURNING "append_seq";
INSERT INTO "tasks" ("id", "owner", "title", "description", "completed", "completed_at", "priority", "tags", "due_date", "version", "created_at", "updated_at") VALUES (gen_random_uuid(), 'u' || :u, 'Bench task', NULL, false, NULL, 1, '["bench"]', NULL, 1, now(), now()) RETURNING "id" AS task_id \gset
INSERT INTO "task_tags" ("task_id", "tag_key", "owner") VALUES (:task_id, 'bench', 'u' || :u) RETURNING "task_id", "tag_key";
COMMIT;

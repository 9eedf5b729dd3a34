-- POST /api/me/tasks with one tag: in one transaction the owner's lock and counter, the task
-- and its tag row. (Before the first write of each user, once per process, the API and the
-- reference also upsert the user's row.)
\set u random(1, 1000)
BEGIN;
UPDATE "users" SET "append_seq" = "append_seq" + 1 WHERE "users"."id" = 'u' || :u AND ((SELECT TRUE FROM (SELECT pg_advisory_xact_lock(hashtextextended('u' || :u, 0))) AS locked)) RETURNING "append_seq";
INSERT INTO "tasks" ("id", "owner", "title", "description", "completed", "completed_at", "priority", "tags", "due_date", "list_id", "parent_id", "position", "subtask_count", "completed_subtask_count", "version", "created_at", "updated_at", "recurrence", "timezone", "remind_at") VALUES (gen_random_uuid(), 'u' || :u, 'Bench task', NULL, false, NULL, 1, '["bench"]', NULL, NULL, NULL, 'f0' || lpad(to_hex(:u), 16, '0') || '80', 0, 0, 1, now(), now(), NULL, 'UTC', NULL) RETURNING "id" AS task_id \gset
INSERT INTO "task_tags" ("task_id", "tag_key", "owner") VALUES (:task_id, 'bench', 'u' || :u);
COMMIT;

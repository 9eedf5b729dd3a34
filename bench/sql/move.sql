-- POST /api/me/tasks/{id}/move with {} (last, among the siblings it has): the read of the
-- service, then one statement, in its own transaction: the owner's lock and next append
-- number, and the task placed by it, if still at the version read (numbered as the owner's
-- latest change). The API then relays the owner to other instances with one pg_notify per
-- 10 ms for all its writes, which is not repeated here. A move to the front ({"after":null})
-- keeps the transaction: the read, then under the owner's lock the task again, the first
-- sibling's position, and the update. Runs with `pgbench -M prepared`.
\set u random(1, 1000)
\set n random(6, 45)
SELECT "tasks"."id", "tasks"."owner", "tasks"."title", "tasks"."description", "tasks"."completed", "tasks"."completed_at", "tasks"."priority", "tasks"."tags", "tasks"."due_date", "tasks"."list_id", "tasks"."parent_id", "tasks"."position", "tasks"."subtask_count", "tasks"."completed_subtask_count", "tasks"."version", "tasks"."created_at", "tasks"."updated_at", "tasks"."recurrence", "tasks"."timezone", "tasks"."remind_at" FROM "tasks" WHERE "tasks"."id" = md5('u' || :u || '-' || :n)::uuid AND "tasks"."owner" = 'u' || :u LIMIT 1 \gset read_
WITH "appended" AS (UPDATE "users" SET "append_seq" = "append_seq" + 1 WHERE "users"."id" = 'u' || :u AND ((SELECT TRUE FROM (SELECT pg_advisory_xact_lock(hashtextextended('u' || :u, 0))) AS locked)) RETURNING "append_seq") UPDATE "tasks" SET "created_seq" = COALESCE(created_seq, changed_seq), "changed_seq" = nextval('change_numbers'), "position" = 'f0' || lpad(to_hex("append_seq"), 16, '0') || '80', "version" = "version" + 1, "updated_at" = now() FROM "appended" WHERE "tasks"."id" = md5('u' || :u || '-' || :n)::uuid AND "tasks"."owner" = 'u' || :u AND "tasks"."parent_id" IS NULL AND "tasks"."list_id" IS NULL AND "tasks"."version" = :read_version::bigint RETURNING "id", "owner", "title", "description", "completed", "completed_at", "priority", "tags", "due_date", "list_id", "parent_id", "position", "subtask_count", "completed_subtask_count", "version", "created_at", "updated_at", "recurrence", "timezone", "remind_at";

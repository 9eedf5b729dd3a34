-- POST /api/me/tasks/{id}/move with {} (last): the read of the service, then the owner-locked
-- write: the owner's lock and next append number, the task again, the update (numbered as
-- the owner's latest change). The API then relays the owner to other instances with one
-- pg_notify per 10 ms for all its writes, which is not repeated here.
\set u random(1, 1000)
\set n random(6, 45)
SELECT "tasks"."id", "tasks"."owner", "tasks"."title", "tasks"."description", "tasks"."completed", "tasks"."completed_at", "tasks"."priority", "tasks"."tags", "tasks"."due_date", "tasks"."list_id", "tasks"."parent_id", "tasks"."position", "tasks"."subtask_count", "tasks"."completed_subtask_count", "tasks"."version", "tasks"."created_at", "tasks"."updated_at", "tasks"."recurrence", "tasks"."timezone", "tasks"."remind_at" FROM "tasks" WHERE "tasks"."id" = md5('u' || :u || '-' || :n)::uuid AND "tasks"."owner" = 'u' || :u LIMIT 1;
BEGIN;
UPDATE "users" SET "append_seq" = "append_seq" + 1 WHERE "users"."id" = 'u' || :u AND ((SELECT TRUE FROM (SELECT pg_advisory_xact_lock(hashtextextended('u' || :u, 0))) AS locked)) RETURNING "append_seq";
SELECT "tasks"."id", "tasks"."owner", "tasks"."title", "tasks"."description", "tasks"."completed", "tasks"."completed_at", "tasks"."priority", "tasks"."tags", "tasks"."due_date", "tasks"."list_id", "tasks"."parent_id", "tasks"."position", "tasks"."subtask_count", "tasks"."completed_subtask_count", "tasks"."version", "tasks"."created_at", "tasks"."updated_at", "tasks"."recurrence", "tasks"."timezone", "tasks"."remind_at" FROM "tasks" WHERE "tasks"."id" = md5('u' || :u || '-' || :n)::uuid AND "tasks"."owner" = 'u' || :u LIMIT 1;
UPDATE "tasks" SET "created_seq" = COALESCE(created_seq, changed_seq), "changed_seq" = nextval('change_numbers'), "list_id" = NULL, "parent_id" = NULL, "position" = 'ff' || lpad(to_hex(:n::int), 2, '0') || '80', "version" = "version" + 1, "updated_at" = now() WHERE "tasks"."id" = md5('u' || :u || '-' || :n)::uuid AND "tasks"."owner" = 'u' || :u RETURNING "id", "owner", "title", "description", "completed", "completed_at", "priority", "tags", "due_date", "list_id", "parent_id", "position", "subtask_count", "completed_subtask_count", "version", "created_at", "updated_at", "recurrence", "timezone", "remind_at";
COMMIT;

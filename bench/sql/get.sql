-- GET /api/me/tasks/{id}: ownership in the same statement.
\set u random(1, 1000)
\set n random(1, 50)
SELECT "tasks"."id", "tasks"."owner", "tasks"."title", "tasks"."description", "tasks"."completed", "tasks"."completed_at", "tasks"."priority", "tasks"."tags", "tasks"."due_date", "tasks"."list_id", "tasks"."parent_id", "tasks"."position", "tasks"."subtask_count", "tasks"."completed_subtask_count", "tasks"."version", "tasks"."created_at", "tasks"."updated_at", "tasks"."recurrence", "tasks"."timezone", "tasks"."remind_at" FROM "tasks" WHERE "tasks"."id" = md5('u' || :u || '-' || :n)::uuid AND "tasks"."owner" = 'u' || :u LIMIT 1;

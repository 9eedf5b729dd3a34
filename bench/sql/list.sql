-- GET /api/me/tasks (the default listing): the page and the total in one statement.
\set u random(1, 1000)
SELECT "tasks"."id", "tasks"."owner", "tasks"."title", "tasks"."description", "tasks"."completed", "tasks"."completed_at", "tasks"."priority", "tasks"."tags", "tasks"."due_date", "tasks"."version", "tasks"."created_at", "tasks"."updated_at", COUNT(*) OVER () AS "total" FROM "tasks" WHERE "tasks"."owner" = 'u' || :u ORDER BY "created_at" DESC, "tasks"."id" DESC LIMIT 100 OFFSET 0;

-- GET /api/me/tasks?list_id=inbox&sort=position: the page and the total in one statement.
\set u random(1, 1000)
SELECT "tasks".*, COUNT(*) OVER () AS "total" FROM "tasks" WHERE "tasks"."owner" = 'u' || :u AND "tasks"."list_id" IS NULL ORDER BY tasks.list_id IS NOT NULL, (SELECT l.position FROM lists l WHERE l.id = tasks.list_id), tasks.list_id, COALESCE((SELECT p.position FROM tasks p WHERE p.id = tasks.parent_id), tasks.position), COALESCE(tasks.parent_id, tasks.id), tasks.parent_id IS NOT NULL, tasks.position, tasks.id LIMIT 100 OFFSET 0;

-- PATCH /api/me/tasks/{id} with If-Match, tags unchanged: the read, then the version-guarded
-- write in one statement.
\set u random(1, 1000)
\set n random(1, 50)
SELECT "tasks"."id", "tasks"."owner", "tasks"."title", "tasks"."description", "tasks"."completed", "tasks"."completed_at", "tasks"."priority", "tasks"."tags", "tasks"."due_date", "tasks"."version" AS v, "tasks"."created_at", "tasks"."updated_at" FROM "tasks" WHERE "tasks"."id" = md5('u' || :u || '-' || :n)::uuid AND "tasks"."owner" = 'u' || :u LIMIT 1 \gset
UPDATE "tasks" SET "title" = 'Renamed', "description" = NULL, "completed" = false, "completed_at" = NULL, "priority" = 1, "tags" = '[]', "due_date" = NULL, "version" = :v + 1, "updated_at" = now(), "created_seq" = COALESCE(created_seq, changed_seq), "changed_seq" = nextval('change_numbers') WHERE "tasks"."id" = md5('u' || :u || '-' || :n)::uuid AND "tasks"."owner" = 'u' || :u AND "tasks"."version" = :v AND (SELECT TRUE FROM (SELECT pg_advisory_xact_lock(hashtextextended('u' || :u, 0))) AS locked);

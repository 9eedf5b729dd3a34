-- PATCH /api/me/tasks/{id}/complete: one statement, no read first; it takes the owner's lock
-- and numbers the row for the change log.
\set u random(1, 1000)
\set n random(1, 50)
UPDATE "tasks" SET "completed" = NOT "completed", "completed_at" = (CASE WHEN (false) THEN "completed_at" WHEN (NOT "completed") THEN now() ELSE NULL END), "version" = (CASE WHEN (false) THEN "version" ELSE "version" + 1 END), "updated_at" = (CASE WHEN (false) THEN "updated_at" ELSE now() END), "created_seq" = COALESCE(created_seq, changed_seq), "changed_seq" = nextval('change_numbers') WHERE "tasks"."id" = md5('u' || :u || '-' || :n)::uuid AND "tasks"."owner" = 'u' || :u AND (SELECT TRUE FROM (SELECT pg_advisory_xact_lock(hashtextextended('u' || :u, 0))) AS locked) RETURNING "id", "owner", "title", "description", "completed", "completed_at", "priority", "tags", "due_date", "version", "created_at", "updated_at";

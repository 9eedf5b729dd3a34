-- POST /api/me/tasks/{id}/move with {} (last): the read of the service, then the owner-locked
-- write: the task, the last sibling, the update, the task again.
\set u random(1, 1000)
\set n random(6, 45)
SELECT * FROM "tasks" WHERE "tasks"."id" = md5('u' || :u || '-' || :n)::uuid AND "tasks"."owner" = 'u' || :u;
BEGIN;
SELECT 1 FROM "users" WHERE "users"."id" = 'u' || :u FOR UPDATE;
SELECT * FROM "tasks" WHERE "tasks"."id" = md5('u' || :u || '-' || :n)::uuid AND "tasks"."owner" = 'u' || :u;
SELECT MAX("position") FROM "tasks" WHERE "owner" = 'u' || :u AND "list_id" IS NULL AND "parent_id" IS NULL AND "id" <> md5('u' || :u || '-' || :n)::uuid;
UPDATE "tasks" SET "list_id" = NULL, "parent_id" = NULL, "position" = 'ff' || lpad(to_hex(:n::int), 2, '0') || '80', "version" = "version" + 1, "updated_at" = now() WHERE "id" = md5('u' || :u || '-' || :n)::uuid AND "owner" = 'u' || :u;
SELECT * FROM "tasks" WHERE "tasks"."id" = md5('u' || :u || '-' || :n)::uuid AND "tasks"."owner" = 'u' || :u;
COMMIT;

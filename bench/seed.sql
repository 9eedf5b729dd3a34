-- The benchmark's data: 1,000 users (u1 … u1000) with 50 tasks each in the inbox, ids derived
-- from (user, n) so that pgbench scripts can name a task without a lookup. Every other task
-- has a tag, every fifth a due date, every fourth is done. Tasks 46 to 50 are subtasks of
-- tasks 1 to 5 (the position scenario's "50 tasks, 5 with subtasks"); positions follow
-- creation order.
INSERT INTO users (id, email, name, created_at, updated_at)
SELECT 'u' || u, 'u' || u || '@example.com', 'User ' || u, now(), now()
FROM generate_series(1, 1000) AS u;

INSERT INTO tasks (id, owner, title, description, completed, completed_at, priority, tags,
                   due_date, version, created_at, updated_at, parent_id, position)
SELECT md5('u' || u || '-' || n)::uuid,
       'u' || u,
       'Task ' || n || ' of user ' || u,
       CASE WHEN n % 3 = 0 THEN 'A description of task ' || n END,
       n % 4 = 0,
       CASE WHEN n % 4 = 0 THEN now() END,
       n % 3,
       CASE WHEN n % 2 = 0 THEN '["work"]' ELSE '[]' END,
       CASE WHEN n % 5 = 0 THEN now() + n * interval '1 day' END,
       1,
       now() - n * interval '1 minute',
       now(),
       CASE WHEN n > 45 THEN md5('u' || u || '-' || (n - 45))::uuid END,
       lpad(to_hex(51 - n), 2, '0') || '80'
FROM generate_series(1, 1000) AS u, generate_series(1, 50) AS n
-- Each user's rows together, as the listing finds them in a real table.
ORDER BY u, n;

UPDATE tasks AS p
SET subtask_count = 1,
    completed_subtask_count = (SELECT COUNT(*) FROM tasks s WHERE s.owner = p.owner AND s.parent_id = p.id AND s.completed)
WHERE EXISTS (SELECT 1 FROM tasks s WHERE s.owner = p.owner AND s.parent_id = p.id);

INSERT INTO task_tags (task_id, owner, tag_key)
SELECT id, owner, 'work' FROM tasks WHERE tags = '["work"]';

VACUUM ANALYZE;

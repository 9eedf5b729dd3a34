-- wrk script for one scenario of bench/run:
--   wrk ... -s bench/scenario.lua -- SCENARIO TOKENS_FILE TASKS_FILE THREADS
-- SCENARIO: list, get, create, toggle, update, position (the inbox in manual order: 50 tasks,
-- 5 of them with a subtask), move (a task to the front or the end of its siblings), changes (a
-- device catching up: the user's changes since their tenth-last one) or mixed (70% list, 10%
-- each create, toggle, get; bench/run's database_scripts gives pgbench the same weights).
-- TOKENS_FILE: "<n> <token>" per user; TASKS_FILE: "<n> <task id> <version> <cursor>" per task
-- (the tasks without parent or subtasks; the cursor is the user's, the same on each line).
-- Each thread owns the users n with n % THREADS == its index, so that the If-Match updates of
-- one thread never race another's; requests rotate among those users' tokens.

local next_thread = 0

function setup(thread)
    thread:set("thread_index", next_thread)
    next_thread = next_thread + 1
end

function init(args)
    scenario = args[1]
    local threads = tonumber(args[4])
    tokens = {}
    for line in io.lines(args[2]) do
        local n, token = line:match("^(%d+) (%S+)$")
        tokens[tonumber(n)] = { ["Authorization"] = "Bearer " .. token }
    end
    tasks = {}
    etags = {}
    cursors = {}
    local seen = {}
    for line in io.lines(args[3]) do
        local n, id, version, cursor = line:match("^(%d+) (%S+) (%d+) (%d+)$")
        n = tonumber(n)
        cursors[n] = cursor
        if n % threads == thread_index then
            seen[n] = (seen[n] or 0) + 1
            tasks[#tasks + 1] = { user = n, id = id, rank = seen[n] }
            etags[id] = '"' .. version .. '"'
        end
    end
    -- Each user's first task, then each one's second...: consecutive requests (and so the
    -- connections' concurrent ones) are different users', as from many people at once, not
    -- sixteen writes of one user racing for that user's lock.
    table.sort(tasks, function(a, b)
        if a.rank ~= b.rank then return a.rank < b.rank end
        return a.user < b.user
    end)
    math.randomseed(os.time() + thread_index)
    cursor = 0
    if scenario ~= "update" then
        response = nil
    end
end

local json = { ["Content-Type"] = "application/json" }

local function headers(user, extra)
    local h = {}
    for k, v in pairs(tokens[user]) do h[k] = v end
    for k, v in pairs(extra or {}) do h[k] = v end
    return h
end

local function any_task()
    return tasks[math.random(#tasks)]
end

local requests = {
    list = function()
        return wrk.format("GET", "/api/me/tasks", tokens[any_task().user])
    end,
    get = function()
        local task = any_task()
        return wrk.format("GET", "/api/me/tasks/" .. task.id, tokens[task.user])
    end,
    create = function()
        local task = any_task()
        return wrk.format("POST", "/api/me/tasks", headers(task.user, json),
            '{"title":"Bench task","tags":["bench"]}')
    end,
    position = function()
        return wrk.format("GET", "/api/me/tasks?list_id=inbox&sort=position", tokens[any_task().user])
    end,
    move = function()
        local task = any_task()
        local body = math.random(2) == 1 and '{"after":null}' or '{}'
        return wrk.format("POST", "/api/me/tasks/" .. task.id .. "/move", headers(task.user, json), body)
    end,
    changes = function()
        local user = any_task().user
        return wrk.format("GET", "/api/me/changes?since=" .. cursors[user], tokens[user])
    end,
    toggle = function()
        local task = any_task()
        return wrk.format("PATCH", "/api/me/tasks/" .. task.id .. "/complete", tokens[task.user])
    end,
    update = function()
        -- Round robin: a task comes back only after every other task of the thread, long
        -- after its previous update answered with the new ETag.
        cursor = cursor + 1
        local task = tasks[(cursor % #tasks) + 1]
        return wrk.format("PATCH", "/api/me/tasks/" .. task.id,
            headers(task.user, { ["Content-Type"] = "application/json", ["If-Match"] = etags[task.id] }),
            '{"title":"Renamed ' .. thread_index .. "-" .. cursor .. '"}')
    end,
}

function request()
    if scenario == "mixed" then
        local roll = math.random(100)
        if roll <= 70 then return requests.list() end
        if roll <= 80 then return requests.create() end
        if roll <= 90 then return requests.toggle() end
        return requests.get()
    end
    return requests[scenario]()
end

function response(status, headers, body)
    if status == 200 then
        local id = body:match('"id":"([^"]+)"')
        if id then etags[id] = headers["ETag"] or headers["etag"] end
    end
end

function done(summary, latency, requests)
    local errors = summary.errors
    io.write(string.format(
        "RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f errors=%d requests=%d\n",
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        latency:percentile(99.9) / 1000, latency.max / 1000,
        errors.connect + errors.read + errors.write + errors.status + errors.timeout,
        summary.requests))
end

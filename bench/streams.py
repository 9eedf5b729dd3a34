"""Live events under load (bench/streams): many open event streams on one instance, writes on
another, and the time from each write to its event on every stream of the writer's user.

    python3 bench/streams.py STREAM_URL WRITE_URL TOKENS TASKS STREAMS RATE SECONDS RSS_PID

Opens STREAMS streams on STREAM_URL (spread over the users of TOKENS, at most 10 each), then
toggles tasks of TASKS through WRITE_URL at RATE writes a second for SECONDS, and prints the
figures as `RESULT key=value ...`. A write's latency is measured from the moment its request is
sent (before the commit, so an upper bound of commit-to-delivery) to the moment an event for
its task arrives on a stream; every stream of the user counts. Standard library only.
"""

import asyncio
import json
import random
import resource
import sys
import time
from urllib.parse import urlsplit


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def read_head(reader):
    """The status code and headers of a response."""
    status = int((await reader.readline()).split()[1])
    headers = {}
    while True:
        line = (await reader.readline()).decode().strip()
        if not line:
            return status, headers
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()


class Run:
    def __init__(self):
        # task id -> [(sent at, the set of streams that got it)]
        self.writes = {}
        self.latencies = []
        self.opened = 0
        self.refused = 0
        self.events = 0
        self.write_errors = 0

    def delivered(self, task_id, stream, at):
        for sent, seen in self.writes.get(task_id, ()):
            if stream not in seen and at >= sent:
                seen.add(stream)
                self.latencies.append(at - sent)
                return


async def stream(run, url, token, number, ready):
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(
        (f"GET /api/me/events HTTP/1.1\r\nHost: {parts.netloc}\r\n"
         f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n").encode()
    )
    await writer.drain()
    status, headers = await read_head(reader)
    if status != 200:
        run.refused += 1
        ready.release()
        writer.close()
        return
    run.opened += 1
    ready.release()
    chunked = headers.get("transfer-encoding") == "chunked"
    buffer = b""
    while True:
        if chunked:
            size = int((await reader.readline()).strip() or b"0", 16)
            if size == 0:
                return
            data = await reader.readexactly(size)
            await reader.readexactly(2)
        else:
            data = await reader.read(65536)
            if not data:
                return
        buffer += data
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            for line in block.split(b"\n"):
                if line.startswith(b"data: {"):
                    run.events += 1
                    task_id = json.loads(line[6:]).get("id")
                    run.delivered(task_id, number, time.monotonic())


async def writer_loop(run, url, tasks, tokens, rate, seconds, connections):
    parts = urlsplit(url)
    interval = connections / rate
    start = time.monotonic()

    async def one(offset):
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        n = 0
        while True:
            due = start + offset * interval / connections + n * interval
            if due - start > seconds:
                writer.close()
                return
            await asyncio.sleep(max(0, due - time.monotonic()))
            user, task_id = random.choice(tasks)
            sent = time.monotonic()
            run.writes.setdefault(task_id, []).append((sent, set()))
            writer.write(
                (f"PATCH /api/me/tasks/{task_id}/complete HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                 f"Authorization: Bearer {tokens[user]}\r\nContent-Length: 0\r\n\r\n").encode()
            )
            await writer.drain()
            status, headers = await read_head(reader)
            await reader.readexactly(int(headers.get("content-length", "0")))
            if status != 200:
                run.write_errors += 1
            n += 1

    await asyncio.gather(*(one(i) for i in range(connections)))


async def main():
    stream_url, write_url, tokens_file, tasks_file = sys.argv[1:5]
    streams, rate, seconds, rss_pid = (int(a) for a in sys.argv[5:9])
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tokens = {}
    with open(tokens_file) as f:
        for line in f:
            user, token = line.split()
            tokens[user] = token
    users = sorted(tokens, key=int)
    per_user = -(-streams // len(users))
    followed = users[: -(-streams // per_user)]
    tasks = []
    with open(tasks_file) as f:
        for line in f:
            user, task_id, _ = line.split()
            if user in followed:
                tasks.append((user, task_id))

    run = Run()
    rss_before = rss_mb(rss_pid)
    ready = asyncio.Semaphore(0)
    readers = [
        asyncio.create_task(stream(run, stream_url, tokens[followed[n % len(followed)]], n, ready))
        for n in range(streams)
    ]
    for _ in range(streams):
        await ready.acquire()
    await asyncio.sleep(2)
    rss_open = rss_mb(rss_pid)
    # What stays once the allocator has returned what the burst of connections used.
    await asyncio.sleep(15)
    rss_settled = rss_mb(rss_pid)
    await writer_loop(run, write_url, tasks, tokens, rate, seconds, connections=16)
    await asyncio.sleep(2)
    rss_after = rss_mb(rss_pid)
    writes = sum(len(w) for w in run.writes.values())
    expected = writes * per_user
    ms = [l * 1000 for l in run.latencies]
    print(
        f"RESULT streams={run.opened} refused={run.refused} rss_before_mb={rss_before:.1f} "
        f"rss_open_mb={rss_open:.1f} rss_settled_mb={rss_settled:.1f} "
        f"rss_after_mb={rss_after:.1f} writes={writes} "
        f"write_errors={run.write_errors} deliveries={len(ms)} expected={expected} "
        f"p50_ms={percentile(ms, 0.5):.1f} p99_ms={percentile(ms, 0.99):.1f} "
        f"max_ms={max(ms, default=float('nan')):.1f}"
    )
    for task in readers:
        task.cancel()


asyncio.run(main())

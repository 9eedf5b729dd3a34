#!/usr/bin/env python3
"""Checks that the reference server answers the benchmark's requests as the API does.

    bench/compat.py API_URL REFERENCE_URL TOKEN TASK_ID

One request of each scenario to each server, as the same user on the same seeded data: the
bodies and the ETag and X-Total-Count headers must be the same bytes, once what differs by
nature is masked (a new task's id, position and timestamps; a toggled or renamed task's state
and version, since the second request finds the first one's change). Last, the changes since
the first request, a tombstone among them, read by both. Exits 1 with both answers on the
first difference.
"""

import json
import re
import sys
import urllib.request

api, reference, token, task = sys.argv[1:5]


def call(base, method, path, body=None, headers=None):
    headers = {"Authorization": f"Bearer {token}", **(headers or {})}
    if body is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers=headers,
    )
    with urllib.request.urlopen(request) as response:
        kept = {name: response.headers.get(name) for name in ("ETag", "X-Total-Count")}
        return response.status, kept, response.read().decode()


def masked(text, fields):
    for field in fields:
        text = re.sub(rf'"{field}":("[^"]*"|true|false|null|\d+)', f'"{field}":*', text)
    return text


def same(scenario, first, second, fields=(), etag_differs=False):
    (status_a, headers_a, body_a), (status_b, headers_b, body_b) = first, second
    if etag_differs:
        headers_a, headers_b = dict(headers_a, ETag="*"), dict(headers_b, ETag="*")
    a, b = (status_a, headers_a, masked(body_a, fields)), (status_b, headers_b, masked(body_b, fields))
    if a != b:
        print(f"{scenario}: the reference answers otherwise\n  API:       {a}\n  reference: {b}")
        sys.exit(1)
    print(f"{scenario}: same bytes")


# Where the changes this check makes begin: a snapshot of everything ends at the user's head.
_, _, snapshot = call(api, "GET", "/api/me/changes?limit=1000")
start = json.loads(snapshot)["cursor"]

same("list", call(api, "GET", "/api/me/tasks"), call(reference, "GET", "/api/me/tasks"))
inbox = "/api/me/tasks?list_id=inbox&sort=position"
same("position", call(api, "GET", inbox), call(reference, "GET", inbox))
same("get", call(api, "GET", f"/api/me/tasks/{task}"), call(reference, "GET", f"/api/me/tasks/{task}"))
same(
    "toggle",
    call(api, "PATCH", f"/api/me/tasks/{task}/complete"),
    call(reference, "PATCH", f"/api/me/tasks/{task}/complete"),
    fields=("completed", "completed_at", "updated_at"),
    etag_differs=True,
)


def rename(base):
    _, headers, _ = call(base, "GET", f"/api/me/tasks/{task}")
    return call(base, "PATCH", f"/api/me/tasks/{task}", {"title": "Compat"}, {"If-Match": headers["ETag"]})


same("update", rename(api), rename(reference), fields=("updated_at",), etag_differs=True)
body = {"title": "Bench task", "tags": ["bench"]}
created = call(api, "POST", "/api/me/tasks", body)
same(
    "create",
    created,
    call(reference, "POST", "/api/me/tasks", body),
    fields=("id", "position", "created_at", "updated_at"),
)

# Either end of the inbox is the place of the next append number, which each takes anew.
front = f"/api/me/tasks/{task}/move"
same(
    "move",
    call(api, "POST", front, {"after": None}),
    call(reference, "POST", front, {"after": None}),
    fields=("position", "updated_at"),
    etag_differs=True,
)
same(
    "move",
    call(api, "POST", front, {}),
    call(reference, "POST", front, {}),
    fields=("position", "updated_at"),
    etag_differs=True,
)

call(api, "DELETE", f"/api/me/tasks/{json.loads(created[2])['id']}")
since = f"/api/me/changes?since={start}"
same("changes", call(api, "GET", since), call(reference, "GET", since))

// The built client (dist/) against the real server binary (TODO_API_BIN, default the debug
// build) on a fresh SQLite file, with HS256 tokens from `todo-api token`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ProblemError,
  createTodoClient,
  etagOf,
  followEvents,
  idempotencyKey,
  ifMatch,
  unwrap,
} from "../dist/index.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const binary = process.env.TODO_API_BIN ?? join(root, "target", "debug", "todo-api");
const env = { ...process.env, APP_ENV: "development", BETTER_AUTH_SECRET: randomBytes(32).toString("hex"), RUST_LOG: "error" };
let server;
let work;
let baseUrl;

const token = (sub) => execFileSync(binary, ["token", "--sub", sub], { env }).toString().trim();
const me = { params: { path: { user_id: "me" } } };

before(async () => {
  work = await mkdtemp(join(tmpdir(), "todo-client-"));
  const port = await new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  baseUrl = `http://127.0.0.1:${port}`;
  Object.assign(env, { HOST: "127.0.0.1", PORT: String(port), DATABASE_URL: `sqlite://${work}/client.db?mode=rwc` });
  server = spawn(binary, ["serve"], { env, stdio: "inherit" });
  for (let i = 0; i < 200; i += 1) {
    if (await fetch(`${baseUrl}/health`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the server never answered");
});

after(async () => {
  server?.kill();
  if (work) await rm(work, { recursive: true, force: true });
});

test("typed calls with the token from the callback; problems thrown with their fields", async () => {
  let asked = 0;
  const alice = token("alice");
  const api = createTodoClient({ baseUrl, token: () => { asked += 1; return alice; } });

  const created = await unwrap(
    api.POST("/api/{user_id}/tasks", { ...me, body: { title: "Buy milk", tags: ["home"] }, headers: idempotencyKey() }),
  );
  assert.equal(created.title, "Buy milk");
  const tasks = await unwrap(api.GET("/api/{user_id}/tasks", me));
  assert.deepEqual(tasks.map((t) => t.id), [created.id]);
  assert.equal(asked, 2, "the token is asked for each request");

  await assert.rejects(
    unwrap(api.POST("/api/{user_id}/tasks", { ...me, body: { title: "" } })),
    (error) => {
      assert.ok(error instanceof ProblemError);
      assert.equal(error.status, 422);
      assert.equal(error.code, "validation_failed");
      assert.deepEqual(error.errors.map((e) => e.field), ["title"]);
      assert.match(error.detail, /title/);
      return true;
    },
  );
  const anonymous = createTodoClient({ baseUrl });
  await assert.rejects(unwrap(anonymous.GET("/api/me")), { status: 401, code: "unauthorized" });
});

test("If-Match from an ETag: the version seen, or 412", async () => {
  const api = createTodoClient({ baseUrl, token: () => token("bob") });
  const created = await unwrap(api.POST("/api/{user_id}/tasks", { ...me, body: { title: "Draft" } }));
  const path = { params: { path: { user_id: "me", id: created.id } } };
  const read = await api.GET("/api/{user_id}/tasks/{id}", path);
  const etag = etagOf(read);
  assert.ok(etag);

  const renamed = await unwrap(api.PATCH("/api/{user_id}/tasks/{id}", { ...path, body: { title: "Final" }, headers: ifMatch(etag) }));
  assert.equal(renamed.title, "Final");
  await assert.rejects(
    unwrap(api.PATCH("/api/{user_id}/tasks/{id}", { ...path, body: { title: "Lost" }, headers: ifMatch(etag) })),
    { status: 412, code: "precondition_failed" },
  );
});

test("events follow live, and resume after the last one seen", async () => {
  const api = createTodoClient({ baseUrl, token: () => token("carol") });
  const seen = [];
  let wake;
  let opened;
  const open = new Promise((resolve) => (opened = resolve));
  // Where the client's copy stands (a snapshot's cursor), so that nothing after it is missed,
  // whenever the stream starts.
  const { cursor } = await unwrap(api.GET("/api/{user_id}/changes", me));
  const following = followEvents(api, "me", {
    lastEventId: cursor,
    onEvent: (event) => {
      seen.push(event);
      wake?.();
    },
    onOpen: opened,
    retryMs: 100,
  });
  const next = (count) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`saw ${JSON.stringify(seen)}`)), 10_000);
      wake = () => {
        if (seen.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      };
      wake();
    });
  await open;
  const first = await unwrap(api.POST("/api/{user_id}/tasks", { ...me, body: { title: "one" } }));
  await next(1);
  assert.equal(seen[0].name, "task.created");
  assert.equal(seen[0].data.id, first.id);
  following.close();
  const resumeFrom = following.lastEventId;
  assert.equal(resumeFrom, seen[0].id);

  // Missed while closed, delivered on resuming from the last id.
  const second = await unwrap(api.POST("/api/{user_id}/tasks", { ...me, body: { title: "two" } }));
  const resumed = followEvents(api, "me", { lastEventId: resumeFrom, onEvent: (event) => { seen.push(event); wake?.(); }, retryMs: 100 });
  await next(2);
  resumed.close();
  assert.equal(seen[1].name, "task.created");
  assert.equal(seen[1].data.id, second.id);
});

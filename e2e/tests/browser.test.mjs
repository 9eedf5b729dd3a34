// The real path: Better Auth (server.mjs) issues the tokens, a page in Debian's headless
// Chromium calls the real API with them (cross-origin, with preflights). The API trusts Better
// Auth's JWKS and the shared secret at once, as a deployment with both modes would.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const e2e = join(dirname(fileURLToPath(import.meta.url)), "..");
const binary = process.env.TODO_API_BIN ?? join(e2e, "..", "target", "debug", "todo-api");
const artifacts = join(e2e, "artifacts");
const frontend = "http://localhost:3000";
// Better Auth mints a new key this often; the API refreshes its key set at most every 30 s.
const ROTATION_SECONDS = 30;
const secret = randomBytes(32).toString("hex");
const children = [];
let work;
let browser;
let startedAt;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** Starts a process whose output is kept for the failure message. */
function start(command, args, env) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, cwd: e2e });
  child.output = "";
  child.stdout.on("data", (chunk) => (child.output += chunk));
  child.stderr.on("data", (chunk) => (child.output += chunk));
  children.push(child);
  return child;
}

async function waitFor(url, child) {
  for (let i = 0; i < 200; i += 1) {
    if (child.exitCode !== null) throw new Error(`exited early:\n${child.output}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never answered:\n${child.output}`);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), "todo-e2e-"));
  await mkdir(artifacts, { recursive: true });
  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const web = start(process.execPath, ["server.mjs"], {
    PORT: "3000",
    API_URL: apiUrl,
    BETTER_AUTH_SECRET: secret,
    JWT_ROTATION_SECONDS: String(ROTATION_SECONDS),
  });
  await waitFor(`${frontend}/config.json`, web);
  const api = start(binary, ["serve"], {
    APP_ENV: "development",
    HOST: "127.0.0.1",
    PORT: String(apiPort),
    DATABASE_URL: `sqlite://${work}/e2e.db?mode=rwc`,
    BETTER_AUTH_SECRET: secret,
    BETTER_AUTH_JWKS_URL: `http://127.0.0.1:3000/api/auth/jwks`,
    BETTER_AUTH_ISSUER: frontend,
    BETTER_AUTH_AUDIENCE: frontend,
    CORS_ORIGINS: frontend,
    RUST_LOG: "warn",
  });
  await waitFor(`${apiUrl}/health`, api);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  startedAt = Date.now();
});

after(async () => {
  await browser?.close();
  for (const child of children) child.kill();
  if (work) await rm(work, { recursive: true, force: true });
});

/** A new browser profile signed up (or, with `signIn`, in) as `name` in `mode`; returns its page. */
async function signUp(name, mode = "jwks", signIn = false) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`page error (${name}):`, error));
  await page.goto(frontend);
  await page.fill("#sign-up input[name=name]", name);
  await page.fill("input[name=email]", `${name}@example.com`);
  await page.fill("input[name=password]", "correct horse battery staple");
  await page.selectOption("select[name=mode]", mode);
  await page.click(signIn ? "#sign-in" : "#sign-up button:text('Sign up')");
  await page.waitForSelector(`text=signed in as ${name}@example.com`);
  // The tasks are loaded and the page follows their changes.
  await page.waitForSelector("body[data-following=true]");
  return page;
}

const titles = (page) => page.locator("#tasks .title").allTextContents();
const exactly = (text) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
const task = (page, title) => page.locator("#tasks li", { has: page.locator(".title", { hasText: exactly(title) }) });

async function add(page, title) {
  await page.fill("input[name=title]", title);
  await page.click("#new-task button:text('Add')");
}

test("a Better Auth user lists, creates, renames, toggles and deletes tasks from the browser", async () => {
  const page = await signUp("alice");
  assert.equal(await page.locator("#token-info").getAttribute("data-alg"), "EdDSA");
  assert.ok(await page.locator("#empty").isVisible(), "a new user has no tasks");

  await add(page, "Buy milk");
  await task(page, "Buy milk").waitFor();
  await add(page, "Call mum");
  await task(page, "Call mum").waitFor();
  assert.deepEqual(await titles(page), ["Buy milk", "Call mum"]);

  await task(page, "Buy milk").locator(".rename-input").fill("Buy oat milk");
  await task(page, "Buy milk").locator("button:text('Rename')").click();
  await task(page, "Buy oat milk").waitFor();

  await task(page, "Call mum").locator("button:text('Done')").click();
  await page.locator("#tasks li.done", { hasText: "Call mum" }).waitFor();

  // A due date, given in the page's local time, comes back as the same moment.
  await page.fill("input[name=due]", "2031-05-04T09:30");
  await add(page, "Dentist");
  const due = await task(page, "Dentist").locator(".due").textContent();
  const expected = new Date(Date.parse("2031-05-04T09:30")).toISOString().slice(0, 16).replace("T", " ");
  assert.equal(due, `due ${expected}`);
  // The other fields, edited in one change.
  const dentist = task(page, "Dentist");
  await dentist.locator("summary").click();
  await dentist.locator("textarea").fill("Bring the forms");
  await dentist.locator("select[name=priority]").selectOption("high");
  await dentist.locator("button:text('Save')").click();
  await task(page, "Dentist").locator(".priority.high").waitFor();
  assert.equal(await task(page, "Dentist").locator(".description").textContent(), "Bring the forms");
  assert.equal(await task(page, "Dentist").locator(".due").textContent(), due, "the due date is kept");
  await task(page, "Dentist").locator("button:text('Delete')").click();
  await task(page, "Dentist").waitFor({ state: "detached" });

  await add(page, "Throw away");
  await task(page, "Throw away").locator("button:text('Delete')").click();
  await task(page, "Throw away").waitFor({ state: "detached" });
  assert.deepEqual(await titles(page), ["Buy oat milk", "Call mum"]);

  // The API's own words reach the page.
  await add(page, "x".repeat(201));
  await page.locator("#error").filter({ hasText: /\S/ }).waitFor();
  const shown = await page.locator("#error").textContent();
  assert.match(shown, /title/i);
  assert.deepEqual(await titles(page), ["Buy oat milk", "Call mum"], "nothing was created");

  await page.screenshot({ path: join(artifacts, "tasks.png"), fullPage: true });
});

test("lists, a subtask and a reorder through the move route", async () => {
  const page = await signUp("erin");
  await page.fill("input[name=name][aria-label='new list']", "Work");
  await page.click("#new-list button");
  await page.locator("#lists .current", { hasText: "Work" }).waitFor();

  for (const title of ["A", "B", "C"]) {
    await add(page, title);
    await task(page, title).waitFor();
  }
  assert.deepEqual(await titles(page), ["A", "B", "C"]);
  await task(page, "C").locator("button:text('Up')").click();
  await page.waitForFunction(() => [...document.querySelectorAll("#tasks .title")].map((t) => t.textContent).join() === "A,C,B");

  await task(page, "C").locator(".rename-input").fill("C.1");
  await task(page, "C").locator("button:text('Add subtask')").click();
  await page.locator("#tasks li.subtask", { hasText: "C.1" }).waitFor();
  assert.deepEqual(await titles(page), ["A", "C", "C.1", "B"]);
  assert.equal(await task(page, "C").locator(".counts").textContent(), "0/1");
  await page.screenshot({ path: join(artifacts, "lists.png"), fullPage: true });

  await page.click("#lists button:text('Inbox')");
  await page.locator("#empty").waitFor();
  assert.deepEqual(await titles(page), [], "the inbox holds none of Work's tasks");
});

/** A `datetime-local` value `minutes` from now, in the page's (and this process's) zone. */
function localInput(minutes) {
  const at = new Date(Date.now() + minutes * 60_000 - new Date().getTimezoneOffset() * 60_000);
  return at.toISOString().slice(0, 16);
}

test("a repeating task moves to its next day when done, and a reminder shows up", async () => {
  const page = await signUp("fay");
  await page.fill("input[name=due]", "2031-05-04T09:30");
  await page.selectOption("select[name=repeats]", "FREQ=DAILY");
  await add(page, "Water the plants");
  const plants = task(page, "Water the plants");
  await plants.locator(".repeats", { hasText: "repeats FREQ=DAILY" }).waitFor();
  const due = await plants.locator(".due").textContent();
  await plants.locator("button:text('Done')").click();
  await page.waitForFunction(
    (before) => document.querySelector("#tasks .due")?.textContent !== before,
    due,
  );
  const next = new Date(Date.parse("2031-05-05T09:30")).toISOString().slice(0, 16).replace("T", " ");
  assert.equal(await plants.locator(".due").textContent(), `due ${next}`, "the next day, same hour");
  assert.equal(await page.locator("#tasks li.done").count(), 0, "still to do");

  // A reminder a minute ago fires at once, on the page's event stream.
  await page.fill("input[name=remind]", localInput(-1));
  await add(page, "Call the plumber");
  await page.locator("#reminders li", { hasText: "Reminder: Call the plumber" }).waitFor({ timeout: 10_000 });
  await page.screenshot({ path: join(artifacts, "recurring.png"), fullPage: true });
});

test("a task created on one device appears on another without a reload", async () => {
  const laptop = await signUp("dana");
  const phone = await signUp("dana", "jwks", true);
  const loadedBefore = await phone.evaluate(() => performance.getEntriesByType("navigation").length);

  await add(laptop, "Seen everywhere");
  await task(phone, "Seen everywhere").waitFor();
  assert.deepEqual(await titles(phone), ["Seen everywhere"]);
  assert.equal(
    await phone.evaluate(() => performance.getEntriesByType("navigation").length),
    loadedBefore,
    "the phone's page was not reloaded",
  );

  // And back: a change on the phone reaches the laptop.
  await task(phone, "Seen everywhere").locator("button:text('Done')").click();
  await laptop.locator("#tasks li.done", { hasText: "Seen everywhere" }).waitFor();
});

test("a second user sees none of the first user's tasks", async () => {
  const page = await signUp("bob");
  assert.ok(await page.locator("#empty").isVisible());
  assert.deepEqual(await titles(page), []);
  await add(page, "Bob's own");
  await task(page, "Bob's own").waitFor();
  assert.deepEqual(await titles(page), ["Bob's own"]);
});

test("a token the frontend signs with the shared secret works too", async () => {
  const page = await signUp("carol", "secret");
  assert.equal(await page.locator("#token-info").getAttribute("data-alg"), "HS256");
  await add(page, "Signed by the app");
  await task(page, "Signed by the app").waitFor();
  assert.deepEqual(await titles(page), ["Signed by the app"]);
});

test("a key rotated in Better Auth is picked up without restarting the API", async () => {
  const page = await signUp("dave");
  const firstKid = await page.locator("#token-info").getAttribute("data-kid");
  await add(page, "Before the rotation");
  await task(page, "Before the rotation").waitFor();

  // Past the key's lifetime and the API's refresh interval, both counted from the first call.
  const wait = startedAt + (ROTATION_SECONDS + 2) * 1000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  await page.click("#refresh-token");
  await page.waitForFunction(
    (kid) => document.querySelector("#token-info").dataset.kid !== kid,
    firstKid,
  );
  await add(page, "After the rotation");
  await task(page, "After the rotation").waitFor();
  assert.equal(await page.locator("#error").textContent(), "");
  assert.deepEqual(await titles(page), ["Before the rotation", "After the rotation"]);
});

// The page of the end-to-end tests, a small todo app on the typed client
// (clients/typescript): sign up or in with Better Auth, get a JWT, and call the Todo API from
// the browser with `Authorization: Bearer` (a cross-origin call, so a real preflight). Lists
// in a sidebar, tasks with subtasks, reorder, complete, rename, due dates, and every change
// from another tab or device shown live. Every error's `detail` is shown.
import { type List, ProblemError, type Task, createTodoClient, unwrap } from "@todo-api/client";

const { apiUrl } = (await fetch("/config.json").then((r) => r.json())) as { apiUrl: string };
const $ = <T extends HTMLElement = HTMLElement>(selector: string) =>
  document.querySelector(selector) as T;
let token: string | null = null;
let mode = "jwks";
// The list shown: "inbox" or a list's id.
let current = "inbox";

const client = createTodoClient({ baseUrl: apiUrl, token: () => token });

function showError(message?: string) {
  $("#error").textContent = message ?? "";
}

/** Runs a call of the API; a problem shows its `detail` (and is thrown on). */
async function call<T>(action: () => Promise<T>): Promise<T> {
  try {
    const result = await action();
    showError();
    return result;
  } catch (error) {
    showError(error instanceof ProblemError ? error.detail : String(error));
    throw error;
  }
}

/** The JWT header, to show which key signed the token. */
function tokenHeader(jwt: string): { alg: string; kid?: string } {
  const part = jwt.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part));
}

async function fetchToken() {
  const path = mode === "secret" ? "/shared-secret-token" : "/api/auth/token";
  const response = await fetch(path, { credentials: "include" });
  if (!response.ok) throw new Error(`no token: ${response.status}`);
  token = ((await response.json()) as { token: string }).token;
  const { alg, kid } = tokenHeader(token);
  const info = $("#token-info");
  info.textContent = `token: ${alg}${kid ? ` kid ${kid}` : ""}`;
  info.dataset.alg = alg;
  info.dataset.kid = kid ?? "";
}

// The signed-in user's routes (`me`), and one task's.
const me = { params: { path: { user_id: "me" } } };
const task = (id: string) => ({ params: { path: { user_id: "me", id } } });

/** A `datetime-local` input's moment (in the page's zone) as RFC 3339, or `null` when empty. */
function instant(input: HTMLInputElement): string | null {
  return input.value ? new Date(input.value).toISOString() : null;
}

/** The `after` that puts `task` one place up among its siblings (drawn in `tasks`). */
function oneUp(tasks: Task[], moved: Task): string | null {
  const siblings = tasks.filter((t) => t.parent_id === moved.parent_id);
  const index = siblings.findIndex((t) => t.id === moved.id);
  return index >= 2 ? siblings[index - 2].id : null;
}

function button(label: string, action: () => Promise<unknown>) {
  const element = document.createElement("button");
  element.textContent = label;
  element.addEventListener("click", () => {
    call(action).then(load, () => {});
  });
  return element;
}

function renderTask(shown: Task, tasks: Task[]) {
  const item = document.createElement("li");
  item.dataset.id = shown.id;
  item.className = [shown.completed ? "done" : "", shown.parent_id ? "subtask" : ""]
    .join(" ")
    .trim();
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = shown.title;
  const counts = document.createElement("span");
  counts.className = "counts";
  counts.textContent = shown.subtask_count
    ? `${shown.completed_subtask_count}/${shown.subtask_count}`
    : "";
  const due = document.createElement("span");
  due.className = "due";
  due.textContent = shown.due_date ? `due ${shown.due_date.slice(0, 16).replace("T", " ")}` : "";
  const repeats = document.createElement("span");
  repeats.className = "repeats";
  repeats.textContent = shown.recurrence ? `repeats ${shown.recurrence}` : "";
  const rename = document.createElement("input");
  rename.className = "rename-input";
  rename.setAttribute("aria-label", `rename ${shown.title}`);
  const path = task(shown.id);
  const buttons = [
    button("Rename", () =>
      unwrap(client.PATCH("/api/{user_id}/tasks/{id}", { ...path, body: { title: rename.value } })),
    ),
    button(shown.completed ? "Reopen" : "Done", () =>
      unwrap(client.PATCH("/api/{user_id}/tasks/{id}/complete", path)),
    ),
    button("Up", () =>
      unwrap(
        client.POST("/api/{user_id}/tasks/{id}/move", {
          ...path,
          body: { after: oneUp(tasks, shown) },
        }),
      ),
    ),
    button("Delete", () => unwrap(client.DELETE("/api/{user_id}/tasks/{id}", path))),
  ];
  if (!shown.parent_id) {
    buttons.push(
      button("Add subtask", () =>
        unwrap(
          client.POST("/api/{user_id}/tasks", {
            ...me,
            body: { title: rename.value, parent_id: shown.id },
          }),
        ),
      ),
    );
  }
  item.append(title, priority(shown), counts, due, repeats, rename, ...buttons, editor(shown));
  return item;
}

function priority(shown: Task) {
  const badge = document.createElement("span");
  badge.className = `priority ${shown.priority}`;
  badge.textContent = shown.priority;
  return badge;
}

/** Edits the other fields of a task: description, priority, due date (one PATCH). */
function editor(shown: Task) {
  const details = document.createElement("details");
  details.className = "editor";
  const summary = document.createElement("summary");
  summary.textContent = "Edit";
  const description = document.createElement("textarea");
  description.name = "description";
  description.value = shown.description ?? "";
  description.setAttribute("aria-label", `description of ${shown.title}`);
  const level = document.createElement("select");
  level.name = "priority";
  level.setAttribute("aria-label", `priority of ${shown.title}`);
  for (const value of ["low", "medium", "high"] as const) {
    level.add(new Option(value, value, false, value === shown.priority));
  }
  const due = document.createElement("input");
  due.type = "datetime-local";
  due.name = "due";
  due.setAttribute("aria-label", `due date of ${shown.title}`);
  if (shown.due_date) {
    // The input shows local time; the API's timestamps are UTC.
    const at = new Date(shown.due_date);
    due.value = new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  }
  const save = button("Save", () =>
    unwrap(
      client.PATCH("/api/{user_id}/tasks/{id}", {
        ...task(shown.id),
        body: {
          description: description.value || null,
          priority: level.value as Task["priority"],
          due_date: instant(due),
        },
      }),
    ),
  );
  if (shown.description) {
    const text = document.createElement("p");
    text.className = "description";
    text.textContent = shown.description;
    details.append(text);
  }
  details.prepend(summary);
  details.append(description, level, due, save);
  return details;
}

function renderList(list: { id: string; name: string }) {
  const item = document.createElement("li");
  const choose = document.createElement("button");
  choose.className = list.id === current ? "list current" : "list";
  choose.textContent = list.name;
  choose.addEventListener("click", () => {
    current = list.id;
    load().catch(() => {});
  });
  item.append(choose);
  return item;
}

async function load() {
  const lists: List[] = await call(() => unwrap(client.GET("/api/{user_id}/lists", me)));
  const inbox = { id: "inbox", name: "Inbox" };
  $("#lists").replaceChildren(...[inbox, ...lists].map(renderList));
  const tasks: Task[] = await call(() =>
    unwrap(
      client.GET("/api/{user_id}/tasks", {
        params: { ...me.params, query: { sort: "position", list_id: current } },
      }),
    ),
  );
  $("#tasks").replaceChildren(...tasks.map((shown) => renderTask(shown, tasks)));
  $("#empty").hidden = tasks.length > 0;
  document.body.dataset.loaded = String(Date.now());
}

/**
 * Follows the user's changes with `EventSource`, which cannot send headers: the token goes in
 * the query, which the API takes on this route only. Every change reloads what is shown, so a
 * change made on another device appears without a reload of the page.
 */
function follow() {
  const source = new EventSource(
    `${apiUrl}/api/me/events?access_token=${encodeURIComponent(token ?? "")}`,
  );
  for (const kind of ["task", "list"]) {
    for (const verb of ["created", "updated", "deleted"]) {
      source.addEventListener(`${kind}.${verb}`, () => load().catch(() => {}));
    }
  }
  // A reminder is not a change: it is shown, and the list stays as it is.
  source.addEventListener("reminder", (event) => {
    const reminded: Task = JSON.parse((event as MessageEvent<string>).data);
    const notice = document.createElement("li");
    notice.textContent = `Reminder: ${reminded.title}`;
    $("#reminders").append(notice);
  });
  source.addEventListener("open", () => (document.body.dataset.following = "true"));
}

/** Signs up (or, with `signIn`, in) with Better Auth, then shows the user's tasks. */
async function enter(form: FormData, signIn: boolean) {
  mode = String(form.get("mode"));
  const body: Record<string, unknown> = { email: form.get("email"), password: form.get("password") };
  if (!signIn) body.name = form.get("name");
  const response = await fetch(`/api/auth/${signIn ? "sign-in" : "sign-up"}/email`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    credentials: "include",
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    showError(`${signIn ? "sign-in" : "sign-up"} failed: ${response.status}`);
    return;
  }
  await fetchToken();
  const me = await call(() => unwrap(client.GET("/api/me")));
  $("#whoami").textContent = `signed in as ${me.email}`;
  $("#sign-up").hidden = true;
  $("#new-task").hidden = false;
  $("#new-list").hidden = false;
  await load();
  follow();
}

$("#sign-up").addEventListener("submit", async (event) => {
  event.preventDefault();
  await enter(new FormData(event.target as HTMLFormElement), false);
});

$("#sign-in").addEventListener("click", async () => {
  await enter(new FormData($<HTMLFormElement>("#sign-up")), true);
});

$("#new-task").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target as HTMLFormElement;
  const title = form.elements.namedItem("title") as HTMLInputElement;
  const due = form.elements.namedItem("due") as HTMLInputElement;
  const repeats = form.elements.namedItem("repeats") as HTMLSelectElement;
  const remind = form.elements.namedItem("remind") as HTMLInputElement;
  try {
    await call(() =>
      unwrap(
        client.POST("/api/{user_id}/tasks", {
          ...me,
          body: {
            title: title.value,
            list_id: current === "inbox" ? null : current,
            due_date: instant(due),
            recurrence: repeats.value || null,
            // The zone whose wall clock a repeating task keeps: the browser's.
            timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
            remind_at: instant(remind),
          },
        }),
      ),
    );
    title.value = "";
    due.value = "";
    repeats.value = "";
    remind.value = "";
    await load();
  } catch {
    // the detail is on the page
  }
});

$("#new-list").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = (event.target as HTMLFormElement).elements.namedItem("name") as HTMLInputElement;
  try {
    const list = await call(() =>
      unwrap(client.POST("/api/{user_id}/lists", { ...me, body: { name: input.value } })),
    );
    input.value = "";
    current = list.id;
    await load();
  } catch {
    // the detail is on the page
  }
});

$("#refresh-token").addEventListener("click", async () => {
  await fetchToken();
  await load().catch(() => {});
});

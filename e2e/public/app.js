// The page of the end-to-end tests: sign up with Better Auth, get a JWT, and call the Todo
// API from the browser with `Authorization: Bearer` (a cross-origin call, so a real preflight).
const { apiUrl } = await fetch("/config.json").then((r) => r.json());
const $ = (selector) => document.querySelector(selector);
let token = null;
let mode = "jwks";
// The list shown: "inbox" or a list's id.
let current = "inbox";

function showError(message) {
  $("#error").textContent = message ?? "";
}

/** The JWT header, to show which key signed the token. */
function tokenHeader(jwt) {
  const part = jwt.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(part));
}

async function fetchToken() {
  const path = mode === "secret" ? "/shared-secret-token" : "/api/auth/token";
  const response = await fetch(path, { credentials: "include" });
  if (!response.ok) throw new Error(`no token: ${response.status}`);
  token = (await response.json()).token;
  const { alg, kid } = tokenHeader(token);
  $("#token-info").textContent = `token: ${alg}${kid ? ` kid ${kid}` : ""}`;
  $("#token-info").dataset.alg = alg;
  $("#token-info").dataset.kid = kid ?? "";
}

/** Calls the API; a problem+json answer shows its `detail` and throws. */
async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    showError(problem.detail ?? `HTTP ${response.status}`);
    throw new Error(problem.detail);
  }
  showError("");
  return response.status === 204 ? null : response.json();
}

/** The `after` that puts `task` one place up among its siblings (drawn in `tasks`). */
function oneUp(tasks, task) {
  const siblings = tasks.filter((t) => t.parent_id === task.parent_id);
  const index = siblings.findIndex((t) => t.id === task.id);
  return index >= 2 ? siblings[index - 2].id : null;
}

function button(label, action) {
  const element = document.createElement("button");
  element.textContent = label;
  element.addEventListener("click", () => action().then(load, () => {}));
  return element;
}

function renderTask(task, tasks) {
  const item = document.createElement("li");
  item.dataset.id = task.id;
  item.className = [task.completed ? "done" : "", task.parent_id ? "subtask" : ""].join(" ").trim();
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = task.title;
  const counts = document.createElement("span");
  counts.className = "counts";
  counts.textContent = task.subtask_count ? `${task.completed_subtask_count}/${task.subtask_count}` : "";
  const rename = document.createElement("input");
  rename.className = "rename-input";
  rename.setAttribute("aria-label", `rename ${task.title}`);
  const buttons = [
    button("Rename", () => api("PATCH", `/api/me/tasks/${task.id}`, { title: rename.value })),
    button(task.completed ? "Reopen" : "Done", () => api("PATCH", `/api/me/tasks/${task.id}/complete`)),
    button("Up", () => api("POST", `/api/me/tasks/${task.id}/move`, { after: oneUp(tasks, task) })),
    button("Delete", () => api("DELETE", `/api/me/tasks/${task.id}`)),
  ];
  if (!task.parent_id) {
    buttons.push(button("Add subtask", () => api("POST", "/api/me/tasks", { title: rename.value, parent_id: task.id })));
  }
  item.append(title, counts, rename, ...buttons);
  return item;
}

function renderList(list) {
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
  const lists = await api("GET", "/api/me/lists");
  const inbox = { id: "inbox", name: "Inbox" };
  $("#lists").replaceChildren(...[inbox, ...lists].map(renderList));
  const tasks = await api("GET", `/api/me/tasks?sort=position&list_id=${current}`);
  $("#tasks").replaceChildren(...tasks.map((task) => renderTask(task, tasks)));
  $("#empty").hidden = tasks.length > 0;
  document.body.dataset.loaded = String(Date.now());
}

/**
 * Follows the user's changes with `EventSource`, which cannot send headers: the token goes in
 * the query, which the API takes on this route only. Every change reloads what is shown, so a
 * change made on another device appears without a reload of the page.
 */
function follow() {
  const source = new EventSource(`${apiUrl}/api/me/events?access_token=${encodeURIComponent(token)}`);
  for (const kind of ["task", "list"]) {
    for (const verb of ["created", "updated", "deleted"]) {
      source.addEventListener(`${kind}.${verb}`, () => load().catch(() => {}));
    }
  }
  source.addEventListener("open", () => (document.body.dataset.following = "true"));
}

/** Signs up (or, with `signIn`, in) with Better Auth, then shows the user's tasks. */
async function enter(form, signIn) {
  mode = form.get("mode");
  const body = { email: form.get("email"), password: form.get("password") };
  if (!signIn) body.name = form.get("name");
  const response = await fetch(`/api/auth/${signIn ? "sign-in" : "sign-up"}/email`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    credentials: "include",
    body: JSON.stringify(body),
  });
  if (!response.ok) return showError(`${signIn ? "sign-in" : "sign-up"} failed: ${response.status}`);
  await fetchToken();
  const me = await api("GET", "/api/me");
  $("#whoami").textContent = `signed in as ${me.email}`;
  $("#sign-up").hidden = true;
  $("#new-task").hidden = false;
  $("#new-list").hidden = false;
  await load();
  follow();
}

$("#sign-up").addEventListener("submit", async (event) => {
  event.preventDefault();
  await enter(new FormData(event.target), false);
});

$("#sign-in").addEventListener("click", async () => {
  await enter(new FormData($("#sign-up")), true);
});

$("#new-task").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = event.target.elements.title;
  try {
    await api("POST", "/api/me/tasks", { title: input.value, list_id: current === "inbox" ? null : current });
    input.value = "";
    await load();
  } catch {
    // the detail is on the page
  }
});

$("#new-list").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = event.target.elements.name;
  try {
    const list = await api("POST", "/api/me/lists", { name: input.value });
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

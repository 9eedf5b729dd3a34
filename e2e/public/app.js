// The page of the end-to-end tests: sign up with Better Auth, get a JWT, and call the Todo
// API from the browser with `Authorization: Bearer` (a cross-origin call, so a real preflight).
const { apiUrl } = await fetch("/config.json").then((r) => r.json());
const $ = (selector) => document.querySelector(selector);
let token = null;
let mode = "jwks";

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

function renderTask(task) {
  const item = document.createElement("li");
  item.dataset.id = task.id;
  item.className = task.completed ? "done" : "";
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = task.title;
  const rename = document.createElement("input");
  rename.className = "rename-input";
  rename.setAttribute("aria-label", `rename ${task.title}`);
  const buttons = [
    ["Rename", () => api("PATCH", `/api/me/tasks/${task.id}`, { title: rename.value })],
    [task.completed ? "Reopen" : "Done", () => api("PATCH", `/api/me/tasks/${task.id}/complete`)],
    ["Delete", () => api("DELETE", `/api/me/tasks/${task.id}`)],
  ].map(([label, action]) => {
    const button = document.createElement("button");
    button.textContent = label;
    button.addEventListener("click", () => action().then(load, () => {}));
    return button;
  });
  item.append(title, rename, ...buttons);
  return item;
}

async function load() {
  const tasks = await api("GET", "/api/me/tasks?sort=created&order=asc");
  $("#tasks").replaceChildren(...tasks.map(renderTask));
  $("#empty").hidden = tasks.length > 0;
  document.body.dataset.loaded = String(Date.now());
}

$("#sign-up").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  mode = form.get("mode");
  const response = await fetch("/api/auth/sign-up/email", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    credentials: "include",
    body: JSON.stringify({ name: form.get("name"), email: form.get("email"), password: form.get("password") }),
  });
  if (!response.ok) return showError(`sign-up failed: ${response.status}`);
  await fetchToken();
  const me = await api("GET", "/api/me");
  $("#whoami").textContent = `signed in as ${me.email}`;
  $("#sign-up").hidden = true;
  $("#new-task").hidden = false;
  await load();
});

$("#new-task").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = event.target.elements.title;
  try {
    await api("POST", "/api/me/tasks", { title: input.value });
    input.value = "";
    await load();
  } catch {
    // the detail is on the page
  }
});

$("#refresh-token").addEventListener("click", async () => {
  await fetchToken();
  await load().catch(() => {});
});

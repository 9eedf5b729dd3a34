// The Todo API's client: openapi-fetch over the types generated from the server's own OpenAPI
// document (src/schema.ts, checked against the server in CI), plus what a frontend needs
// around it: the token, problem+json errors as one typed error, `If-Match` and
// `Idempotency-Key`, and the live event stream resumed with `Last-Event-ID`.

import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { components, paths } from "./schema.js";

export type { components, paths };
export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type ProblemField = Schemas["ProblemField"];
export type Task = Schemas["Task"];
export type List = Schemas["List"];

/** Where the token comes from. */
export interface TodoClientOptions {
  /** The API's origin, e.g. `http://localhost:8000`. */
  baseUrl: string;
  /**
   * The Better Auth JWT, asked before every request (so a refreshed one is used at once);
   * `null`/`undefined` sends none. Omit it in cookie mode, where the browser sends the
   * `access_token` cookie (`credentials: "include"`).
   */
  token?: () => string | null | undefined | Promise<string | null | undefined>;
  /** `"include"` in cookie mode, across origins. */
  credentials?: RequestCredentials;
  /** Another `fetch` (tests, server-side rendering with its own cache settings). */
  fetch?: ClientOptions["fetch"];
}

export type TodoClient = Client<paths> & {
  /** The options it was made with, for {@link followEvents}. */
  readonly options: TodoClientOptions;
};

/** A client of the API: `client.GET("/api/{user_id}/tasks", { params: ... })` and so on. */
export function createTodoClient(options: TodoClientOptions): TodoClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    credentials: options.credentials,
    fetch: options.fetch,
  });
  client.use({
    async onRequest({ request }) {
      const token = await options.token?.();
      if (token) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  });
  return Object.assign(client, { options });
}

/** An error answer of the API: its problem+json fields, typed. */
export class ProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  /** One entry per problem, on `422` only. */
  readonly errors: ProblemField[];
  readonly requestId: string | undefined;
  /** `Retry-After` in seconds, on `429` and `503`. */
  readonly retryAfter: number | undefined;

  constructor(status: number, problem: Partial<Problem>, retryAfter?: number) {
    const detail = problem.detail ?? `the server answered ${status}`;
    super(detail);
    this.name = "ProblemError";
    this.status = status;
    this.code = problem.code ?? "unknown";
    this.detail = detail;
    this.errors = problem.errors ?? [];
    this.requestId = problem.request_id ?? undefined;
    this.retryAfter = retryAfter;
  }
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The data of an answer, or its problem thrown as a {@link ProblemError}:
 * `const task = await unwrap(client.GET(...))`. A `204` gives `undefined`.
 */
export async function unwrap<T>(answer: Answer<T> | Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await answer;
  if (response.ok) {
    return data as T;
  }
  const retry = Number(response.headers.get("Retry-After"));
  throw new ProblemError(
    response.status,
    isProblem(error) ? error : {},
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
  );
}

function isProblem(value: unknown): value is Partial<Problem> {
  return typeof value === "object" && value !== null && "detail" in value;
}

/** The `ETag` of an answer: what `If-Match` sends back to change that version. */
export function etagOf(answer: { response: Response }): string | undefined {
  return answer.response.headers.get("ETag") ?? undefined;
}

/** The header that makes a change apply only to this version (else `412`). */
export function ifMatch(etag: string): { "If-Match": string } {
  return { "If-Match": etag };
}

/**
 * A fresh `Idempotency-Key`: send the same one again to retry a create safely (the first
 * answer is replayed, with `Idempotent-Replayed: true`).
 */
export function idempotencyKey(): { "Idempotency-Key": string } {
  return { "Idempotency-Key": crypto.randomUUID() };
}

/** The names of the stream's events (`reset`: resynchronise with `/changes`). */
export type EventName =
  | "task.created"
  | "task.updated"
  | "task.deleted"
  | "list.created"
  | "list.updated"
  | "list.deleted"
  | "reminder"
  | "reset";

/** One event of the stream; `id` is a cursor. */
export interface ChangeEvent {
  id: string;
  name: EventName;
  /** The task or list, `{ id }` for a deletion, `{}` for a reset. */
  data: unknown;
}

export interface FollowOptions {
  /** Resume after this event (a cursor from an event or from `/changes`). */
  lastEventId?: string;
  onEvent: (event: ChangeEvent) => void;
  /** Each time the stream is open: from then on, every change arrives. */
  onOpen?: () => void;
  /**
   * Each time the stream could not be read; it is opened again after `retryMs`, or after the
   * answer's `Retry-After` when longer.
   */
  onError?: (error: unknown) => void;
  /** The wait before opening the stream again (the server's `retry:` wins). */
  retryMs?: number;
}

export interface Following {
  /** The id of the last event delivered: where a later `followEvents` resumes. */
  readonly lastEventId: string | undefined;
  close(): void;
}

/**
 * Follows a user's changes live (`GET /api/{user_id}/events`), with the client's token or
 * cookie, resuming with `Last-Event-ID` after every break (and from `lastEventId` at first,
 * which the browser's `EventSource` cannot do). An answer that is not a stream (`401`,
 * `429`...) is reported to `onError` as a {@link ProblemError} and retried.
 */
export function followEvents(
  client: TodoClient,
  userId: string,
  options: FollowOptions,
): Following {
  const { baseUrl, token, credentials } = client.options;
  const doFetch = client.options.fetch ?? globalThis.fetch;
  const url = `${baseUrl.replace(/\/$/, "")}/api/${encodeURIComponent(userId)}/events`;
  const abort = new AbortController();
  let lastEventId = options.lastEventId;
  let retryMs = options.retryMs ?? 3000;

  const deliver = (message: EventSourceMessage) => {
    if (message.id) {
      lastEventId = message.id;
    }
    options.onEvent({
      id: message.id ?? "",
      name: (message.event ?? "message") as EventName,
      data: message.data ? JSON.parse(message.data) : {},
    });
  };

  const readOnce = async () => {
    const headers = new Headers({ Accept: "text/event-stream" });
    const bearer = await token?.();
    if (bearer) {
      headers.set("Authorization", `Bearer ${bearer}`);
    }
    if (lastEventId) {
      headers.set("Last-Event-ID", lastEventId);
    }
    const response = await doFetch(
      new Request(url, { headers, credentials, signal: abort.signal }),
    );
    if (!response.ok || !response.body) {
      const problem = await response.json().catch(() => ({}));
      await unwrap({ error: problem, response });
      return;
    }
    options.onOpen?.();
    const parser = createParser({
      onEvent: deliver,
      onRetry: (ms) => {
        retryMs = ms;
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return;
      }
      parser.feed(value);
    }
  };

  void (async () => {
    while (!abort.signal.aborted) {
      let wait = retryMs;
      try {
        await readOnce();
      } catch (error) {
        if (abort.signal.aborted) {
          return;
        }
        options.onError?.(error);
        // A 429 or 503 says when to come back.
        if (error instanceof ProblemError && error.retryAfter) {
          wait = Math.max(wait, error.retryAfter * 1000);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();

  return {
    get lastEventId() {
      return lastEventId;
    },
    close() {
      abort.abort();
    },
  };
}

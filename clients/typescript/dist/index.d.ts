import { type Client, type ClientOptions } from "openapi-fetch";
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
export declare function createTodoClient(options: TodoClientOptions): TodoClient;
/** An error answer of the API: its problem+json fields, typed. */
export declare class ProblemError extends Error {
    readonly status: number;
    readonly code: string;
    readonly detail: string;
    /** One entry per problem, on `422` only. */
    readonly errors: ProblemField[];
    readonly requestId: string | undefined;
    /** `Retry-After` in seconds, on `429` and `503`. */
    readonly retryAfter: number | undefined;
    constructor(status: number, problem: Partial<Problem>, retryAfter?: number);
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
export declare function unwrap<T>(answer: Answer<T> | Promise<Answer<T>>): Promise<T>;
/** The `ETag` of an answer: what `If-Match` sends back to change that version. */
export declare function etagOf(answer: {
    response: Response;
}): string | undefined;
/** The header that makes a change apply only to this version (else `412`). */
export declare function ifMatch(etag: string): {
    "If-Match": string;
};
/**
 * A fresh `Idempotency-Key`: send the same one again to retry a create safely (the first
 * answer is replayed, with `Idempotent-Replayed: true`).
 */
export declare function idempotencyKey(): {
    "Idempotency-Key": string;
};
/** The names of the stream's events (`reset`: resynchronise with `/changes`). */
export type EventName = "task.created" | "task.updated" | "task.deleted" | "list.created" | "list.updated" | "list.deleted" | "reminder" | "reset";
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
export declare function followEvents(client: TodoClient, userId: string, options: FollowOptions): Following;

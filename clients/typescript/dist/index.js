// The Todo API's client: openapi-fetch over the types generated from the server's own OpenAPI
// document (src/schema.ts, checked against the server in CI), plus what a frontend needs
// around it: the token, problem+json errors as one typed error, `If-Match` and
// `Idempotency-Key`, and the live event stream resumed with `Last-Event-ID`.
import createClient from "openapi-fetch";
import { createParser } from "eventsource-parser";
/** A client of the API: `client.GET("/api/{user_id}/tasks", { params: ... })` and so on. */
export function createTodoClient(options) {
    const client = createClient({
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
    status;
    code;
    detail;
    /** One entry per problem, on `422` only. */
    errors;
    requestId;
    /** `Retry-After` in seconds, on `429` and `503`. */
    retryAfter;
    constructor(status, problem, retryAfter) {
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
/**
 * The data of an answer, or its problem thrown as a {@link ProblemError}:
 * `const task = await unwrap(client.GET(...))`. A `204` gives `undefined`.
 */
export async function unwrap(answer) {
    const { data, error, response } = await answer;
    if (response.ok) {
        return data;
    }
    const retry = Number(response.headers.get("Retry-After"));
    throw new ProblemError(response.status, isProblem(error) ? error : {}, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}
function isProblem(value) {
    return typeof value === "object" && value !== null && "detail" in value;
}
/** The `ETag` of an answer: what `If-Match` sends back to change that version. */
export function etagOf(answer) {
    return answer.response.headers.get("ETag") ?? undefined;
}
/** The header that makes a change apply only to this version (else `412`). */
export function ifMatch(etag) {
    return { "If-Match": etag };
}
/**
 * A fresh `Idempotency-Key`: send the same one again to retry a create safely (the first
 * answer is replayed, with `Idempotent-Replayed: true`).
 */
export function idempotencyKey() {
    return { "Idempotency-Key": crypto.randomUUID() };
}
/**
 * Follows a user's changes live (`GET /api/{user_id}/events`), with the client's token or
 * cookie, resuming with `Last-Event-ID` after every break (and from `lastEventId` at first,
 * which the browser's `EventSource` cannot do). An answer that is not a stream (`401`,
 * `429`...) is reported to `onError` as a {@link ProblemError} and retried.
 */
export function followEvents(client, userId, options) {
    const { baseUrl, token, credentials } = client.options;
    const doFetch = client.options.fetch ?? globalThis.fetch;
    const url = `${baseUrl.replace(/\/$/, "")}/api/${encodeURIComponent(userId)}/events`;
    const abort = new AbortController();
    let lastEventId = options.lastEventId;
    let retryMs = options.retryMs ?? 3000;
    const deliver = (message) => {
        if (message.id) {
            lastEventId = message.id;
        }
        options.onEvent({
            id: message.id ?? "",
            name: (message.event ?? "message"),
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
        const response = await doFetch(new Request(url, { headers, credentials, signal: abort.signal }));
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
            }
            catch (error) {
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

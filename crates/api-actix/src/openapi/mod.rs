//! The OpenAPI 3.1 document, generated from the handlers' annotations and the DTOs, and
//! (`serve`) the routes that serve it and the interactive page.

pub mod serve;

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::handlers::{health, lists, me, sync, tasks};
use crate::schema;

/// The API's document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Todo API",
        description = "The multi-user Todo API behind a Next.js frontend signed in with Better Auth. \
            Every error is application/problem+json (RFC 9457)."
    ),
    paths(
        tasks::list_tasks,
        tasks::create_task,
        tasks::clear_completed,
        tasks::stats,
        tasks::get_task,
        tasks::update_task,
        tasks::delete_task,
        tasks::complete_task,
        tasks::move_task,
        lists::all_lists,
        lists::create_list,
        lists::get_list,
        lists::update_list,
        lists::delete_list,
        lists::move_list,
        sync::changes,
        sync::events,
        me::me,
        health::health,
        health::ready,
    ),
    components(schemas(
        crate::error::Problem,
        crate::error::ProblemField,
        // Referenced by query parameters, which do not register what they name.
        schema::StatusName,
        schema::SortName,
        schema::OrderName,
        schema::SearchQuery,
        schema::PriorityName,
        schema::TagName,
        schema::ListFilterText,
        schema::ParentFilterText,
    )),
    modifiers(&SecuritySchemes, &ProblemResponses),
    tags(
        (name = "tasks", description = "The signed-in user's tasks"),
        (name = "lists", description = "The signed-in user's lists"),
        (name = "sync", description = "The signed-in user's changes, as pages and as a live stream"),
        (name = "users", description = "The signed-in user"),
        (name = "operations", description = "Probes"),
    )
)]
pub struct ApiDoc;

/// A Better Auth JWT, as a bearer token or in the `access_token` cookie.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("access_token"))),
        );
        // `/events` only: `EventSource` cannot send headers.
        components.add_security_scheme(
            "query",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("access_token"))),
        );
    }
}

/// Documents what every operation may answer besides its own successes, once, instead of in
/// each handler's annotation: errors are `application/problem+json`; every `/api` operation
/// may answer 400 (a malformed or repeated header), 401, 429, 500 and 503; with `{user_id}`
/// also 403; with `{id}` or `{list_id}` also 404; with a body also 413, 415 and 422.
struct ProblemResponses;

const PROBLEM_JSON: &str = "application/problem+json";

fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

fn document_problems(path: &str, operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    for (status, response) in responses.iter_mut() {
        if (status.starts_with('4') || status.starts_with('5'))
            && let RefOr::T(response) = response
            && let Some(json) = response.content.shift_remove("application/json")
        {
            response.content.insert(PROBLEM_JSON.to_owned(), json);
        }
    }
    let mut common: Vec<(&str, &str)> = Vec::new();
    if path.starts_with("/api/") {
        common.extend([
            (
                "400",
                "A malformed or repeated header: two tokens, or a bad `If-Match`, `If-None-Match` or `Idempotency-Key`",
            ),
            (
                "401",
                "No token, or a token refused (`WWW-Authenticate` says why)",
            ),
            ("429", "Rate limited; see `Retry-After`"),
            (
                "500",
                "An internal error; the log has the cause under the request id",
            ),
            ("503", "The database is unavailable; see `Retry-After`"),
        ]);
    }
    if path.contains("{user_id}") {
        common.push(("403", "The path names another user than the token's"));
    }
    if path.contains("{id}") {
        common.push(("404", "No such task for this user"));
    }
    if path.contains("{list_id}") {
        common.push(("404", "No such list for this user"));
    }
    if operation.request_body.is_some() {
        common.extend([
            ("413", "Body over 64 KiB"),
            ("415", "Body not `application/json`"),
            (
                "422",
                "Malformed JSON, unknown or read-only fields, or broken rules",
            ),
        ]);
    }
    for (status, description) in common {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| problem_response(description));
    }
}

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                document_problems(path, operation);
            }
        }
    }
}

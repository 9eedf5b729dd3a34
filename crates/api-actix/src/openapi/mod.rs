//! The OpenAPI 3.1 document, generated from the handlers' annotations and the DTOs, and
//! (`serve`) the routes that serve it and the interactive page.

pub mod serve;

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::handlers::{health, lists, me, sync, tasks};
use crate::schema;

/// The document, indented: what `todo-api openapi` prints, and clients generate types from
/// (`/openapi.json` serves the same without the spaces).
pub fn pretty_document() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
}

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
    servers((url = "/", description = "The server that serves this document")),
    modifiers(&SecuritySchemes, &ProblemResponses, &UniqueOperationIds),
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

/// One handler serves `PUT` and `PATCH` of a task, and utoipa names both operations after it;
/// an `operationId` must be unique (generated clients name their functions by it), so the
/// `PUT` one gets a `_put` suffix.
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            if let (Some(put), Some(patch)) = (&mut item.put, &item.patch)
                && put.operation_id == patch.operation_id
                && let Some(id) = &mut put.operation_id
            {
                id.push_str("_put");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::Value;

    use super::*;

    fn operations(document: &Value) -> Vec<(String, &Value)> {
        let mut found = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                found.push((format!("{method} {path}"), operation));
            }
        }
        found
    }

    fn document() -> Value {
        serde_json::from_str(&pretty_document()).unwrap()
    }

    #[test]
    fn every_operation_has_its_own_operation_id() {
        let document = document();
        let mut seen = HashSet::new();
        for (name, operation) in operations(&document) {
            let id = operation["operationId"].as_str();
            assert!(
                id.is_some_and(|id| seen.insert(id.to_owned())),
                "{name}: {id:?}"
            );
        }
    }

    #[test]
    fn every_body_has_a_schema_and_every_error_is_a_problem() {
        let document = document();
        for (name, operation) in operations(&document) {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let content = response["content"].as_object();
                for (media, body) in content.into_iter().flatten() {
                    assert!(body["schema"].is_object(), "{name} {status} {media}");
                }
                if status.starts_with('4') || status.starts_with('5') {
                    let problem = &response["content"][PROBLEM_JSON]["schema"]["$ref"];
                    assert_eq!(problem, "#/components/schemas/Problem", "{name} {status}");
                }
            }
        }
    }

    /// What a response always carries, `null` or not, is required: a generated client types it
    /// `T | null`, never `T | undefined`.
    #[test]
    fn every_field_of_a_response_is_required_null_or_not() {
        let document = document();
        for schema in ["Task", "List", "MeResponse"] {
            let schema = &document["components"]["schemas"][schema];
            let required: Vec<&str> = schema["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|name| name.as_str().unwrap())
                .collect();
            for (field, property) in schema["properties"].as_object().unwrap() {
                assert!(required.contains(&field.as_str()), "{field}: {property}");
            }
        }
    }
}

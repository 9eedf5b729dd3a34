//! The OpenAPI 3.1 document, generated from the handlers' annotations and the DTOs.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use crate::handlers::{health, me, tasks};

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
        me::me,
        health::health,
        health::ready,
    ),
    components(schemas(crate::error::Problem, crate::error::ProblemField)),
    modifiers(&SecuritySchemes, &ProblemResponses),
    tags(
        (name = "tasks", description = "The signed-in user's tasks"),
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
    }
}

/// A title, for the schema: 1–200 characters once trimmed, no control characters.
#[derive(ToSchema)]
#[schema(value_type = String, min_length = 1, max_length = 200,
    pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$")]
#[allow(dead_code)] // Describes the wire value; the domain's `TaskTitle` parses it.
pub struct TitleText(String);

/// A description, for the schema: at most 1000 characters; tabs and line breaks allowed.
#[derive(ToSchema)]
#[schema(value_type = String, max_length = 1000,
    pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
#[allow(dead_code)] // Describes the wire value; the domain's `TaskDescription` parses it.
pub struct DescriptionText(String);

/// A tag, for the schema: 1–32 characters once trimmed, no control characters.
#[derive(ToSchema)]
#[schema(value_type = String, min_length = 1, max_length = 32,
    pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$")]
#[allow(dead_code)] // Describes the wire value; the domain's `Tag` parses it.
pub struct TagName(String);

/// `status` of a listing.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Describes the wire values; the domain parses them.
pub enum StatusName {
    /// Every task.
    All,
    /// Not completed.
    Pending,
    /// Completed.
    Completed,
}

/// `sort` of a listing.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Describes the wire values; the domain parses them.
pub enum SortName {
    /// Creation time.
    Created,
    /// Last change.
    Updated,
    /// Title, ignoring case.
    Title,
    /// Due date, undated last.
    DueDate,
    /// Priority.
    Priority,
}

/// `order` of a listing.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // Describes the wire values; the domain parses them.
pub enum OrderName {
    /// Smallest first.
    Asc,
    /// Greatest first.
    Desc,
}

/// The query parameters of `GET /api/{user_id}/tasks`. Unknown parameters are a 422.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Describes the parameters; the domain's `TaskQuery` parses them.
pub struct ListParams {
    /// `all` (default), `pending` or `completed`.
    #[param(inline)]
    status: Option<StatusName>,
    /// Text searched, ignoring case, in title and description (blank: no search).
    #[param(max_length = 200)]
    q: Option<String>,
    /// Only this priority.
    #[param(value_type = Option<crate::dto::PrioritySchema>)]
    priority: Option<String>,
    /// A tag (compared ignoring case); repeat it to require several.
    #[param(explode = true, max_items = 10, value_type = Option<Vec<TagName>>)]
    tag: Option<Vec<String>>,
    /// Only tasks due strictly before this instant (RFC 3339).
    #[param(format = DateTime)]
    due_before: Option<String>,
    /// Only tasks due strictly after this instant (RFC 3339).
    #[param(format = DateTime)]
    due_after: Option<String>,
    /// `created` (default), `updated`, `title`, `due_date` or `priority`.
    #[param(inline)]
    sort: Option<SortName>,
    /// `asc` or `desc`; default `desc` for created, updated, priority, else `asc`.
    #[param(inline)]
    order: Option<OrderName>,
    /// Page size, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// Tasks skipped, 0 to 2^63 − 1 (default 0).
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_u64)]
    offset: Option<u64>,
}

/// Documents what every operation may answer besides its own successes, once, instead of in
/// each handler's annotation: errors are `application/problem+json`; every `/api` operation
/// may answer 401, 429, 500 and 503; with `{user_id}` also 403; with `{id}` also 400 (a
/// malformed conditional header) and 404; with a body also 413, 415 and 422.
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
        common.extend([
            ("400", "A malformed `If-Match` or `If-None-Match`"),
            ("404", "No such task for this user"),
        ]);
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

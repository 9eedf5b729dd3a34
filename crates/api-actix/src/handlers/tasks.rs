//! The task routes of shared/API.md. Each handler's extractors check the caller, the path and
//! the headers; the handler only reads its body and calls the use case.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use domain::idempotency::StoredResponse;
use domain::task::{Completion, Task, TaskQuery, Version};
use domain::user::UserId;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::dto::{
    CompleteBody, CreateTaskBody, DeletedResponse, MoveTaskBody, StatsResponse, TaskResponse,
    UpdateTaskBody,
};
use crate::error::{ApiError, Problem};
use crate::extract::{
    Body, IdempotencyKeyHeader, IfNoneMatch, Owner, Query, TaskPath, TaskWrite, etag,
};
use crate::params::{ClearCompletedParams, ListTasksParams, StatsParams};
use crate::state::AppState;

/// Where a created task or list lives, with the owner's real id (not `me`).
pub(crate) fn location(owner: &UserId, collection: &str, id: impl std::fmt::Display) -> String {
    format!(
        "/api/{}/{collection}/{id}",
        utf8_percent_encode(owner.as_str(), NON_ALPHANUMERIC)
    )
}

/// The JSON of one task.
fn task_json(task: &Task) -> String {
    serde_json::to_string(&TaskResponse::from(task)).expect("a task always serialises")
}

/// A response carrying one task or list, with its `ETag`.
pub(crate) fn one(status: StatusCode, version: Version, json: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(version)))
        .content_type(super::JSON)
        .body(json)
}

/// A response carrying one task, with its `ETag`.
fn one_task(status: StatusCode, task: &Task) -> HttpResponse {
    one(status, task.version(), task_json(task))
}

/// The `201` of a create in `collection` (`tasks`, `lists`), first time or replayed.
pub(crate) fn created(
    owner: &UserId,
    collection: &str,
    response: StoredResponse,
    replayed: bool,
) -> HttpResponse {
    let mut builder = HttpResponse::Created();
    builder
        .insert_header((
            header::LOCATION,
            location(owner, collection, response.resource),
        ))
        .insert_header((header::ETAG, etag(response.version)))
        .content_type(super::JSON);
    if replayed {
        builder.insert_header(("Idempotent-Replayed", "true"));
    }
    builder.body(response.body)
}

/// The `Link` header of a page: `next` while tasks remain, `prev` after the first page.
fn page_links(
    path: &str,
    pairs: &[(String, String)],
    query: &TaskQuery,
    shown: usize,
    total: u64,
) -> Option<String> {
    let link = |offset: u64, rel: &str| {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs.iter().filter(|(n, _)| n != "limit" && n != "offset") {
            serializer.append_pair(name, value);
        }
        serializer
            .append_pair("limit", &query.limit.to_string())
            .append_pair("offset", &offset.to_string());
        format!("<{path}?{}>; rel=\"{rel}\"", serializer.finish())
    };
    let mut links = Vec::new();
    let next = query.offset + shown as u64;
    if shown > 0 && next < total {
        links.push(link(next, "next"));
    }
    if query.offset > 0 {
        links.push(link(
            query.offset.saturating_sub(u64::from(query.limit)),
            "prev",
        ));
    }
    (!links.is_empty()).then(|| links.join(", "))
}

/// List the user's tasks: filter, sort, page.
#[utoipa::path(get, path = "/api/{user_id}/tasks", tag = "tasks",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ListTasksParams,
    ),
    responses(
        (status = 200, description = "One page of tasks", body = Vec<TaskResponse>,
            headers(("X-Total-Count" = u64, description = "Matches before paging"),
                    ("Link" = String, description = "`rel=\"next\"` and `rel=\"prev\"` pages"))),
        (status = 404, description = "`list_id` or `parent_id` names nothing of the user's", body = Problem),
        (status = 422, description = "An unknown parameter or value", body = Problem),
    ))]
pub async fn list_tasks(
    state: web::Data<AppState>,
    owner: Owner,
    query: Query<ListTasksParams>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Query { params, pairs } = query;
    let task_query = params.into_domain()?;
    let page = state.tasks.list(owner.id(), &task_query).await?;
    let tasks: Vec<TaskResponse<'_>> = page.tasks.iter().map(TaskResponse::from).collect();
    let body = super::page_json(&tasks, tasks.len());
    let mut response = HttpResponse::Ok();
    response.insert_header(("X-Total-Count", page.total));
    let links = page_links(
        req.path(),
        &pairs,
        &task_query,
        page.tasks.len(),
        page.total,
    );
    if let Some(links) = links {
        response.insert_header((header::LINK, links));
    }
    Ok(response.content_type(super::JSON).body(body))
}

/// Create a task; with `Idempotency-Key`, at most once per key.
#[utoipa::path(post, path = "/api/{user_id}/tasks", tag = "tasks",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = r"^[\x20-\x7E]+$",
            description = "1–255 visible ASCII characters; a retry with the same key and body within 24 h returns the first response"),
    ),
    request_body = CreateTaskBody,
    responses(
        (status = 201, description = "Created", body = TaskResponse,
            headers(("Location" = String), ("ETag" = String),
                    ("Idempotent-Replayed" = String, description = "`true` on a replay"))),
        (status = 400, description = "A malformed Idempotency-Key", body = Problem),
        (status = 409, description = "The first request with this key is still running", body = Problem),
        (status = 422, description = "Broken rules (a list or parent that is not the user's included), or a key reused with another body", body = Problem),
    ))]
pub async fn create_task(
    state: web::Data<AppState>,
    owner: Owner,
    key: IdempotencyKeyHeader,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let new = body.json::<CreateTaskBody>()?.into_domain()?;
    let Some(key) = key.0 else {
        let task = state.tasks.create(&owner.0, new).await?;
        let response = StoredResponse {
            resource: *task.id().as_uuid(),
            version: task.version(),
            body: task_json(&task),
        };
        return Ok(created(owner.id(), "tasks", response, false));
    };
    let outcome = state
        .tasks
        .create_once(&owner.0, &key, &body.fingerprint("tasks"), new, task_json)
        .await?;
    Ok(created(
        owner.id(),
        "tasks",
        outcome.response,
        outcome.replayed,
    ))
}

/// One task.
#[utoipa::path(get, path = "/api/{user_id}/tasks/{id}", tag = "tasks",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ("id" = String, Path, description = "The task's id"),
        ("If-None-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)$"#,
            description = "Previous ETags, or `*`"),
    ),
    responses(
        (status = 200, description = "The task", body = TaskResponse, headers(("ETag" = String))),
        (status = 304, description = "Unchanged since the ETag given"),
    ))]
pub async fn get_task(
    state: web::Data<AppState>,
    target: TaskPath,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let task = state.tasks.get(target.owner.id(), target.id).await?;
    if if_none_match.matches(task.version()) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag(task.version())))
            .finish());
    }
    Ok(one_task(StatusCode::OK, &task))
}

/// Update the fields given (`null` clears a nullable field); `PUT` and `PATCH` alike.
#[utoipa::path(method(put, patch), path = "/api/{user_id}/tasks/{id}", tag = "tasks",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ("id" = String, Path, description = "The task's id"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[^"]*")$"#, description = "The ETag the change is based on"),
    ),
    request_body = UpdateTaskBody,
    responses(
        (status = 200, description = "The updated task", body = TaskResponse, headers(("ETag" = String))),
        (status = 409, description = "Other writers kept changing the task; retry", body = Problem),
        (status = 412, description = "Stale If-Match; nothing changed", body = Problem),
        (status = 422, description = "Broken rules, unknown or read-only fields", body = Problem),
    ))]
pub async fn update_task(
    state: web::Data<AppState>,
    write: TaskWrite,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let changes = body.json::<UpdateTaskBody>()?.into_domain()?;
    let TaskWrite {
        target: task,
        expected,
    } = write;
    let task = state
        .tasks
        .update(task.owner.id(), task.id, changes, expected)
        .await?;
    Ok(one_task(StatusCode::OK, &task))
}

/// Delete a task.
#[utoipa::path(delete, path = "/api/{user_id}/tasks/{id}", tag = "tasks",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ("id" = String, Path, description = "The task's id"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[^"]*")$"#, description = "Delete only at this ETag"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 412, description = "Stale If-Match; nothing deleted", body = Problem),
    ))]
pub async fn delete_task(
    state: web::Data<AppState>,
    write: TaskWrite,
) -> Result<HttpResponse, ApiError> {
    let TaskWrite {
        target: task,
        expected,
    } = write;
    state
        .tasks
        .delete(task.owner.id(), task.id, expected)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Toggle `completed`; with a body `{"completed": bool}`, set it instead.
#[utoipa::path(patch, path = "/api/{user_id}/tasks/{id}/complete", tag = "tasks",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ("id" = String, Path, description = "The task's id"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[^"]*")$"#, description = "Change only at this ETag"),
    ),
    request_body(content = Option<CompleteBody>, description = "Optional: the state to set"),
    responses(
        (status = 200, description = "The task", body = TaskResponse, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match", body = Problem),
    ))]
pub async fn complete_task(
    state: web::Data<AppState>,
    write: TaskWrite,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let change = body
        .optional_json::<CompleteBody>()?
        .map_or(Completion::Toggle, |b| Completion::Set(b.completed));
    let TaskWrite {
        target: task,
        expected,
    } = write;
    let task = state
        .tasks
        .set_completion(task.owner.id(), task.id, change, expected)
        .await?;
    Ok(one_task(StatusCode::OK, &task))
}

/// Move a task (with its subtasks): to another list, under another parent, or to another
/// place among its siblings. No other sibling is rewritten.
#[utoipa::path(post, path = "/api/{user_id}/tasks/{id}/move", tag = "tasks",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ("id" = String, Path, description = "The task's id"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[^"]*")$"#, description = "Move only at this ETag"),
    ),
    request_body = MoveTaskBody,
    responses(
        (status = 200, description = "The task in its new place", body = TaskResponse, headers(("ETag" = String))),
        (status = 409, description = "Other writers kept changing the task; retry", body = Problem),
        (status = 412, description = "Stale If-Match; nothing moved", body = Problem),
        (status = 422, description = "A list, parent or sibling that does not qualify", body = Problem),
    ))]
pub async fn move_task(
    state: web::Data<AppState>,
    write: TaskWrite,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let request = body.json::<MoveTaskBody>()?.into_domain()?;
    let TaskWrite {
        target: task,
        expected,
    } = write;
    let task = state
        .tasks
        .place(task.owner.id(), task.id, request, expected)
        .await?;
    Ok(one_task(StatusCode::OK, &task))
}

/// Counts of the user's tasks, or of one list's.
#[utoipa::path(get, path = "/api/{user_id}/tasks/stats", tag = "tasks",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        StatsParams,
    ),
    responses(
        (status = 200, description = "The counts", body = StatsResponse),
        (status = 404, description = "`list_id` names no list of the user's", body = Problem),
        (status = 422, description = "An unknown parameter or value", body = Problem),
    ))]
pub async fn stats(
    state: web::Data<AppState>,
    owner: Owner,
    query: Query<StatsParams>,
) -> Result<HttpResponse, ApiError> {
    let list = query.params.into_domain()?;
    let counts = state.tasks.stats(owner.id(), list).await?;
    Ok(HttpResponse::Ok().json(StatsResponse::from(counts)))
}

/// Delete every completed task (of one list, or the inbox, with `list_id`) and its subtasks:
/// exactly `?status=completed`, no other filter.
#[utoipa::path(delete, path = "/api/{user_id}/tasks", tag = "tasks",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ClearCompletedParams,
    ),
    responses(
        (status = 200, description = "How many were deleted, subtasks included", body = DeletedResponse),
        (status = 404, description = "`list_id` names no list of the user's", body = Problem),
        (status = 422, description = "Missing `status=completed`, or another parameter", body = Problem),
    ))]
pub async fn clear_completed(
    state: web::Data<AppState>,
    owner: Owner,
    query: Query<ClearCompletedParams>,
) -> Result<HttpResponse, ApiError> {
    let list = query.params.into_domain()?;
    let deleted = state.tasks.delete_completed(owner.id(), list).await?;
    Ok(HttpResponse::Ok().json(DeletedResponse { deleted }))
}

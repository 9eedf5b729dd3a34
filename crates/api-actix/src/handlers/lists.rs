//! The list routes of shared/API.md. As for tasks, the extractors check the caller, the path
//! and the headers; the handler reads its body and calls the use case.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use domain::idempotency::StoredResponse;
use domain::list::List;

use super::tasks::{created, one};
use crate::dto::{CreateListBody, ListResponse, MoveListBody, UpdateListBody};
use crate::error::{ApiError, Problem};
use crate::extract::{Body, IdempotencyKeyHeader, ListPath, ListWrite, Owner};
use crate::state::AppState;

/// The JSON of one list.
fn list_json(list: &List) -> String {
    serde_json::to_string(&ListResponse::from(list)).expect("a list always serialises")
}

/// A response carrying one list, with its `ETag`.
fn one_list(list: &List) -> HttpResponse {
    one(StatusCode::OK, list.version(), list_json(list))
}

/// Every list of the user, in manual order.
#[utoipa::path(get, path = "/api/{user_id}/lists", tag = "lists",
    security(("bearer" = []), ("cookie" = [])),
    params(("user_id" = String, Path, description = "The signed-in user's id, or `me`")),
    responses(
        (status = 200, description = "The lists, in manual order", body = Vec<ListResponse>),
    ))]
pub async fn all_lists(state: web::Data<AppState>, owner: Owner) -> Result<HttpResponse, ApiError> {
    let lists = state.lists.all(owner.id()).await?;
    let body: Vec<ListResponse<'_>> = lists.iter().map(ListResponse::from).collect();
    Ok(HttpResponse::Ok().json(body))
}

/// Create a list, last in the user's order; with `Idempotency-Key`, at most once per key.
#[utoipa::path(post, path = "/api/{user_id}/lists", tag = "lists",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, min_length = 1, max_length = 255, pattern = r"^[\x20-\x7E]+$",
            description = "1–255 visible ASCII characters; a retry with the same key and body within 24 h returns the first response"),
    ),
    request_body = CreateListBody,
    responses(
        (status = 201, description = "Created", body = ListResponse,
            headers(("Location" = String), ("ETag" = String),
                    ("Idempotent-Replayed" = String, description = "`true` on a replay"))),
        (status = 409, description = "A list with this name exists, or the first request with this key is still running", body = Problem),
        (status = 422, description = "Broken rules (1,000 lists at most), or a key reused with another body", body = Problem),
    ))]
pub async fn create_list(
    state: web::Data<AppState>,
    owner: Owner,
    key: IdempotencyKeyHeader,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let new = body.json::<CreateListBody>()?.into_domain()?;
    let Some(key) = key.0 else {
        let list = state.lists.create(&owner.0, new).await?;
        let response = StoredResponse {
            resource: *list.id().as_uuid(),
            version: list.version(),
            body: list_json(&list),
        };
        return Ok(created(owner.id(), "lists", response, false));
    };
    let outcome = state
        .lists
        .create_once(&owner.0, &key, &body.fingerprint("lists"), new, list_json)
        .await?;
    Ok(created(
        owner.id(),
        "lists",
        outcome.response,
        outcome.replayed,
    ))
}

/// One list.
#[utoipa::path(get, path = "/api/{user_id}/lists/{list_id}", tag = "lists",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ("list_id" = String, Path, description = "The list's id"),
    ),
    responses(
        (status = 200, description = "The list", body = ListResponse, headers(("ETag" = String))),
    ))]
pub async fn get_list(
    state: web::Data<AppState>,
    target: ListPath,
) -> Result<HttpResponse, ApiError> {
    let list = state.lists.get(target.owner.id(), target.id).await?;
    Ok(one_list(&list))
}

/// Rename or recolour a list (`null` clears the colour).
#[utoipa::path(patch, path = "/api/{user_id}/lists/{list_id}", tag = "lists",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ("list_id" = String, Path, description = "The list's id"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[^"]*")$"#, description = "The ETag the change is based on"),
    ),
    request_body = UpdateListBody,
    responses(
        (status = 200, description = "The updated list", body = ListResponse, headers(("ETag" = String))),
        (status = 409, description = "The name is taken, or other writers kept changing the list", body = Problem),
        (status = 412, description = "Stale If-Match; nothing changed", body = Problem),
    ))]
pub async fn update_list(
    state: web::Data<AppState>,
    write: ListWrite,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let patch = body.json::<UpdateListBody>()?.into_domain()?;
    let ListWrite { target, expected } = write;
    let list = state
        .lists
        .update(target.owner.id(), target.id, patch, expected)
        .await?;
    Ok(one_list(&list))
}

/// Delete a list and every task in it.
#[utoipa::path(delete, path = "/api/{user_id}/lists/{list_id}", tag = "lists",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ("list_id" = String, Path, description = "The list's id"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[^"]*")$"#, description = "Delete only at this ETag"),
    ),
    responses(
        (status = 204, description = "Deleted, with its tasks"),
        (status = 412, description = "Stale If-Match; nothing deleted", body = Problem),
    ))]
pub async fn delete_list(
    state: web::Data<AppState>,
    write: ListWrite,
) -> Result<HttpResponse, ApiError> {
    let ListWrite { target, expected } = write;
    state
        .lists
        .delete(target.owner.id(), target.id, expected)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Put a list right after another, first (`after: null`) or last (no `after`).
#[utoipa::path(post, path = "/api/{user_id}/lists/{list_id}/move", tag = "lists",
    security(("bearer" = []), ("cookie" = [])),
    params(
        ("user_id" = String, Path, description = "The signed-in user's id, or `me`"),
        ("list_id" = String, Path, description = "The list's id"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[^"]*")$"#, description = "Move only at this ETag"),
    ),
    request_body = MoveListBody,
    responses(
        (status = 200, description = "The list in its new place", body = ListResponse, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match; nothing moved", body = Problem),
        (status = 422, description = "`after` is not another of the user's lists", body = Problem),
    ))]
pub async fn move_list(
    state: web::Data<AppState>,
    write: ListWrite,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let slot = body.json::<MoveListBody>()?.into_domain()?;
    let ListWrite { target, expected } = write;
    let list = state
        .lists
        .place(target.owner.id(), target.id, slot, expected)
        .await?;
    Ok(one_list(&list))
}

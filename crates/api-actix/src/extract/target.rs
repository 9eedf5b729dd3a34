//! The task a request names, with the refusals in the order the contract promises: the path's
//! user (403), the task id (404: an id that is not a UUID names no task), then for a write its
//! `If-Match` (400 malformed, 412 when it can never match).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use domain::task::{TaskId, Version};

use super::auth::{Owner, owner};
use super::conditional::precondition;
use crate::error::ApiError;

/// One task of the caller's, named by the path.
pub struct TaskPath {
    /// Whose task.
    pub owner: Owner,
    /// Which task.
    pub id: TaskId,
}

/// A write to one task: its path and the version `If-Match` requires, if any.
pub struct TaskWrite {
    /// The task.
    pub task: TaskPath,
    /// The version the write is based on.
    pub expected: Option<Version>,
}

fn task_path(req: &HttpRequest) -> Result<TaskPath, ApiError> {
    let owner = owner(req)?;
    let id = req
        .match_info()
        .get("id")
        .and_then(|raw| TaskId::parse(raw).ok())
        .ok_or(ApiError::NotFound("no such task"))?;
    Ok(TaskPath { owner, id })
}

impl FromRequest for TaskPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(task_path(req))
    }
}

impl FromRequest for TaskWrite {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(task_path(req).and_then(|task| {
            Ok(Self {
                task,
                expected: precondition(req)?,
            })
        }))
    }
}

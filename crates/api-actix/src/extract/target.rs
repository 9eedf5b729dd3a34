//! The task or list a request names, with the refusals in the order the contract promises: the
//! path's user (403), the id (404: an id that is not a UUID names nothing), then for a write
//! its `If-Match` (400 malformed, 412 when it can never match).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use domain::list::ListId;
use domain::task::{TaskId, Version};

use super::auth::{Owner, owner};
use super::conditional::precondition;
use crate::error::ApiError;

/// An id that a path names.
pub trait PathId: Sized {
    /// The path parameter that holds it.
    const PARAM: &'static str;
    /// The 404's detail.
    const NOT_FOUND: &'static str;
    /// The id, if `raw` is one.
    fn from_path(raw: &str) -> Option<Self>;
}

impl PathId for TaskId {
    const PARAM: &'static str = "id";
    const NOT_FOUND: &'static str = "no such task";
    fn from_path(raw: &str) -> Option<Self> {
        Self::parse(raw).ok()
    }
}

impl PathId for ListId {
    const PARAM: &'static str = "list_id";
    const NOT_FOUND: &'static str = "no such list";
    fn from_path(raw: &str) -> Option<Self> {
        Self::parse(raw, Self::PARAM).ok()
    }
}

/// One task or list of the caller's, named by the path.
pub struct Target<I> {
    /// Whose.
    pub owner: Owner,
    /// Which.
    pub id: I,
}

/// One task of the caller's.
pub type TaskPath = Target<TaskId>;
/// One list of the caller's.
pub type ListPath = Target<ListId>;

/// A write to one task or list: its path and the version `If-Match` requires, if any.
pub struct Write<I> {
    /// What is written.
    pub target: Target<I>,
    /// The version the write is based on.
    pub expected: Option<Version>,
}

/// A write to one task.
pub type TaskWrite = Write<TaskId>;
/// A write to one list.
pub type ListWrite = Write<ListId>;

fn target<I: PathId>(req: &HttpRequest) -> Result<Target<I>, ApiError> {
    let owner = owner(req)?;
    let id = req
        .match_info()
        .get(I::PARAM)
        .and_then(I::from_path)
        .ok_or(ApiError::NotFound(I::NOT_FOUND))?;
    Ok(Target { owner, id })
}

impl<I: PathId> FromRequest for Target<I> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(target(req))
    }
}

impl<I: PathId> FromRequest for Write<I> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(target(req).and_then(|target| {
            Ok(Self {
                target,
                expected: precondition(req)?,
            })
        }))
    }
}

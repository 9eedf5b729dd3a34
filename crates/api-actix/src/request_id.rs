//! The id of the request being served: set by the request-context middleware around each
//! request, read wherever a response or a log line names it. A module of its own, importing
//! nothing of this crate, so that both the middleware and the error responses can use it.

use std::rc::Rc;

tokio::task_local! {
    /// The current request's id, set by `middleware::request_context`; shared, not copied,
    /// with the middleware that writes it into the response.
    pub(crate) static REQUEST_ID: Rc<str>;
}

/// The current request's id, or `-` outside a request.
pub(crate) fn current_request_id() -> String {
    REQUEST_ID
        .try_with(ToString::to_string)
        .unwrap_or_else(|_| "-".into())
}

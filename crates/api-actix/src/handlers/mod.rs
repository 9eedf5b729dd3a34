//! Route handlers, one module per resource.

pub mod health;
pub mod lists;
pub mod me;
pub mod sync;
pub mod tasks;

use actix_web::http::header::HeaderValue;

/// `Content-Type: application/json`, made once: given as text, actix-web parses and copies it
/// into every response.
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A page of `entries` tasks or lists as JSON, in a buffer with room for a typical entry up
/// front: grown from empty, a page of 50 tasks was copied into seven ever larger buffers on
/// its way out.
fn page_json(page: &impl serde::Serialize, entries: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(512 * entries + 64);
    serde_json::to_writer(&mut body, page).expect("pages always serialise");
    body
}

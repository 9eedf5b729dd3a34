//! The route table, shared by the server and the handler tests.

use actix_web::http::Method;
use actix_web::{HttpResponse, Resource, middleware::from_fn, web};

use crate::error::ApiError;
use crate::extract::MAX_BODY_BYTES;
use crate::handlers::{docs, health, me, tasks};
use crate::middleware::rate_limit;

/// A resource that answers 405 (with `Allow`) to methods it does not route.
fn resource(path: &str, allowed: &'static [Method]) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed(allowed))
    }))
}

/// Every route of shared/API.md.
///
/// actix-web tries services in order and matches each dynamic pattern with a regular
/// expression, which profiling showed to be a sixth of the server's CPU on a plain `GET`. So
/// the API comes first, and its task routes share one dynamic prefix, matched once.
pub fn routes(cfg: &mut web::ServiceConfig) {
    const GET: &[Method] = &[Method::GET];
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .service(
            web::scope("/api")
                .wrap(from_fn(rate_limit))
                .service(resource("/me", GET).route(web::get().to(me::me)))
                .service(
                    web::scope("/{user_id}/tasks")
                        .service(
                            resource("", &[Method::GET, Method::POST, Method::DELETE])
                                .route(web::get().to(tasks::list_tasks))
                                .route(web::post().to(tasks::create_task))
                                .route(web::delete().to(tasks::clear_completed)),
                        )
                        // Before `/{id}`, which would otherwise take `stats` for an id.
                        .service(resource("/stats", GET).route(web::get().to(tasks::stats)))
                        .service(
                            resource(
                                "/{id}",
                                &[Method::GET, Method::PUT, Method::PATCH, Method::DELETE],
                            )
                            .route(web::get().to(tasks::get_task))
                            .route(web::put().to(tasks::update_task))
                            .route(web::patch().to(tasks::update_task))
                            .route(web::delete().to(tasks::delete_task)),
                        )
                        .service(
                            resource("/{id}/complete", &[Method::PATCH])
                                .route(web::patch().to(tasks::complete_task)),
                        ),
                ),
        )
        .service(resource("/health", GET).route(web::get().to(health::health)))
        .service(resource("/ready", GET).route(web::get().to(health::ready)))
        .service(resource("/openapi.json", GET).route(web::get().to(docs::openapi_json)))
        .service(resource("/docs", GET).route(web::get().to(docs::docs_page)))
        .service(resource("/docs/{file:.+}", GET).route(web::get().to(docs::docs_asset)))
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::NotFound("no such route"))
        }));
}

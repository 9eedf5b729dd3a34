//! The route table, shared by the server and the handler tests.

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, Resource, web};

use crate::error::ApiError;
use crate::extract::MAX_BODY_BYTES;
use crate::handlers::{health, lists, me, sync, tasks};
use crate::middleware::{RateLimiter, authenticate};
use crate::openapi::serve as docs;

/// A resource that answers 405 (with `Allow`) to methods it does not route.
fn resource(path: &str, allowed: &'static [Method]) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed(allowed))
    }))
}

/// Every route of shared/API.md, with rate limiting when `limiter` is given.
///
/// Under `/api`, every request is authenticated (the caller goes into the request) and counted
/// against its caller's rate limit.
///
/// actix-web tries services in order and matches each dynamic pattern with a regular
/// expression, which profiling showed to be a sixth of the server's CPU on a plain `GET`. So
/// the API comes first, and its task routes share one dynamic prefix, matched once.
pub fn routes(limiter: Option<web::Data<RateLimiter>>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| api_routes(cfg, limiter)
}

fn api_routes(cfg: &mut web::ServiceConfig, limiter: Option<web::Data<RateLimiter>>) {
    const GET: &[Method] = &[Method::GET];
    if let Some(limiter) = limiter {
        cfg.app_data(limiter);
    }
    cfg.app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .service(
            web::scope("/api")
                .wrap(from_fn(authenticate))
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
                        )
                        .service(
                            resource("/{id}/move", &[Method::POST])
                                .route(web::post().to(tasks::move_task)),
                        ),
                )
                .service(resource("/{user_id}/changes", GET).route(web::get().to(sync::changes)))
                .service(resource("/{user_id}/events", GET).route(web::get().to(sync::events)))
                .service(
                    web::scope("/{user_id}/lists")
                        .service(
                            resource("", &[Method::GET, Method::POST])
                                .route(web::get().to(lists::all_lists))
                                .route(web::post().to(lists::create_list)),
                        )
                        .service(
                            resource("/{list_id}", &[Method::GET, Method::PATCH, Method::DELETE])
                                .route(web::get().to(lists::get_list))
                                .route(web::patch().to(lists::update_list))
                                .route(web::delete().to(lists::delete_list)),
                        )
                        .service(
                            resource("/{list_id}/move", &[Method::POST])
                                .route(web::post().to(lists::move_list)),
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

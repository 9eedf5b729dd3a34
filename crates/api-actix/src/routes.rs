//! The route table, shared by the server and the handler tests.

use actix_web::dev::HttpServiceFactory;
use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{FromRequest, Handler, HttpResponse, Resource, Responder, Route, guard, web};

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

/// A route for one method. actix-web's `web::get()` and the like also note every method they
/// are tried for in the request, for a default 405 to name: two allocations per request that
/// [`resource`]'s own 405 has no use for.
fn on(method: Method) -> Route {
    web::route().guard(guard::fn_guard(move |ctx| ctx.head().method == method))
}

/// An `/api` resource that answers `GET` alone.
fn api_get<F, Args>(path: &str, handler: F) -> impl HttpServiceFactory + 'static
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    resource(path, &[Method::GET])
        .wrap(from_fn(authenticate))
        .route(on(Method::GET).to(handler))
}

/// Every route of shared/API.md, with rate limiting when `limiter` is given.
///
/// Every `/api` route is authenticated (the caller goes into the request) and counted against
/// its caller's rate limit.
///
/// actix-web tries services in order and matches each dynamic pattern with a regular
/// expression, which profiling showed to be a sixth of the server's CPU on a plain `GET`. So
/// the API comes first, and its task routes share one dynamic prefix, matched once. Each `/api`
/// service is wrapped in [`authenticate`] on its own rather than all in one `/api` scope: that
/// scope would be another level of routing, and another boxed future, on every request.
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
            web::scope("/api/{user_id}/tasks")
                .wrap(from_fn(authenticate))
                .service(
                    resource("", &[Method::GET, Method::POST, Method::DELETE])
                        .route(on(Method::GET).to(tasks::list_tasks))
                        .route(on(Method::POST).to(tasks::create_task))
                        .route(on(Method::DELETE).to(tasks::clear_completed)),
                )
                // Before `/{id}`, which would otherwise take `stats` for an id.
                .service(resource("/stats", GET).route(on(Method::GET).to(tasks::stats)))
                .service(
                    resource(
                        "/{id}",
                        &[Method::GET, Method::PUT, Method::PATCH, Method::DELETE],
                    )
                    .route(on(Method::GET).to(tasks::get_task))
                    .route(on(Method::PUT).to(tasks::update_task))
                    .route(on(Method::PATCH).to(tasks::update_task))
                    .route(on(Method::DELETE).to(tasks::delete_task)),
                )
                .service(
                    resource("/{id}/complete", &[Method::PATCH])
                        .route(on(Method::PATCH).to(tasks::complete_task)),
                )
                .service(
                    resource("/{id}/move", &[Method::POST])
                        .route(on(Method::POST).to(tasks::move_task)),
                ),
        )
        .service(api_get("/api/me", me::me))
        .service(api_get("/api/{user_id}/changes", sync::changes))
        .service(api_get("/api/{user_id}/events", sync::events))
        .service(
            web::scope("/api/{user_id}/lists")
                .wrap(from_fn(authenticate))
                .service(
                    resource("", &[Method::GET, Method::POST])
                        .route(on(Method::GET).to(lists::all_lists))
                        .route(on(Method::POST).to(lists::create_list)),
                )
                .service(
                    resource("/{list_id}", &[Method::GET, Method::PATCH, Method::DELETE])
                        .route(on(Method::GET).to(lists::get_list))
                        .route(on(Method::PATCH).to(lists::update_list))
                        .route(on(Method::DELETE).to(lists::delete_list)),
                )
                .service(
                    resource("/{list_id}/move", &[Method::POST])
                        .route(on(Method::POST).to(lists::move_list)),
                ),
        )
        .service(resource("/health", GET).route(on(Method::GET).to(health::health)))
        .service(resource("/ready", GET).route(on(Method::GET).to(health::ready)))
        .service(resource("/openapi.json", GET).route(on(Method::GET).to(docs::openapi_json)))
        .service(resource("/docs", GET).route(on(Method::GET).to(docs::docs_page)))
        .service(resource("/docs/{file:.+}", GET).route(on(Method::GET).to(docs::docs_asset)))
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::NotFound("no such route"))
        }));
}

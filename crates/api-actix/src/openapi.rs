//! The OpenAPI 3.1 document, generated from the handlers' annotations and the DTOs.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
    modifiers(&SecuritySchemes),
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

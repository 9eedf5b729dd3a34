//! The OpenAPI document and the Swagger UI page, both served from the binary (the UI's files
//! are vendored at build time, so nothing is downloaded).

use std::sync::{Arc, LazyLock};

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use utoipa::OpenApi;
use utoipa_swagger_ui::Config;

use super::ApiDoc;
use crate::error::ApiError;

static SPEC: LazyLock<String> = LazyLock::new(|| {
    ApiDoc::openapi()
        .to_json()
        .expect("the OpenAPI document serialises")
});

static UI_CONFIG: LazyLock<Arc<Config<'static>>> =
    LazyLock::new(|| Arc::new(Config::new(["/openapi.json"])));

/// `GET /openapi.json`.
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(SPEC.as_str())
}

/// `GET /docs`: Swagger UI's page, answering 200 itself; a `<base>` makes its relative asset
/// links resolve under `/docs/`.
pub async fn docs_page() -> Result<HttpResponse, ApiError> {
    let page = swagger_file("index.html")?;
    let html =
        String::from_utf8_lossy(&page.1).replacen("<head>", "<head><base href=\"/docs/\">", 1);
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// `GET /docs/{file}`: the UI's scripts and styles.
pub async fn docs_asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (content_type, bytes, gzipped) = swagger_file(&file)?;
    let mut response = HttpResponse::Ok();
    response.content_type(content_type);
    if gzipped {
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
    }
    Ok(response.body(bytes))
}

fn swagger_file(path: &str) -> Result<(String, Vec<u8>, bool), ApiError> {
    match utoipa_swagger_ui::serve(path, Arc::clone(&UI_CONFIG)) {
        Ok(Some(file)) => Ok((file.content_type, file.bytes.into_owned(), file.gzpipped)),
        Ok(None) => Err(ApiError::NotFound("no such route")),
        Err(error) => Err(ApiError::Internal(anyhow::anyhow!("swagger ui: {error}"))),
    }
}

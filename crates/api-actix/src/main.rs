//! `todo-api`: see `api_actix::cli`.

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    api_actix::cli::run().await
}

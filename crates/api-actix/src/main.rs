//! `todo-api`: see `api_actix::cli`.

/// mimalloc rather than glibc's allocator: measured with `bench/run`, see docs/benchmarks.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    api_actix::cli::run().await
}

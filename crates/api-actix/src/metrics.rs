//! Prometheus metrics: the process's recorder, what each request adds to it, and the listener on
//! `METRICS_ADDR` that serves them, apart from the API so that scraping needs no token and the
//! API's port exposes nothing of it. Labels name methods, route patterns and statuses, never a
//! path, user id, token or task text.

use std::net::TcpListener;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::Method;
use actix_web::{App, HttpResponse, HttpServer, web};
use adapters_postgres::Store;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Upper bounds of the latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Whether requests are measured: only once a listener serves the figures, so that a server
/// without `METRICS_ADDR` pays nothing per request.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// The process's recorder; `metrics` allows one per process, which every server of it shares.
static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Installs the recorder (once per process) and names the metrics with their help text.
fn handle() -> anyhow::Result<PrometheusHandle> {
    let handle = HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                &LATENCY_BUCKETS,
            )
            .and_then(PrometheusBuilder::install_recorder)
            .map_err(|e| e.to_string())?;
        describe();
        Ok(handle)
    });
    handle
        .clone()
        .map_err(|e| anyhow::anyhow!("cannot install the metrics recorder: {e}"))
}

fn describe() {
    metrics::describe_counter!(
        "http_requests_total",
        "Requests answered, by route pattern and status"
    );
    metrics::describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time from a request's arrival to its response"
    );
    metrics::describe_gauge!(
        "db_pool_connections",
        "Database pool connections, idle or in use"
    );
    metrics::describe_gauge!("event_streams_open", "Open live event streams");
    metrics::describe_counter!("events_delivered_total", "Events written to live streams");
    metrics::describe_counter!("reminders_fired_total", "Reminders fired");
    // Present from the start, so that a query over them works before the first event.
    metrics::gauge!("event_streams_open").set(0.0);
    metrics::counter!("events_delivered_total").absolute(0);
    metrics::counter!("reminders_fired_total").absolute(0);
}

/// Whether requests are measured (a listener serves the figures).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Counts one answered request; `route` is the matched pattern (`-` when none matched).
pub fn record_request(method: &Method, route: &str, status: u16, elapsed: Duration) {
    if !enabled() {
        return;
    }
    let labels = [
        ("method", method.as_str().to_owned()),
        ("route", route.to_owned()),
    ];
    metrics::histogram!("http_request_duration_seconds", &labels).record(elapsed.as_secs_f64());
    let [method, route] = labels;
    metrics::counter!(
        "http_requests_total",
        &[method, route, ("status", status.to_string())]
    )
    .increment(1);
}

/// The metrics listener: `GET /metrics` in Prometheus' text format; the pool gauges count
/// the requests' pool, `requests`.
pub fn server(listener: TcpListener, requests: Store) -> anyhow::Result<Server> {
    let handle = handle()?;
    ENABLED.store(true, Ordering::Relaxed);
    let state = web::Data::new((handle, requests));
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(render))
    })
    .workers(1)
    // Stopped by `Application::run_until_stopped` once the API has stopped.
    .disable_signals()
    .listen(listener)?
    .shutdown_timeout(1)
    .run())
}

async fn render(state: web::Data<(PrometheusHandle, Store)>) -> HttpResponse {
    let (handle, requests) = state.get_ref();
    let pool = requests.pool_use();
    metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(pool.idle));
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(f64::from(pool.in_use));
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}

/// Drains the histograms' sample buffers, which would otherwise grow between scrapes.
pub fn upkeep() {
    if let Some(Ok(handle)) = HANDLE.get() {
        handle.run_upkeep();
    }
}

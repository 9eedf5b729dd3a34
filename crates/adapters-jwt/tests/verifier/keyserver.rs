//! A JWKS endpoint on loopback whose keys a test can change, count hits on, and stop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

#[derive(Default)]
struct Shared {
    keys: RwLock<Vec<Value>>,
    hits: AtomicUsize,
}

/// Better Auth's `/api/auth/jwks`, served from memory.
pub struct KeyServer {
    shared: Arc<Shared>,
    handle: ServerHandle,
    pub url: String,
}

impl KeyServer {
    pub fn start(keys: Vec<Value>) -> Self {
        let shared = Arc::new(Shared {
            keys: RwLock::new(keys),
            hits: AtomicUsize::new(0),
        });
        let state = Arc::clone(&shared);
        let server = HttpServer::new(move || {
            let state = Arc::clone(&state);
            App::new().route(
                "/api/auth/jwks",
                web::get().to(move || {
                    let state = Arc::clone(&state);
                    async move {
                        state.hits.fetch_add(1, Ordering::SeqCst);
                        let keys = state.keys.read().unwrap().clone();
                        HttpResponse::Ok().json(json!({ "keys": keys }))
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            shared,
            handle,
            url: format!("http://127.0.0.1:{port}/api/auth/jwks"),
        }
    }

    pub fn set_keys(&self, keys: Vec<Value>) {
        *self.shared.keys.write().unwrap() = keys;
    }

    pub fn hits(&self) -> usize {
        self.shared.hits.load(Ordering::SeqCst)
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

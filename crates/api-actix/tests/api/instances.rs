//! Several instances on one PostgreSQL database.

use adapters_postgres::testing::TestDatabase;
use api_actix::startup::Application;

use crate::helpers::{instance, test_settings};

/// Three exited of four before the migrations took a lock: two migrators racing on an empty
/// database collide in PostgreSQL's catalog (`pg_type_typname_nsp_index`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_started_together_on_an_empty_database_all_come_up() {
    let Some(db) = TestDatabase::postgres_empty().await else {
        return;
    };
    let build = || Application::build(test_settings(&db, &[]));

    let (a, b, c, d) = tokio::join!(build(), build(), build(), build());

    let client = reqwest::Client::new();
    for application in [a, b, c, d] {
        let application = application.expect("every instance comes up");
        let ready = format!("http://127.0.0.1:{}/ready", application.port());
        tokio::spawn(application.run_until_stopped());
        assert_eq!(client.get(ready).send().await.unwrap().status(), 200);
    }
    let applied = db.applied_migrations().await;
    let mut every_migration: Vec<String> = db
        .store()
        .migration_status()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    every_migration.sort();
    assert_eq!(
        applied, every_migration,
        "each migration applied exactly once"
    );
}

/// What the clients of a load saw.
#[derive(Default)]
struct Outcomes {
    /// Ids of the tasks whose creation was acknowledged (`201`).
    created: Vec<String>,
    /// Other answers, by status.
    statuses: Vec<u16>,
    /// Requests sent and never answered: the loss a stop must not cause.
    unanswered: Vec<String>,
}

/// A client spreading requests over the instances, as a load balancer would: it checks each
/// one's `/ready` every 100 ms and routes only to ready ones, and tries the next instance when
/// a connection is refused (the request was never sent).
struct Balancer {
    client: reqwest::Client,
    instances: tokio::sync::RwLock<Vec<String>>,
    token: String,
}

impl Balancer {
    fn new(instances: Vec<String>) -> Self {
        Self {
            client: reqwest::Client::new(),
            instances: tokio::sync::RwLock::new(instances),
            token: crate::helpers::token("loaded"),
        }
    }

    /// One request (a create, or a listing every fourth time) on the `n`th instance in turn.
    async fn send(&self, n: usize, outcomes: &std::sync::Mutex<Outcomes>) {
        let instances = self.instances.read().await.clone();
        if instances.is_empty() {
            // Nowhere to send it: a real balancer answers 502 itself; nothing reached us.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            return;
        }
        for attempt in 0..instances.len() {
            let base = &instances[(n + attempt) % instances.len()];
            let request = if n % 4 == 3 {
                self.client.get(format!("{base}/api/me/tasks?limit=5"))
            } else {
                self.client
                    .post(format!("{base}/api/me/tasks"))
                    .json(&serde_json::json!({ "title": format!("load {n}") }))
            };
            match request.bearer_auth(&self.token).send().await {
                Ok(response) if response.status() == 201 => {
                    let task: serde_json::Value = response.json().await.unwrap();
                    let id = task["id"].as_str().unwrap().to_owned();
                    outcomes.lock().unwrap().created.push(id);
                }
                Ok(response) => outcomes
                    .lock()
                    .unwrap()
                    .statuses
                    .push(response.status().as_u16()),
                Err(error) if error.is_connect() => continue,
                Err(error) => outcomes
                    .lock()
                    .unwrap()
                    .unanswered
                    .push(format!("{error:?}")),
            }
            return;
        }
    }
}

/// Clients sending requests through a balancer, and its health checks, until finished.
struct Load {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    outcomes: std::sync::Arc<std::sync::Mutex<Outcomes>>,
}

impl Load {
    /// `clients` loops of requests through `balancer`, which checks `/ready` every 100 ms and
    /// takes instances that fail it out of rotation.
    fn start(balancer: &std::sync::Arc<Balancer>, clients: usize) -> Self {
        let stop = std::sync::Arc::<std::sync::atomic::AtomicBool>::default();
        let outcomes = std::sync::Arc::<std::sync::Mutex<Outcomes>>::default();
        let mut tasks: Vec<_> = (0..clients)
            .map(|client| {
                let (balancer, outcomes, stop) = (balancer.clone(), outcomes.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut n = client;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        balancer.send(n, &outcomes).await;
                        n += clients;
                    }
                })
            })
            .collect();
        let (balancer, checking) = (balancer.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !checking.load(std::sync::atomic::Ordering::Relaxed) {
                let instances = balancer.instances.read().await.clone();
                for address in instances {
                    let answer = balancer
                        .client
                        .get(format!("{address}/ready"))
                        .timeout(std::time::Duration::from_millis(200))
                        .send()
                        .await;
                    // A draining instance answers 503 at once and a stopped one refuses the
                    // connection; a slow answer is no verdict (on a loaded machine it once
                    // took the only instance out of rotation for good, so the load never ran).
                    let ready = match answer {
                        Ok(response) => response.status() == 200,
                        Err(error) => error.is_timeout(),
                    };
                    if !ready {
                        balancer.instances.write().await.retain(|a| *a != address);
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }));
        Self {
            tasks,
            stop,
            outcomes,
        }
    }

    /// Waits until more than `n` creations were acknowledged (10 s at most): the load runs
    /// once every client has its answers, whatever its connections took to open.
    async fn until_created(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while self.outcomes.lock().unwrap().created.len() <= n
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Stops the clients and checks what they saw: every request answered, no error status.
    async fn finish(self) -> Outcomes {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        let outcomes = std::mem::take(&mut *self.outcomes.lock().unwrap());
        assert!(outcomes.unanswered.is_empty(), "{:?}", outcomes.unanswered);
        assert!(
            outcomes.statuses.iter().all(|s| *s == 200),
            "{:?}",
            outcomes.statuses
        );
        outcomes
    }
}

/// Every acknowledged task, read back through `address`.
async fn assert_all_stored(address: &str, outcomes: &Outcomes) {
    let client = reqwest::Client::new();
    let token = crate::helpers::token("loaded");
    for id in &outcomes.created {
        let response = client
            .get(format!("{address}/api/me/tasks/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "acknowledged task {id} is stored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stop_under_load_answers_every_request_it_took_and_loses_no_write() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let (address, shutdown) = instance(&db).await;
    let balancer = std::sync::Arc::new(Balancer::new(vec![address]));

    let load = Load::start(&balancer, 16);
    load.until_created(16).await;
    shutdown.graceful().await;
    let outcomes = load.finish().await;

    assert!(
        outcomes.created.len() > 16,
        "the load ran: {}",
        outcomes.created.len()
    );
    let (after, _) = instance(&db).await;
    assert_all_stored(&after, &outcomes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_under_load_gives_no_5xx_and_loses_nothing() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let (first, first_stop) = instance(&db).await;
    let (second, second_stop) = instance(&db).await;
    let balancer = std::sync::Arc::new(Balancer::new(vec![first, second]));

    let load = Load::start(&balancer, 8);
    for old_stop in [first_stop, second_stop] {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        // Its `/ready` fails at once; the balancer stops routing to it within 100 ms.
        old_stop.graceful().await;
        let (new, _) = instance(&db).await;
        balancer.instances.write().await.push(new);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let outcomes = load.finish().await;

    let (after, _) = instance(&db).await;
    assert_all_stored(&after, &outcomes).await;
}

/// The real process and the real signal: SIGTERM drains (`/ready` fails, `/health` holds) for
/// `SHUTDOWN_DELAY_SECS`, then the server exits cleanly.
#[tokio::test]
async fn sigterm_drains_then_exits() {
    let dir = std::env::temp_dir().join(format!("todo-sigterm-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut server = KilledOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_todo-api"))
            .env("DATABASE_URL", "sqlite::memory:")
            .env("PORT", port.to_string())
            .env("BETTER_AUTH_SECRET", crate::helpers::SECRET)
            .env("SHUTDOWN_DELAY_SECS", "2")
            .env("RUST_LOG", "error")
            .current_dir(&dir)
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let status = |path: &'static str| {
        let request = client.get(format!("{base}{path}")).send();
        async move { request.await.map_or(0, |r| r.status().as_u16()) }
    };
    let started = std::time::Instant::now();
    while status("/ready").await != 200 {
        assert!(
            started.elapsed().as_secs() < 20,
            "the server did not come up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let pid = server.0.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    assert!(killed.unwrap().success());
    let signalled = std::time::Instant::now();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    assert_eq!(status("/ready").await, 503, "draining: not ready");
    assert_eq!(status("/health").await, 200, "draining: still serving");
    let exit = loop {
        if let Some(exit) = server.0.try_wait().unwrap() {
            break exit;
        }
        assert!(
            signalled.elapsed().as_secs() <= 10,
            "the server did not exit within 10 s of SIGTERM"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
    assert!(signalled.elapsed().as_millis() >= 2000, "it drained first");
    std::fs::remove_dir_all(dir).ok();
}

/// A child process that a failing test does not leave running.
struct KilledOnDrop(std::process::Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A name no other test run uses.
fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

//! The `todo-api` command line: `serve` (default), `migrate`, `token`, `openapi`.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use adapters_jwt::{DevTokenRequest, sign_hs256};
use adapters_postgres::Store;
use clap::{Parser, Subcommand, ValueEnum};

use secrecy::ExposeSecret;

use crate::config::{AppEnv, Settings};
use crate::startup::Application;
use crate::telemetry::{get_subscriber, init_subscriber};

/// The Todo API server.
#[derive(Debug, Parser)]
#[command(name = "todo-api", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Configured(Configured),
    /// Print the OpenAPI document (what `/openapi.json` serves), without configuration,
    /// database or server: what clients generate their types from.
    Openapi,
}

/// The commands that read the configuration.
#[derive(Debug, Subcommand)]
enum Configured {
    /// Serve the API (the default).
    Serve,
    /// Apply, revert or inspect the database migrations.
    Migrate {
        /// What to do.
        action: MigrateAction,
        /// Confirm `fresh` when `APP_ENV=production` (it drops every table).
        #[arg(long)]
        yes: bool,
    },
    /// Print an HS256 token signed with the configured secret, for trying the API with curl.
    Token {
        /// The user id (`sub`).
        #[arg(long)]
        sub: String,
        /// An `email` claim.
        #[arg(long)]
        email: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the latest migration.
    Down,
    /// List migrations and whether they are applied.
    Status,
    /// Drop every table and apply all migrations again.
    Fresh,
}

/// Runs the command line; configuration errors end in one line on stderr and exit code 2.
pub async fn run() -> ExitCode {
    let command = match Cli::parse().command {
        Some(Command::Openapi) => {
            // Not `println!`, which panics when the reader closes the pipe (`| head`).
            let printed = writeln!(io::stdout().lock(), "{}", crate::openapi::pretty_document());
            return if printed.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
        Some(Command::Configured(command)) => command,
        None => Configured::Serve,
    };
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    init_subscriber(get_subscriber(
        &settings.log_filter,
        settings.log_format,
        std::io::stderr,
    ));
    let outcome = match command {
        Configured::Serve => serve(settings).await,
        Configured::Migrate { action, yes } => migrate(&settings, action, yes).await,
        Configured::Token { sub, email, ttl } => token(&settings, &sub, email.as_deref(), ttl),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error.cause_chain = ?error, "todo-api failed");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    for warning in &settings.warnings {
        tracing::warn!("{warning}");
    }
    if let Some(path) = &settings.auth.development_secret {
        tracing::info!(
            secret_file = %path.display(),
            "development mode: tokens are signed with a generated secret; \
             get one with `cargo run -p api-actix -- token --sub alice`"
        );
    }
    let (host, env) = (settings.host.clone(), settings.app_env);
    let application = Application::build(settings).await?;
    tracing::info!(?env, "listening on http://{host}:{}", application.port());
    application.run_until_stopped().await?;
    Ok(())
}

async fn migrate(settings: &Settings, action: MigrateAction, yes: bool) -> anyhow::Result<()> {
    let store = Store::connect(&settings.database).await?;
    match action {
        MigrateAction::Up => store.migrate_up().await?,
        MigrateAction::Down => store.migrate_down().await?,
        MigrateAction::Fresh => {
            anyhow::ensure!(
                settings.app_env != AppEnv::Production || yes,
                "`migrate fresh` drops every table; add --yes to do it in production"
            );
            store.migrate_fresh().await?;
        }
        MigrateAction::Status => {}
    }
    for migration in store.migration_status().await? {
        println!(
            "{:<8} {}",
            if migration.applied {
                "applied"
            } else {
                "pending"
            },
            migration.name
        );
    }
    Ok(())
}

fn token(settings: &Settings, sub: &str, email: Option<&str>, ttl: u64) -> anyhow::Result<()> {
    let secret = settings.auth.resolve_secret()?.ok_or_else(|| {
        anyhow::anyhow!(
            "`token` signs with BETTER_AUTH_SECRET, which is not set (only a JWKS URL is)"
        )
    })?;
    domain::user::UserId::parse(sub).map_err(|e| anyhow::anyhow!("--sub {}", e.message()))?;
    let token = sign_hs256(
        secret.expose_secret().as_bytes(),
        &DevTokenRequest {
            subject: sub,
            email,
            ttl: Duration::from_secs(ttl),
            issuer: settings.auth.issuer.as_deref(),
            audience: settings.auth.audience.as_deref(),
        },
    );
    println!("{token}");
    Ok(())
}

//! Configuration: the environment (and `.env` when present), deserialised by `config` into typed
//! fields, then validated once. An error names the variable and its rule, never a secret's
//! value.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use adapters_postgres::DbSettings;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The SQLite database used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/todo.db?mode=rwc";
/// Where development state (the SQLite file, a generated secret) lives.
pub const DATA_DIR: &str = "data";
/// How long SIGTERM drains by default: a few of a load balancer's health checks.
const DEFAULT_SHUTDOWN_DELAY: Duration = Duration::from_secs(5);
/// Shortest secret accepted in production: HS256 wants a key as long as its hash.
const MIN_SECRET_BYTES: usize = 32;

/// `development` or `production`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppEnv {
    /// Forgiving defaults, a generated secret.
    Development,
    /// Explicit token settings required.
    Production,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// How tokens are verified.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// HS256 shared secret (`BETTER_AUTH_SECRET`).
    pub secret: Option<SecretString>,
    /// In development with no token setting at all: the file that keeps a generated secret,
    /// created by the first command that signs or verifies tokens.
    pub development_secret: Option<PathBuf>,
    /// Better Auth's JWKS endpoint.
    pub jwks_url: Option<String>,
    /// Required `iss`.
    pub issuer: Option<String>,
    /// Required `aud`.
    pub audience: Option<String>,
    /// Cookie read when there is no `Authorization` header.
    pub cookie_name: String,
}

impl AuthSettings {
    /// The HS256 secret: the configured one, else the development secret kept in its file
    /// (mode 0600, created on first use), else none (only JWKS tokens are accepted).
    pub fn resolve_secret(&self) -> std::io::Result<Option<SecretString>> {
        match (&self.secret, &self.development_secret) {
            (Some(secret), _) => Ok(Some(secret.clone())),
            (None, Some(path)) => development_secret(path).map(Some),
            (None, None) => Ok(None),
        }
    }
}

/// Per-user rate limiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// Sustained requests per second.
    pub per_second: u32,
    /// Requests allowed at once.
    pub burst: u32,
}

/// Everything the server needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Development or production.
    pub app_env: AppEnv,
    /// Address to listen on.
    pub host: String,
    /// Port to listen on (0: any free port).
    pub port: u16,
    /// The database.
    pub database: DbSettings,
    /// Migrate at start-up.
    pub run_migrations: bool,
    /// Token verification.
    pub auth: AuthSettings,
    /// Origins allowed by CORS.
    pub cors_origins: Vec<String>,
    /// `None` when limiting is off.
    pub rate_limit: Option<RateLimitSettings>,
    /// `RUST_LOG` filter.
    pub log_filter: String,
    /// `LOG_FORMAT`.
    pub log_format: LogFormat,
    /// How long SIGTERM drains before the server stops accepting.
    pub shutdown_delay: Duration,
    /// Where `/metrics` listens (`METRICS_ADDR`); `None`: no metrics.
    pub metrics_addr: Option<SocketAddr>,
    /// Things worth a warning once logging is up.
    pub warnings: Vec<String>,
}

/// A variable that is missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {variable}: {problem}")]
pub struct ConfigError {
    /// The variable at fault (or the variables, for a missing choice).
    pub variable: &'static str,
    /// What is wrong; never the value of a secret.
    pub problem: String,
}

/// Each variable with a rule, and the rule as an error states it.
const RULES: &[(&str, &str)] = &[
    ("APP_ENV", "must be development or production"),
    ("PORT", "must be a port number from 0 to 65535"),
    (
        "DATABASE_URL",
        "must start with postgres://, postgresql:// or sqlite:",
    ),
    (
        "NEON_DATABASE_URL",
        "must start with postgres://, postgresql:// or sqlite:",
    ),
    (
        "DB_MAX_CONNECTIONS",
        "must be a whole number from 1 to 1000",
    ),
    (
        "DB_ACQUIRE_TIMEOUT_SECS",
        "must be a whole number of seconds from 1 to 5",
    ),
    ("DB_IDLE_TIMEOUT_SECS", "must be a whole number of seconds"),
    ("DB_MAX_LIFETIME_SECS", "must be a whole number of seconds"),
    ("RUN_MIGRATIONS", "must be true or false"),
    ("BETTER_AUTH_JWKS_URL", "must be an http:// or https:// URL"),
    (
        "AUTH_COOKIE_NAME",
        "must be letters, digits, '_', '-' or '.'",
    ),
    (
        "CORS_ORIGINS",
        "must be a comma-separated list of http:// or https:// origins ('*' cannot carry credentials)",
    ),
    (
        "RATE_LIMIT_RPS",
        "must be a whole number, 0 to turn limiting off",
    ),
    ("RATE_LIMIT_BURST", "must be a whole number of at least 1"),
    ("LOG_FORMAT", "must be pretty or json"),
    (
        "METRICS_ADDR",
        "must be an address and port such as 127.0.0.1:9100",
    ),
    (
        "SHUTDOWN_DELAY_SECS",
        "must be a whole number of seconds from 0 to 60",
    ),
];

/// The error for `variable` breaking its rule.
fn broken(variable: &'static str) -> ConfigError {
    let rule = RULES
        .iter()
        .find(|(name, _)| *name == variable)
        .map_or("is invalid", |(_, rule)| rule);
    problem(variable, rule)
}

fn problem(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// The variables as `config` deserialises them (lower-cased names; empty ones are unset).
#[derive(Deserialize)]
struct Environment {
    app_env: Option<AppEnv>,
    host: Option<String>,
    port: Option<u16>,
    database_url: Option<String>,
    neon_database_url: Option<String>,
    db_max_connections: Option<u32>,
    db_acquire_timeout_secs: Option<u64>,
    db_idle_timeout_secs: Option<u64>,
    db_max_lifetime_secs: Option<u64>,
    run_migrations: Option<bool>,
    better_auth_secret: Option<SecretString>,
    better_auth_jwks_url: Option<String>,
    better_auth_issuer: Option<String>,
    better_auth_audience: Option<String>,
    auth_cookie_name: Option<String>,
    cors_origins: Option<String>,
    rate_limit_rps: Option<u32>,
    rate_limit_burst: Option<u32>,
    rust_log: Option<String>,
    log_format: Option<LogFormat>,
    metrics_addr: Option<String>,
    shutdown_delay_secs: Option<u64>,
}

/// The variable a deserialisation error is about, by its key.
fn variable_of(error: &config::ConfigError) -> Option<&'static str> {
    let (config::ConfigError::Type { key, .. } | config::ConfigError::At { key, .. }) = error
    else {
        return None;
    };
    let key = key.as_deref()?.to_ascii_uppercase();
    RULES
        .iter()
        .map(|(name, _)| *name)
        .find(|name| *name == key)
}

impl Settings {
    /// Reads `.env` (when present) and the environment.
    pub fn load() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is worth saying.
        if let Err(error) = dotenvy::dotenv()
            && !error.not_found()
        {
            return Err(problem(".env", format!("cannot be read: {error}")));
        }
        Self::from_source(config::Environment::default(), Path::new(DATA_DIR))
    }

    /// Reads the given variables (for tests); `data_dir` is where a development secret would
    /// be kept.
    pub fn from_vars(vars: &HashMap<String, String>, data_dir: &Path) -> Result<Self, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v.clone()))
            .collect();
        Self::from_source(config::Environment::default().source(Some(map)), data_dir)
    }

    fn from_source(source: config::Environment, data_dir: &Path) -> Result<Self, ConfigError> {
        let env: Environment = config::Config::builder()
            .add_source(source.ignore_empty(true))
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(|e| match variable_of(&e) {
                Some(variable) => broken(variable),
                None => problem("environment", e.to_string()),
            })?;
        let app_env = env.app_env.unwrap_or(AppEnv::Development);
        let mut warnings = Vec::new();
        let auth = auth_settings(&env, app_env, data_dir, &mut warnings)?;
        let log_filter = env.rust_log.clone().unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log_filter)
            .map_err(|e| problem("RUST_LOG", format!("is not a valid filter: {e}")))?;
        Ok(Self {
            app_env,
            host: env.host.clone().unwrap_or_else(|| "127.0.0.1".into()),
            port: env.port.unwrap_or(8000),
            database: database_settings(&env)?,
            run_migrations: env.run_migrations.unwrap_or(true),
            auth,
            cors_origins: cors_origins(env.cors_origins.as_deref())?,
            rate_limit: rate_limit_settings(&env)?,
            log_filter,
            log_format: env.log_format.unwrap_or(LogFormat::Pretty),
            shutdown_delay: match env.shutdown_delay_secs {
                Some(secs) if secs > 60 => return Err(broken("SHUTDOWN_DELAY_SECS")),
                Some(secs) => Duration::from_secs(secs),
                None => DEFAULT_SHUTDOWN_DELAY,
            },
            metrics_addr: env
                .metrics_addr
                .as_deref()
                .map(|addr| addr.parse().map_err(|_| broken("METRICS_ADDR")))
                .transpose()?,
            warnings,
        })
    }
}

fn database_settings(env: &Environment) -> Result<DbSettings, ConfigError> {
    let (variable, url) = match (&env.database_url, &env.neon_database_url) {
        (Some(url), _) => ("DATABASE_URL", url.as_str()),
        (None, Some(url)) => ("NEON_DATABASE_URL", url.as_str()),
        (None, None) => ("DATABASE_URL", DEFAULT_DATABASE_URL),
    };
    if !["postgres://", "postgresql://", "sqlite:"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
    {
        return Err(broken(variable));
    }
    let mut settings = DbSettings::new(url);
    if let Some(max) = env.db_max_connections {
        if !(1..=1000).contains(&max) {
            return Err(broken("DB_MAX_CONNECTIONS"));
        }
        settings.max_connections = max;
    }
    if let Some(acquire) = env.db_acquire_timeout_secs {
        if !(1..=5).contains(&acquire) {
            return Err(broken("DB_ACQUIRE_TIMEOUT_SECS"));
        }
        settings.acquire_timeout = Duration::from_secs(acquire);
    }
    if let Some(idle) = env.db_idle_timeout_secs {
        settings.idle_timeout = Duration::from_secs(idle);
    }
    if let Some(lifetime) = env.db_max_lifetime_secs {
        settings.max_lifetime = Duration::from_secs(lifetime);
    }
    Ok(settings)
}

fn auth_settings(
    env: &Environment,
    app_env: AppEnv,
    data_dir: &Path,
    warnings: &mut Vec<String>,
) -> Result<AuthSettings, ConfigError> {
    let jwks_url = env.better_auth_jwks_url.clone();
    if let Some(url) = &jwks_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(broken("BETTER_AUTH_JWKS_URL"));
    }
    let secret = env.better_auth_secret.clone();
    if let Some(secret) = &secret
        && secret.expose_secret().len() < MIN_SECRET_BYTES
    {
        let message = format!("must be at least {MIN_SECRET_BYTES} bytes long");
        if app_env == AppEnv::Production {
            return Err(problem("BETTER_AUTH_SECRET", message));
        }
        warnings.push(format!(
            "BETTER_AUTH_SECRET {message} (refused in production)"
        ));
    }
    let development_secret = match (&secret, &jwks_url, app_env) {
        (None, None, AppEnv::Production) => {
            return Err(problem(
                "BETTER_AUTH_SECRET or BETTER_AUTH_JWKS_URL",
                "production needs at least one of them",
            ));
        }
        (None, None, AppEnv::Development) => Some(data_dir.join("dev-secret")),
        _ => None,
    };
    let cookie_name = env
        .auth_cookie_name
        .clone()
        .unwrap_or_else(|| "access_token".into());
    if !cookie_name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(broken("AUTH_COOKIE_NAME"));
    }
    Ok(AuthSettings {
        secret,
        development_secret,
        jwks_url,
        issuer: env.better_auth_issuer.clone(),
        audience: env.better_auth_audience.clone(),
        cookie_name,
    })
}

/// Reads the development secret kept at `path`, creating it (mode 0600) on first use.
fn development_secret(path: &Path) -> std::io::Result<SecretString> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    match std::fs::read_to_string(path) {
        Ok(secret) if secret.trim().len() >= MIN_SECRET_BYTES => {
            return Ok(secret.trim().into());
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(secret.as_bytes())?;
    Ok(secret.into())
}

fn cors_origins(raw: Option<&str>) -> Result<Vec<String>, ConfigError> {
    raw.unwrap_or("http://localhost:3000")
        .split(',')
        .map(|origin| origin.trim().trim_end_matches('/'))
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            if origin.starts_with("http://") || origin.starts_with("https://") {
                Ok(origin.to_owned())
            } else {
                Err(broken("CORS_ORIGINS"))
            }
        })
        .collect()
}

fn rate_limit_settings(env: &Environment) -> Result<Option<RateLimitSettings>, ConfigError> {
    let per_second = env.rate_limit_rps.unwrap_or(50);
    let burst = env.rate_limit_burst.unwrap_or(100);
    if per_second == 0 {
        return Ok(None);
    }
    if burst == 0 {
        return Err(problem(
            "RATE_LIMIT_BURST",
            "must be at least 1 while limiting is on",
        ));
    }
    Ok(Some(RateLimitSettings { per_second, burst }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let dir = std::env::temp_dir().join(format!("todo-config-{}", uuid::Uuid::now_v7()));
        let vars = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_vars(&vars, &dir)
    }

    #[test]
    fn no_configuration_gives_the_documented_defaults() {
        let settings = load(&[]).unwrap();
        assert_eq!(settings.app_env, AppEnv::Development);
        assert_eq!((settings.host.as_str(), settings.port), ("127.0.0.1", 8000));
        assert_eq!(settings.database.url, DEFAULT_DATABASE_URL);
        assert_eq!(settings.database.max_connections, 10);
        assert_eq!(settings.database.acquire_timeout, Duration::from_secs(5));
        assert_eq!(settings.database.idle_timeout, Duration::from_mins(5));
        assert_eq!(settings.database.max_lifetime, Duration::from_mins(30));
        assert_eq!(settings.cors_origins, ["http://localhost:3000"]);
        assert_eq!(
            settings.rate_limit,
            Some(RateLimitSettings {
                per_second: 50,
                burst: 100
            })
        );
        assert!(settings.run_migrations);
        assert_eq!(settings.metrics_addr, None);
        assert_eq!(settings.shutdown_delay, Duration::from_secs(5));
        assert_eq!(
            settings
                .auth
                .secret
                .as_ref()
                .map(ExposeSecret::expose_secret),
            None
        );
        assert!(settings.auth.development_secret.is_some());
        assert_eq!(settings.auth.cookie_name, "access_token");
    }

    #[test]
    fn loading_the_configuration_writes_no_development_secret() {
        let settings = load(&[]).unwrap();
        let path = settings.auth.development_secret.unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn the_generated_development_secret_is_kept_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let settings = load(&[]).unwrap();
        let first = settings.auth.resolve_secret().unwrap().unwrap();
        let second = settings.auth.resolve_secret().unwrap().unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert!(first.expose_secret().len() >= 32);
        let path = settings.auth.development_secret.unwrap();
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn production_without_token_settings_refuses_to_start() {
        let error = load(&[("APP_ENV", "production")]).unwrap_err();
        assert_eq!(error.variable, "BETTER_AUTH_SECRET or BETTER_AUTH_JWKS_URL");
    }

    #[test]
    fn production_with_a_short_secret_refuses_to_start_without_printing_it() {
        let error =
            load(&[("APP_ENV", "production"), ("BETTER_AUTH_SECRET", "hunter2")]).unwrap_err();
        assert_eq!(error.variable, "BETTER_AUTH_SECRET");
        assert!(!error.to_string().contains("hunter2"));
    }

    #[test]
    fn production_with_a_jwks_url_alone_is_fine() {
        let settings = load(&[
            ("APP_ENV", "production"),
            ("BETTER_AUTH_JWKS_URL", "https://app.example/api/auth/jwks"),
        ])
        .unwrap();
        assert!(settings.auth.secret.is_none());
        assert!(settings.auth.development_secret.is_none());
    }

    #[test]
    fn neon_database_url_is_used_when_database_url_is_absent() {
        let settings = load(&[(
            "NEON_DATABASE_URL",
            "postgres://u@ep-x.neon.tech/db?sslmode=require",
        )])
        .unwrap();
        assert!(settings.database.url.contains("neon.tech"));
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (variable, value) in [
            ("PORT", "eighty"),
            ("APP_ENV", "staging"),
            ("DATABASE_URL", "mysql://x"),
            ("DB_MAX_CONNECTIONS", "0"),
            ("DB_ACQUIRE_TIMEOUT_SECS", "30"),
            ("DB_IDLE_TIMEOUT_SECS", "soon"),
            ("RATE_LIMIT_RPS", "-1"),
            ("LOG_FORMAT", "xml"),
            ("RUN_MIGRATIONS", "maybe"),
            ("CORS_ORIGINS", "*"),
            ("BETTER_AUTH_JWKS_URL", "ftp://x"),
            ("RUST_LOG", "info,[[["),
            ("RATE_LIMIT_BURST", "many"),
            ("METRICS_ADDR", "localhost"),
            ("SHUTDOWN_DELAY_SECS", "61"),
        ] {
            let error = load(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable, "{value}");
        }
    }

    #[test]
    fn a_zero_rate_turns_limiting_off() {
        assert_eq!(load(&[("RATE_LIMIT_RPS", "0")]).unwrap().rate_limit, None);
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let settings = load(&[(
            "BETTER_AUTH_SECRET",
            "a-very-secret-value-of-more-than-32-bytes",
        )])
        .unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains("a-very-secret-value"));
        assert!(debug.contains("REDACTED"));
    }
}

//! Configuration: the environment (and `.env` when present), read with `config` and validated
//! once at start. An error names the variable and what is wrong with it, never a secret's value.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use adapters_postgres::DbSettings;

/// The SQLite database used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/todo.db?mode=rwc";
/// Where development state (the SQLite file, a generated secret) lives.
pub const DATA_DIR: &str = "data";
/// Shortest secret accepted in production: HS256 wants a key as long as its hash.
const MIN_SECRET_BYTES: usize = 32;

/// A secret that never shows up in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The secret itself, for the one place that signs or verifies with it.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// `development` or `production`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    /// Forgiving defaults, a generated secret.
    Development,
    /// Explicit token settings required.
    Production,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Where the HS256 secret came from, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `BETTER_AUTH_SECRET`.
    Environment,
    /// Generated (or read back) in development, at this path.
    Generated(PathBuf),
    /// None: only JWKS tokens are accepted.
    None,
}

/// How tokens are verified.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// HS256 shared secret.
    pub secret: Option<Secret>,
    /// Where it came from.
    pub secret_source: SecretSource,
    /// Better Auth's JWKS endpoint.
    pub jwks_url: Option<String>,
    /// Required `iss`.
    pub issuer: Option<String>,
    /// Required `aud`.
    pub audience: Option<String>,
    /// Cookie read when there is no `Authorization` header.
    pub cookie_name: String,
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

fn problem(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// The raw variables, looked up by their upper-case names.
struct Vars(config::Config);

impl Vars {
    fn get(&self, name: &'static str) -> Option<String> {
        // `config` lower-cases environment keys.
        self.0
            .get_string(&name.to_ascii_lowercase())
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: T,
        expected: &str,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|_| problem(name, format!("must be {expected}"))),
        }
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes") => Ok(true),
            Some("false" | "0" | "no") => Ok(false),
            Some(_) => Err(problem(name, "must be true or false")),
        }
    }
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
        Self::from_source(
            config::Environment::default().try_parsing(false),
            Path::new(DATA_DIR),
        )
    }

    /// Reads the given variables (for tests); `data_dir` holds a generated development secret.
    pub fn from_vars(vars: &HashMap<String, String>, data_dir: &Path) -> Result<Self, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v.clone()))
            .collect();
        Self::from_source(config::Environment::default().source(Some(map)), data_dir)
    }

    fn from_source(source: config::Environment, data_dir: &Path) -> Result<Self, ConfigError> {
        let vars = Vars(
            config::Config::builder()
                .add_source(source)
                .build()
                .map_err(|e| problem("environment", e.to_string()))?,
        );
        let mut warnings = Vec::new();
        let app_env = match vars.get("APP_ENV").as_deref() {
            None | Some("development") => AppEnv::Development,
            Some("production") => AppEnv::Production,
            Some(_) => return Err(problem("APP_ENV", "must be development or production")),
        };
        let auth = auth_settings(&vars, app_env, data_dir, &mut warnings)?;
        let database = database_settings(&vars)?;
        let rate_limit = rate_limit_settings(&vars)?;
        let log_filter = vars.get("RUST_LOG").unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log_filter)
            .map_err(|e| problem("RUST_LOG", format!("is not a valid filter: {e}")))?;
        let log_format = match vars.get("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(_) => return Err(problem("LOG_FORMAT", "must be pretty or json")),
        };
        Ok(Self {
            app_env,
            host: vars.get("HOST").unwrap_or_else(|| "127.0.0.1".into()),
            port: vars.parse("PORT", 8000, "a port number from 0 to 65535")?,
            database,
            run_migrations: vars.flag("RUN_MIGRATIONS", true)?,
            auth,
            cors_origins: cors_origins(&vars)?,
            rate_limit,
            log_filter,
            log_format,
            warnings,
        })
    }
}

fn database_settings(vars: &Vars) -> Result<DbSettings, ConfigError> {
    let (variable, url) = match (vars.get("DATABASE_URL"), vars.get("NEON_DATABASE_URL")) {
        (Some(url), _) => ("DATABASE_URL", url),
        (None, Some(url)) => ("NEON_DATABASE_URL", url),
        (None, None) => ("DATABASE_URL", DEFAULT_DATABASE_URL.to_owned()),
    };
    if !["postgres://", "postgresql://", "sqlite:"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
    {
        return Err(problem(
            variable,
            "must start with postgres://, postgresql:// or sqlite:",
        ));
    }
    let mut settings = DbSettings::new(url);
    settings.max_connections = vars.parse(
        "DB_MAX_CONNECTIONS",
        settings.max_connections,
        "a whole number from 1 to 1000",
    )?;
    if !(1..=1000).contains(&settings.max_connections) {
        return Err(problem(
            "DB_MAX_CONNECTIONS",
            "must be a whole number from 1 to 1000",
        ));
    }
    let acquire: u64 = vars.parse(
        "DB_ACQUIRE_TIMEOUT_SECS",
        5,
        "a whole number of seconds from 1 to 5",
    )?;
    if !(1..=5).contains(&acquire) {
        return Err(problem(
            "DB_ACQUIRE_TIMEOUT_SECS",
            "must be a whole number of seconds from 1 to 5",
        ));
    }
    settings.acquire_timeout = Duration::from_secs(acquire);
    let idle: u64 = vars.parse(
        "DB_IDLE_TIMEOUT_SECS",
        settings.idle_timeout.as_secs(),
        "a whole number of seconds",
    )?;
    settings.idle_timeout = Duration::from_secs(idle);
    let lifetime: u64 = vars.parse(
        "DB_MAX_LIFETIME_SECS",
        settings.max_lifetime.as_secs(),
        "a whole number of seconds",
    )?;
    settings.max_lifetime = Duration::from_secs(lifetime);
    Ok(settings)
}

fn auth_settings(
    vars: &Vars,
    app_env: AppEnv,
    data_dir: &Path,
    warnings: &mut Vec<String>,
) -> Result<AuthSettings, ConfigError> {
    let jwks_url = vars.get("BETTER_AUTH_JWKS_URL");
    if let Some(url) = &jwks_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(problem(
            "BETTER_AUTH_JWKS_URL",
            "must be an http:// or https:// URL",
        ));
    }
    let (secret, secret_source) = match vars.get("BETTER_AUTH_SECRET") {
        Some(secret) => {
            if secret.len() < MIN_SECRET_BYTES {
                let message = format!("must be at least {MIN_SECRET_BYTES} bytes long");
                if app_env == AppEnv::Production {
                    return Err(problem("BETTER_AUTH_SECRET", message));
                }
                warnings.push(format!(
                    "BETTER_AUTH_SECRET {message} (refused in production)"
                ));
            }
            (Some(Secret::new(secret)), SecretSource::Environment)
        }
        None if jwks_url.is_some() => (None, SecretSource::None),
        None if app_env == AppEnv::Production => {
            return Err(problem(
                "BETTER_AUTH_SECRET or BETTER_AUTH_JWKS_URL",
                "production needs at least one of them",
            ));
        }
        None => {
            let (secret, path) = development_secret(data_dir).map_err(|e| {
                problem(
                    "BETTER_AUTH_SECRET",
                    format!(
                        "unset, and no development secret could be kept in {}: {e}",
                        data_dir.display()
                    ),
                )
            })?;
            (Some(secret), SecretSource::Generated(path))
        }
    };
    let cookie_name = vars
        .get("AUTH_COOKIE_NAME")
        .unwrap_or_else(|| "access_token".into());
    if !cookie_name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(problem(
            "AUTH_COOKIE_NAME",
            "must be letters, digits, '_', '-' or '.'",
        ));
    }
    Ok(AuthSettings {
        secret,
        secret_source,
        jwks_url,
        issuer: vars.get("BETTER_AUTH_ISSUER"),
        audience: vars.get("BETTER_AUTH_AUDIENCE"),
        cookie_name,
    })
}

/// Reads the development secret kept in `data_dir`, creating it (mode 0600) on first start.
fn development_secret(data_dir: &Path) -> std::io::Result<(Secret, PathBuf)> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    let path = data_dir.join("dev-secret");
    match std::fs::read_to_string(&path) {
        Ok(secret) if secret.trim().len() >= MIN_SECRET_BYTES => {
            return Ok((Secret::new(secret.trim()), path));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(data_dir)?;
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
        .open(&path)?;
    file.write_all(secret.as_bytes())?;
    Ok((Secret::new(secret), path))
}

fn cors_origins(vars: &Vars) -> Result<Vec<String>, ConfigError> {
    let raw = vars
        .get("CORS_ORIGINS")
        .unwrap_or_else(|| "http://localhost:3000".into());
    raw.split(',')
        .map(|origin| origin.trim().trim_end_matches('/'))
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            if origin.starts_with("http://") || origin.starts_with("https://") {
                Ok(origin.to_owned())
            } else {
                Err(problem(
                    "CORS_ORIGINS",
                    "must be a comma-separated list of http:// or https:// origins ('*' cannot carry credentials)",
                ))
            }
        })
        .collect()
}

fn rate_limit_settings(vars: &Vars) -> Result<Option<RateLimitSettings>, ConfigError> {
    let per_second: u32 = vars.parse(
        "RATE_LIMIT_RPS",
        50,
        "a whole number, 0 to turn limiting off",
    )?;
    let burst: u32 = vars.parse("RATE_LIMIT_BURST", 100, "a whole number of at least 1")?;
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
        assert!(matches!(
            settings.auth.secret_source,
            SecretSource::Generated(_)
        ));
        assert_eq!(settings.auth.cookie_name, "access_token");
    }

    #[test]
    fn the_generated_development_secret_is_kept_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("todo-secret-{}", uuid::Uuid::now_v7()));
        let (first, path) = development_secret(&dir).unwrap();
        let (second, _) = development_secret(&dir).unwrap();
        assert_eq!(first, second);
        assert!(first.expose().len() >= 32);
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
        assert_eq!(settings.auth.secret, None);
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
        assert!(debug.contains("[redacted]"));
    }
}

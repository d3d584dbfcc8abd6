//! The server's settings: flags, the same names as `KDS_*` environment
//! variables, and an optional file of `KDS_*=value` lines (the format of
//! systemd's `EnvironmentFile=`). A flag wins over the environment, the
//! environment over the file. Secrets (the Kakao client secret, the sealing
//! key) are read from files or the environment, never from flags, which any
//! user can see in the process list.

use std::ffi::{OsStr, OsString};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};
use kakao_desk_core::secret::ClientSecret;

/// The environment variable (or settings-file line) holding the client
/// secret itself.
pub const CLIENT_SECRET_ENV: &str = "KDS_KAKAO_CLIENT_SECRET";

/// A backend that finishes Kakao Login for your service: it exchanges the
/// app's authorization code with Kakao as a confidential client, creates or
/// updates the user, and answers with the service's own tokens.
///
/// Every setting is a flag or a KDS_* environment variable (shown beside
/// each); `--config FILE` reads KDS_*=value lines first.
#[derive(Clone, Parser)]
#[command(name = "kakao-desk-server", version, args_override_self = true)]
pub struct Settings {
    /// A file of KDS_*=value lines (systemd's EnvironmentFile format); the
    /// environment and flags override it.
    #[arg(long, env = "KDS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address to listen on. Keep it on loopback behind a TLS reverse proxy
    /// (README, "Backend mode").
    #[arg(long, env = "KDS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The public https URL clients reach the server at: the `iss` of its
    /// access tokens. Default: http://LISTEN.
    #[arg(long, env = "KDS_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// The `aud` of the access tokens: what the app expects.
    #[arg(long, env = "KDS_AUDIENCE", default_value = "kakao-desk")]
    pub audience: String,

    /// `sqlite:PATH` (embedded, the default) or
    /// `postgres://USER:PASSWORD@HOST:PORT/DB` (several instances). With a
    /// password, set it in the environment or the settings file, not as a
    /// flag (any user can read a process's flags).
    #[arg(
        long,
        env = "KDS_DATABASE_URL",
        default_value = "sqlite:kakao-desk-server.db",
        hide_env_values = true
    )]
    pub database_url: String,

    /// PostgreSQL connections per instance.
    #[arg(long, env = "KDS_DATABASE_POOL", default_value_t = 16)]
    pub database_pool: usize,

    /// The sealing key: 32 random bytes, base64 (make one with `openssl rand
    /// -base64 32`). It seals Kakao's tokens and the signing keys in the
    /// database. Default with SQLite: DATABASE_PATH.key, created 0600 on
    /// first start; required with PostgreSQL (every instance needs the same).
    #[arg(long, env = "KDS_SEALING_KEY_FILE", value_name = "FILE")]
    pub sealing_key_file: Option<PathBuf>,

    /// The Kakao app's REST API key (`client_id`).
    #[arg(long, env = "KDS_KAKAO_CLIENT_ID", value_name = "KEY")]
    pub kakao_client_id: String,

    /// A file holding the client secret (카카오 로그인 > 보안 > Client
    /// Secret). Or set KDS_KAKAO_CLIENT_SECRET. Without one the server is
    /// not a confidential client and says so at start.
    #[arg(long, env = "KDS_KAKAO_CLIENT_SECRET_FILE", value_name = "FILE")]
    pub kakao_client_secret_file: Option<PathBuf>,

    /// Kakao's auth host.
    #[arg(
        long,
        env = "KDS_KAKAO_AUTH_URL",
        default_value = "https://kauth.kakao.com"
    )]
    pub kakao_auth_url: String,

    /// Kakao's API host.
    #[arg(
        long,
        env = "KDS_KAKAO_API_URL",
        default_value = "https://kapi.kakao.com"
    )]
    pub kakao_api_url: String,

    /// The id_token issuer to trust. Default: the auth URL.
    #[arg(long, env = "KDS_KAKAO_ISSUER", value_name = "URL")]
    pub kakao_issuer: Option<String>,

    /// Redirect URIs the app may name, comma-separated (the ones registered
    /// in Kakao's console). Empty: any, and Kakao checks it.
    #[arg(
        long,
        env = "KDS_REDIRECT_URIS",
        value_delimiter = ',',
        value_name = "URI,…"
    )]
    pub redirect_uris: Vec<String>,

    /// Access token lifetime in seconds.
    #[arg(
        long,
        env = "KDS_ACCESS_TTL",
        default_value_t = 600,
        value_name = "SECS"
    )]
    pub access_ttl: u64,

    /// Refresh token lifetime in seconds (each rotation starts a new one).
    #[arg(long, env = "KDS_REFRESH_TTL", default_value_t = 30 * 24 * 3600, value_name = "SECS")]
    pub refresh_ttl: u64,

    /// Requests per minute per client address on /v1/auth/*; 0 turns the
    /// limit off.
    #[arg(long, env = "KDS_RATE_LIMIT", default_value_t = 30, value_name = "N")]
    pub rate_limit: u32,

    /// Requests a client may make at once before the per-minute pace applies.
    #[arg(long, env = "KDS_RATE_BURST", default_value_t = 10, value_name = "N")]
    pub rate_burst: u32,

    /// Reverse proxies whose X-Forwarded-For is believed, comma-separated
    /// (e.g. 127.0.0.1 when nginx runs on the same host). Without it the
    /// peer address is the client.
    #[arg(
        long,
        env = "KDS_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "IP,…"
    )]
    pub trusted_proxies: Vec<IpAddr>,

    /// Whole-request timeout in seconds (a login makes up to four calls to
    /// Kakao, each with its own 10-second limit).
    #[arg(
        long,
        env = "KDS_REQUEST_TIMEOUT",
        default_value_t = 30,
        value_name = "SECS"
    )]
    pub request_timeout: u64,

    /// Largest request body in bytes.
    #[arg(long, env = "KDS_BODY_LIMIT", default_value_t = 16 * 1024, value_name = "BYTES")]
    pub body_limit: usize,

    /// How long shutdown waits for requests in flight, in seconds.
    #[arg(
        long,
        env = "KDS_SHUTDOWN_GRACE",
        default_value_t = 10,
        value_name = "SECS"
    )]
    pub shutdown_grace: u64,

    /// A command instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// KDS_KAKAO_CLIENT_SECRET from the settings file.
    #[arg(skip)]
    pub client_secret_from_file: Option<ClientSecret>,
}

/// Commands besides serving.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Applies the migrations and exits.
    Migrate,
    /// Makes a new access-token signing key and retires the current one.
    /// The retired key stays published and valid until the tokens it signed
    /// have expired, so nobody is signed out; running instances pick the new
    /// key up within a minute.
    RotateSigningKey,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The database URL may hold a password; the secrets are newtypes.
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("issuer", &self.issuer())
            .field("database", &self.database_url.split(':').next())
            .field("kakao_client_id", &self.kakao_client_id)
            .field("kakao_auth_url", &self.kakao_auth_url)
            .field("command", &self.command)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// `public_url`, or `http://LISTEN`.
    pub fn issuer(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The access token lifetime.
    pub fn access_ttl(&self) -> Duration {
        Duration::from_secs(self.access_ttl.max(1))
    }

    /// The refresh token lifetime.
    pub fn refresh_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_ttl.max(1))
    }

    /// The client secret: KDS_KAKAO_CLIENT_SECRET from the environment, else
    /// from the settings file, else the first line of
    /// `kakao_client_secret_file`.
    ///
    /// # Errors
    /// The secret file cannot be read.
    pub fn client_secret(&self) -> Result<Option<ClientSecret>, FileError> {
        if let Some(value) = std::env::var_os(CLIENT_SECRET_ENV) {
            return Ok(Some(ClientSecret::new(value.to_string_lossy().trim())));
        }
        if let Some(secret) = &self.client_secret_from_file {
            return Ok(Some(secret.clone()));
        }
        let Some(path) = &self.kakao_client_secret_file else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let secret = zeroize::Zeroizing::new(text);
        Ok(Some(ClientSecret::new(secret.trim())))
    }
}

/// Why the settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The settings file.
    #[error(transparent)]
    File(#[from] FileError),
    /// A line of the settings file names no setting.
    #[error("{path}: {name} is not a setting (see --help)")]
    Unknown {
        /// The file.
        path: String,
        /// The variable.
        name: String,
    },
    /// The flags (clap prints these itself, `--help` included).
    #[error(transparent)]
    Flags(#[from] clap::Error),
}

/// Parses `args` (the program name first) over the settings file that
/// `--config` or KDS_CONFIG names: each of its lines whose variable the
/// environment does not set becomes the matching flag, placed before the
/// command line's own so that those win.
///
/// # Errors
/// [`SettingsError`].
pub fn parse_settings(args: Vec<OsString>) -> Result<Settings, SettingsError> {
    let file = config_flag(&args).or_else(|| std::env::var_os("KDS_CONFIG").map(PathBuf::from));
    let mut merged: Vec<OsString> = args.first().cloned().into_iter().collect();
    let mut secret = None;
    if let Some(path) = &file {
        let command = Settings::command();
        for (name, value) in read_env_file(path)? {
            if std::env::var_os(&name).is_some() {
                continue;
            }
            if name == CLIENT_SECRET_ENV {
                secret = Some(ClientSecret::new(value));
                continue;
            }
            let long = command
                .get_arguments()
                .find(|arg| arg.get_env() == Some(OsStr::new(&name)))
                .and_then(|arg| arg.get_long())
                .ok_or_else(|| SettingsError::Unknown {
                    path: path.display().to_string(),
                    name: name.clone(),
                })?;
            merged.push(format!("--{long}={value}").into());
        }
    }
    merged.extend(args.into_iter().skip(1));
    let mut settings = Settings::try_parse_from(merged)?;
    settings.client_secret_from_file = secret;
    Ok(settings)
}

fn config_flag(args: &[OsString]) -> Option<PathBuf> {
    let mut args = args.iter().skip(1);
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy();
        if arg == "--" {
            break;
        }
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    None
}

/// Why a settings file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Reading failed.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not `KDS_NAME=value`.
    #[error("{path}:{line}: expected KDS_NAME=value")]
    Line {
        /// The file.
        path: String,
        /// The 1-based line number.
        line: usize,
    },
}

/// Reads `KDS_*=value` lines of `path` (blank lines and `#` comments
/// skipped, values optionally in double quotes) for the variables the
/// environment does not set.
///
/// # Errors
/// [`FileError`].
pub fn read_env_file(path: &Path) -> Result<Vec<(String, String)>, FileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read {
        path: shown.clone(),
        source,
    })?;
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(FileError::Line {
                path: shown,
                line: i + 1,
            });
        };
        let name = name.trim();
        if !name.starts_with("KDS_") || name.contains(char::is_whitespace) {
            return Err(FileError::Line {
                path: shown,
                line: i + 1,
            });
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        pairs.push((name.to_owned(), value.to_owned()));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_env_file_reads_like_systemds() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("server.env");
        std::fs::write(
            &path,
            "# comment\n\nKDS_LISTEN=127.0.0.1:9000\nKDS_AUDIENCE = \"my app\"\n",
        )
        .expect("write");
        assert_eq!(
            read_env_file(&path).expect("reads"),
            vec![
                ("KDS_LISTEN".to_owned(), "127.0.0.1:9000".to_owned()),
                ("KDS_AUDIENCE".to_owned(), "my app".to_owned()),
            ]
        );
        std::fs::write(&path, "KDS_LISTEN=1\nnot a setting\n").expect("write");
        assert!(matches!(
            read_env_file(&path),
            Err(FileError::Line { line: 2, .. })
        ));
        std::fs::write(&path, "PATH=/tmp\n").expect("write");
        assert!(
            matches!(read_env_file(&path), Err(FileError::Line { line: 1, .. })),
            "only the server's own variables"
        );
    }

    #[test]
    fn every_setting_has_a_default_or_is_documented_as_required() {
        let settings = Settings::try_parse_from(["kakao-desk-server", "--kakao-client-id", "key"])
            .expect("only the app key is required");
        assert_eq!(settings.issuer(), "http://127.0.0.1:8080");
        assert_eq!(settings.database_url, "sqlite:kakao-desk-server.db");
        let settings = Settings::try_parse_from([
            "kakao-desk-server",
            "--kakao-client-id",
            "key",
            "--database-url",
            "postgres://kds:hunter2@db/kds",
        ])
        .expect("parses");
        assert!(
            !format!("{settings:?}").contains("hunter2"),
            "the database password never prints"
        );
    }

    #[test]
    fn the_settings_file_fills_in_and_flags_win() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("server.env");
        std::fs::write(
            &path,
            "KDS_KAKAO_CLIENT_ID=from-file\nKDS_ACCESS_TTL=120\nKDS_REDIRECT_URIS=https://a.example/cb,https://b.example/cb\nKDS_KAKAO_CLIENT_SECRET=s3cret\n",
        )
        .expect("write");
        let args = |extra: &[&str]| -> Vec<OsString> {
            [
                "kakao-desk-server",
                "--config",
                path.to_str().expect("utf-8"),
            ]
            .iter()
            .chain(extra)
            .map(OsString::from)
            .collect()
        };
        let settings = parse_settings(args(&[])).expect("parses");
        assert_eq!(settings.kakao_client_id, "from-file");
        assert_eq!(settings.access_ttl, 120);
        assert_eq!(settings.redirect_uris.len(), 2);
        assert_eq!(
            settings
                .client_secret_from_file
                .as_ref()
                .map(ClientSecret::secret),
            Some("s3cret")
        );
        let settings = parse_settings(args(&["--access-ttl", "60"])).expect("parses");
        assert_eq!(settings.access_ttl, 60, "a flag wins over the file");
        assert!(
            !format!("{settings:?}").contains("s3cret"),
            "the secret never prints"
        );
        std::fs::write(&path, "KDS_NO_SUCH_THING=1\n").expect("write");
        assert!(matches!(
            parse_settings(args(&["--kakao-client-id", "k"])),
            Err(SettingsError::Unknown { .. })
        ));
    }
}

//! Fixtures for the flow's integration tests: a real emulator on a loopback
//! socket, an [`Account`] on a temporary data directory, and clocks that move
//! together.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use kakao_desk_core::account::{Account, AccountParts};
use kakao_desk_core::cache::ProfileCache;
use kakao_desk_core::clock::ManualClock;
use kakao_desk_core::config::{Config, Resolution};
use kakao_desk_core::kakao::ClientOptions;
use kakao_desk_core::login::LoginOptions;
use kakao_desk_core::profile::PublicProfile;
use kakao_desk_core::session::SessionRecord;
use kakao_desk_core::vault::{FileVaultStorage, MemoryKeySource, Vault};
use kakao_emulator::{
    Clock, DEFAULT_BRIDGE_SCHEME, EmulatorConfig, RecordedRequest, RunningEmulator, fixture_ids,
};
use tempfile::TempDir;

/// A fixed start instant, so lifetimes are exact.
pub const T0: u64 = 1_763_900_000;
/// The app identifier of the tests.
pub const APP_ID: &str = "dev.kakaodesk.desktop";
/// The deep-link scheme the emulator's bridge page forwards to.
pub const SCHEME: &str = DEFAULT_BRIDGE_SCHEME;
/// The vault key, the same across "restarts" of the app.
pub const VAULT_KEY: [u8; 32] = [0x5a; 32];

/// How the emulator and the client are set up.
#[derive(Clone)]
pub struct Setup {
    pub emulator: EmulatorConfig,
    pub client: ClientOptions,
    /// Extra or overriding configuration variables.
    pub env: Vec<(&'static str, String)>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            emulator: EmulatorConfig {
                auto_consent: Some(fixture_ids::NINETEEN_DIGIT_ID),
                clock: Clock::fixed(UNIX_EPOCH + Duration::from_secs(T0)),
                ..EmulatorConfig::default()
            },
            client: ClientOptions {
                timeout: Duration::from_secs(5),
                connect_timeout: Duration::from_secs(5),
                retry_delay: Duration::ZERO,
                retry_jitter: Duration::ZERO,
            },
            env: Vec::new(),
        }
    }
}

/// A running emulator, an account on a temporary data directory, and the
/// clock both share.
pub struct Rig {
    pub emulator: RunningEmulator,
    pub clock: Arc<ManualClock>,
    pub dir: TempDir,
    pub config: Config,
    pub client: ClientOptions,
    pub account: Arc<Account>,
}

pub async fn rig() -> Rig {
    rig_with(Setup::default()).await
}

pub async fn rig_with(setup: Setup) -> Rig {
    let emulator = kakao_emulator::start(setup.emulator)
        .await
        .unwrap_or_else(|e| panic!("the emulator must start: {e}"));
    let mut env: HashMap<&str, String> = HashMap::from([
        ("KAKAO_CLIENT_ID", emulator.client_id().to_owned()),
        ("KAKAO_REDIRECT_URI", emulator.bridge_redirect_uri()),
        ("KAKAO_REDIRECT_MODE", "bridge".to_owned()),
        ("KAKAO_AUTH_BASE_URL", emulator.base_url().to_owned()),
        ("KAKAO_API_BASE_URL", emulator.base_url().to_owned()),
    ]);
    env.extend(setup.env);
    let config = match Config::resolve_layers(|name| env.get(name).cloned(), |_| None) {
        Ok(Resolution::Kakao(config)) => *config,
        other => panic!("the test configuration must resolve: {other:?}"),
    };
    let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_secs(T0)));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let account = Arc::new(open_account(dir.path(), &config, &clock, setup.client));
    Rig {
        emulator,
        clock,
        dir,
        config,
        client: setup.client,
        account,
    }
}

/// An `Account` on `dir`: the profile cache in `profile.db`, the vault slots
/// in `vault/`, the vault key from memory (the same key every time).
fn open_account(
    dir: &Path,
    config: &Config,
    clock: &Arc<ManualClock>,
    client: ClientOptions,
) -> Account {
    let cache = ProfileCache::open(&dir.join("profile.db"))
        .unwrap_or_else(|e| panic!("the profile cache must open: {e}"));
    std::fs::create_dir_all(dir.join("vault")).unwrap_or_else(|e| panic!("vault dir: {e}"));
    let mut parts = AccountParts::new(
        config.clone(),
        APP_ID,
        SCHEME,
        clock.clone(),
        cache,
        Box::new(MemoryKeySource::with_key(VAULT_KEY)),
        Box::new(FileVaultStorage::new(dir.join("vault"))),
    );
    parts.client_options = client;
    Account::open(parts).unwrap_or_else(|e| panic!("the account must open: {e}"))
}

impl Rig {
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    fn vault_dir(&self) -> PathBuf {
        self.dir.path().join("vault")
    }

    /// A fresh `Account` on the same data directory: an app restart.
    pub fn open_account(&self) -> Account {
        open_account(self.dir.path(), &self.config, &self.clock, self.client)
    }

    /// Moves both clocks.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.emulator.clock().advance(by);
    }

    /// The session as sealed in the vault, read directly (tests only).
    pub fn stored_record(&self) -> Option<SessionRecord> {
        let key = kakao_desk_core::secret::VaultKey::from_bytes(VAULT_KEY);
        let vault = Vault::new(
            APP_ID,
            key,
            Box::new(FileVaultStorage::new(self.vault_dir())),
        );
        let bytes = vault
            .load()
            .unwrap_or_else(|e| panic!("the vault must open: {e}"))?;
        Some(
            SessionRecord::from_bytes(&bytes)
                .unwrap_or_else(|e| panic!("the record must parse: {e}")),
        )
    }

    /// Requests that reached `path`.
    pub fn requests(&self, path: &str) -> Vec<RecordedRequest> {
        self.emulator.requests().to_path(path)
    }

    /// Token requests of one grant type.
    pub fn grants(&self, grant: &str) -> Vec<RecordedRequest> {
        self.requests("/oauth/token")
            .into_iter()
            .filter(|r| r.param("grant_type") == Some(grant))
            .collect()
    }

    /// Plays the browser: begins a login, follows authorize, and returns the
    /// deep link the bridge page would open.
    pub async fn browser_callback(&self) -> String {
        let started = self
            .account
            .begin_login(&LoginOptions::default())
            .await
            .unwrap_or_else(|e| panic!("begin_login: {e}"));
        let location = self.authorize(started.authorize_url.as_str()).await;
        deep_link_for(&location)
    }

    /// `GET` the authorize URL without following redirects; the `Location`.
    pub async fn authorize(&self, url: &str) -> String {
        let response = http()
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("authorize: {e}"));
        assert_eq!(response.status(), 302, "auto-consent redirects at once");
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("a redirect has a Location"))
            .to_owned()
    }

    /// A full login; panics on failure.
    pub async fn login(&self) -> PublicProfile {
        let link = self.browser_callback().await;
        self.account
            .complete_login(&link, |_| {})
            .await
            .unwrap_or_else(|e| panic!("complete_login: {e} ({})", e.code()))
    }
}

/// What the bridge page does: forward the query to the app's scheme.
pub fn deep_link_for(location: &str) -> String {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    format!("{SCHEME}://oauth/callback?{query}")
}

/// A plain HTTP client with redirects off, playing the browser.
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("http client: {e}"))
}

/// Captures this crate's tracing output (every level) for leak checks.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }

    /// Installs a subscriber for the current thread; keep the guard alive.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("read_dir {d:?}: {e}"))
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

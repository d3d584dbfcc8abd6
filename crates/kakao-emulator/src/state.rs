//! Shared state behind the router: the app's configuration and the store.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use crate::config::{EmulatorConfig, IssuanceLimit, RedirectUriError, check_redirect_uri};
use crate::keys::SigningKey;
use crate::store::Store;
use crate::users::{configured_scopes, with_consents};
use crate::{Clock, Faults, RequestLog, Users};

/// Path of the bridge page the emulator plays (always a registered redirect URI).
pub const BRIDGE_PATH: &str = "/bridge/kakao/callback";
/// The page the browser lands on after `/oauth/logout`, registered as a
/// logout redirect URI like the bridge page is as a redirect URI.
pub const SIGNED_OUT_PATH: &str = "/bridge/kakao/signed-out";

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// `config.host` is not a loopback address; the emulator never listens
    /// beyond the machine.
    #[error("refusing to listen on {0}: the emulator binds loopback addresses only")]
    NotLoopback(IpAddr),
    /// The socket could not be bound.
    #[error("cannot bind: {0}")]
    Bind(#[source] std::io::Error),
    /// A configured redirect URI would be refused by Kakao's console.
    #[error(transparent)]
    RedirectUri(#[from] RedirectUriError),
    /// `auto_consent` names a user who is not in the fixtures.
    #[error("auto-consent user {0} is not among the fixture users")]
    UnknownAutoConsentUser(i64),
    /// The `--log` file could not be opened.
    #[error("cannot open request log file {path}: {source}")]
    LogFile {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The id_token signing key could not be made.
    #[error("{0}")]
    SigningKey(String),
}

/// The state an emulator's router serves from. Cheap to clone (shared).
#[derive(Clone)]
pub struct EmulatorState {
    inner: Arc<Shared>,
}

impl fmt::Debug for EmulatorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorState")
            .field("base_url", &self.inner.base_url)
            .field("client_id", &self.inner.client_id)
            .finish_non_exhaustive()
    }
}

/// Fixed configuration plus the mutable store.
pub(crate) struct Shared {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub logout_redirect_uris: Vec<String>,
    pub app_name: String,
    pub app_id: i64,
    pub openid: bool,
    /// What an authorize `scope` may name (see [`EmulatorConfig::consent_items`]).
    pub consent_items: Vec<String>,
    /// What a user may not withdraw (see [`EmulatorConfig::required_items`]).
    pub required_items: Vec<String>,
    /// `iss` of id_tokens and discovery's `issuer`.
    pub issuer: String,
    pub users: Users,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub hang_for: Duration,
    pub bridge_scheme: String,
    pub issuance_limit: Option<IssuanceLimit>,
    pub clock: Clock,
    pub key: Arc<SigningKey>,
    pub log: RequestLog,
    pub faults: Faults,
    /// Flips to `true` at shutdown, ending hung requests.
    pub shutdown: watch::Sender<bool>,
    store: Mutex<Store>,
}

impl Shared {
    /// Locks the store. Handlers never hold it across an `.await`.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        // Store updates are completed before any panic could happen mid-way
        // (no user code runs under the lock), so poisoned data is consistent.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The account as the app sees it now (the fixture with the user's
    /// consent changes), read under the caller's lock of the store.
    pub(crate) fn account_in(&self, store: &Store, id: i64) -> Option<serde_json::Value> {
        let user = self.users.get(id)?;
        let changes = store.consents.get(&id).cloned().unwrap_or_default();
        Some(with_consents(user, &changes))
    }

    /// [`Shared::account_in`], locking the store for the read.
    pub(crate) fn account(&self, id: i64) -> Option<serde_json::Value> {
        let store = self.store();
        self.account_in(&store, id)
    }
}

impl EmulatorState {
    /// Builds the state for a router served at `base_url` (for example
    /// `http://127.0.0.1:8080`, no trailing slash). [`crate::start`] calls this
    /// with the bound address; in-process `oneshot` tests pass any base URL.
    ///
    /// # Errors
    /// [`StartError`] when a redirect URI cannot be registered, the
    /// auto-consent user is unknown, the log file cannot be opened or the
    /// signing key cannot be made.
    pub fn new(config: EmulatorConfig, base_url: &str) -> Result<Self, StartError> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        for uri in config
            .redirect_uris
            .iter()
            .chain(&config.logout_redirect_uris)
        {
            check_redirect_uri(uri)?;
        }
        if let Some(id) = config.auto_consent
            && config.users.get(id).is_none()
        {
            return Err(StartError::UnknownAutoConsentUser(id));
        }
        let log_file = match &config.log_file {
            None => None,
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| StartError::LogFile {
                        path: path.display().to_string(),
                        source,
                    })?,
            ),
        };
        let key = SigningKey::shared().map_err(StartError::SigningKey)?;
        let consent_items = config.consent_items.unwrap_or_else(|| {
            let mut items: Vec<String> = config
                .openid
                .then(|| "openid".to_owned())
                .into_iter()
                .collect();
            for id in config.users.ids() {
                for scope in config
                    .users
                    .get(id)
                    .map(configured_scopes)
                    .unwrap_or_default()
                {
                    if !items.contains(&scope) {
                        items.push(scope);
                    }
                }
            }
            items
        });
        let issuer = config.issuer.unwrap_or_else(|| base_url.clone());
        let mut redirect_uris = config.redirect_uris;
        redirect_uris.push(format!("{base_url}{BRIDGE_PATH}"));
        let mut logout_redirect_uris = config.logout_redirect_uris;
        logout_redirect_uris.push(format!("{base_url}{SIGNED_OUT_PATH}"));
        let store = Store {
            redirect_uris,
            auto_consent: config.auto_consent,
            latency: config.latency,
            ..Store::default()
        };
        Ok(Self {
            inner: Arc::new(Shared {
                base_url,
                client_id: config.client_id,
                client_secret: config.client_secret,
                logout_redirect_uris,
                app_name: config.app_name,
                app_id: config.app_id,
                openid: config.openid,
                consent_items,
                required_items: config.required_items.unwrap_or_else(|| {
                    crate::users::REQUIRED_ITEMS
                        .iter()
                        .map(|s| (*s).to_owned())
                        .collect()
                }),
                issuer,
                users: config.users,
                access_ttl: config.access_ttl,
                refresh_ttl: config.refresh_ttl,
                hang_for: config.hang_for,
                bridge_scheme: config.bridge_scheme,
                issuance_limit: config.issuance_limit,
                clock: config.clock,
                key,
                log: RequestLog::with_file(log_file),
                faults: Faults::default(),
                shutdown: watch::Sender::new(false),
                store: Mutex::new(store),
            }),
        })
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.inner
    }

    /// The base URL the state was built for.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The request log.
    pub fn requests(&self) -> &RequestLog {
        &self.inner.log
    }

    /// The fault table.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Every authorization code, access token, refresh token and id_token
    /// issued so far, oldest first: what a test scans files, logs and pages for.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.inner.store().secrets.clone()
    }

    /// Ends the life of every access token now, as their six hours passing
    /// would, without moving the clock (which id_tokens follow): the next
    /// kapi call answers -401 and a client must refresh.
    pub fn expire_access_tokens(&self) {
        let now = self.inner.clock.now_millis();
        for token in self.inner.store().access_tokens.values_mut() {
            token.expires_at_ms = token.expires_at_ms.min(now);
        }
    }

    /// Sets the latency added before every answer.
    pub fn set_latency(&self, latency: Duration) {
        self.inner.store().latency = latency;
    }

    /// Sets which user `GET /oauth/authorize` logs in without a page
    /// (`None`: show the consent page).
    ///
    /// # Errors
    /// [`StartError::UnknownAutoConsentUser`] if the id is not a fixture user.
    pub fn set_auto_consent(&self, user: Option<i64>) -> Result<(), StartError> {
        if let Some(id) = user
            && self.inner.users.get(id).is_none()
        {
            return Err(StartError::UnknownAutoConsentUser(id));
        }
        self.inner.store().auto_consent = user;
        Ok(())
    }

    /// Registers one more redirect URI (exact match, http/https only).
    ///
    /// # Errors
    /// [`RedirectUriError`] if Kakao's console would refuse it.
    pub fn register_redirect_uri(&self, uri: &str) -> Result<(), RedirectUriError> {
        check_redirect_uri(uri)?;
        let mut store = self.inner.store();
        if !store.redirect_uris.iter().any(|u| u == uri) {
            store.redirect_uris.push(uri.to_owned());
        }
        Ok(())
    }

    /// Ends hung requests; called by shutdown.
    pub(crate) fn signal_shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }
}

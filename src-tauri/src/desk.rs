//! The app's login state: one [`Account`] from the core, the login waiting for
//! the browser, and the view the UI draws.
//!
//! Start-up runs off the window's critical path: the webview loads while the
//! configuration is resolved, the keychain is asked for the vault key, the
//! vault is opened and the session restored — all without network. Links that
//! arrive before that finishes wait in [`Desk`] and are handled right after.
//! Then, when a session was restored, one background `access_token_info` call
//! tells whether Kakao is reachable (the offline badge) and refreshes the token
//! on -401; it never issues a token otherwise (Kakao's issuance limits).
//!
//! Every change of state publishes one [`AppEvent::Session`] with the whole
//! view; errors go out as [`AppEvent::Error`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use kakao_desk_core::account::{Account, AccountError, AccountParts};
use kakao_desk_core::cache::ProfileCache;
use kakao_desk_core::callback::DeepLink;
use kakao_desk_core::clock::SystemClock;
use kakao_desk_core::config::{Config, RedirectMode, Resolution};
use kakao_desk_core::login::LoginOptions;
use kakao_desk_core::profile::PublicProfile;
use kakao_desk_core::vault::{KeyFileSource, KeySource, KeychainKeySource};
use kakao_desk_core::{ErrorCode, Language};
use tauri::{AppHandle, Manager};
use url::Url;

use crate::inbox::Inbox;
use crate::ipc::{
    AppEvent, ContinueAs, FirstPaint, IpcError, LoginView, SessionState, SessionView,
};
use crate::settings::Settings;
use crate::vault_store::StoreSlots;

/// Opt-in to keeping the vault key in a file (mode 0600) in the data directory
/// when no OS keychain is available. Set to `1` to accept that anyone who can
/// read your files can then open your session.
pub const KEY_FILE_VARIABLE: &str = "KAKAO_DESK_VAULT_KEY_FILE";

/// The app's login state (managed; cheap to clone).
#[derive(Clone)]
pub struct Desk(Arc<Inner>);

struct Inner {
    app: AppHandle,
    ready: tokio::sync::OnceCell<Ready>,
    failure: Mutex<Option<ErrorCode>>,
    early_links: Mutex<Vec<DeepLink>>,
    waiting: Mutex<Option<Waiting>>,
    offline: AtomicBool,
    epoch: AtomicU64,
}

struct Ready {
    account: Arc<Account>,
    demo: bool,
    #[cfg(feature = "demo")]
    _emulator: Option<kakao_emulator::RunningEmulator>,
}

/// The login waiting for the browser, as the shell tracks it.
struct Waiting {
    /// Kept to open the browser again. Carries `state` and `nonce`: never
    /// logged, never sent to the webview.
    authorize_url: Url,
    deadline: SystemTime,
    first_paint: Option<FirstPaint>,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("ready", &self.0.ready.initialized())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unix_ms(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Desk {
    /// A desk that is not started yet.
    pub fn new(app: AppHandle) -> Self {
        Self(Arc::new(Inner {
            app,
            ready: tokio::sync::OnceCell::new(),
            failure: Mutex::new(None),
            early_links: Mutex::new(Vec::new()),
            waiting: Mutex::new(None),
            offline: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
        }))
    }

    /// Opens the account and restores the session (no network), then handles
    /// links that arrived meanwhile, then checks the session with Kakao in the
    /// background.
    pub async fn start(self) {
        match self.open().await {
            Ok(ready) => {
                let keychain = ready.account.keychain_problem();
                let _ = self.0.ready.set(ready);
                if let Some(code) = keychain {
                    self.error(code);
                }
                self.restore().await;
            }
            Err(code) => {
                *lock(&self.0.failure) = Some(code);
                self.error(code);
            }
        }
        self.publish().await;
        let early: Vec<DeepLink> = std::mem::take(&mut *lock(&self.0.early_links));
        for link in early {
            self.take_link(link);
        }
        self.check_in_background();
    }

    /// True when the app runs against the bundled emulator.
    pub fn is_demo(&self) -> bool {
        self.0.ready.get().is_some_and(|r| r.demo)
    }

    async fn open(&self) -> Result<Ready, ErrorCode> {
        let app = &self.0.app;
        let data_dir = app.path().app_data_dir().map_err(|error| {
            tracing::error!(%error, "no app data directory");
            ErrorCode::Storage
        })?;
        std::fs::create_dir_all(&data_dir).map_err(|error| {
            tracing::error!(%error, "cannot create the app data directory");
            ErrorCode::Storage
        })?;
        let resolution = Config::resolve(|name| std::env::var(name).ok()).map_err(|error| {
            tracing::error!(%error, "invalid Kakao configuration");
            error.code()
        })?;
        let scheme = app.state::<Inbox>().scheme().to_owned();
        let (config, demo) = match resolution {
            Resolution::Kakao(config) => (*config, None),
            Resolution::Demo { scopes } => {
                let (config, emulator) = demo_config(&scheme, scopes).await?;
                (config, Some(emulator))
            }
        };
        let app_id = app.config().identifier.clone();
        let slots = StoreSlots::new(app.clone());
        let account = tauri::async_runtime::spawn_blocking(move || {
            // Keychain access is a blocking D-Bus call on Linux.
            let cache = ProfileCache::open(&data_dir.join("profile.db")).map_err(|error| {
                tracing::error!(%error, "cannot open the profile cache");
                error.code()
            })?;
            let parts = AccountParts::new(
                config,
                app_id.clone(),
                scheme,
                Arc::new(SystemClock),
                cache,
                key_source(&app_id, data_dir),
                Box::new(slots),
            );
            Account::open(parts).map_err(|error| {
                tracing::error!(%error, "cannot open the account");
                error.code()
            })
        })
        .await
        .map_err(|_| ErrorCode::Internal)??;
        Ok(Ready {
            account: Arc::new(account),
            demo: demo.is_some(),
            #[cfg(feature = "demo")]
            _emulator: demo.flatten(),
        })
    }

    async fn restore(&self) {
        let Some(account) = self.account() else {
            return;
        };
        match account.restore_session().await {
            Ok(Some(_)) => tracing::info!("signed in from the vault"),
            Ok(None) => tracing::info!("no saved session"),
            Err(error) => {
                tracing::info!(code = %error.code(), "the saved session cannot be used");
                self.error(error.code());
            }
        }
    }

    /// One `access_token_info` call after a restore: shows the offline badge
    /// when Kakao cannot be reached and refreshes the token on -401. Skipped in
    /// demo mode, where the emulator starts fresh with every run and knows no
    /// earlier token.
    fn check_in_background(&self) {
        let Some(ready) = self.0.ready.get() else {
            return;
        };
        if ready.demo {
            return;
        }
        let desk = self.clone();
        let account = ready.account.clone();
        tauri::async_runtime::spawn(async move {
            if !account.is_signed_in().await {
                return;
            }
            desk.note_kakao_result(account.check_session().await.map(|_| ()))
                .await;
        });
    }

    async fn note_kakao_result(&self, result: Result<(), AccountError>) {
        match result {
            Ok(()) => self.0.offline.store(false, Ordering::Relaxed),
            Err(error) => match error.code() {
                ErrorCode::Network | ErrorCode::KakaoTemporary => {
                    tracing::info!(code = %error.code(), "Kakao unreachable; showing the cached profile");
                    self.0.offline.store(true, Ordering::Relaxed);
                }
                code => self.error(code),
            },
        }
        self.publish().await;
    }

    fn account(&self) -> Option<Arc<Account>> {
        self.0.ready.get().map(|r| r.account.clone())
    }

    fn ready_account(&self) -> Result<Arc<Account>, IpcError> {
        self.account().ok_or_else(|| {
            let code = lock(&self.0.failure).unwrap_or(ErrorCode::Internal);
            IpcError::new(code, self.language())
        })
    }

    fn language(&self) -> Language {
        self.0.app.state::<Settings>().language()
    }

    fn error(&self, code: ErrorCode) {
        self.0
            .app
            .state::<Inbox>()
            .deliver(AppEvent::Error(IpcError::new(code, self.language())));
    }

    /// Sends the current view to the UI.
    pub async fn publish(&self) {
        let view = self.view().await;
        self.send(view);
    }

    /// Delivers a view to the UI, stamped with demo mode: the one way a
    /// session event leaves the desk.
    fn send(&self, mut view: SessionView) {
        view.demo = self.is_demo();
        self.0.app.state::<Inbox>().deliver(AppEvent::Session {
            session: Box::new(view),
        });
    }

    /// The whole state the UI draws (`demo` is stamped by [`Desk::send`]).
    async fn view(&self) -> SessionView {
        let Some(account) = self.account() else {
            let state = if lock(&self.0.failure).is_some() {
                SessionState::SignedOut
            } else {
                SessionState::Starting
            };
            return SessionView::bare(state);
        };
        if account.login_pending()
            && let Some(waiting) = lock(&self.0.waiting).as_ref()
        {
            return waiting_view(waiting);
        }
        if account.is_signed_in().await {
            let cached = account.current_profile();
            return SessionView {
                state: SessionState::SignedIn,
                last_login_at: cached.as_ref().map(|c| unix_ms(c.last_login_at)),
                profile: cached.as_ref().map(|c| c.to_public()),
                offline: self.0.offline.load(Ordering::Relaxed),
                ..SessionView::bare(SessionState::SignedIn)
            };
        }
        let continue_as = match account.last_account() {
            Ok(last) => last.map(|c| {
                let public = c.to_public();
                ContinueAs {
                    nickname: public.nickname,
                    thumbnail_data_url: public.thumbnail_data_url,
                }
            }),
            Err(error) => {
                tracing::warn!(%error, "cannot read the last account");
                None
            }
        };
        SessionView {
            continue_as,
            ..SessionView::bare(SessionState::SignedOut)
        }
    }

    /// Starts a login: the authorize URL in the system browser, the countdown,
    /// and in loopback mode the receiver.
    ///
    /// # Errors
    /// The core's (`internal` when the loopback port is taken or the RNG
    /// failed), or `internal` when no browser could be opened.
    pub async fn begin_login(&self) -> Result<(), IpcError> {
        let account = self.ready_account()?;
        let language = self.language();
        let started = account
            .begin_login(&LoginOptions::default())
            .await
            .map_err(|error| {
                tracing::warn!(%error, "the login could not start");
                IpcError::new(error.code(), language)
            })?;
        let epoch = self.0.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        *lock(&self.0.waiting) = Some(Waiting {
            authorize_url: started.authorize_url.clone(),
            deadline: started.deadline,
            first_paint: None,
        });
        if let Err(error) = self.open_browser(&started.authorize_url) {
            account.cancel_login();
            *lock(&self.0.waiting) = None;
            self.publish().await;
            return Err(error);
        }
        match started.redirect_mode {
            RedirectMode::Loopback => self.wait_for_loopback(account, epoch),
            RedirectMode::Bridge => self.expire_at(started.deadline, epoch),
        }
        self.publish().await;
        Ok(())
    }

    /// Opens the authorize page of the waiting login again.
    ///
    /// # Errors
    /// `login_timeout` when no login waits; `internal` when no browser opens.
    pub fn reopen_browser(&self) -> Result<(), IpcError> {
        let url = lock(&self.0.waiting)
            .as_ref()
            .map(|w| w.authorize_url.clone())
            .ok_or_else(|| IpcError::new(ErrorCode::LoginTimeout, self.language()))?;
        self.open_browser(&url)
    }

    /// Cancels the waiting login; a callback that arrives later is refused.
    pub async fn cancel_login(&self) {
        if let Some(account) = self.account() {
            account.cancel_login();
        }
        self.0.epoch.fetch_add(1, Ordering::SeqCst);
        *lock(&self.0.waiting) = None;
        self.publish().await;
    }

    /// Logs out: Kakao is told, the local session is wiped even if that fails.
    ///
    /// # Errors
    /// `storage` when the local wipe failed.
    pub async fn logout(&self) -> Result<(), IpcError> {
        let account = self.ready_account()?;
        let result = account.logout().await;
        self.0.offline.store(false, Ordering::Relaxed);
        self.publish().await;
        result.map_err(|e| IpcError::new(e.code(), self.language()))
    }

    /// Unlinks the app from the Kakao account and forgets the cached profile.
    ///
    /// # Errors
    /// Kakao's error (nothing was wiped), or `storage`.
    pub async fn unlink(&self) -> Result<(), IpcError> {
        let account = self.ready_account()?;
        let result = account.unlink().await;
        self.publish().await;
        result.map_err(|e| IpcError::new(e.code(), self.language()))
    }

    /// Takes a callback link (deep link) that passed the route check: before
    /// start-up has finished it waits; then it completes the login in the
    /// background.
    pub fn take_link(&self, link: DeepLink) {
        crate::bench::mark("link-received");
        let Some(account) = self.account() else {
            lock(&self.0.early_links).push(link);
            return;
        };
        let desk = self.clone();
        tauri::async_runtime::spawn(async move {
            let first = desk.clone();
            let result = account
                .complete_login(link.url().as_str(), move |profile| {
                    first.first_paint(&profile)
                })
                .await;
            desk.finish(&account, result).await;
        });
    }

    fn wait_for_loopback(&self, account: Arc<Account>, epoch: u64) {
        let desk = self.clone();
        let language = self.language();
        tauri::async_runtime::spawn(async move {
            let first = desk.clone();
            let result = account
                .receive_loopback_login(language, move |profile| first.first_paint(&profile))
                .await;
            if matches!(result, Err(AccountError::Cancelled))
                && desk.0.epoch.load(Ordering::SeqCst) != epoch
            {
                // Cancelled in the app or replaced by a newer login: nothing
                // to tell the user.
                return;
            }
            desk.finish(&account, result).await;
        });
    }

    /// The bridge mode's deadline: Kakao's page may simply be abandoned, and
    /// then no callback ever comes.
    fn expire_at(&self, deadline: SystemTime, epoch: u64) {
        let desk = self.clone();
        let wait = deadline
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(wait).await;
            let Some(account) = desk.account() else {
                return;
            };
            if desk.0.epoch.load(Ordering::SeqCst) == epoch && account.login_pending() {
                account.cancel_login();
                *lock(&desk.0.waiting) = None;
                desk.error(ErrorCode::LoginTimeout);
                desk.publish().await;
            }
        });
    }

    /// The id_token's nickname, shown while `/v2/user/me` completes. Sent at
    /// once from inside the login, so it can never overtake the final view.
    fn first_paint(&self, profile: &PublicProfile) {
        let view = {
            let mut waiting = lock(&self.0.waiting);
            let Some(waiting) = waiting.as_mut() else {
                return;
            };
            waiting.first_paint = Some(FirstPaint {
                nickname: profile.nickname.clone(),
            });
            waiting_view(waiting)
        };
        self.send(view);
    }

    async fn finish(&self, account: &Account, result: Result<PublicProfile, AccountError>) {
        match result {
            Ok(_) => {
                crate::bench::mark("session-stored");
                tracing::info!("login complete");
                *lock(&self.0.waiting) = None;
                self.0.offline.store(false, Ordering::Relaxed);
            }
            Err(error) => {
                tracing::info!(code = %error.code(), "login did not complete");
                // A forged or stray link leaves a genuine login waiting.
                if !account.login_pending() {
                    *lock(&self.0.waiting) = None;
                }
                self.error(error.code());
            }
        }
        self.publish().await;
    }

    fn open_browser(&self, url: &Url) -> Result<(), IpcError> {
        open_in_browser(&self.0.app, url).map_err(|error| {
            tracing::error!(%error, "could not open the system browser");
            IpcError::new(ErrorCode::Internal, self.language())
        })
    }
}

fn waiting_view(waiting: &Waiting) -> SessionView {
    SessionView {
        login: Some(LoginView {
            deadline: unix_ms(waiting.deadline),
            first_paint: waiting.first_paint.clone(),
        }),
        ..SessionView::bare(SessionState::Waiting)
    }
}

/// The system browser, through the desktop's standard mechanism
/// (tauri-plugin-opener: `xdg-open` on Linux, which honours `BROWSER` when no
/// desktop environment is detected).
fn open_in_browser(app: &AppHandle, url: &Url) -> Result<(), String> {
    use tauri_plugin_opener::OpenerExt;
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|e| e.to_string())
}

/// The vault key's home: the OS keychain, or — only with the explicit opt-in —
/// a key file.
fn key_source(app_id: &str, data_dir: PathBuf) -> Box<dyn KeySource> {
    if std::env::var(KEY_FILE_VARIABLE).as_deref() == Ok("1") {
        tracing::warn!(
            "{KEY_FILE_VARIABLE}=1: the vault key is kept in a file readable only by you, not in the OS keychain"
        );
        return Box::new(KeyFileSource::new(data_dir.join("vault.key")));
    }
    Box::new(KeychainKeySource::for_app(app_id))
}

/// Demo mode: the bundled emulator on loopback, its bridge page forwarding to
/// this build's scheme.
#[cfg(feature = "demo")]
async fn demo_config(
    scheme: &str,
    scopes: Vec<String>,
) -> Result<(Config, Option<kakao_emulator::RunningEmulator>), ErrorCode> {
    let emulator = kakao_emulator::start(kakao_emulator::EmulatorConfig {
        bridge_scheme: scheme.to_owned(),
        ..kakao_emulator::EmulatorConfig::default()
    })
    .await
    .map_err(|error| {
        tracing::error!(%error, "the demo emulator did not start");
        ErrorCode::Internal
    })?;
    let base = Url::parse(emulator.base_url()).map_err(|_| ErrorCode::Internal)?;
    let redirect = Url::parse(&emulator.bridge_redirect_uri()).map_err(|_| ErrorCode::Internal)?;
    let config = Config::demo(&base, emulator.client_id(), &redirect, scopes)
        .map_err(|error| error.code())?;
    tracing::info!(emulator = %base, "demo mode: Kakao is the bundled emulator");
    Ok((config, Some(emulator)))
}

/// Without the `demo` feature there is no emulator to fall back on: a build
/// with no Kakao app key cannot log in, and says so.
#[cfg(not(feature = "demo"))]
async fn demo_config(
    _scheme: &str,
    _scopes: Vec<String>,
) -> Result<(Config, Option<()>), ErrorCode> {
    tracing::error!("no KAKAO_CLIENT_ID configured and this build has no demo emulator");
    Err(ErrorCode::KakaoConfig)
}

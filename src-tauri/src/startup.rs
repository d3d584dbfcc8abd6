//! Start-up wiring: the configuration, the demo emulator, the vault key's
//! home, the stores, and the login core they make.
//!
//! `setup` spawns [`start`] and returns; the configuration is resolved, the
//! keychain is asked for the vault key (a blocking D-Bus call, on a blocking
//! thread), the vault is opened and the session restored — all without
//! network — and then the main window is built with that view
//! (`window.rs`; if this takes long, a timer builds it with the "starting"
//! view). Until
//! the first view that is not "starting" the page shows nothing, so a
//! signed-in user never sees the login screen flash. Links that arrive
//! meanwhile wait in the [`LoginHandle`] and are handed over right after.

use std::path::PathBuf;
use std::sync::Arc;

use kakao_desk_core::ErrorCode;
use kakao_desk_core::cache::ProfileCache;
use kakao_desk_core::clock::SystemClock;
use kakao_desk_core::config::{Config, Resolution, RuntimeOverrides};
use kakao_desk_core::login::{KakaoLogin, LoginParts};
use kakao_desk_core::vault::{KeyFileSource, KeySource, KeychainKeySource};
use tauri::{AppHandle, Manager};

use crate::browser::SystemBrowser;
use crate::handle::{LoginHandle, Opened, PROFILE_MAX_AGE};
use crate::vault_store::StoreSlots;

/// Opt-in to keeping the vault key in a file (mode 0600) in the data directory
/// when no OS keychain is available. Set to `1` to accept that anyone who can
/// read your files can then open your session.
pub const KEY_FILE_VARIABLE: &str = "KAKAO_DESK_VAULT_KEY_FILE";

/// Builds the main window on a blocking thread: the build waits for the main
/// thread, and a tokio worker should not.
fn open_window(handle: &LoginHandle) {
    let handle = handle.clone();
    tauri::async_runtime::spawn_blocking(move || crate::window::open_main(&handle));
}

/// Opens the login core and restores the session (no network), builds the
/// main window, hands over the links that arrived meanwhile, then — with a
/// real Kakao app — checks the session with Kakao once in the background.
pub async fn start(handle: LoginHandle) {
    crate::bench::mark("startup-begun");
    let opened = match open(handle.app(), handle.scheme()).await {
        Ok(opened) => {
            crate::bench::mark("stores-opened");
            opened
        }
        Err(code) => {
            handle.failed(code);
            handle.report(code);
            handle.publish();
            open_window(&handle);
            return;
        }
    };
    let login = opened.login.clone();
    let demo = opened.demo;
    if let Some(code) = login.keychain_problem() {
        handle.report(code);
    }
    match login.restore_session().await {
        Ok(Some(_)) => tracing::info!("signed in from the vault"),
        Ok(None) => tracing::info!("no saved session"),
        Err(error) => {
            tracing::info!(code = %error.code(), "the saved session cannot be used");
            handle.report(error.code());
        }
    }
    crate::bench::mark("session-restored");
    let early = handle.opened(opened);
    handle.publish();
    open_window(&handle);
    for link in early {
        handle.take_link(link);
    }
    // The demo emulator starts fresh with every run and knows no earlier
    // token, so there is nothing to ask it.
    if !demo {
        tauri::async_runtime::spawn(async move {
            // What Kakao says about the restored session, and at most once
            // per start a stale profile read again; while Kakao is
            // unreachable, the backoff asks again.
            let outcome = login.recheck_once(PROFILE_MAX_AGE).await;
            handle.settle(outcome);
            // Tests and the crash rig wait for this line: after it, the
            // screen shows what Kakao said about the restored session.
            tracing::info!("start-up session check done");
        });
    }
}

/// The configuration, then the login core on the app's data directory.
async fn open(app: &AppHandle, scheme: &str) -> Result<Opened, ErrorCode> {
    let data_dir = app.path().app_data_dir().map_err(|error| {
        tracing::error!(%error, "no app data directory");
        ErrorCode::Storage
    })?;
    crate::files::private_dir(&data_dir).map_err(|error| {
        tracing::error!(%error, "cannot create the app data directory");
        ErrorCode::Storage
    })?;
    let resolution = resolve_config().map_err(|error| {
        tracing::error!(%error, "invalid Kakao configuration");
        error.code()
    })?;
    let (config, emulator) = match resolution {
        Resolution::Kakao(config) => (*config, None),
        Resolution::Demo { scopes } => {
            let (config, emulator) = demo_config(scheme, scopes).await?;
            (config, Some(emulator))
        }
    };
    let app_id = app.config().identifier.clone();
    let slots = StoreSlots::new(app.clone(), data_dir.clone());
    let browser = SystemBrowser(app.clone());
    let login = tauri::async_runtime::spawn_blocking(move || {
        // Keychain access is a blocking D-Bus call on Linux.
        let cache = ProfileCache::open(&data_dir.join("profile.db")).map_err(|error| {
            tracing::error!(%error, "cannot open the profile cache");
            error.code()
        })?;
        let mut parts = LoginParts::new(
            config,
            app_id.clone(),
            Arc::new(SystemClock),
            cache,
            key_source(&app_id, data_dir),
            Box::new(slots),
            Box::new(browser),
        );
        if let Some(max_age) = crate::publisher::session_max_age() {
            parts.session_max_age = max_age;
        }
        KakaoLogin::open(parts).map_err(|error| {
            tracing::error!(%error, "cannot open the login");
            error.code()
        })
    })
    .await
    .map_err(|_| ErrorCode::Internal)??;
    Ok(Opened {
        login: Arc::new(login),
        demo: emulator.is_some(),
        #[cfg(demo_emulator)]
        emulator: emulator.flatten(),
    })
}

/// The configuration this process uses: its environment (as far as
/// [`runtime_overrides`] allows), then what the binary was built with, then
/// the production defaults.
///
/// # Errors
/// The [`ConfigError`](kakao_desk_core::config::ConfigError) of a wrong value.
pub fn resolve_config() -> Result<Resolution, kakao_desk_core::config::ConfigError> {
    Config::resolve_layers_with(
        |name| std::env::var(name).ok(),
        crate::publisher::build_time,
        runtime_overrides(),
    )
}

/// Whether the runtime environment may name the Kakao hosts: in debug builds
/// (the tests point them at the emulator), and in a release build only when
/// it was built so on purpose (`KAKAO_DESK_ALLOW_HOST_OVERRIDE=1` at build
/// time, as the benchmark does). Never in a shipped build, where whoever sets
/// the environment would pick the issuer the app trusts.
pub fn runtime_overrides() -> RuntimeOverrides {
    if cfg!(debug_assertions) || option_env!("KAKAO_DESK_ALLOW_HOST_OVERRIDE") == Some("1") {
        RuntimeOverrides::All
    } else {
        RuntimeOverrides::AllButHosts
    }
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
#[cfg(demo_emulator)]
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
    let base = url::Url::parse(emulator.base_url()).map_err(|_| ErrorCode::Internal)?;
    let redirect =
        url::Url::parse(&emulator.bridge_redirect_uri()).map_err(|_| ErrorCode::Internal)?;
    let signed_out =
        url::Url::parse(&emulator.signed_out_uri()).map_err(|_| ErrorCode::Internal)?;
    let config = Config::demo(
        &base,
        emulator.client_id(),
        &redirect,
        Some(&signed_out),
        scopes,
    )
    .map_err(|error| error.code())?;
    tracing::info!(emulator = %base, "demo mode: Kakao is the bundled emulator");
    Ok((config, Some(emulator)))
}

/// A release build without the `demo` feature has no emulator to fall back
/// on: with no Kakao app key it cannot log in, and says what to set.
#[cfg(not(demo_emulator))]
async fn demo_config(
    _scheme: &str,
    _scopes: Vec<String>,
) -> Result<(Config, Option<()>), ErrorCode> {
    tracing::error!(
        "this build has no Kakao app key (client_id in kakao.toml or KAKAO_CLIENT_ID when building) and no demo emulator"
    );
    Err(ErrorCode::NotConfigured)
}

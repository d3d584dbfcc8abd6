//! Commands the UI may call. Each is a few lines: take state and arguments, call
//! one function, map the error. Each is allowed only by its permission in
//! `src-tauri/permissions/`, granted to the main window in
//! `src-tauri/capabilities/main.json`. State changes reach the UI as session
//! events on its channel, so commands return nothing but errors.

use kakao_desk_core::authorize::LoginOptions;
use kakao_desk_core::profile::KakaoId;
use kakao_desk_core::{ErrorCode, Language};
use serde::Serialize;
use tauri::State;
use tauri::ipc::Channel;

use crate::bench;
use crate::handle::LoginHandle;
use crate::ipc::{AppEvent, IpcError};
use crate::logs::LogDir;
use crate::settings::Settings;
use crate::ui_state::UiState;

/// The page has loaded: connect its event channel (queued errors go out
/// first) and return what to draw, the session view of now included.
#[tauri::command]
pub async fn ui_ready(
    events: Channel<AppEvent>,
    settings: State<'_, Settings>,
    handle: State<'_, LoginHandle>,
    logs: State<'_, LogDir>,
) -> Result<UiState, IpcError> {
    bench::mark("first-script");
    let session = handle.connect_ui(Box::new(events));
    tracing::info!("ui ready");
    Ok(UiState {
        session: Some(session),
        ..UiState::new(settings.language(), &logs)
    })
}

/// Switches the UI language and remembers it.
///
/// # Errors
/// `storage` when the choice could not be saved (it still applies for this run).
#[tauri::command]
pub fn set_language(
    language: Language,
    settings: State<'_, Settings>,
    logs: State<'_, LogDir>,
) -> Result<UiState, IpcError> {
    settings.set_language(language)?;
    Ok(UiState::new(language, &logs))
}

/// Starts a login: Kakao's page in the system browser, the waiting screen,
/// and the attempt followed in the background.
#[tauri::command]
pub async fn begin_login(handle: State<'_, LoginHandle>) -> Result<(), IpcError> {
    let login = handle.login()?;
    let begun = login.begin_login(&LoginOptions::default()).await;
    followed(&handle, login, begun)
}

/// A login attempt just begun: the waiting screen, and the attempt followed
/// in the background (or the reason it could not begin).
fn followed(
    handle: &LoginHandle,
    login: std::sync::Arc<kakao_desk_core::login::KakaoLogin>,
    begun: Result<kakao_desk_core::login::LoginAttempt, kakao_desk_core::login::LoginError>,
) -> Result<(), IpcError> {
    handle.publish();
    handle.follow(login, begun.map_err(|e| handle.login_error(&e))?);
    Ok(())
}

/// Starts additional consent for one of the profile card's offers: Kakao's
/// page for just those items in the system browser; the session stays.
#[tauri::command]
pub async fn add_consent(handle: State<'_, LoginHandle>, offer: String) -> Result<(), IpcError> {
    let login = handle.login()?;
    let begun = login.begin_consent(&offer).await;
    followed(&handle, login, begun)
}

/// Withdraws an item the user shared (`birthday`, `account_email`) at Kakao;
/// the card then drops it and offers to add it back.
#[tauri::command]
pub async fn withdraw_consent(
    handle: State<'_, LoginHandle>,
    item: String,
) -> Result<(), IpcError> {
    let result = handle.login()?.withdraw_consent(&item).await;
    handle.publish();
    quiet_if_superseded(result.map(drop), &handle)
}

/// A command's outcome for the page; one made for an account the user
/// switched away from meanwhile has nothing to say.
fn quiet_if_superseded(
    result: Result<(), kakao_desk_core::login::LoginError>,
    handle: &LoginHandle,
) -> Result<(), IpcError> {
    match result {
        Err(error) if error.is_superseded() => Ok(()),
        other => other.map_err(|e| handle.login_error(&e)),
    }
}

/// Reads the signed-in profile from Kakao again (no new login, no new token
/// unless the access token must be refreshed).
#[tauri::command]
pub async fn refresh_profile(handle: State<'_, LoginHandle>) -> Result<(), IpcError> {
    let result = handle.login()?.refresh_profile().await;
    handle.publish();
    quiet_if_superseded(result.map(drop), &handle)
}

/// Asks Kakao again after it could not be reached (the offline badge's
/// action); the badge clears when Kakao answers.
#[tauri::command]
pub async fn retry_connection(handle: State<'_, LoginHandle>) -> Result<(), IpcError> {
    handle.recheck().await;
    Ok(())
}

/// Opens the waiting login's page in the browser again.
#[tauri::command]
pub fn reopen_browser(handle: State<'_, LoginHandle>) -> Result<(), IpcError> {
    let login = handle.login()?;
    login.reopen_browser().map_err(|e| handle.login_error(&e))
}

/// Cancels the waiting login.
#[tauri::command]
pub fn cancel_login(handle: State<'_, LoginHandle>) -> Result<(), IpcError> {
    handle.login()?.cancel_login();
    handle.publish();
    Ok(())
}

/// Logs out the account in use: Kakao is told, the local session is wiped
/// even if that fails; other accounts signed in here stay. With
/// `also_browser` (a shared PC), Kakao's account logout then opens in the
/// system browser, so the next login asks who is there.
#[tauri::command]
pub async fn logout(
    handle: State<'_, LoginHandle>,
    also_browser: Option<bool>,
) -> Result<(), IpcError> {
    let login = handle.login()?;
    let result = login.logout().await;
    handle.publish();
    // On a shared PC the browser matters even if the local wipe failed.
    let browser = match also_browser {
        Some(true) => login.sign_out_of_browser(),
        _ => Ok(()),
    };
    result.and(browser).map_err(|e| handle.login_error(&e))
}

/// "Use another account": a login with Kakao's account chooser
/// (`prompt=select_account`); the account in use stays signed in beside the
/// new one.
#[tauri::command]
pub async fn add_account(handle: State<'_, LoginHandle>) -> Result<(), IpcError> {
    let login = handle.login()?;
    let options = LoginOptions {
        prompt: vec!["select_account".to_owned()],
        ..LoginOptions::default()
    };
    let begun = login.begin_login(&options).await;
    followed(&handle, login, begun)
}

/// The account a page names by its id (a decimal string: ids exceed 2^53).
fn account_id(handle: &LoginHandle, kakao_id: &str) -> Result<KakaoId, IpcError> {
    kakao_id
        .parse()
        .map_err(|_| handle.ipc_error(ErrorCode::Internal))
}

/// Switches to another account signed in on this device: no browser. Kakao
/// is then asked about its session in the background, as after a start.
#[tauri::command]
pub async fn switch_account(
    handle: State<'_, LoginHandle>,
    kakao_id: String,
) -> Result<(), IpcError> {
    let id = account_id(&handle, &kakao_id)?;
    let result = handle.login()?.switch_account(id);
    handle.publish();
    result.map_err(|e| handle.login_error(&e))?;
    let checking = handle.inner().clone();
    tauri::async_runtime::spawn(async move { checking.recheck().await });
    Ok(())
}

/// "Remove from this device": signs the account out (at Kakao too) and
/// forgets its cached profile.
#[tauri::command]
pub async fn remove_account(
    handle: State<'_, LoginHandle>,
    kakao_id: String,
) -> Result<(), IpcError> {
    let id = account_id(&handle, &kakao_id)?;
    let result = handle.login()?.remove_account(id).await;
    handle.publish();
    result.map_err(|e| handle.login_error(&e))
}

/// Disconnects the app from the Kakao account and forgets the cached profile.
#[tauri::command]
pub async fn unlink(handle: State<'_, LoginHandle>) -> Result<(), IpcError> {
    let result = handle.login()?.unlink().await;
    handle.publish();
    result.map_err(|e| handle.login_error(&e))
}

/// One finding of the configuration doctor, as the waiting screen's
/// "Having trouble?" panel shows it.
#[derive(Debug, Serialize)]
pub struct SetupFinding {
    /// The stable id (`redirect_not_registered`, …).
    pub id: &'static str,
    /// `error`, `warning` or `info`.
    pub severity: &'static str,
    /// What is wrong and what to change, in the UI language.
    pub message: String,
}

/// Runs the configuration doctor on the configuration in use (its offline
/// rules and the online probes: discovery, the authorize page, the bridge
/// page), for the "Having trouble?" panel. It sends the requests a login
/// sends anyway and returns no secret: the findings name console settings.
///
/// # Errors
/// The core's error when it has not opened.
#[tauri::command]
pub async fn check_setup(
    app: tauri::AppHandle,
    handle: State<'_, LoginHandle>,
) -> Result<Vec<SetupFinding>, IpcError> {
    use kakao_desk_core::config::Resolution;
    use kakao_desk_core::doctor::{Report, Severity};
    let config = handle.login()?.config().clone();
    let setup = crate::check::setup(&app.config().identifier, handle.scheme());
    let resolution = Ok(Resolution::Kakao(Box::new(config)));
    let report = Report::run(&resolution, &setup, false, Default::default()).await;
    let language = handle.language();
    tracing::info!(findings = report.findings.len(), "configuration checked");
    Ok(report
        .findings
        .iter()
        .map(|finding| SetupFinding {
            id: finding.id(),
            severity: match finding.severity() {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            },
            message: finding.message(language),
        })
        .collect())
}

/// A timing mark from the page, printed only when benchmarking
/// ([`bench::VARIABLE`]); unknown names are ignored.
#[tauri::command]
pub fn bench_mark(mark: String) {
    if let Some(name) = bench::PAGE_MARKS.iter().find(|m| **m == mark) {
        bench::mark(name);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The permissions the app's own permission files define.
    fn app_permissions() -> Vec<String> {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri/permissions/app.toml"),
        )
        .expect("the app's permission file");
        text.lines()
            .filter_map(|line| line.trim().strip_prefix("identifier = "))
            .map(|id| id.trim_matches('"').to_owned())
            .collect()
    }

    #[test]
    fn the_page_is_granted_the_apps_own_commands_and_nothing_else() {
        let allowed = app_permissions();
        assert_eq!(allowed.len(), 16, "one permission per command: {allowed:?}");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri/capabilities");
        let mut capabilities = 0;
        for entry in std::fs::read_dir(&dir).expect("capabilities") {
            let path = entry.expect("entry").path();
            let capability: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("readable"))
                    .expect("a capability is JSON");
            capabilities += 1;
            for permission in capability["permissions"].as_array().expect("a list") {
                let name = permission
                    .as_str()
                    .or_else(|| permission["identifier"].as_str())
                    .expect("a permission names itself");
                assert!(
                    allowed.iter().any(|a| a == name),
                    "{}: {name} is not one of the app's own command permissions; the page must \
                     not listen to app-wide events (core:event:*), read the deep-link plugin's \
                     URLs (deep-link:*), the vault's store (store:*) or open URLs (opener:*)",
                    path.display()
                );
            }
        }
        assert_eq!(capabilities, 1, "the main window's is the only capability");
    }
}

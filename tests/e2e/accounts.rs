//! Several accounts in the real window: a second account signs in beside
//! the first through Kakao's account chooser, switching back and forth needs
//! no browser, one is removed from the device; logout can sign the browser
//! out of Kakao too; and a vault in the layout from before several accounts
//! opens signed in.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kakao_desk_core::session::{SessionRecord, SessionSet, SetFormat};
use kakao_desk_core::vault::{KeyFileSource, KeySource, Slot, Vault, VaultStorage};

use crate::login::{
    LUNAR_USER, SOLAR_USER, bridge_desktop, desktop, emulator, kakao_env, log_in, screen, visible,
};
use crate::support::{app_scheme, browser_env, click, text_of, wait_for, wait_for_text};

fn item(id: i64) -> String {
    format!("[data-testid='account-item'][data-kakao-id='{id}']")
}

fn remove(id: i64) -> String {
    format!("[data-testid='remove-account'][data-kakao-id='{id}']")
}

async fn items(app: &fantoccini::Client) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for element in app
        .find_all(fantoccini::Locator::Css("[data-testid='account-item']"))
        .await
        .expect("the list")
    {
        let id = element
            .attr("data-kakao-id")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        let current = element
            .attr("aria-current")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        out.push((id, current));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn two_accounts_switch_without_the_browser_and_one_is_removed() {
    let (emulator, desktop) = bridge_desktop("two_accounts", Some(SOLAR_USER), "agree", None).await;
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    wait_for(&app, "[data-testid='account-switcher']:not([hidden])").await;
    assert!(
        !visible(&app, "[data-testid='logout-browser']").await,
        "no browser sign-out without a logout redirect URI"
    );

    // "Use another account": Kakao's account chooser, the first stays.
    emulator
        .set_auto_consent(Some(LUNAR_USER))
        .expect("second user");
    click(&app, "[data-testid='add-account']").await;
    wait_for_text(&app, "[data-testid='profile-nickname']", "최음력").await;
    let authorize = emulator.requests().to_path("/oauth/authorize");
    assert_eq!(
        authorize.last().and_then(|r| r.param("prompt")),
        Some("select_account"),
        "the login asked for Kakao's account chooser"
    );
    wait_for(&app, &item(SOLAR_USER)).await;
    assert_eq!(
        items(&app).await,
        [
            (LUNAR_USER.to_string(), "true".to_owned()),
            (SOLAR_USER.to_string(), String::new())
        ],
        "the new account in use first, the first one still signed in"
    );
    desktop.screenshot(&app, "en-two-accounts").await;

    let logins = emulator.requests().to_path("/oauth/authorize").len();
    let tokens = emulator.requests().to_path("/oauth/token").len();
    click(&app, &item(SOLAR_USER)).await;
    wait_for_text(&app, "[data-testid='profile-nickname']", "박양력").await;
    wait_for_text(&app, "[data-testid='status']", "Switched to 박양력.").await;
    wait_for_text(
        &app,
        "[data-testid='profile-birthday']",
        "November 30, 1990",
    )
    .await;
    click(&app, &item(LUNAR_USER)).await;
    wait_for_text(&app, "[data-testid='profile-nickname']", "최음력").await;
    assert_eq!(
        (
            emulator.requests().to_path("/oauth/authorize").len(),
            emulator.requests().to_path("/oauth/token").len()
        ),
        (logins, tokens),
        "switching opened no browser and issued no token (no code, no refresh)"
    );

    let switch = wait_for(&app, "[data-testid='language-switch']").await;
    switch.select_by_value("ko").await.expect("choose Korean");
    wait_for_text(&app, "#accounts-title", "이 기기의 계정").await;
    desktop.screenshot(&app, "ko-two-accounts").await;

    // Remove the other account: revoked at Kakao, forgotten here.
    click(&app, &remove(SOLAR_USER)).await;
    wait_for_text(
        &app,
        "#remove-title",
        "박양력 계정을 이 기기에서 제거할까요?",
    )
    .await;
    desktop.screenshot(&app, "ko-remove-account").await;
    click(&app, "[data-testid='remove-confirm']").await;
    wait_for_text(
        &app,
        "[data-testid='status']",
        "박양력 계정을 이 기기에서 제거했습니다.",
    )
    .await;
    assert_eq!(items(&app).await.len(), 1, "one account left");
    assert_eq!(
        emulator.requests().to_path("/v1/user/logout").len(),
        1,
        "the removed account's tokens were revoked"
    );
    assert_eq!(
        text_of(&app, "[data-testid='profile-nickname']").await,
        "최음력",
        "the account in use is untouched"
    );
    // Escape closes the dialog without removing, even after an earlier
    // confirmation (a dialog keeps its last answer in WebKit).
    click(&app, &remove(LUNAR_USER)).await;
    wait_for(&app, "[data-testid='remove-dialog'][open]").await;
    app.active_element()
        .await
        .expect("focus")
        .send_keys("\u{E00C}")
        .await
        .expect("Escape");
    wait_for(&app, "[data-testid='remove-dialog']:not([open])").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(items(&app).await.len(), 1, "Escape removed nothing");
    assert_eq!(
        emulator.requests().to_path("/v1/user/logout").len(),
        1,
        "and revoked nothing"
    );
    app.close().await.expect("close");

    let app = desktop.open_app(&[]).await;
    screen(&app, "signed_in").await;
    wait_for_text(&app, "[data-testid='profile-nickname']", "최음력").await;
    assert_eq!(
        items(&app).await,
        [(LUNAR_USER.to_string(), "true".to_owned())],
        "after a restart: the one account left, in use"
    );
    screen(&app, "signed_in").await;
    app.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_leaves_the_other_account_one_click_away_and_can_sign_the_browser_out() {
    let emulator = emulator(Vec::new(), Some(SOLAR_USER)).await;
    let mut env = kakao_env(&emulator, &emulator.bridge_redirect_uri(), "bridge");
    env.push((
        "KAKAO_LOGOUT_REDIRECT_URI".into(),
        emulator.signed_out_uri(),
    ));
    env.extend(browser_env("browser_sign_out", "agree", None));
    let desktop = desktop("browser_sign_out", "en_US.UTF-8", env);
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    emulator
        .set_auto_consent(Some(LUNAR_USER))
        .expect("second user");
    click(&app, "[data-testid='add-account']").await;
    wait_for_text(&app, "[data-testid='profile-nickname']", "최음력").await;

    wait_for(&app, "[data-testid='logout-browser']").await;
    assert!(visible(&app, "[data-testid='logout-browser']").await);
    click(&app, "[data-testid='logout-browser']").await;
    desktop.screenshot(&app, "en-logout-browser").await;
    click(&app, "[data-testid='logout-button']").await;
    screen(&app, "signed_out").await;
    wait_for_text(
        &app,
        "[data-testid='status']",
        "You are logged out. Finish logging out of Kakao in your browser.",
    )
    .await;
    // The browser starts in the background: give it a moment to ask.
    let mut signed_out = Vec::new();
    for _ in 0..100 {
        signed_out = emulator.requests().to_path("/oauth/logout");
        if !signed_out.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        signed_out.len(),
        1,
        "Kakao's account logout opened in the browser"
    );
    assert_eq!(
        signed_out[0].param("logout_redirect_uri"),
        Some(emulator.signed_out_uri().as_str()),
        "with the registered logout redirect URI"
    );
    assert_eq!(
        emulator.requests().to_path("/v1/user/logout").len(),
        1,
        "the account's tokens were revoked too"
    );

    // The login screen lists both; the first is still signed in.
    wait_for(&app, "[data-testid='account-switcher']:not([hidden])").await;
    assert!(
        !visible(&app, "#continue-as").await,
        "the list replaces \"continue as\""
    );
    let signed_in = |id: i64| format!("{}[data-signed-in='true']", item(id));
    wait_for(&app, &signed_in(SOLAR_USER)).await;
    wait_for(
        &app,
        &format!("{}[data-signed-in='false']", item(LUNAR_USER)),
    )
    .await;
    desktop.screenshot(&app, "en-signed-out-accounts").await;
    let logins = emulator.requests().to_path("/oauth/authorize").len();
    click(&app, &item(SOLAR_USER)).await;
    screen(&app, "signed_in").await;
    wait_for_text(&app, "[data-testid='profile-nickname']", "박양력").await;
    wait_for_text(&app, "[data-testid='status']", "Switched to 박양력.").await;
    assert_eq!(
        emulator.requests().to_path("/oauth/authorize").len(),
        logins,
        "back to the other account without the browser"
    );
    app.close().await.expect("close");
}

/// The app's vault slots as `tauri-plugin-store` files (`session-a.json`,
/// `{"envelope": base64}`), read and written directly by the test.
#[derive(Debug)]
struct StoreFiles(PathBuf);

impl StoreFiles {
    fn path(&self, slot: Slot) -> PathBuf {
        self.0.join(format!("{}.json", slot.name()))
    }
}

impl VaultStorage for StoreFiles {
    fn read(&self, slot: Slot) -> std::io::Result<Option<Vec<u8>>> {
        let Ok(text) = std::fs::read(self.path(slot)) else {
            return Ok(None);
        };
        let value: serde_json::Value = serde_json::from_slice(&text)?;
        Ok(value["envelope"]
            .as_str()
            .map(|b64| BASE64.decode(b64).expect("base64")))
    }
    fn write(&self, slot: Slot, bytes: &[u8]) -> std::io::Result<()> {
        let value = serde_json::json!({ "envelope": BASE64.encode(bytes) });
        std::fs::write(self.path(slot), serde_json::to_vec(&value)?)
    }
    fn remove(&self, slot: Slot) -> std::io::Result<()> {
        let _ = std::fs::remove_file(self.path(slot));
        Ok(())
    }
    fn move_aside(&self, _slot: Slot, _tag: &str) -> std::io::Result<()> {
        unreachable!("the test's vault always opens")
    }
    fn remove_set_aside(&self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The app's vault, opened with the key file the app keeps in `data_dir`
/// (`KAKAO_DESK_VAULT_KEY_FILE=1`) and bound to this build's identifier.
fn app_vault(data_dir: &Path) -> Vault {
    let (key, _) = KeyFileSource::new(data_dir.join("vault.key"))
        .load_or_create()
        .expect("the app's key file");
    Vault::new(
        &app_scheme(),
        key,
        Box::new(StoreFiles(data_dir.to_owned())),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vault_from_before_several_accounts_opens_signed_in() {
    let emulator = emulator(Vec::new(), Some(SOLAR_USER)).await;
    let mut env = kakao_env(&emulator, &emulator.bridge_redirect_uri(), "bridge");
    env.push(("KAKAO_DESK_VAULT_KEY_FILE".into(), "1".into()));
    env.extend(browser_env("old_vault", "agree", None));
    let desktop = desktop("old_vault", "en_US.UTF-8", env);
    let app = desktop.open_app(&[]).await;
    log_in(&app).await;
    app.close().await.expect("close");

    // Rewrite the vault as a build from before several accounts left it:
    // the one session alone, in the single-record layout, in both slots.
    let vault = app_vault(&desktop.app_data_dir());
    let bytes = vault.load().expect("opens").expect("a session");
    let (set, _) = SessionSet::from_bytes(&bytes).expect("readable");
    let record: &SessionRecord = &set.sessions[0];
    vault
        .save_over_both(&record.to_bytes())
        .expect("the old layout written");
    let (_, format) =
        SessionSet::from_bytes(&vault.load().expect("opens").expect("a session")).expect("reads");
    assert_eq!(
        format,
        SetFormat::Single,
        "the vault is in the old layout now"
    );
    let logins = emulator.requests().to_path("/oauth/authorize").len();

    let app = desktop.open_app(&[]).await;
    screen(&app, "signed_in").await;
    wait_for_text(&app, "[data-testid='profile-nickname']", "박양력").await;
    click(&app, "[data-testid='refresh-profile']").await;
    wait_for_text(&app, "[data-testid='status']", "Profile refreshed.").await;
    assert_eq!(
        emulator.requests().to_path("/oauth/authorize").len(),
        logins,
        "signed in from the old vault, its tokens still good at Kakao"
    );
    app.close().await.expect("close");
    let (migrated, format) =
        SessionSet::from_bytes(&vault.load().expect("opens").expect("a session")).expect("reads");
    assert_eq!(format, SetFormat::Current, "rewritten in the new layout");
    assert_eq!(
        migrated.sessions[0].refresh_token.secret(),
        record.refresh_token.secret(),
        "with the same refresh token"
    );
}

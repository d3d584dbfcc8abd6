//! Additional consent as Kakao does it: an authorize request with `scope`
//! asks a linked user for just those items, agreeing changes the account's
//! agreement state (the flag turns `false`, the value appears), declining
//! leaves it; `/v2/user/scopes` shows the state and `/v2/user/revoke/scopes`
//! withdraws an optional item.

use crate::rig::*;
use kakao_emulator::{EmulatorConfig, RunningEmulator, fixture_ids};

const USER: i64 = fixture_ids::BIRTHDAY_NOT_CONSENTED;

/// The consent page's transaction id.
fn tx_of(page: &str) -> TestResult<String> {
    Ok(page
        .split("name=\"tx\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("a consent page with a transaction")?
        .to_owned())
}

/// Presses a button of the consent page as `USER`; returns the redirect and
/// the browser's session cookie, if one was set.
async fn press(
    emulator: &RunningEmulator,
    page: &str,
    action: &str,
) -> TestResult<(String, Option<String>)> {
    let tx = tx_of(page)?;
    let user = USER.to_string();
    let response = client()?
        .post(emulator.url("/oauth/authorize/consent"))
        .form(&[
            ("tx", tx.as_str()),
            ("user", user.as_str()),
            ("action", action),
        ])
        .send()
        .await?;
    assert_eq!(response.status(), 302, "{action} redirects");
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    Ok((location(response.headers())?, cookie))
}

async fn page(
    emulator: &RunningEmulator,
    extra: &str,
    cookie: Option<&str>,
) -> TestResult<(u16, String, Option<String>)> {
    let mut request = client()?.get(authorize_url(emulator, extra));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let redirect = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok((status, response.text().await?, redirect))
}

/// Exchanges the redirect's code; returns the access token and granted scope.
async fn tokens_of(emulator: &RunningEmulator, redirect: &str) -> TestResult<(String, String)> {
    let code = query_param(redirect, "code").ok_or_else(|| format!("no code in {redirect}"))?;
    let (status, _, body) = exchange(emulator, &code).await?;
    assert_eq!(status, 200, "{body}");
    Ok((
        str_field(&body, "access_token")?.to_owned(),
        body["scope"].as_str().unwrap_or_default().to_owned(),
    ))
}

async fn me(emulator: &RunningEmulator, token: &str) -> TestResult<serde_json::Value> {
    let (status, _, body) = kapi_get(emulator, "/v2/user/me", token).await?;
    assert_eq!(status, 200, "{body}");
    json(&body)
}

/// First login of `USER` through the page; returns the browser's cookie and
/// an access token.
async fn first_login(emulator: &RunningEmulator) -> TestResult<(String, String)> {
    let (status, body, _) = page(emulator, "", None).await?;
    assert_eq!(status, 200, "the first login shows the consent page");
    let (redirect, cookie) = press(emulator, &body, "agree").await?;
    let (token, _) = tokens_of(emulator, &redirect).await?;
    Ok((cookie.ok_or("a Kakao Account session")?, token))
}

async fn interactive() -> TestResult<RunningEmulator> {
    start(EmulatorConfig {
        auto_consent: None,
        ..config()
    })
    .await
}

#[tokio::test]
async fn agreeing_later_reveals_just_the_items_asked_for() -> TestResult {
    let emulator = interactive().await?;
    let (cookie, token) = first_login(&emulator).await?;
    let before = me(&emulator, &token).await?;
    assert_eq!(before["kakao_account"]["birthday_needs_agreement"], true);
    assert!(before["kakao_account"].get("birthday").is_none());
    assert!(
        before.get("_withheld").is_none(),
        "fixture-only values never leave the emulator"
    );

    // Linked, with a session: a plain login skips the page...
    let (status, _, _) = page(&emulator, "", Some(&cookie)).await?;
    assert_eq!(status, 302, "a linked user is not asked again");
    // ...but asking for new items shows a page with just those.
    let (status, body, _) = page(
        &emulator,
        "&scope=birthday%20birthyear%20openid",
        Some(&cookie),
    )
    .await?;
    assert_eq!(status, 200, "additional consent shows the consent page");
    assert!(
        body.contains("생일") && body.contains("출생 연도"),
        "{body}"
    );
    assert!(
        !body.contains("닉네임"),
        "items already agreed are not asked again: {body}"
    );

    let (redirect, _) = press(&emulator, &body, "agree").await?;
    let (token, scope) = tokens_of(&emulator, &redirect).await?;
    assert!(
        scope.split(' ').any(|s| s == "birthday"),
        "the new token's scope: {scope}"
    );
    let after = me(&emulator, &token).await?;
    let account = &after["kakao_account"];
    assert_eq!(account["birthday_needs_agreement"], false);
    assert_eq!(account["birthday"], "0704");
    assert_eq!(account["birthday_type"], "SOLAR");
    assert_eq!(account["birthyear"], "1992");
    assert_eq!(
        account["profile"]["nickname"], "정비공개",
        "the rest is as before"
    );

    // Agreed now: the same request no longer needs the page.
    let (status, _, _) = page(&emulator, "&scope=birthday%20birthyear", Some(&cookie)).await?;
    assert_eq!(status, 302, "agreed items are not asked for again");
    Ok(())
}

#[tokio::test]
async fn declining_leaves_the_agreement_as_it_was() -> TestResult {
    let emulator = interactive().await?;
    let (cookie, token) = first_login(&emulator).await?;
    let (_, body, _) = page(&emulator, "&scope=birthday", Some(&cookie)).await?;
    let (redirect, _) = press(&emulator, &body, "cancel").await?;
    assert_eq!(
        query_param(&redirect, "error").as_deref(),
        Some("access_denied")
    );
    let account = me(&emulator, &token).await?;
    assert_eq!(
        account["kakao_account"]["birthday_needs_agreement"], true,
        "still not agreed"
    );
    assert!(account["kakao_account"].get("birthday").is_none());
    Ok(())
}

#[tokio::test]
async fn scopes_show_the_agreement_and_optional_items_can_be_withdrawn() -> TestResult {
    let emulator = interactive().await?;
    let (cookie, _) = first_login(&emulator).await?;
    let (_, body, _) = page(&emulator, "&scope=birthday%20birthyear", Some(&cookie)).await?;
    let (redirect, _) = press(&emulator, &body, "agree").await?;
    let (token, _) = tokens_of(&emulator, &redirect).await?;

    let (status, _, body) = kapi_get(&emulator, "/v2/user/scopes", &token).await?;
    assert_eq!(status, 200, "{body}");
    let scopes = json(&body)?;
    assert_eq!(scopes["id"], USER);
    let item = |id: &str| {
        scopes["scopes"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["id"] == id))
            .cloned()
    };
    let birthday = item("birthday").ok_or("birthday is listed")?;
    assert_eq!(birthday["agreed"], true);
    assert_eq!(birthday["revocable"], true, "an optional item");
    assert_eq!(birthday["type"], "PRIVACY");
    let nickname = item("profile_nickname").ok_or("the nickname is listed")?;
    assert_eq!(nickname["revocable"], false, "a required item");

    // Withdraw the birthday: the flag turns true, the value goes.
    let response = client()?
        .post(emulator.url("/v2/user/revoke/scopes"))
        .bearer_auth(&token)
        .form(&[("scopes", r#"["birthday"]"#)])
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let revoked = json(&response.text().await?)?;
    assert_eq!(revoked["scopes"][0]["id"], "birthday");
    assert_eq!(revoked["scopes"][0]["agreed"], false);
    assert!(
        revoked["scopes"][0].get("revocable").is_none(),
        "only beside agreed: true"
    );
    let account = me(&emulator, &token).await?;
    assert_eq!(account["kakao_account"]["birthday_needs_agreement"], true);
    assert!(account["kakao_account"].get("birthday").is_none());
    assert_eq!(
        account["kakao_account"]["birthyear"], "1992",
        "other items stay"
    );

    // A required item cannot be withdrawn; an unknown one is a bad request.
    for (scopes, status, code) in [
        (r#"["profile_nickname"]"#, 403, -3),
        (r#"["email"]"#, 400, -2),
        ("not json", 400, -2),
    ] {
        let response = client()?
            .post(emulator.url("/v2/user/revoke/scopes"))
            .bearer_auth(&token)
            .form(&[("scopes", scopes)])
            .send()
            .await?;
        assert_eq!(response.status().as_u16(), status, "{scopes}");
        assert_eq!(json(&response.text().await?)?["code"], code, "{scopes}");
    }
    let account = me(&emulator, &token).await?;
    assert_eq!(
        account["kakao_account"]["profile"]["nickname"], "정비공개",
        "nothing changed"
    );
    Ok(())
}

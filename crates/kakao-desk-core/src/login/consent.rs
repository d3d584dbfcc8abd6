//! Additional consent: what the profile card offers to ask for.
//!
//! Kakao withholds a value the user has not agreed to and says so with its
//! `*_needs_agreement` flag (kept in [`KakaoProfile::needs_agreement`] and in
//! the profile cache); a kapi call that needs more consent answers -402 with
//! the `required_scopes`. Either way the fix is an authorize request that
//! asks for just those items (`scope=…`, `openid` kept by the authorize URL
//! when OpenID Connect is on), through the same login path; Kakao shows a
//! linked user a consent page for just them. Nothing is lost when the user
//! declines: the session and the cached profile stay as they were.

use serde::Serialize;

use crate::profile::{ConsentItem, KakaoProfile};

/// One "add …" action of the profile card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentOffer {
    /// What the UI names it by: `birthday`, `account_email`, `profile`, or
    /// the scope id a -402 named.
    pub id: String,
    /// The scopes one authorize request asks for.
    pub scopes: Vec<String>,
}

/// How an additional consent ended, for the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentOutcome {
    /// The user agreed: the items are in the profile now.
    Added,
    /// The user declined on Kakao's page: nothing changed.
    Declined,
    /// It did not complete (timeout, another account, Kakao's error): the
    /// error was reported; nothing changed.
    Failed,
}

/// The last additional consent and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentNote {
    /// The offer it was for.
    pub offer: String,
    /// How it ended.
    pub outcome: ConsentOutcome,
}

/// The offers for a profile: items it lacks because the user has not agreed
/// (the birthday with its year, the email, the nickname and picture), kept
/// to the app's `configured` scopes when it names any, then each scope a
/// -402 `required` that those do not cover.
pub fn offers(
    profile: Option<&KakaoProfile>,
    configured: &[String],
    required: &[String],
) -> Vec<ConsentOffer> {
    const GROUPS: [(&str, &[ConsentItem]); 3] = [
        (
            "profile",
            &[ConsentItem::ProfileNickname, ConsentItem::ProfileImage],
        ),
        ("account_email", &[ConsentItem::AccountEmail]),
        ("birthday", &[ConsentItem::Birthday, ConsentItem::Birthyear]),
    ];
    let used = |scope: &str| configured.is_empty() || configured.iter().any(|c| c == scope);
    let mut offers: Vec<ConsentOffer> = Vec::new();
    if let Some(profile) = profile {
        for (id, items) in GROUPS {
            let scopes: Vec<String> = items
                .iter()
                .filter(|item| profile.needs_agreement.contains(item))
                .map(|item| item.scope())
                .filter(|scope| used(scope))
                .map(str::to_owned)
                .collect();
            if !scopes.is_empty() {
                offers.push(ConsentOffer {
                    id: id.to_owned(),
                    scopes,
                });
            }
        }
    }
    for scope in required {
        if scope == "openid" || offers.iter().any(|o| o.scopes.contains(scope)) {
            continue;
        }
        offers.push(ConsentOffer {
            id: scope.clone(),
            scopes: vec![scope.clone()],
        });
    }
    offers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::KakaoId;

    fn needing(items: &[ConsentItem]) -> KakaoProfile {
        let mut profile = KakaoProfile::new(KakaoId::new(1));
        profile.needs_agreement.extend(items.iter().copied());
        profile
    }

    fn ids(offers: &[ConsentOffer]) -> Vec<&str> {
        offers.iter().map(|o| o.id.as_str()).collect()
    }

    #[test]
    fn a_missing_birthday_is_one_offer_with_its_year() {
        let profile = needing(&[ConsentItem::Birthday, ConsentItem::Birthyear]);
        let offers = offers(Some(&profile), &[], &[]);
        assert_eq!(
            offers,
            vec![ConsentOffer {
                id: "birthday".into(),
                scopes: vec!["birthday".into(), "birthyear".into()],
            }]
        );
        let year_only = needing(&[ConsentItem::Birthyear]);
        assert_eq!(
            offers_of(&year_only, &[]),
            vec![vec!["birthyear".to_owned()]],
            "only what is missing is asked for"
        );
    }

    fn offers_of(profile: &KakaoProfile, configured: &[String]) -> Vec<Vec<String>> {
        offers(Some(profile), configured, &[])
            .into_iter()
            .map(|o| o.scopes)
            .collect()
    }

    #[test]
    fn configured_scopes_limit_what_is_offered() {
        let profile = needing(&[
            ConsentItem::Birthday,
            ConsentItem::AccountEmail,
            ConsentItem::ProfileNickname,
        ]);
        assert_eq!(
            ids(&offers(Some(&profile), &[], &[])),
            ["profile", "account_email", "birthday"],
            "without configured scopes, everything Kakao flags"
        );
        let configured = vec!["profile_nickname".to_owned(), "account_email".to_owned()];
        assert_eq!(
            ids(&offers(Some(&profile), &configured, &[])),
            ["profile", "account_email"],
            "an app that does not ask for the birthday does not offer it"
        );
    }

    #[test]
    fn a_402_adds_what_the_profile_does_not_cover() {
        let profile = needing(&[ConsentItem::AccountEmail]);
        let required = vec![
            "account_email".to_owned(),
            "talk_message".to_owned(),
            "openid".to_owned(),
        ];
        let offers = offers(Some(&profile), &[], &required);
        assert_eq!(ids(&offers), ["account_email", "talk_message"]);
        assert_eq!(offers[1].scopes, ["talk_message"]);
        assert!(
            super::offers(None, &[], &[]).is_empty(),
            "nothing signed in, nothing offered"
        );
    }
}

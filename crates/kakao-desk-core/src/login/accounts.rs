//! The accounts used on this device, as the account switcher lists them:
//! every account signed in here (the one in use first), then the latest
//! signed-out ones, from the profile cache.

use serde::Serialize;

use crate::cache::CachedProfile;
use crate::profile::KakaoId;

/// How many signed-out accounts the switcher lists beside the signed-in
/// ones (the latest logins; older ones stay in the cache until removed).
pub const MAX_LISTED_SIGNED_OUT: usize = 10;

/// One account in the switcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// The Kakao id (a decimal string in JSON: ids exceed 2^53).
    pub kakao_id: KakaoId,
    /// The cached nickname, if the user shared one.
    pub nickname: Option<String>,
    /// The cached thumbnail as a `data:` URL (shown with no network).
    pub thumbnail_data_url: Option<String>,
    /// A session for it is kept here: switching to it needs no browser.
    pub signed_in: bool,
    /// It is the account in use.
    pub active: bool,
}

impl AccountView {
    fn of(id: KakaoId, cached: Option<&CachedProfile>, signed_in: bool, active: bool) -> Self {
        let public = cached.map(CachedProfile::to_public);
        Self {
            kakao_id: id,
            nickname: public.as_ref().and_then(|p| p.nickname.clone()),
            thumbnail_data_url: public.and_then(|p| p.thumbnail_data_url),
            signed_in,
            active,
        }
    }
}

/// The switcher's list: `signed_in` (the one in use, `active`, first) with
/// their cached profiles (`profile_of`), then up to
/// [`MAX_LISTED_SIGNED_OUT`] of the `recent` cached accounts that are not
/// signed in.
pub(super) fn account_list(
    signed_in: &[KakaoId],
    active: Option<KakaoId>,
    profile_of: impl Fn(KakaoId) -> Option<CachedProfile>,
    recent: &[CachedProfile],
) -> Vec<AccountView> {
    let mut list: Vec<AccountView> = signed_in
        .iter()
        .map(|id| AccountView::of(*id, profile_of(*id).as_ref(), true, active == Some(*id)))
        .collect();
    list.extend(
        recent
            .iter()
            .filter(|c| !signed_in.contains(&c.profile.id))
            .take(MAX_LISTED_SIGNED_OUT)
            .map(|c| AccountView::of(c.profile.id, Some(c), false, false)),
    );
    list
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::profile::KakaoProfile;

    fn cached(id: i64, nickname: &str) -> CachedProfile {
        let mut profile = KakaoProfile::new(KakaoId::new(id));
        profile.nickname = Some(nickname.to_owned());
        CachedProfile {
            profile,
            thumbnail: None,
            first_login_at: SystemTime::UNIX_EPOCH,
            last_login_at: SystemTime::UNIX_EPOCH,
            fetched_at: SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn signed_in_accounts_come_first_then_the_latest_signed_out_ones() {
        let recent: Vec<CachedProfile> = (1..=15).map(|id| cached(id, &format!("u{id}"))).collect();
        let signed_in = [KakaoId::new(7), KakaoId::new(3)];
        let list = account_list(
            &signed_in,
            Some(KakaoId::new(7)),
            |id| recent.iter().find(|c| c.profile.id == id).cloned(),
            &recent,
        );
        let ids: Vec<i64> = list.iter().map(|a| a.kakao_id.get()).collect();
        assert_eq!(
            &ids[..2],
            [7, 3],
            "the one in use, then the other signed-in one"
        );
        assert_eq!(
            list.len(),
            2 + MAX_LISTED_SIGNED_OUT,
            "signed-out ones are bounded"
        );
        assert!(
            !ids[2..].contains(&7) && !ids[2..].contains(&3),
            "no account twice"
        );
        assert!(list[0].active && list[0].signed_in);
        assert!(!list[1].active && list[1].signed_in);
        assert!(list[2..].iter().all(|a| !a.signed_in && !a.active));
        assert_eq!(list[1].nickname.as_deref(), Some("u3"));
        let json = serde_json::to_value(&list[0]).unwrap();
        assert_eq!(json["kakaoId"], "7", "ids as strings");
        assert_eq!(json["signedIn"], true);
    }

    #[test]
    fn a_signed_in_account_missing_from_the_cache_is_still_listed() {
        let list = account_list(&[KakaoId::new(9)], None, |_| None, &[]);
        assert_eq!(list.len(), 1);
        assert_eq!(
            list[0].nickname, None,
            "the page shows its placeholder name"
        );
        assert!(
            list[0].signed_in && !list[0].active,
            "signed in, none in use"
        );
    }
}

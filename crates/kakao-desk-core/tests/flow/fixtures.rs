//! Every fixture user of the Kakao emulator, through the data half of the
//! core: `/v2/user/me` JSON → normalised profile → profile cache file → the
//! public view the UI gets. No network: the emulator's fixture file is read
//! directly, so this pins the data rules independently of the login flow.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use kakao_desk_core::birthday::Calendar;
use kakao_desk_core::cache::ProfileCache;
use kakao_desk_core::kakao::user_me::UserMeResponse;
use kakao_desk_core::profile::{ConsentItem, KakaoProfile, ProfileWarning};

fn fixture_users() -> Vec<serde_json::Value> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../kakao-emulator/fixtures/users.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the emulator's fixture users at {}: {e}", path.display()))
        .replace("{base_url}", "https://emulator.test");
    serde_json::from_str(&text).expect("fixture users are a JSON array")
}

/// What each fixture user must become: (id, nickname, birthday ISO + calendar
/// + leap month, email, items awaiting consent, warning expected).
type Expected = (
    i64,
    Option<&'static str>,
    Option<(&'static str, Calendar, bool)>,
    Option<&'static str>,
    &'static [ConsentItem],
    bool,
);

#[rustfmt::skip]
const EXPECTED: &[Expected] = &[
    (1_376_016_924_426_111_111, Some("김카카오"), None, Some("kakao.kim@example.com"), &[], false),
    (3_095_134_389, Some("박양력"), Some(("1990-11-30", Calendar::Solar, false)), Some("solar.park@example.com"), &[], false),
    (4_000_000_001, Some("이윤일"), Some(("0000-02-29", Calendar::Solar, false)), None, &[], false),
    (4_000_000_002, Some("최음력"), Some(("1985-04-15", Calendar::Lunar, true)), None, &[], false),
    (4_000_000_003, Some("정비공개"), None, None, &[ConsentItem::Birthday, ConsentItem::Birthyear], false),
    (4_000_000_004, None, None, Some("no.profile@example.com"), &[ConsentItem::ProfileNickname, ConsentItem::ProfileImage], false),
    (4_000_000_005, Some("라이언 🦁✨"), None, Some("ryan.unverified@example.com"), &[], false),
    (4_000_000_006, Some("오류생일"), None, None, &[], true),
    (4_000_000_007, Some("기본사진"), None, None, &[], false),
];

#[test]
fn every_fixture_user_normalises_caches_and_publishes_as_expected() {
    let users = fixture_users();
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = ProfileCache::open(&dir.path().join("profile.db")).expect("cache opens");
    let mut checked = BTreeSet::new();

    for (i, user) in users.into_iter().enumerate() {
        let me: UserMeResponse =
            serde_json::from_value(user).expect("the fixture parses as Kakao's shape");
        let (profile, warnings) = KakaoProfile::from_user_me(&me);
        let id = profile.id.get();
        let who = format!("fixture user {id}");
        // Users added to the emulator later get the generic checks below.
        if let Some(&(_, nickname, birthday, email, consent, warns)) =
            EXPECTED.iter().find(|e| e.0 == id)
        {
            checked.insert(id);
            assert_eq!(
                profile.nickname.as_deref(),
                nickname,
                "{who}: nickname by consent"
            );
            assert_eq!(
                profile
                    .birthday
                    .map(|b| (b.to_iso(), b.calendar(), b.is_leap_month())),
                birthday.map(|(iso, cal, leap)| (iso.to_owned(), cal, leap)),
                "{who}: birthday parsed to a date, or none"
            );
            assert_eq!(
                profile.email.as_deref(),
                email,
                "{who}: email only when consented"
            );
            assert_eq!(
                profile.needs_agreement,
                consent.iter().copied().collect::<BTreeSet<_>>(),
                "{who}: consent still needed is reported, not an error"
            );
            assert_eq!(
                warnings
                    .iter()
                    .any(|w| matches!(w, ProfileWarning::InvalidBirthday(_))),
                warns,
                "{who}: an invalid birthday warns and the login goes on"
            );
        }

        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + i as u64);
        let stored = cache.upsert_login(&profile, None, now).expect("cached");
        assert_eq!(
            stored.profile, profile,
            "{who}: the cache round-trips the profile, consent still needed included"
        );

        let public = serde_json::to_value(stored.to_public()).expect("public view serializes");
        assert_eq!(
            public["kakaoId"],
            serde_json::Value::String(id.to_string()),
            "{who}: the UI gets the id as a string (ids exceed 2^53)"
        );
        let text = public.to_string();
        for secret_word in ["token", "access", "refresh", "secret"] {
            assert!(
                !text.contains(secret_word),
                "{who}: the public view has no {secret_word}: {text}"
            );
        }
    }
    assert_eq!(
        checked,
        EXPECTED.iter().map(|e| e.0).collect::<BTreeSet<_>>(),
        "every expected fixture user must still exist in the emulator's fixtures"
    );
}

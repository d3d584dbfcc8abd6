//! Sign-up and sign-in on one path: the user is created by the first login
//! and updated by the next, once however many logins race.

use kakao_desk_server::store::{KakaoUser, Store};
use kakao_emulator::fixture_ids::{
    LEAP_DAY_WITHOUT_YEAR, LUNAR_LEAP_MONTH, MALFORMED_BIRTHDAY, NINETEEN_DIGIT_ID,
    SOLAR_BIRTHDAY_WITH_YEAR,
};

use crate::rig::{Backend, Rig, both, text};

both!(
    first_login_creates_the_user_and_the_next_updates_it,
    |backend: Backend| async move {
        let rig = Rig::start(backend).await?;
        let first = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        assert_eq!(first["created"], true, "{first}");
        assert_eq!(first["token_type"], "Bearer");
        let user = &first["user"];
        assert_eq!(user["kakao_id"], SOLAR_BIRTHDAY_WITH_YEAR.to_string());
        assert_eq!(user["nickname"], "박양력");
        assert_eq!(user["email"], "solar.park@example.com");
        assert_eq!(user["email_verified"], true);
        assert_eq!(
            user["birthday"],
            serde_json::json!({"date": "1990-11-30", "year_known": true, "calendar": "solar", "leap_month": false})
        );
        let store = &rig.server.state().store;
        assert_eq!(store.count_users().await?, 1);

        // The stored copy drifts (as if Kakao's profile had changed since):
        // the next login writes Kakao's current values over it.
        let mut drifted = KakaoUser::from_profile(&kakao_desk_core::profile::KakaoProfile::new(
            kakao_desk_core::profile::KakaoId::new(SOLAR_BIRTHDAY_WITH_YEAR),
        ));
        drifted.nickname = Some("옛 이름".into());
        store.upsert_kakao_user(&drifted, 1).await?;
        assert_eq!(
            store
                .user_by_kakao_id(SOLAR_BIRTHDAY_WITH_YEAR)
                .await?
                .and_then(|u| u.nickname)
                .as_deref(),
            Some("옛 이름")
        );

        let second = rig.login(SOLAR_BIRTHDAY_WITH_YEAR).await?;
        assert_eq!(second["created"], false, "sign-in, not a second sign-up");
        assert_eq!(second["user"]["id"], first["user"]["id"]);
        assert_eq!(second["user"]["nickname"], "박양력");
        assert_eq!(second["user"]["birthday"], first["user"]["birthday"]);
        assert_eq!(store.count_users().await?, 1);
        assert_ne!(
            text(&second, "refresh_token"),
            text(&first, "refresh_token"),
            "each login is its own session"
        );
        rig.stop().await;
        Ok(())
    }
);

both!(
    birthdays_follow_the_apps_rules,
    |backend: Backend| async move {
        let rig = Rig::start(backend).await?;
        let cases = [
            (
                LEAP_DAY_WITHOUT_YEAR,
                serde_json::json!({"date": "0000-02-29", "year_known": false, "calendar": "solar", "leap_month": false}),
            ),
            (
                LUNAR_LEAP_MONTH,
                serde_json::json!({"date": "1985-04-15", "year_known": true, "calendar": "lunar", "leap_month": true}),
            ),
            (MALFORMED_BIRTHDAY, serde_json::Value::Null),
        ];
        for (user, birthday) in cases {
            let body = rig.login(user).await?;
            assert_eq!(body["user"]["birthday"], birthday, "user {user}");
            let stored = rig
                .server
                .state()
                .store
                .user_by_kakao_id(user)
                .await?
                .ok_or("stored")?;
            assert_eq!(
                stored.birthday.map(|b| b.to_iso()),
                birthday["date"].as_str().map(str::to_owned),
                "user {user}: the database holds the same date"
            );
        }
        // A 19-digit id (above 2^53) survives as a string and as a BIGINT.
        let body = rig.login(NINETEEN_DIGIT_ID).await?;
        assert_eq!(body["user"]["kakao_id"], NINETEEN_DIGIT_ID.to_string());
        rig.stop().await;
        Ok(())
    }
);

both!(
    concurrent_first_logins_of_one_id_make_one_user,
    |backend: Backend| async move {
        let rig = Rig::start(backend).await?;
        let mut grants = Vec::new();
        for _ in 0..8 {
            grants.push(rig.grant(SOLAR_BIRTHDAY_WITH_YEAR).await?);
        }
        let bodies = grants.iter().map(|g| g.body()).collect();
        let mut created = 0;
        let mut ids = std::collections::HashSet::new();
        for (status, body) in rig.post_all("/v1/auth/kakao", bodies).await? {
            assert_eq!(status, 200, "{body}");
            created += usize::from(body["created"] == true);
            ids.insert(body["user"]["id"].clone());
        }
        assert_eq!(created, 1, "exactly one login created the user");
        assert_eq!(ids.len(), 1, "every login got the same user");
        assert_eq!(rig.server.state().store.count_users().await?, 1);
        rig.stop().await;
        Ok(())
    }
);

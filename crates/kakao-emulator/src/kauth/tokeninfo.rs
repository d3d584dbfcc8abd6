//! `POST /oauth/tokeninfo`: Kakao's id_token debug endpoint (`docs/kakao-api.md` §7.4).
//! Returns the payload of a valid id_token, else `400 invalid_token` KOE400.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::EmulatorState;
use crate::params::Params;
use crate::response::{KauthError, json_response};

pub(crate) async fn tokeninfo(State(state): State<EmulatorState>, body: Bytes) -> Response {
    let shared = state.shared();
    let invalid = |description: &str| {
        KauthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "KOE400",
            description,
        )
        .into_response()
    };
    let Some(id_token) = Params::from_body(&body).get("id_token").map(str::to_owned) else {
        return invalid("id_token is required.");
    };
    let claims = match shared.key.verify(&id_token) {
        Ok(claims) => claims,
        Err(_) => return invalid("invalid id_token."),
    };
    let expired = claims["exp"]
        .as_u64()
        .is_none_or(|exp| exp <= shared.clock.now_secs());
    if expired {
        return invalid("expired id_token.");
    }
    json_response(StatusCode::OK, &claims)
}

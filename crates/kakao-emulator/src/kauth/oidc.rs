//! OpenID Connect discovery and JWKS (`docs/kakao-api.md` §7.1, §7.2).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::EmulatorState;
use crate::response::{json_response, json_with_type};

/// `GET /.well-known/openid-configuration`: Kakao's document with every URL on
/// the emulator. The issuer is the base URL, or Kakao's literal issuer when
/// the emulator was configured so ([`crate::EmulatorConfig::issuer`]).
pub(crate) async fn discovery(State(state): State<EmulatorState>) -> Response {
    let base = &state.shared().base_url;
    let body = json!({
        "issuer": state.shared().issuer,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "userinfo_endpoint": format!("{base}/v1/oidc/userinfo"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "request_uri_parameter_supported": false,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["iss","aud","sub","auth_time","exp","iat","nonce","nickname","picture","email"],
    });
    // The reference records lower-case `utf-8` for this document only.
    json_with_type(StatusCode::OK, &body, "application/json;charset=utf-8")
}

/// `GET /.well-known/jwks.json`.
pub(crate) async fn jwks(State(state): State<EmulatorState>) -> Response {
    json_response(StatusCode::OK, &json!({"keys": [state.shared().key.jwk()]}))
}

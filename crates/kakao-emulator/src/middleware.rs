//! The two layers every request passes: the request log (outermost, so it
//! sees the final answer) and the injected faults and latency.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::faults::{AppliedFault, Fault};
use crate::log::{BODY_LIMIT, MASK, RecordedRequest, parse_pairs};
use crate::response::{KapiError, KauthError};
use crate::state::EmulatorState;

/// Middleware: records the request and the final status (after faults).
pub(crate) async fn record(
    State(state): State<EmulatorState>,
    request: Request,
    next: Next,
) -> Response {
    let at_ms = state.shared().clock.now_millis();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let mut params = parse_pairs(request.uri().query().unwrap_or("").as_bytes());
    let authorization = request.headers().get(header::AUTHORIZATION).map(|v| {
        match v.to_str().ok().and_then(|s| s.split_once(' ')) {
            Some((scheme, _)) => format!("{scheme} {MASK}"),
            None => MASK.to_owned(),
        }
    });
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let request = if is_form {
        let (parts, body) = request.into_parts();
        let bytes = to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
        params.extend(parse_pairs(&bytes));
        Request::from_parts(parts, Body::from(bytes))
    } else {
        request
    };

    let response = next.run(request).await;
    let status = response.status().as_u16();
    let fault = response.extensions().get::<AppliedFault>().map(|f| f.0);
    tracing::debug!(%method, %path, status, "request");
    state.shared().log.record(RecordedRequest {
        at_ms,
        method,
        path,
        params,
        authorization,
        status,
        fault,
    });
    response
}

fn is_kapi_path(path: &str) -> bool {
    path.starts_with("/v1/") || path.starts_with("/v2/")
}

/// Middleware: waits the configured latency, then applies the path's fault.
pub(crate) async fn apply(
    State(state): State<EmulatorState>,
    request: Request,
    next: Next,
) -> Response {
    let shared = state.shared();
    let latency = shared.store().latency;
    if !latency.is_zero() {
        let mut stop = shared.shutdown.subscribe();
        tokio::select! {
            () = tokio::time::sleep(latency) => {}
            // Shutdown must not wait out a benchmark's latency.
            _ = stop.wait_for(|stopping| *stopping) => {}
        }
    }
    let path = request.uri().path().to_owned();
    let Some(fault) = shared.faults.take(&path) else {
        return next.run(request).await;
    };
    tracing::debug!(%path, ?fault, "injecting fault");
    let mut response = match fault {
        Fault::ServerError if is_kapi_path(&path) => KapiError::MAINTENANCE.into_response(),
        Fault::ServerError => KauthError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "KOE003",
            "temporary server error",
        )
        .into_response(),
        Fault::KapiInternalError => KapiError::INTERNAL.into_response(),
        Fault::InsufficientScope => crate::response::json_response(
            StatusCode::FORBIDDEN,
            &serde_json::json!({
                "msg": "insufficient scopes.",
                "code": -402,
                "api_type": "USER_ME",
                "required_scopes": ["account_email"],
                "allowed_scopes": ["profile_nickname", "profile_image"],
            }),
        ),
        Fault::Hang => {
            let mut stop = shared.shutdown.subscribe();
            tokio::select! {
                () = tokio::time::sleep(shared.hang_for) => {}
                _ = stop.wait_for(|stopping| *stopping) => {}
            }
            next.run(request).await
        }
        Fault::TruncatedJson => truncate(next.run(request).await).await,
        Fault::DropIdToken => drop_id_token(next.run(request).await).await,
    };
    response.extensions_mut().insert(AppliedFault(fault));
    response
}

async fn drop_id_token(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let Ok(serde_json::Value::Object(mut answer)) = serde_json::from_slice(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    answer.remove("id_token");
    let bytes = serde_json::to_vec(&answer).unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Response::from_parts(parts, Body::from(bytes))
}

async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let cut = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(cut.len()));
    Response::from_parts(parts, Body::from(cut))
}

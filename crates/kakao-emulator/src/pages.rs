//! The HTML pages a person sees: Kakao's consent screen, Kakao's error page,
//! and the publisher's bridge page.

use axum::http::StatusCode;
use axum::response::Response;

use crate::response::{escape_html, html};

const STYLE: &str = "body{font-family:system-ui,'Apple SD Gothic Neo','Malgun Gothic',sans-serif;\
background:#f6f6f6;margin:0;display:flex;justify-content:center}\
main{background:#fff;max-width:420px;width:100%;margin:40px 16px;padding:28px;border-radius:12px}\
h1{font-size:20px}ul{padding-left:20px}li{margin:6px 0}\
button{font-size:16px;padding:12px;border:0;border-radius:6px;width:100%;margin-top:8px}\
.agree{background:#fee500;color:#191919}.cancel{background:#eee}\
select{width:100%;padding:8px;font-size:15px}.code{color:#c00;font-weight:bold}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"ko\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{title}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        title = escape_html(title),
    )
}

/// Who is logging in: a known session user, or a choice among fixtures.
pub(crate) enum Account {
    Known { id: i64, label: String },
    Choose(Vec<(i64, String)>),
}

/// The consent screen: app name, requested items, Agree / Cancel.
pub(crate) fn consent(app_name: &str, tx: &str, items: &[&str], account: &Account) -> Response {
    let items_html: String = items
        .iter()
        .map(|i| format!("<li>{}</li>", escape_html(i)))
        .collect();
    let account_html = match account {
        Account::Known { id, label } => format!(
            "<p>카카오계정: <strong>{}</strong></p><input type=\"hidden\" name=\"user\" value=\"{id}\">",
            escape_html(label)
        ),
        Account::Choose(users) => {
            let options: String = users
                .iter()
                .map(|(id, label)| {
                    format!("<option value=\"{id}\">{}</option>", escape_html(label))
                })
                .collect();
            format!(
                "<label for=\"user\">로그인할 카카오계정</label>\
<select id=\"user\" name=\"user\">{options}</select>"
            )
        }
    };
    let body = format!(
        "<h1>{app}</h1><p>{app} 서비스 이용을 위해 아래 정보 제공에 동의해 주세요.</p>\
<form method=\"post\" action=\"/oauth/authorize/consent\">\
<input type=\"hidden\" name=\"tx\" value=\"{tx}\">{account_html}\
<h2>제공 항목</h2><ul>{items_html}</ul>\
<button class=\"agree\" type=\"submit\" name=\"action\" value=\"agree\">동의하고 계속하기</button>\
<button class=\"cancel\" type=\"submit\" name=\"action\" value=\"cancel\">취소</button>\
</form>",
        app = escape_html(app_name),
        tx = escape_html(tx),
    );
    html(StatusCode::OK, page("카카오계정으로 로그인", &body))
}

/// Kakao's error page for configuration errors: shown in the browser, no
/// redirect, so a misconfigured redirect URI never receives anything.
pub(crate) fn error(code: &str, message: &str) -> Response {
    let body = format!(
        "<h1>잘못된 요청</h1><p class=\"code\">{code}</p><p>{message}</p>\
<p>서비스 설정에 오류가 있어 카카오 로그인을 진행할 수 없습니다. 서비스 관리자에게 문의해 주세요.</p>",
        code = escape_html(code),
        message = escape_html(message),
    );
    html(
        StatusCode::BAD_REQUEST,
        page(&format!("카카오 로그인 오류 ({code})"), &body),
    )
}

/// The page after Kakao's account logout: nothing to do but close it.
pub(crate) fn signed_out() -> Response {
    let body = "<h1>카카오계정에서 로그아웃했습니다</h1>\
<p>이 브라우저에서 카카오계정 로그인이 끝났습니다. 이 창을 닫아도 됩니다.</p>\
<p lang=\"en\">You are logged out of Kakao in this browser. You can close this window.</p>";
    html(StatusCode::OK, page("Kakao Desk", body))
}

/// The publisher's bridge page: forwards the query to the app's scheme.
pub(crate) fn bridge(target: &str) -> Response {
    // JSON string escaping makes the target safe inside <script>; `</` is
    // escaped too so the string cannot close the script element.
    let js_target = serde_json::Value::from(target)
        .to_string()
        .replace("</", "<\\/");
    let body = format!(
        "<h1>Kakao Desk로 돌아가는 중…</h1>\
<p>앱이 열리지 않으면 아래 버튼을 눌러 주세요.</p>\
<p><a id=\"continue\" href=\"{href}\">Kakao Desk 열기</a></p>\
<script>window.location.replace({js_target});</script>",
        href = escape_html(target),
    );
    html(StatusCode::OK, page("Kakao Desk", &body))
}

//! The loopback receiver ([RFC 8252 §7.3]): a one-shot HTTP listener on the
//! registered loopback redirect URI, alive only while a login is pending.
//!
//! It answers the browser with a small localized page ("you can close this
//! tab") and hands the URL to the same callback intake as a deep link. It
//! stops serving after the callback that ends the login; the owner closes the
//! socket by dropping the [`LoopbackListener`] after that, on cancel or at the
//! deadline (see [`crate::login::KakaoLogin::await_callback`]). Requests to
//! other paths (a browser's `/favicon.ico`) get a 404 and do not end it;
//! neither does a forged callback whose `state` is wrong, so a local process
//! cannot cancel a real login.
//!
//! Connections are read concurrently, up to [`MAX_CONNECTIONS`] at a time and
//! each for at most [`READ_TIMEOUT`], so an idle socket a browser opened ahead
//! (or a local process that connects and says nothing) cannot hold up the
//! real callback. An `accept` error (out of file descriptors, say) is retried
//! after a pause rather than in a busy loop.
//!
//! [RFC 8252 §7.3]: https://www.rfc-editor.org/rfc/rfc8252#section-7.3

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::config::RedirectUri;
use crate::{ErrorCode, Language};

/// Longest request head read. A callback request line is well under 4 KiB.
const MAX_REQUEST_HEAD: usize = 8 * 1024;
/// How long one connection may take to send its request head.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections read at the same time; more wait in the listen queue.
pub const MAX_CONNECTIONS: usize = 8;
/// The pause after a failed `accept` before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// How long an answer may take to write.
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// The loopback receiver could not listen.
#[derive(Debug, Error)]
pub enum LoopbackError {
    /// The redirect URI is not an http loopback URI with a port.
    #[error("the redirect URI is not an http loopback URI")]
    NotLoopback,
    /// Binding failed (the registered port is taken, or not permitted).
    #[error("could not listen on {addr}")]
    Bind {
        /// Where it tried to listen.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl LoopbackError {
    /// The stable error code the user sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotLoopback => ErrorCode::KakaoConfig,
            Self::Bind { .. } => ErrorCode::PortUnavailable,
        }
    }

    /// The port the receiver could not listen on.
    pub fn port(&self) -> Option<u16> {
        match self {
            Self::NotLoopback => None,
            Self::Bind { addr, .. } => Some(addr.port()),
        }
    }
}

/// What the browser is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The login continues in the app.
    Success,
    /// The callback was refused or the login failed.
    Failure(ErrorCode),
}

/// What the handler decided about one callback request.
#[derive(Debug)]
pub enum Outcome<T> {
    /// Stop listening and return `T` after answering with the page.
    Done(T, Page),
    /// Answer with the page and keep listening.
    Continue(Page),
}

/// A bound, not yet serving, loopback listener.
#[derive(Debug)]
pub struct LoopbackListener {
    listener: TcpListener,
    path: String,
    origin: String,
}

impl LoopbackListener {
    /// Binds the redirect URI's host and port. `localhost` binds 127.0.0.1.
    ///
    /// # Errors
    /// [`LoopbackError`] when the URI is not loopback http or the port is
    /// taken.
    pub async fn bind(redirect_uri: &RedirectUri) -> Result<Self, LoopbackError> {
        if !redirect_uri.is_loopback_http() {
            return Err(LoopbackError::NotLoopback);
        }
        let url = redirect_uri.url();
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        let port = url
            .port_or_known_default()
            .ok_or(LoopbackError::NotLoopback)?;
        let addr = SocketAddr::new(ip, port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| LoopbackError::Bind { addr, source })?;
        tracing::debug!(%addr, "loopback receiver listening");
        Ok(Self {
            listener,
            path: url.path().to_owned(),
            origin: url.origin().ascii_serialization(),
        })
    }

    /// Where it listens.
    ///
    /// # Errors
    /// The socket's error, if the OS cannot say.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `handle` returns [`Outcome::Done`]. `handle` receives the
    /// full callback URL (origin of the redirect URI + the request target).
    /// The socket stays open until the listener is dropped.
    pub async fn serve<T>(
        &self,
        language: Language,
        mut handle: impl FnMut(&str) -> Outcome<T>,
    ) -> T {
        // Each connection's request is read in a task of its own; dropping
        // the set when the callback is done closes the others.
        let mut reading: JoinSet<Option<(TcpStream, String)>> = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept(), if reading.len() < MAX_CONNECTIONS => {
                    match accepted {
                        Ok((stream, _)) => {
                            reading.spawn(read_callback(stream, self.path.clone(), language));
                        }
                        Err(error) => {
                            tracing::debug!(%error, "loopback accept failed; pausing");
                            tokio::time::sleep(ACCEPT_BACKOFF).await;
                        }
                    }
                }
                Some(read) = reading.join_next(), if !reading.is_empty() => {
                    let Ok(Some((mut stream, target))) = read else {
                        continue;
                    };
                    let url = format!("{}{}", self.origin, target);
                    match handle(&url) {
                        Outcome::Done(value, page) => {
                            respond(&mut stream, "200 OK", Some(page), language).await;
                            tracing::debug!("loopback receiver done; closing");
                            return value;
                        }
                        Outcome::Continue(page) => {
                            respond(&mut stream, "400 Bad Request", Some(page), language).await;
                        }
                    }
                }
            }
        }
    }
}

/// Reads one connection's request: the target of a `GET` to the callback
/// path, or `None` after answering anything else (400, or 404 for another
/// path such as `/favicon.ico`).
async fn read_callback(
    mut stream: TcpStream,
    path: String,
    language: Language,
) -> Option<(TcpStream, String)> {
    let Some(target) = read_target(&mut stream).await else {
        respond(&mut stream, "400 Bad Request", None, language).await;
        return None;
    };
    if target.split('?').next().unwrap_or_default() != path {
        respond(&mut stream, "404 Not Found", None, language).await;
        return None;
    }
    Some((stream, target))
}

/// Reads the request head (at most [`MAX_REQUEST_HEAD`] bytes, within
/// [`READ_TIMEOUT`]) and returns the target of a `GET`.
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0_u8; 1024];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 || head.len() + n > MAX_REQUEST_HEAD {
                return None;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Some(())
    };
    tokio::time::timeout(READ_TIMEOUT, read).await.ok()??;
    request_target(&head).map(str::to_owned)
}

/// The target of an HTTP/1.x `GET` request, from the raw bytes of its head
/// (`GET /oauth/callback?code=… HTTP/1.1\r\n…`); `None` for anything else:
/// not UTF-8, another method, a target that is not a path, an empty line.
pub fn request_target(head: &[u8]) -> Option<&str> {
    let line = std::str::from_utf8(head).ok()?.lines().next()?;
    let mut parts = line.split(' ');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("GET"), Some(target), Some(version), None)
            if target.starts_with('/') && version.starts_with("HTTP/1.") =>
        {
            Some(target)
        }
        _ => None,
    }
}

async fn respond(stream: &mut TcpStream, status: &str, page: Option<Page>, language: Language) {
    let body = page.map(|p| html(p, language)).unwrap_or_default();
    let head = format!(
        "HTTP/1.1 {status}\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Cache-Control: no-store\r\n\
         Referrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    // The browser may already be gone (or not reading); nothing to do about
    // it but not to wait for it.
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(WRITE_TIMEOUT, write).await;
}

/// The page shown in the browser tab. Static text only: nothing from the
/// request is echoed back.
pub fn html(page: Page, language: Language) -> String {
    let (title, message) = match (page, language) {
        (Page::Success, Language::Ko) => (
            "로그인 완료",
            "카카오 로그인을 마쳤습니다. 이 탭을 닫고 Kakao Desk로 돌아가세요.",
        ),
        (Page::Success, Language::En) => (
            "Login complete",
            "Kakao login is done. You can close this tab and return to Kakao Desk.",
        ),
        (Page::Failure(code), Language::Ko) => ("로그인 실패", code.message(Language::Ko)),
        (Page::Failure(code), Language::En) => ("Login failed", code.message(Language::En)),
    };
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;\
         color:#191919}}h1{{font-size:1.4rem}}</style></head>\
         <body><main><h1>{title}</h1><p>{message}</p></main></body></html>",
        lang = language.tag()
    )
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn get(addr: SocketAddr, request: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("read");
        answer
    }

    #[tokio::test]
    async fn serves_one_callback_then_closes() {
        let (addr, server) = receiver().await;
        let favicon = get(addr, "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(
            favicon.starts_with("HTTP/1.1 404"),
            "other paths are not callbacks: {favicon}"
        );
        let post = get(addr, "POST /oauth/callback HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(post.starts_with("HTTP/1.1 400"), "only GET is a redirect");
        let forged = get(
            addr,
            "GET /oauth/callback?code=a&state=bad HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .await;
        assert!(
            forged.contains("does not match"),
            "a forged callback is told why: {forged}"
        );
        let genuine = get(
            addr,
            "GET /oauth/callback?code=a&state=good HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .await;
        assert!(
            genuine.starts_with("HTTP/1.1 200"),
            "the genuine callback succeeds"
        );
        assert!(
            genuine.contains("close this tab"),
            "the page says what to do"
        );
        assert!(
            genuine.contains("Referrer-Policy: no-referrer"),
            "the code must not leak via Referer"
        );
        assert!(
            !genuine.contains("code=a"),
            "nothing from the request is echoed"
        );
        let url = server.await.expect("server task");
        assert_eq!(
            url,
            format!("http://{addr}/oauth/callback?code=a&state=good"),
            "the full URL is handed over"
        );
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "the listener is closed after one callback"
        );
    }

    /// A receiver on an ephemeral port that ends at the request naming
    /// `state=good`.
    async fn receiver() -> (SocketAddr, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let receiver = LoopbackListener {
            listener,
            path: "/oauth/callback".to_owned(),
            origin: format!("http://{addr}"),
        };
        let server = tokio::spawn(async move {
            receiver
                .serve(Language::En, |url| {
                    if url.contains("state=good") {
                        Outcome::Done(url.to_owned(), Page::Success)
                    } else {
                        Outcome::Continue(Page::Failure(ErrorCode::StateMismatch))
                    }
                })
                .await
        });
        (addr, server)
    }

    #[tokio::test]
    async fn an_idle_connection_does_not_hold_up_the_callback() {
        let (addr, server) = receiver().await;
        // A browser's pre-opened socket, or a local process that says nothing.
        let idle = TcpStream::connect(addr).await.expect("connect");
        let genuine = get(
            addr,
            "GET /oauth/callback?code=a&state=good HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .await;
        assert!(
            genuine.starts_with("HTTP/1.1 200"),
            "the callback is answered"
        );
        server.await.expect("server task");
        let mut idle = idle;
        let mut answer = Vec::new();
        let _ = idle.read_to_end(&mut answer).await;
        assert!(
            answer.is_empty(),
            "the callback did not wait behind the idle connection: that one was never \
             answered, only closed when the login ended (a one-at-a-time server answers it \
             first, after its read timeout): {:?}",
            String::from_utf8_lossy(&answer)
        );
    }

    #[test]
    fn request_targets_come_from_get_request_lines_only() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (
                b"GET /oauth/callback?code=a HTTP/1.1\r\nHost: x\r\n\r\n",
                Some("/oauth/callback?code=a"),
            ),
            (b"GET / HTTP/1.0\r\n\r\n", Some("/")),
            (b"POST /oauth/callback HTTP/1.1\r\n\r\n", None),
            (b"GET http://evil/ HTTP/1.1\r\n\r\n", None),
            (b"GET /a HTTP/2\r\n\r\n", None),
            (b"GET /a HTTP/1.1 extra\r\n\r\n", None),
            (b"GET  /a HTTP/1.1\r\n\r\n", None),
            (b"\r\n\r\n", None),
            (b"\xff\xfe GET /a HTTP/1.1\r\n\r\n", None),
            (b"", None),
        ];
        for (head, want) in cases {
            assert_eq!(
                request_target(head),
                *want,
                "{:?}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[tokio::test]
    async fn binds_the_registered_port() {
        let probe = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = probe.local_addr().expect("addr").port();
        drop(probe);
        let redirect =
            RedirectUri::parse(&format!("http://127.0.0.1:{port}/oauth/callback")).expect("valid");
        let receiver = LoopbackListener::bind(&redirect)
            .await
            .expect("the registered port is free");
        assert_eq!(
            receiver.local_addr().expect("addr").port(),
            port,
            "the fixed, registered port"
        );
        let second = LoopbackListener::bind(&redirect).await;
        assert!(
            matches!(second, Err(LoopbackError::Bind { .. })),
            "a taken port is reported, not retried elsewhere"
        );
        let https = RedirectUri::parse("https://example.com/cb").expect("valid");
        assert!(matches!(
            LoopbackListener::bind(&https).await,
            Err(LoopbackError::NotLoopback)
        ));
    }

    #[test]
    fn pages_are_localized() {
        assert!(
            html(Page::Success, Language::Ko).contains("탭을 닫고"),
            "Korean page"
        );
        assert!(
            html(Page::Success, Language::Ko).contains("lang=\"ko\""),
            "declares its language"
        );
        assert!(html(Page::Failure(ErrorCode::LoginCancelled), Language::En).contains("cancelled"));
    }
}

//! What every request passes before a handler: the `Host` check (against DNS rebinding),
//! the token, and for changes, proof that the request comes from the view's own page.

use std::sync::Arc;

use axum::{
    extract::{OriginalUri, Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

use super::{error::ApiError, pages, view::View};

/// The cookie that carries the token for the page's own requests, followed by `_` and the
/// port the page was opened on: browsers share cookies between the ports of a host, and
/// views on two ports have two tokens.
pub(crate) const TOKEN_COOKIE: &str = "workflow_token";
/// The header the page's own changing requests carry: a page of another site cannot send
/// it without the browser asking this server first, which it never allows.
pub(crate) const REQUEST_HEADER: &str = "x-workflow-request";

/// Checks a request, and answers in its place when it is refused.
pub(crate) async fn guard(State(view): State<Arc<View>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("");
    let api = request.uri().path().starts_with("/api/");
    if !host_allowed(&view, host) {
        let expected = match &view.hosts {
            Some(hosts) => hosts.join(", "),
            None => "`localhost` or an IP address".to_string(),
        };
        return refuse(
            api,
            StatusCode::MISDIRECTED_REQUEST,
            "wrong_host",
            format!(
                "this view answers to {expected}, not to `{host}` (name others with \
                 WebView::allowed_hosts, or serve it with a token)"
            ),
        );
    }
    let bearer = view
        .token
        .as_deref()
        .is_some_and(|token| bears(headers, token));
    if let Some(token) = &view.token {
        let name = cookie_name(host);
        if !bearer && !cookie(headers, &name).is_some_and(|given| same(given, token)) {
            return match query_token(request.uri().query()) {
                Some(given) if request.method() == Method::GET && same(&given, token) => {
                    // A link with the token: keep it in a cookie, and drop it from the URL.
                    // `Lax`, so that a link followed from a mail or a chat works; changes
                    // also need the page's own header, which another site cannot send.
                    let path = request
                        .extensions()
                        .get::<OriginalUri>()
                        .map_or_else(|| request.uri().path(), |original| original.path());
                    let mut to = Redirect::to(path).into_response();
                    let cookie = format!("{name}={token}; HttpOnly; SameSite=Lax; Path=/");
                    if let Ok(cookie) = cookie.parse() {
                        to.headers_mut().insert(header::SET_COOKIE, cookie);
                    }
                    to
                }
                _ => refuse(
                    api,
                    StatusCode::UNAUTHORIZED,
                    "token",
                    "this view needs its token: open it with `?token=...` once, or send \
                     `Authorization: Bearer ...`"
                        .to_string(),
                ),
            };
        }
    }
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD);
    if changes && !bearer {
        let from_page = headers.contains_key(REQUEST_HEADER);
        let origin_ok = headers
            .get(header::ORIGIN)
            .and_then(|origin| origin.to_str().ok())
            .is_none_or(|origin| {
                origin.eq_ignore_ascii_case(&format!("http://{host}"))
                    || origin.eq_ignore_ascii_case(&format!("https://{host}"))
            });
        let site_ok = headers
            .get("sec-fetch-site")
            .and_then(|site| site.to_str().ok())
            .is_none_or(|site| matches!(site, "same-origin" | "none"));
        if !(from_page && origin_ok && site_ok) {
            return refuse(
                api,
                StatusCode::FORBIDDEN,
                "cross_site",
                format!(
                    "changes come from the view's own page (with the `{REQUEST_HEADER}` header \
                     and the same origin) or with `Authorization: Bearer ...`"
                ),
            );
        }
    }
    let mut response = next.run(request).await;
    protect(response.headers_mut());
    response
}

/// Headers that keep the view out of other sites' frames, and content from being read as
/// anything but its declared type.
fn protect(headers: &mut HeaderMap) {
    const POLICY: &str = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; \
                          base-uri 'self'; form-action 'self'";
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// Whether the view answers to `host`: a name it was given, or else, without a token, only
/// `localhost` and IP addresses. A page of another site that rebinds its own name to this
/// machine sends that name, and is refused.
fn host_allowed(view: &View, host: &str) -> bool {
    match &view.hosts {
        Some(hosts) => hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host)),
        None if view.token.is_some() => true,
        None => {
            let name = match host.strip_prefix('[') {
                Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
                None => host.rsplit_once(':').map_or(host, |(name, port)| {
                    if port.bytes().all(|b| b.is_ascii_digit()) {
                        name
                    } else {
                        host
                    }
                }),
            };
            name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
        }
    }
}

fn refuse(api: bool, status: StatusCode, kind: &'static str, message: String) -> Response {
    if api {
        ApiError::new(status, kind, message).into_response()
    } else {
        pages::error_page(status, &message)
    }
}

/// Whether the request carries `Authorization: Bearer {token}`.
fn bears(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|given| same(given.trim(), token))
}

/// The name of the token's cookie for a page opened on `host` (`name:port`, port 80 if
/// none).
fn cookie_name(host: &str) -> String {
    let port = host
        .rsplit_once(':')
        .map(|(_, port)| port)
        .filter(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("80");
    format!("{TOKEN_COOKIE}_{port}")
}

/// The token in the request's cookie named `name`.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// The `token` parameter of a query string, percent-decoded.
fn query_token(query: Option<&str>) -> Option<String> {
    let raw = query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))?;
    let mut bytes = Vec::with_capacity(raw.len());
    let mut rest = raw.bytes();
    while let Some(byte) = rest.next() {
        match byte {
            b'%' => {
                let hex = [rest.next()?, rest.next()?];
                let hex = std::str::from_utf8(&hex).ok()?;
                bytes.push(u8::from_str_radix(hex, 16).ok()?);
            }
            b'+' => bytes.push(b' '),
            byte => bytes.push(byte),
        }
    }
    String::from_utf8(bytes).ok()
}

/// Compares a given token with the expected one in time that does not depend on where
/// they differ.
fn same(given: &str, token: &str) -> bool {
    let (given, token) = (given.as_bytes(), token.as_bytes());
    given.len() == token.len()
        && given
            .iter()
            .zip(token)
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same("s3cret", "s3cret"));
        assert!(!same("s3cre", "s3cret"));
        assert!(!same("s3creT", "s3cret"));
    }

    #[test]
    fn the_token_is_found_in_cookies_and_queries() {
        let mut headers = HeaderMap::new();
        let value = "theme=dark; workflow_token_8080=abc; workflow_token_9000=xyz";
        headers.insert(header::COOKIE, value.parse().expect("a header"));
        assert_eq!(
            cookie(&headers, &cookie_name("localhost:8080")),
            Some("abc")
        );
        assert_eq!(cookie(&headers, &cookie_name("10.0.0.1:9000")), Some("xyz"));
        assert_eq!(cookie(&headers, &cookie_name("localhost")), None);
        assert_eq!(cookie_name("[::1]"), "workflow_token_80");
        assert_eq!(query_token(Some("a=1&token=xyz")), Some("xyz".to_string()));
        assert_eq!(query_token(Some("a=1")), None);
        assert_eq!(
            query_token(Some("token=a%2Bb%3D")),
            Some("a+b=".to_string())
        );
        assert_eq!(query_token(Some("token=%zz")), None);
    }
}

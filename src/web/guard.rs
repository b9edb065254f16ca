//! What every request passes before a handler: the `Host` check (against DNS rebinding),
//! the token, and for changes, proof that the request comes from the view's own page.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};

use super::{error::ApiError, pages, view::View};

/// The cookie that carries the token for the page's own requests.
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
    if let Some(hosts) = &view.hosts {
        if !hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host))
        {
            return refuse(
                api,
                StatusCode::MISDIRECTED_REQUEST,
                "wrong_host",
                format!("this view answers to {}, not to `{host}`", hosts.join(", ")),
            );
        }
    }
    let bearer = view
        .token
        .as_deref()
        .is_some_and(|token| bears(headers, token));
    if let Some(token) = &view.token {
        if !bearer && !cookie(headers).is_some_and(|given| same(given, token)) {
            return match query_token(request.uri().query()) {
                Some(given) if request.method() == Method::GET && same(&given, token) => {
                    // A link with the token: keep it in a cookie, and drop it from the URL.
                    let mut to = Redirect::to(request.uri().path()).into_response();
                    let cookie =
                        format!("{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
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
    next.run(request).await
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

/// The token in the request's cookie.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(TOKEN_COOKIE)?.strip_prefix('='))
}

/// The `token` parameter of a query string.
fn query_token(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(str::to_string)
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
        let value = "theme=dark; workflow_token=abc".parse().expect("a header");
        headers.insert(header::COOKIE, value);
        assert_eq!(cookie(&headers), Some("abc"));
        assert_eq!(query_token(Some("a=1&token=xyz")), Some("xyz".to_string()));
        assert_eq!(query_token(Some("a=1")), None);
    }
}

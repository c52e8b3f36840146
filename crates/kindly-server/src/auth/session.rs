//! The browser session cookie: a random id, HttpOnly and SameSite=Strict, so scripts cannot read
//! it and other sites' forms do not carry it. The server keeps only its digest.

use axum::http::HeaderMap;
use axum::http::header;

pub const SESSION_COOKIE: &str = "kindly_session";
/// Carries the sign-in form's CSRF token: only pages of this site can send the form back with the
/// cookie, so another site cannot sign a browser in to an account of its choosing.
pub const SIGN_IN_COOKIE: &str = "kindly_sign_in";

/// The session id from the request's `Cookie` header.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// A cookie's value from the request's `Cookie` header; `None` when absent or empty.
pub fn cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value for the sign-in form's CSRF token: sent back to `/sign-in` only, for an
/// hour.
pub fn sign_in_cookie(token: &str, secure: bool) -> String {
    set_cookie(SIGN_IN_COOKIE, token, "/sign-in", 3600, secure)
}

/// Every cookie Kindly sets is HttpOnly and SameSite=Strict; `Secure` when configured.
fn set_cookie(name: &str, value: &str, path: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

/// A `Set-Cookie` value for a session id (`None`: clears the cookie).
pub fn session_cookie(id: Option<&str>, max_age_secs: i64, secure: bool) -> String {
    match id {
        Some(id) => set_cookie(SESSION_COOKIE, id, "/", max_age_secs, secure),
        None => set_cookie(SESSION_COOKIE, "", "/", 0, secure),
    }
}

/// Percent-encodes a URL component (for the `next` parameter of the sign-in page).
pub fn encode_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_session_id_is_read_from_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("theme=dark; kindly_session=abc123; x=y"));
        assert_eq!(session_id(&headers).as_deref(), Some("abc123"));
        headers.insert(header::COOKIE, HeaderValue::from_static("kindly_session="));
        assert_eq!(session_id(&headers), None);
    }

    #[test]
    fn the_cookie_is_http_only_and_same_site() {
        let c = session_cookie(Some("abc"), 60, false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"));
        assert!(session_cookie(None, 60, true).contains("Max-Age=0; Secure"));
        let form = sign_in_cookie("t", false);
        assert!(
            form.contains("Path=/sign-in") && form.contains("SameSite=Strict") && !form.contains("Secure")
        );
        assert!(sign_in_cookie("t", true).ends_with("; Secure"));
        assert_eq!(encode_component("/console?view=mine&x=1"), "/console%3Fview%3Dmine%26x%3D1");
    }
}

//! Verifying webhook signatures: HMAC compared in constant time (`Mac::verify_slice`), the replay
//! window, and the generic `X-Kindly-Signature` scheme Kindly also uses to sign its callbacks.

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

/// Why a delivery was refused before its content was looked at.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the {0} header is missing or unreadable")]
    Missing(&'static str),
    #[error("the signature does not match the body")]
    Mismatch,
    #[error("the delivery's timestamp is outside the {0}-second replay window")]
    Expired(u64),
}

/// The header's value as text, or [`SignatureError::Missing`].
pub fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, SignatureError> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).ok_or(SignatureError::Missing(name))
}

/// Checks `HMAC-SHA256(secret, parts…)` against `expected` in constant time.
pub fn verify_sha256(secret: &str, parts: &[&[u8]], expected: &[u8]) -> Result<(), SignatureError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    parts.iter().for_each(|p| mac.update(p));
    mac.verify_slice(expected).map_err(|_| SignatureError::Mismatch)
}

/// Checks `HMAC-SHA1(secret, body)` against `expected` in constant time.
pub fn verify_sha1(secret: &str, body: &[u8], expected: &[u8]) -> Result<(), SignatureError> {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(expected).map_err(|_| SignatureError::Mismatch)
}

pub fn sign_sha256_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    parts.iter().for_each(|p| mac.update(p));
    hex::encode(mac.finalize().into_bytes())
}

pub fn hex_bytes(text: &str) -> Result<Vec<u8>, SignatureError> {
    hex::decode(text).map_err(|_| SignatureError::Mismatch)
}

pub fn base64_bytes(text: &str) -> Result<Vec<u8>, SignatureError> {
    BASE64.decode(text).map_err(|_| SignatureError::Mismatch)
}

/// `X-Hub-Signature: sha1=<hex>` (Intercom, Zammad).
pub fn verify_hub_sha1(headers: &HeaderMap, secret: &str, body: &[u8]) -> Result<(), SignatureError> {
    let value = header(headers, "x-hub-signature")?;
    let hex = value.strip_prefix("sha1=").ok_or(SignatureError::Mismatch)?;
    verify_sha1(secret, body, &hex_bytes(hex)?)
}

/// Refuses timestamps further than `window_secs` from `now`, in either direction.
pub fn within_window(at: DateTime<Utc>, now: DateTime<Utc>, window_secs: u64) -> Result<(), SignatureError> {
    let skew = (now - at).num_seconds().unsigned_abs();
    if skew > window_secs { Err(SignatureError::Expired(window_secs)) } else { Ok(()) }
}

/// A Unix time in seconds, as sent in signature headers.
pub fn unix_seconds(text: &str) -> Result<DateTime<Utc>, SignatureError> {
    text.parse::<i64>().ok().and_then(|s| DateTime::from_timestamp(s, 0)).ok_or(SignatureError::Mismatch)
}

/// The generic scheme: `X-Kindly-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`.
pub fn verify_kindly(
    headers: &HeaderMap,
    secret: &str,
    body: &[u8],
    now: DateTime<Utc>,
    window_secs: u64,
) -> Result<(), SignatureError> {
    let value = header(headers, "x-kindly-signature")?;
    let (mut t, mut v1) = (None, None);
    for part in value.split(',') {
        match part.trim().split_once('=') {
            Some(("t", x)) => t = Some(x),
            Some(("v1", x)) => v1 = Some(x),
            _ => {}
        }
    }
    let (t, v1) = t.zip(v1).ok_or(SignatureError::Mismatch)?;
    // The signature first: an unsigned timestamp says nothing.
    verify_sha256(secret, &[t.as_bytes(), b".", body], &hex_bytes(v1)?)?;
    within_window(unix_seconds(t)?, now, window_secs)
}

/// The header value for a body Kindly sends to a generic callback.
pub fn kindly_signature(secret: &str, body: &[u8], now: DateTime<Utc>) -> String {
    let t = now.timestamp().to_string();
    format!("t={t},v1={}", sign_sha256_hex(secret, &[t.as_bytes(), b".", body]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generic_scheme_round_trips_and_refuses_tampering_and_old_timestamps() {
        let now = Utc::now();
        let body = br#"{"id":"d1"}"#;
        let mut headers = HeaderMap::new();
        headers.insert("x-kindly-signature", kindly_signature("s", body, now).parse().unwrap());
        assert_eq!(verify_kindly(&headers, "s", body, now, 300), Ok(()));
        assert_eq!(verify_kindly(&headers, "other", body, now, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify_kindly(&headers, "s", b"{}", now, 300), Err(SignatureError::Mismatch));
        let later = now + chrono::Duration::seconds(301);
        assert_eq!(verify_kindly(&headers, "s", body, later, 300), Err(SignatureError::Expired(300)));
        assert_eq!(
            verify_kindly(&HeaderMap::new(), "s", body, now, 300),
            Err(SignatureError::Missing("x-kindly-signature"))
        );
    }
}

//! An imitation helpdesk for the integration tests: an axum server on port 0 that accepts any
//! REST call, records it, applies each idempotency key once (as a helpdesk honouring
//! `Idempotency-Key` would), and can be told to fail (500s, or answers slower than Kindly waits).
//! Also: loading the webhook fixtures and signing them the way each provider does.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use base64::Engine;
use hmac::{Hmac, Mac};
use kindly_core::integration::Provider;
use kindly_server::integrations::{ConnectionSettings, Secret};
use serde_json::Value;

/// One call the imitation helpdesk received.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
    /// The server answered it with a failure (so it was not applied).
    pub failed: bool,
}

impl Call {
    pub fn key(&self) -> String {
        self.headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }

    pub fn text(&self) -> String {
        self.body.to_string()
    }
}

#[derive(Default)]
struct Recorder {
    calls: Vec<Call>,
    /// How many times each idempotency key was applied (answered 2xx and not seen before).
    applied: HashMap<String, usize>,
    fail_next: usize,
    slow_next: usize,
}

#[derive(Clone)]
pub struct MockHelpdesk {
    pub url: String,
    pub addr: SocketAddr,
    state: Arc<Mutex<Recorder>>,
    slow: Duration,
}

impl MockHelpdesk {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener)
    }

    /// Starts on a given address (one that refused connections until now).
    pub async fn start_on(addr: SocketAddr) -> Self {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => break l,
                Err(e) => {
                    assert!(Instant::now() < deadline, "cannot bind {addr}: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        };
        Self::serve(listener)
    }

    fn serve(listener: tokio::net::TcpListener) -> Self {
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(Recorder::default()));
        let slow = Duration::from_millis(1500);
        let app = Router::new().fallback(record).with_state((state.clone(), slow));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url: format!("http://{addr}"), addr, state, slow }
    }

    /// The next `n` calls answer 500.
    pub fn fail_next(&self, n: usize) {
        self.state.lock().unwrap().fail_next = n;
    }

    /// The next `n` calls are applied but answered only after Kindly has given up waiting.
    pub fn slow_next(&self, n: usize) {
        self.state.lock().unwrap().slow_next = n;
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().unwrap().calls.clone()
    }

    pub fn applied(&self) -> HashMap<String, usize> {
        self.state.lock().unwrap().applied.clone()
    }

    /// Waits until `count` calls matching `filter` were applied; returns them.
    pub async fn wait_for(&self, count: usize, filter: impl Fn(&Call) -> bool) -> Vec<Call> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let matching: Vec<Call> = self.calls().into_iter().filter(|c| !c.failed && filter(c)).collect();
            if matching.len() >= count {
                return matching;
            }
            assert!(
                Instant::now() < deadline,
                "the helpdesk received {} of {count} expected calls; all calls: {:#?}",
                matching.len(),
                self.calls()
                    .iter()
                    .map(|c| format!("{} {} {}", c.method, c.path, c.text()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn record(
    State((state, slow)): State<(Arc<Mutex<Recorder>>, Duration)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (status, delay) = {
        let mut r = state.lock().unwrap();
        let failed = r.fail_next > 0;
        if failed {
            r.fail_next -= 1;
        } else {
            *r.applied.entry(key).or_default() += 1;
        }
        let delay = !failed && r.slow_next > 0;
        if delay {
            r.slow_next -= 1;
        }
        r.calls.push(Call { method, path: uri.path().to_owned(), headers, body, failed });
        (if failed { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }, delay)
    };
    if delay {
        tokio::time::sleep(slow).await;
    }
    (status, "{}")
}

pub const SECRET: &str = "whsec-test-4f9a";
pub const TOKEN: &str = "api-token-test-77";

/// A connection to the imitation helpdesk for `provider`, with every credential it needs.
pub fn connection(provider: Provider, base_url: &str) -> ConnectionSettings {
    ConnectionSettings {
        provider,
        secret: Secret::new(SECRET),
        base_url: base_url.to_owned(),
        api_user: Some("kindly@lumo.example".into()),
        api_token: Some(Secret::new(TOKEN)),
        account_id: Some("3".into()),
        admin_id: Some("814860".into()),
        handoff_group: Some("2200".into()),
        handoff_tags: vec!["kindly-handoff".into()],
        team_name: "Ana from the Lumo care team".into(),
    }
}

pub fn fixture(provider: Provider, name: &str) -> Vec<u8> {
    let path =
        crate::common::root().join(format!("tests/fixtures/webhooks/{}/{name}.json", provider.as_str()));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hmac256(secret: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    parts.iter().for_each(|p| mac.update(p));
    mac.finalize().into_bytes().to_vec()
}

/// The headers `provider` sends with `body`, signed with `secret` at Unix time `at`.
/// `delivery` is the delivery id for providers that send one in a header.
pub fn signed(
    provider: Provider,
    secret: &str,
    body: &[u8],
    at: i64,
    delivery: &str,
) -> Vec<(String, String)> {
    let h = |k: &str, v: String| (k.to_owned(), v);
    match provider {
        Provider::Zendesk => {
            let ts =
                chrono::DateTime::from_timestamp(at, 0).unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let sig =
                base64::engine::general_purpose::STANDARD.encode(hmac256(secret, &[ts.as_bytes(), body]));
            vec![
                h("x-zendesk-webhook-signature", sig),
                h("x-zendesk-webhook-signature-timestamp", ts),
                h("x-zendesk-webhook-invocation-id", delivery.to_owned()),
            ]
        }
        Provider::Freshdesk => vec![h("x-kindly-token", secret.to_owned())],
        Provider::Intercom | Provider::Zammad => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(body);
            let sig = format!("sha1={}", hex::encode(mac.finalize().into_bytes()));
            let mut headers = vec![h("x-hub-signature", sig)];
            if provider == Provider::Zammad {
                headers.push(h("x-zammad-delivery", delivery.to_owned()));
                headers.push(h("x-zammad-trigger", "kindly".to_owned()));
            }
            headers
        }
        Provider::Chatwoot => {
            let t = at.to_string();
            let sig = format!("sha256={}", hex::encode(hmac256(secret, &[t.as_bytes(), b".", body])));
            vec![
                h("x-chatwoot-signature", sig),
                h("x-chatwoot-timestamp", t),
                h("x-chatwoot-delivery", delivery.to_owned()),
            ]
        }
        Provider::Generic => {
            let t = at.to_string();
            let sig = hex::encode(hmac256(secret, &[t.as_bytes(), b".", body]));
            vec![h("x-kindly-signature", format!("t={t},v1={sig}"))]
        }
    }
}

/// POSTs a delivery to `/v1/webhooks/{connection}`.
pub async fn deliver(
    client: &reqwest::Client,
    url: &str,
    connection: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> (reqwest::StatusCode, Value) {
    let mut request = client
        .post(format!("{url}/v1/webhooks/{connection}"))
        .header("content-type", "application/json")
        .body(body);
    for (k, v) in headers {
        request = request.header(k, v);
    }
    crate::common::decode(request.send().await.unwrap()).await
}

pub fn fixtures_dir() -> PathBuf {
    crate::common::root().join("tests/fixtures/webhooks")
}

//! Shared harness for the end-to-end tests: the real model, a real SQLite file in a fresh
//! temporary directory, the app served on port 0 (in-process), or the real binary.

#![allow(dead_code)]

pub mod binary;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kindly_server::{Kindly, Settings};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::oneshot;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Settings pointing at the repository's model, prompts and exemplars, and at `data_dir`.
pub fn settings(data_dir: &Path) -> Settings {
    let root = root();
    let mut s = Settings::default();
    s.model.dir = root.join("models/all-MiniLM-L6-v2");
    assert!(s.model.dir.join("model.safetensors").exists(), "model missing: run `make model`");
    s.knowledge.dir = root.join("knowledge-base");
    s.knowledge.exemplars = root.join("models/sensitivity-exemplars.toml");
    s.knowledge.prompts = root.join("prompts");
    s.knowledge.emotion_heads = root.join("models/heads");
    s.data.dir = data_dir.to_owned();
    s.server.bind = "127.0.0.1:0".parse().unwrap();
    s.worker.poll_interval_ms = 100;
    // The version trained with the template serves; tests that retrain say so.
    s.pipeline.intent.debounce_seconds = 3600;
    s
}

/// A database with the sample knowledge base ingested, built once per test binary (ingesting
/// embeds ~400 texts) and copied into each test's own directory. The template is a `VACUUM INTO`
/// snapshot: one self-contained file, whatever the building connections leave behind them. It is
/// held in memory (about 2 MB), so no directory outlives the test binary: a static is never
/// dropped, and a per-process directory in the system's temp dir was left behind by every run.
fn template() -> &'static [u8] {
    static TEMPLATE: OnceLock<Vec<u8>> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        std::thread::spawn(|| {
            let build = tempfile::tempdir().unwrap();
            let snapshot = build.path().join("template.db");
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let s = settings(build.path());
                let kb = s.knowledge.dir.clone();
                let kindly = Kindly::build(s).await.unwrap();
                kindly.pipeline.knowledge().ingest_dir(&kb, &indicatif::ProgressBar::hidden()).await.unwrap();
                kindly.pipeline.retrain_intent_model().await.unwrap().expect("the sample KB has intents");
                kindly.store.backup_to(&snapshot).await.unwrap();
                kindly.store.close().await;
            });
            std::fs::read(&snapshot).unwrap()
        })
        .join()
        .unwrap()
    })
}

/// A fresh data directory holding a copy of the ingested template database.
pub fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("kindly.db"), template()).unwrap();
    dir
}

/// The app served in-process on port 0.
pub struct TestApp {
    pub url: String,
    /// Sends the admin API token created at spawn with every request.
    pub client: reqwest::Client,
    /// An admin API token.
    pub token: String,
    pub kindly: Kindly,
    stop: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Like [`TestApp::spawn`], with settings changed first.
    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let dir = data_dir();
        let mut s = settings(dir.path());
        configure(&mut s);
        let kindly = Kindly::build(s).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(kindly.clone().run_until_stopped(listener, async {
            let _ = stopped.await;
        }));
        let token =
            kindly_server::auth::accounts::service_token(&kindly.store, "tests", kindly_core::Role::Admin)
                .await
                .unwrap();
        Self {
            url,
            client: client_with_token(&token),
            kindly,
            token,
            stop: Some(stop),
            served: Some(served),
            dir,
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            served.await.unwrap().unwrap();
        }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.client.get(format!("{}{path}", self.url)).send().await.unwrap();
        decode(r).await
    }

    /// A web page, read with the API token (pages accept it as well as a session).
    pub async fn page(&self, path: &str) -> (StatusCode, String) {
        let r = self.client.get(format!("{}{path}", self.url)).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.client.post(format!("{}{path}", self.url)).json(&body).send().await.unwrap();
        decode(r).await
    }

    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let r = self
            .client
            .request(method, format!("{}{path}", self.url))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        decode(r).await
    }

    /// Submits a ticket and returns its id.
    pub async fn submit(&self, external_id: &str, customer: &str, body: &str) -> String {
        let (status, v) = self
            .post("/v1/tickets", serde_json::json!({ "external_id": external_id, "customer": { "id": customer, "name": "Sam Rivera" }, "body": body }))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{v}");
        v["id"].as_str().unwrap().to_owned()
    }

    /// Polls the ticket until it is decided (no fixed sleeps: a deadline and a short interval).
    pub async fn decided(&self, id: &str) -> Value {
        wait_decided(&self.client, &self.url, id).await
    }
}

/// A client that sends `Authorization: Bearer <token>` with every request.
pub fn client_with_token(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    value.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder().default_headers(headers).build().unwrap()
}

/// Signs in through the form as a browser does: GET the page (which sets the form's CSRF cookie
/// and field), then POST it back with them. The response, redirects not followed.
pub async fn post_sign_in(url: &str, email: &str, password: &str) -> reqwest::Response {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = client.get(format!("{url}/sign-in?next=/console")).send().await.unwrap();
    let set_cookie = page.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let html = page.text().await.unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let form = [("email", email), ("password", password), ("next", "/console"), ("csrf", &csrf)];
    client
        .post(format!("{url}/sign-in"))
        .header(reqwest::header::COOKIE, cookie)
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Issues an admin API token with the real binary (`kindly tokens create`) on a data directory.
pub fn cli_admin_token(data_dir: &Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kindly"))
        .args(["tokens", "create", "--role", "admin", "--name", "tests"])
        .current_dir(root())
        .env("KINDLY__DATA__DIR", data_dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("running kindly tokens create");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("kdl_"), "{token}");
    token
}

pub async fn decode(r: reqwest::Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub async fn wait_decided(client: &reqwest::Client, url: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = client.get(format!("{url}/v1/tickets/{id}")).send().await.unwrap();
        let (status, v) = decode(r).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        if v["status"] != "received" {
            return v;
        }
        assert!(Instant::now() < deadline, "ticket {id} was not decided in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn reason_codes(ticket: &Value) -> Vec<String> {
    ticket["decision"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

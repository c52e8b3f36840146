//! The OpenAPI description (`GET /openapi.json`, `kindly openapi`) against the README and the
//! running API: it describes exactly the README's endpoints, says truly which need a token, and
//! every response a real flow gets (answers, handoffs, resolutions, articles, errors) is valid
//! against the schema it describes for that status.

mod common;

use std::collections::BTreeSet;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The `METHOD /path` pairs of the README's "HTTP API" table (query strings dropped), but the
/// description itself.
fn readme_endpoints() -> BTreeSet<(String, String)> {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let table = readme.split("## HTTP API").nth(1).unwrap().split("\n## ").next().unwrap();
    let mut endpoints = BTreeSet::new();
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        let first_cell = row.split(" | ").next().unwrap();
        for code in first_cell.split('`').skip(1).step_by(2) {
            let (method, path) = code.split_once(' ').unwrap();
            let path = path.split('?').next().unwrap();
            if path != "/openapi.json" {
                endpoints.insert((method.to_owned(), path.to_owned()));
            }
        }
    }
    endpoints
}

/// Every operation of the description: method, path and whether it needs a token.
fn operations(description: &Value) -> Vec<(String, String, bool)> {
    let mut ops = Vec::new();
    for (path, item) in description["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            // `security: [{}]` is "no credentials"; absent, the document's bearer token applies.
            let public = op["security"].as_array().is_some_and(|s| s.iter().all(|r| r == &json!({})));
            ops.push((method.to_uppercase(), path.clone(), !public));
        }
    }
    ops
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_description_lists_the_readmes_endpoints_and_which_need_a_token() {
    let app = TestApp::spawn().await;
    let anonymous = reqwest::Client::new();
    let r = anonymous.get(format!("{}/openapi.json", app.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the description is public");
    assert_eq!(r.headers()["content-type"], "application/json");
    let description: Value = r.json().await.unwrap();
    assert_eq!(description["openapi"], "3.1.0");
    // Every schema named anywhere (bodies, responses, parameters) is in the components.
    let text = description.to_string();
    for name in text.split("#/components/schemas/").skip(1).map(|s| s.split('"').next().unwrap()) {
        assert!(description["components"]["schemas"][name].is_object(), "{name} is named but not described");
    }
    // `kindly openapi` prints the same description, without a server.
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_kindly"))
        .arg("openapi")
        .current_dir(app.dir.path())
        .output()
        .unwrap();
    assert!(printed.status.success(), "{}", String::from_utf8_lossy(&printed.stderr));
    assert_eq!(serde_json::from_slice::<Value>(&printed.stdout).unwrap(), description);
    let ops = operations(&description);
    let described: BTreeSet<(String, String)> = ops.iter().map(|(m, p, _)| (m.clone(), p.clone())).collect();
    assert_eq!(described, readme_endpoints(), "the README's API table and /openapi.json differ");

    let contract = Contract { description: description.clone() };
    for (method, path, needs_token) in &ops {
        let concrete = path
            .replace("{id}", "0190f0c4-7a8e-7cc1-8c6e-000000000001")
            .replace("{connection}", "no-such-connection");
        let r = anonymous
            .request(Method::from_bytes(method.as_bytes()).unwrap(), format!("{}{concrete}", app.url))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        if status == StatusCode::UNAUTHORIZED {
            contract.check(method, path, status, &r.json().await.unwrap());
        }
        assert_eq!(
            status == StatusCode::UNAUTHORIZED,
            *needs_token,
            "{method} {path} without a token answered {status}; the description says it needs one: {needs_token}"
        );
    }
    app.stop().await;
}

/// Checks API responses against the schemas the description gives them.
struct Contract {
    description: Value,
}

impl Contract {
    /// `body`, answered `status` by `method path`, is valid against the described schema.
    fn check(&self, method: &str, path: &str, status: StatusCode, body: &Value) {
        let op = &self.description["paths"][path][method.to_lowercase()];
        assert!(op.is_object(), "{method} {path} is not described");
        let response = &op["responses"][status.as_str()];
        assert!(response.is_object(), "{method} {path} answered {status}, which is not described: {body}");
        let schema = &response["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{method} {path} {status} has no JSON schema");
        // The schema's `$ref`s point into the description's components.
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.description["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::validator_for(&root).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status} does not match its schema: {errors:#?}\n{body:#}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_matches_its_described_schema() {
    let app = TestApp::spawn().await;
    let (_, description) = app.get("/openapi.json").await;
    let c = Contract { description };

    // Intake, an automatic answer and a handoff, and the ticket list.
    let (s, accepted) = app
        .post(
            "/v1/tickets",
            json!({"external_id": "oa-1", "customer": {"id": "c-oa"}, "body": "How do I reset my password?"}),
        )
        .await;
    c.check("POST", "/v1/tickets", s, &accepted);
    let (s, duplicate) = app
        .post(
            "/v1/tickets",
            json!({"external_id": "oa-1", "customer": {"id": "c-oa"}, "body": "How do I reset my password?"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    c.check("POST", "/v1/tickets", s, &duplicate);
    let answered = app.decided(accepted["id"].as_str().unwrap()).await;
    c.check("GET", "/v1/tickets/{id}", StatusCode::OK, &answered);
    let id = app.submit("oa-2", "c-oa2", "My husband died last month. Please close his Lumo account.").await;
    let handed_off = app.decided(&id).await;
    assert_eq!(handed_off["status"], "handed_off", "{handed_off:#}");
    c.check("GET", "/v1/tickets/{id}", StatusCode::OK, &handed_off);
    let (s, list) = app.get("/v1/tickets?limit=1").await;
    c.check("GET", "/v1/tickets", s, &list);

    // The queue: list, one handoff, claim, release, claim again, resolve; then a follow-up.
    let (s, queue) = app.get("/v1/handoffs").await;
    c.check("GET", "/v1/handoffs", s, &queue);
    let handoff = handed_off["handoffs"][0]["id"].as_str().unwrap().to_owned();
    let (s, one) = app.get(&format!("/v1/handoffs/{handoff}")).await;
    c.check("GET", "/v1/handoffs/{id}", s, &one);
    for step in ["claim", "release", "claim"] {
        let (s, h) = app.post(&format!("/v1/handoffs/{handoff}/{step}"), json!({"agent": "ana"})).await;
        c.check("POST", &format!("/v1/handoffs/{{id}}/{step}"), s, &h);
    }
    let (s, resolution) = app
        .post(
            &format!("/v1/handoffs/{handoff}/resolve"),
            json!({"agent": "ana", "reply": "I am so sorry. I have closed the account.", "reusable": false, "intent": "close_account"}),
        )
        .await;
    c.check("POST", "/v1/handoffs/{id}/resolve", s, &resolution);
    let (s, taken) = app.post(&format!("/v1/handoffs/{handoff}/claim"), json!({"agent": "bo"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    c.check("POST", "/v1/handoffs/{id}/claim", s, &taken);
    let (s, follow_up) = app.post(&format!("/v1/tickets/{id}/messages"), json!({"body": "Thank you."})).await;
    c.check("POST", "/v1/tickets/{id}/messages", s, &follow_up);

    // Knowledge.
    let (s, articles) = app.get("/v1/kb/articles").await;
    c.check("GET", "/v1/kb/articles", s, &articles);
    let (s, article) = app.get("/v1/kb/articles/kb-001").await;
    c.check("GET", "/v1/kb/articles/{id}", s, &article);
    let new = json!({"id": "kb-960", "title": "Pairing the Lumo Remote", "intents": ["pair_remote"],
        "questions": ["how do I pair the remote"], "stage": "setup", "body": "Hold **Home** for five seconds."});
    let (s, created) = app.post("/v1/kb/articles", new.clone()).await;
    c.check("POST", "/v1/kb/articles", s, &created);
    let (s, conflict) = app.post("/v1/kb/articles", new).await;
    c.check("POST", "/v1/kb/articles", s, &conflict);
    let (s, changed) = app
        .send_raw(
            Method::PUT,
            "/v1/kb/articles/kb-960",
            "application/json",
            serde_json::to_vec(
                &json!({"title": "Pairing the Lumo Remote", "body": "Hold **Home** for ten seconds."}),
            )
            .unwrap(),
        )
        .await;
    c.check("PUT", "/v1/kb/articles/{id}", s, &changed);
    let (s, _) = app.send_raw(Method::DELETE, "/v1/kb/articles/kb-960", "application/json", Vec::new()).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // Trust, integrations and operations.
    for path in ["/v1/shadow", "/v1/intent-models", "/v1/outbox", "/readyz", "/healthz"] {
        let (s, body) = app.get(path).await;
        c.check("GET", path, s, &body);
    }

    // Errors.
    let (s, missing) = app.get("/v1/tickets/0190f0c4-7a8e-7cc1-8c6e-000000000001").await;
    c.check("GET", "/v1/tickets/{id}", s, &missing);
    let (s, invalid) =
        app.post("/v1/tickets", json!({"external_id": "oa-3", "customer": {"id": "c"}, "body": " "})).await;
    c.check("POST", "/v1/tickets", s, &invalid);
    let (s, bad_query) = app.get("/v1/tickets?limit=many").await;
    c.check("GET", "/v1/tickets", s, &bad_query);
    let (s, bad_window) = app.get("/v1/shadow?limit=0").await;
    c.check("GET", "/v1/shadow", s, &bad_window);
    app.stop().await;
}

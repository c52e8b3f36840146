//! Bad input gets a 4xx with a JSON error (a stable code and a sentence), stores nothing, and
//! never stops the server from serving.

mod common;

use common::TestApp;
use kindly_core::TicketStore;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_clearly_and_store_nothing() {
    let app = TestApp::spawn().await;
    let json = "application/json";
    let valid = |body: serde_json::Value| serde_json::to_vec(&body).unwrap();
    let big = "a".repeat(2 * 1024 * 1024);
    // (what, method, path, content type, body, expected status, expected error code)
    type Case<'a> = (&'a str, Method, &'a str, &'a str, Vec<u8>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            Method::POST,
            "/v1/tickets",
            json,
            b"{\"external_id\": ".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "wrong types",
            Method::POST,
            "/v1/tickets",
            json,
            valid(json!({"external_id": 7, "customer": {"id": "c"}, "body": "hi"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "missing body",
            Method::POST,
            "/v1/tickets",
            json,
            valid(json!({"external_id": "x", "customer": {"id": "c"}})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "empty body",
            Method::POST,
            "/v1/tickets",
            json,
            valid(json!({"external_id": "x", "customer": {"id": "c"}, "body": ""})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "whitespace body",
            Method::POST,
            "/v1/tickets",
            json,
            valid(json!({"external_id": "x", "customer": {"id": "c"}, "body": " \n\t "})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "empty customer id",
            Method::POST,
            "/v1/tickets",
            json,
            valid(json!({"external_id": "x", "customer": {"id": ""}, "body": "hi"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "unknown field",
            Method::POST,
            "/v1/tickets",
            json,
            valid(json!({"external_id": "x", "customer": {"id": "c"}, "body": "hi", "priority": 1})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "2 MB body",
            Method::POST,
            "/v1/tickets",
            json,
            valid(json!({"external_id": "x", "customer": {"id": "c"}, "body": big})),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "invalid UTF-8",
            Method::POST,
            "/v1/tickets",
            json,
            b"{\"external_id\": \"x\", \"customer\": {\"id\": \"c\"}, \"body\": \"\xff\xfe\"}".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "not JSON content type",
            Method::POST,
            "/v1/tickets",
            "text/plain",
            b"hello".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "unknown ticket",
            Method::GET,
            "/v1/tickets/0190a1b2-0000-7000-8000-000000000000",
            json,
            Vec::new(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "malformed ticket id",
            Method::GET,
            "/v1/tickets/not-a-uuid",
            json,
            Vec::new(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "follow-up to unknown ticket",
            Method::POST,
            "/v1/tickets/0190a1b2-0000-7000-8000-000000000000/messages",
            json,
            valid(json!({"body": "hi"})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "unknown handoff claim",
            Method::POST,
            "/v1/handoffs/0190a1b2-0000-7000-8000-000000000000/claim",
            json,
            valid(json!({"agent": "ana"})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "release without agent",
            Method::POST,
            "/v1/handoffs/0190a1b2-0000-7000-8000-000000000000/release",
            json,
            valid(json!({"agent": " "})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "release with an unknown field",
            Method::POST,
            "/v1/handoffs/0190a1b2-0000-7000-8000-000000000000/release",
            json,
            valid(json!({"agent": "ana", "to": "ben"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "resolve without reply",
            Method::POST,
            "/v1/handoffs/0190a1b2-0000-7000-8000-000000000000/resolve",
            json,
            valid(json!({"agent": "ana", "reply": "  "})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "unknown article",
            Method::GET,
            "/v1/kb/articles/kb-nope",
            json,
            Vec::new(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "article without answer",
            Method::POST,
            "/v1/kb/articles",
            json,
            valid(json!({"id": "kb-x", "title": "t", "body": "## Details\nonly"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "bad queue filter",
            Method::GET,
            "/v1/handoffs?status=lost",
            json,
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "bad ticket status filter",
            Method::GET,
            "/v1/tickets?status=lost",
            json,
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "ticket list: before is not an id",
            Method::GET,
            "/v1/tickets?before=yesterday",
            json,
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "ticket list: before names no ticket",
            Method::GET,
            "/v1/tickets?before=01a20762-1a0b-71d7-a1c2-4ef9da74abd9",
            json,
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "ticket list: unknown shadow-mode filter",
            Method::GET,
            "/v1/tickets?shadow=right",
            json,
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "ticket list: unknown filter",
            Method::GET,
            "/v1/tickets?agent=ana",
            json,
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "bad overdue flag",
            Method::GET,
            "/v1/handoffs?overdue=soon",
            json,
            Vec::new(),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        ("unknown route", Method::GET, "/v1/nothing", json, Vec::new(), StatusCode::NOT_FOUND, "not_found"),
        (
            "wrong method",
            Method::DELETE,
            "/v1/tickets",
            json,
            Vec::new(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    // A query's error names the parameter at fault.
    let (_, v) = app.get("/v1/tickets?limit=many").await;
    assert!(v["error"]["message"].as_str().unwrap().contains("limit: invalid digit"), "{v}");
    // So does a body's, in serde's words alone.
    let (_, v) = app
        .send_raw(
            Method::POST,
            "/v1/tickets",
            json,
            valid(json!({"external_id": "x", "customer": {"id": 7}, "body": "hi"})),
        )
        .await;
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the JSON has the wrong shape: customer.id: invalid type: integer `7`"),
        "{v}"
    );
    let (_, v) = app
        .send_raw(Method::POST, "/v1/tickets", json, valid(json!({"customer": {"id": "c"}, "body": "hi"})))
        .await;
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the JSON has the wrong shape: missing field `external_id`"),
        "{v}"
    );
    for (name, method, path, content_type, body, status, code) in cases {
        let (got, v) = app.send_raw(method, path, content_type, body).await;
        assert_eq!(got, status, "{name}: {v}");
        assert_eq!(v["error"]["code"], code, "{name}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{name}: {v}");
    }
    // Nothing was stored, and the server still serves.
    assert_eq!(app.kindly.store.backlog().await.unwrap(), 0);
    assert_eq!(app.get("/v1/tickets/not-a-uuid").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
    let id = app.submit("t-after-bad-input", "c-ok", "How do I reset my password?").await;
    assert_eq!(app.decided(&id).await["status"], "answered");
    app.stop().await;
}

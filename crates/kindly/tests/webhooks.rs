//! Helpdesk webhooks end to end, per provider: signed fixture deliveries are accepted and mapped
//! to tickets and follow-ups; Kindly's answer, and after the customer's reply the handoff's note,
//! update and acknowledgement, reach an imitation of the provider's REST API exactly once; bad
//! signatures, expired timestamps, repeats and unparsable bodies change nothing.

mod common;
#[path = "common/helpdesk.rs"]
mod helpdesk;

use common::TestApp;
use helpdesk::{Call, MockHelpdesk, SECRET, TOKEN};
use kindly_core::integration::{IntegrationStore, Provider};
use reqwest::StatusCode;
use serde_json::Value;

const CONNECTION: &str = "desk";

async fn app_for(provider: Provider, helpdesk: &MockHelpdesk) -> TestApp {
    let connection = helpdesk::connection(provider, &helpdesk.url);
    TestApp::spawn_with(move |s| {
        s.integrations.connections.insert(CONNECTION.into(), connection);
        s.integrations.outbox.poll_interval_ms = 50;
        s.integrations.outbox.base_delay_ms = 50;
        s.integrations.outbox.max_delay_ms = 200;
        s.integrations.outbox.request_timeout_ms = 500;
    })
    .await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Sends a fixture signed as the provider does, `age` seconds ago.
async fn send(app: &TestApp, provider: Provider, name: &str, secret: &str, age: i64) -> (StatusCode, Value) {
    let body = helpdesk::fixture(provider, name);
    send_body(app, provider, name, secret, age, body).await
}

async fn send_body(
    app: &TestApp,
    provider: Provider,
    name: &str,
    secret: &str,
    age: i64,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let delivery = format!("{}-{name}", provider.as_str());
    let headers = helpdesk::signed(provider, secret, &body, now() - age, &delivery);
    helpdesk::deliver(&app.client, &app.url, CONNECTION, &headers, body).await
}

/// What the provider's API calls look like: (public reply, internal note, ticket update), and
/// how it authenticates.
struct Shape {
    remote_id: &'static str,
    public: fn(&Call) -> bool,
    note: fn(&Call) -> bool,
    update: fn(&Call) -> bool,
    authenticated: fn(&Call) -> bool,
}

fn header(c: &Call, name: &str) -> String {
    c.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

fn basic(c: &Call) -> String {
    use base64::Engine;
    let raw = header(c, "authorization");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw.trim_start_matches("Basic "))
        .unwrap_or_default();
    String::from_utf8(decoded).unwrap_or_default()
}

fn shape(provider: Provider) -> Shape {
    match provider {
        Provider::Zendesk => Shape {
            remote_id: "35436",
            public: |c| {
                c.path == "/api/v2/tickets/35436.json" && c.body["ticket"]["comment"]["public"] == true
            },
            note: |c| {
                c.path == "/api/v2/tickets/35436.json" && c.body["ticket"]["comment"]["public"] == false
            },
            update: |c| c.body["ticket"]["priority"].is_string() && c.body["ticket"]["group_id"] == 2200,
            authenticated: |c| basic(c) == format!("kindly@lumo.example/token:{TOKEN}"),
        },
        Provider::Freshdesk => Shape {
            remote_id: "1042",
            public: |c| c.path == "/api/v2/tickets/1042/reply",
            note: |c| c.path == "/api/v2/tickets/1042/notes" && c.body["private"] == true,
            update: |c| c.method == "PUT" && c.path == "/api/v2/tickets/1042" && c.body["priority"].is_u64(),
            authenticated: |c| basic(c) == format!("{TOKEN}:X"),
        },
        Provider::Intercom => Shape {
            remote_id: "147000123456",
            public: |c| c.path == "/conversations/147000123456/reply" && c.body["message_type"] == "comment",
            note: |c| c.path == "/conversations/147000123456/reply" && c.body["message_type"] == "note",
            update: |c| c.path == "/conversations/147000123456/parts" && c.body["assignee_id"] == "2200",
            authenticated: |c| header(c, "authorization") == format!("Bearer {TOKEN}"),
        },
        Provider::Zammad => Shape {
            remote_id: "318",
            public: |c| {
                c.path == "/api/v1/ticket_articles"
                    && c.body["internal"] == false
                    && c.body["ticket_id"] == 318
            },
            note: |c| c.path == "/api/v1/ticket_articles" && c.body["internal"] == true,
            update: |c| c.method == "PUT" && c.path == "/api/v1/tickets/318" && c.body["group"] == "2200",
            authenticated: |c| header(c, "authorization") == format!("Token token={TOKEN}"),
        },
        Provider::Chatwoot => Shape {
            remote_id: "812",
            public: |c| {
                c.path == "/api/v1/accounts/3/conversations/812/messages" && c.body["private"] == false
            },
            note: |c| c.path == "/api/v1/accounts/3/conversations/812/messages" && c.body["private"] == true,
            update: |c| c.path == "/api/v1/accounts/3/conversations/812/toggle_priority",
            authenticated: |c| header(c, "api_access_token") == TOKEN,
        },
        Provider::Generic => Shape {
            remote_id: "T-5001",
            public: |c| c.body["type"] == "public_reply",
            note: |c| c.body["type"] == "internal_note",
            update: |c| {
                c.body["type"] == "update" && c.body["tags"].as_array().is_some_and(|t| !t.is_empty())
            },
            authenticated: |c| {
                let sig = header(c, "x-kindly-signature");
                let (t, v1) = sig.split_once(",v1=").unwrap_or_default();
                let t = t.trim_start_matches("t=");
                use hmac::Mac;
                let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
                mac.update(format!("{t}.{}", c.body).as_bytes());
                hex::decode(v1).is_ok_and(|v| mac.verify_slice(&v).is_ok())
            },
        },
    }
}

/// Waits until `n` outbox actions are recorded delivered (the helpdesk sees a call just before
/// Kindly records it).
async fn delivered(app: &TestApp, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, outbox) = app.get("/v1/outbox?state=delivered").await;
        let got = outbox["actions"].as_array().unwrap().len();
        if got == n {
            return;
        }
        assert!(
            got < n && std::time::Instant::now() < deadline,
            "{got} actions delivered, not {n}: {outbox:#}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

async fn round_trip(provider: Provider) {
    let helpdesk = MockHelpdesk::start().await;
    let app = app_for(provider, &helpdesk).await;
    let shape = shape(provider);
    let store = app.kindly.store.clone();

    // Refused first, so the accepted delivery below proves the refusals stored nothing.
    let (status, v) = send(&app, provider, "ticket_created", "not-the-secret", 0).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["error"]["code"], "invalid_signature");
    let (status, v) = send_body(&app, provider, "broken", SECRET, 0, b"{\"ticket\": ".to_vec()).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_json")), "{v}");
    let (status, v) = send_body(&app, provider, "empty", SECRET, 0, b"{}".to_vec()).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_payload"))
    );
    if matches!(provider, Provider::Zendesk | Provider::Chatwoot | Provider::Generic) {
        let (status, v) = send(&app, provider, "ticket_created", SECRET, 301).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{v}");
        assert_eq!(v["error"]["code"], "expired_timestamp");
    }
    assert_eq!(store.delivery_count(CONNECTION).await.unwrap(), 0);

    // A new ticket, mapped and triaged: Kindly's answer goes back as a public reply.
    let (status, v) = send(&app, provider, "ticket_created", SECRET, 0).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["created"], true);
    let id = v["ticket_id"].as_str().unwrap().to_owned();
    let t = app.decided(&id).await;
    assert_eq!(t["external_id"], format!("{CONNECTION}:{}", shape.remote_id));
    assert_eq!(t["channel"], provider.as_str());
    if !matches!(provider, Provider::Intercom | Provider::Chatwoot) {
        assert_eq!(t["subject"], "Can't log in", "{t:#}"); // chat conversations have none
    }
    assert!(t["body"].as_str().unwrap().starts_with("Hi, I forgot my password"), "{t:#}");
    assert_eq!(t["status"], "answered", "{t:#}");
    let replies = helpdesk.wait_for(1, |c| (shape.public)(c) && c.text().contains("kb-011")).await;
    assert!(replies.iter().all(|c| (shape.authenticated)(c)), "{replies:#?}");

    // The helpdesk retries the same delivery: nothing new.
    let (status, v) = send(&app, provider, "ticket_created", SECRET, 0).await;
    assert_eq!((status, v["status"].as_str()), (StatusCode::OK, Some("duplicate")), "{v}");
    assert_eq!(v["ticket_id"], id.as_str());

    // The customer writes again: the follow-up path hands the ticket to a person, and the
    // helpdesk gets the context note, the update and the customer's acknowledgement.
    let (status, v) = send(&app, provider, "customer_reply", SECRET, 0).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    assert_eq!((v["ticket_id"].as_str(), v["reopened"].as_bool()), (Some(id.as_str()), Some(true)), "{v}");
    let (status, v) = send(&app, provider, "customer_reply", SECRET, 0).await;
    assert_eq!((status, v["status"].as_str()), (StatusCode::OK, Some("duplicate")), "{v}");
    let notes = helpdesk.wait_for(1, |c| (shape.note)(c)).await;
    assert!(notes[0].text().contains("customer_follow_up"), "{:#?}", notes[0]);
    helpdesk.wait_for(1, |c| (shape.update)(c)).await;
    let acks =
        helpdesk.wait_for(1, |c| (shape.public)(c) && c.text().contains("Ana from the Lumo care team")).await;
    assert!(acks[0].text().contains("UTC"), "the acknowledgement names when: {:#?}", acks[0]);

    let (status, v) = send(&app, provider, "ignored", SECRET, 0).await;
    assert_eq!((status, v["status"].as_str()), (StatusCode::OK, Some("ignored")), "{v}");

    let t = app.decided(&id).await;
    assert_eq!(t["status"], "handed_off", "{t:#}");
    let customer_messages =
        t["messages"].as_array().unwrap().iter().filter(|m| m["author"] == "customer").count();
    assert_eq!(customer_messages, 1, "one follow-up, however often it was delivered: {t:#}");
    // Every action reached the helpdesk exactly once.
    delivered(&app, 4).await;
    let applied = helpdesk.applied();
    assert!(applied.values().all(|n| *n == 1), "{applied:?}");
    assert_eq!(helpdesk.calls().iter().filter(|c| (shape.public)(c)).count(), 2);
    assert!(helpdesk.calls().iter().all(|c| (shape.authenticated)(c)));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zendesk_round_trip() {
    round_trip(Provider::Zendesk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshdesk_round_trip() {
    round_trip(Provider::Freshdesk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intercom_round_trip() {
    round_trip(Provider::Intercom).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zammad_round_trip() {
    round_trip(Provider::Zammad).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatwoot_round_trip() {
    round_trip(Provider::Chatwoot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_round_trip() {
    round_trip(Provider::Generic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_connection_is_not_found() {
    let helpdesk = MockHelpdesk::start().await;
    let app = app_for(Provider::Generic, &helpdesk).await;
    let body = helpdesk::fixture(Provider::Generic, "ticket_created");
    let headers = helpdesk::signed(Provider::Generic, SECRET, &body, now(), "x");
    let (status, v) = helpdesk::deliver(&app.client, &app.url, "nowhere", &headers, body).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{v}");
    app.stop().await;
}

//! The outbox against an imitation helpdesk that fails: 500s, answers slower than Kindly waits,
//! refused connections; dead letters listed, counted and retried by hand (through the API and on
//! the deliveries page); a SIGKILL of the real binary with actions pending; and a burst of 500
//! signed deliveries with repeats.

mod common;
#[path = "common/helpdesk.rs"]
mod helpdesk;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::TestApp;
use futures::StreamExt;
use helpdesk::{MockHelpdesk, SECRET};
use kindly_core::integration::{IntegrationStore, Provider};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CONNECTION: &str = "desk";
const ROUTINE: &str = "Hi, I forgot my password and can't log in to the Lumo app. How do I reset it?";

async fn app_for(base_url: &str, configure: impl FnOnce(&mut kindly_server::Settings)) -> TestApp {
    let connection = helpdesk::connection(Provider::Generic, base_url);
    TestApp::spawn_with(move |s| {
        s.integrations.connections.insert(CONNECTION.into(), connection);
        s.integrations.outbox.poll_interval_ms = 50;
        s.integrations.outbox.base_delay_ms = 50;
        s.integrations.outbox.max_delay_ms = 200;
        s.integrations.outbox.request_timeout_ms = 400;
        configure(s);
    })
    .await
}

fn generic_ticket(delivery: &str, remote: &str, body: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": delivery,
        "event": "ticket.created",
        "ticket": { "id": remote, "body": body, "customer": { "id": format!("c-{remote}"), "name": "Ada Lovelace" } }
    }))
    .unwrap()
}

async fn send(client: &reqwest::Client, url: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let headers = helpdesk::signed(Provider::Generic, SECRET, &body, chrono::Utc::now().timestamp(), "");
    helpdesk::deliver(client, url, CONNECTION, &headers, body).await
}

async fn outbox(client: &reqwest::Client, url: &str, state: &str) -> Vec<Value> {
    let r = client.get(format!("{url}/v1/outbox?state={state}&limit=1000")).send().await.unwrap();
    let (status, v) = common::decode(r).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["actions"].as_array().unwrap().clone()
}

/// Polls the outbox until `done` holds for the actions in `state`.
async fn wait_outbox(
    client: &reqwest::Client,
    url: &str,
    state: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let actions = outbox(client, url, state).await;
        if done(&actions) {
            return actions;
        }
        assert!(Instant::now() < deadline, "the outbox did not get there: {state}: {actions:#?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_calls_are_retried_until_delivered_once() {
    let helpdesk = MockHelpdesk::start().await;
    // Three 500s, then an answer slower than Kindly waits (applied, but Kindly cannot know).
    helpdesk.fail_next(3);
    helpdesk.slow_next(1);
    let app = app_for(&helpdesk.url, |_| {}).await;
    let (status, v) = send(&app.client, &app.url, generic_ticket("d-1", "T-1", ROUTINE)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let t = app.decided(v["ticket_id"].as_str().unwrap()).await;
    assert_eq!(t["status"], "answered", "{t:#}");

    let delivered = wait_outbox(&app.client, &app.url, "delivered", |a| a.len() == 1).await;
    assert_eq!(delivered[0]["attempts"], 5, "3 × 500, 1 timeout, then delivered: {:#?}", delivered[0]);
    let calls = helpdesk.calls();
    assert_eq!(calls.len(), 5);
    let key = delivered[0]["idempotency_key"].as_str().unwrap();
    assert!(calls.iter().all(|c| c.key() == key), "every attempt carries the action's key");
    assert!(calls.iter().all(|c| c.body == calls[0].body), "every attempt sends the same reply");
    // The helpdesk saw the reply twice (the slow answer and the retry) under one key: it keeps one.
    assert_eq!(helpdesk.applied(), HashMap::from([(key.to_owned(), 2)]));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_retried_until_the_helpdesk_is_back() {
    // An address nothing listens on (yet).
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let app = app_for(&format!("http://{addr}"), |_| {}).await;
    let (status, v) = send(&app.client, &app.url, generic_ticket("d-1", "T-1", ROUTINE)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let pending = wait_outbox(&app.client, &app.url, "pending", |a| {
        a.len() == 1 && a[0]["attempts"].as_u64() >= Some(2)
    })
    .await;
    assert!(pending[0]["last_error"].as_str().unwrap().contains("could not connect"), "{pending:#?}");

    let helpdesk = MockHelpdesk::start_on(addr).await;
    wait_outbox(&app.client, &app.url, "delivered", |a| a.len() == 1).await;
    helpdesk.wait_for(1, |c| c.body["type"] == "public_reply").await;
    assert_eq!(helpdesk.calls().len(), 1);
    app.stop().await;
}

/// A helpdesk that fails every call, and a routine ticket from it whose answer went dead after
/// `max_attempts`: the helpdesk, the app, the webhook's answer and the dead actions.
async fn a_dead_letter(max_attempts: u32, remote: &str) -> (MockHelpdesk, TestApp, Value, Vec<Value>) {
    let helpdesk = MockHelpdesk::start().await;
    helpdesk.fail_next(usize::MAX);
    let app = app_for(&helpdesk.url, |s| s.integrations.outbox.max_attempts = max_attempts).await;
    let (status, v) =
        send(&app.client, &app.url, generic_ticket(&format!("d-{remote}"), remote, ROUTINE)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    let dead = wait_outbox(&app.client, &app.url, "dead", |a| a.len() == 1).await;
    (helpdesk, app, v, dead)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_counted_and_retried_by_hand() {
    let (helpdesk, app, _, dead) = a_dead_letter(3, "T-1").await;
    assert_eq!(dead[0]["attempts"], 3);
    assert!(dead[0]["last_error"].as_str().unwrap().contains("500"), "{dead:#?}");
    assert_eq!(helpdesk.calls().len(), 3);

    let metrics = app.client.get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap();
    // At least this one: the counter is the process's, and other tests here make dead letters too.
    let dead_total = metrics
        .lines()
        .find_map(|l| l.strip_prefix("kindly_outbox_dead_total{provider=\"generic\"} "))
        .and_then(|n| n.parse::<f64>().ok());
    assert!(dead_total.is_some_and(|n| n >= 1.0), "{metrics}");
    let gauge = wait_metric(&app, "kindly_outbox_actions{state=\"dead\"} 1").await;
    assert!(gauge);

    helpdesk.fail_next(0);
    let id = dead[0]["id"].as_i64().unwrap();
    let (status, v) = app.post(&format!("/v1/outbox/{id}/retry"), json!({})).await;
    assert_eq!((status, v["state"].as_str()), (StatusCode::OK, Some("pending")), "{v}");
    wait_outbox(&app.client, &app.url, "delivered", |a| a.len() == 1).await;
    assert!(outbox(&app.client, &app.url, "dead").await.is_empty());
    let (status, v) = app.post(&format!("/v1/outbox/{id}/retry"), json!({})).await;
    assert_eq!((status, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{v}");
    let (status, _) = app.post("/v1/outbox/999999/retry", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = app.get("/v1/outbox?state=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_show_on_the_deliveries_page_and_are_sent_again_from_it() {
    let (helpdesk, app, v, dead) = a_dead_letter(2, "T-9").await;
    let id = dead[0]["id"].as_i64().unwrap();

    // An agent signed in to the pages sees the dead letter, why it died, and a button.
    let password = "a long enough password";
    kindly_server::auth::accounts::add_user(
        &app.kindly.store,
        "ana@example.com",
        kindly_core::Role::Agent,
        password,
    )
    .await
    .unwrap();
    let signed_in = common::post_sign_in(&app.url, "ana@example.com", password).await;
    let cookie = signed_in.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = |path: &str| {
        let request = browser.get(format!("{}{path}", app.url)).header(reqwest::header::COOKIE, &cookie);
        async move {
            let r = request.send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    // The queue tells everyone that something did not reach the helpdesk, and where to look.
    let (_, queue) = page("/console").await;
    assert!(queue.contains("id=\"undelivered\">1 action could not be delivered"), "{queue}");
    assert!(queue.contains("href=\"/deliveries?state=dead\""), "{queue}");
    let (status, html) = page("/deliveries?state=dead").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("desk (generic)"), "the connection is named: {html}");
    assert!(html.contains("dead: 1"), "{html}");
    assert!(html.contains("T-9") && html.contains("500"), "the helpdesk ticket and its last error: {html}");
    assert!(html.contains(&format!("action=\"/deliveries/{id}/retry\"")), "{html}");
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    // The ticket's own page says the same, with the same button; its API view lists it too.
    let ticket = v["ticket_id"].as_str().unwrap().to_owned();
    let (_, story) = app.get(&format!("/v1/tickets/{ticket}")).await;
    let owed = story["deliveries"].as_array().unwrap();
    assert_eq!(
        (owed.len(), owed[0]["kind"].as_str(), owed[0]["state"].as_str()),
        (1, Some("reply"), Some("dead"))
    );
    let (status, html) = page(&format!("/tickets/{ticket}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("reply to desk (ticket T-9): <strong>dead</strong>") && html.contains("500"),
        "{html}"
    );
    assert!(html.contains(&format!("action=\"/deliveries/{id}/retry\"")), "{html}");
    // Sent again from there while the helpdesk still fails: back to the ticket, then dead again.
    let r = browser
        .post(format!("{}/deliveries/{id}/retry", app.url))
        .header(reqwest::header::COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str()), ("back", "ticket")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let back = r.headers()[reqwest::header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(back, format!("/tickets/{ticket}?retried={id}"));
    assert!(page(&back).await.1.contains(&format!("Action {id} will be sent again")));
    wait_outbox(&app.client, &app.url, "dead", |a| a.len() == 1 && a[0]["attempts"] == 2).await;

    // Sent again once the helpdesk is back: it arrives, and the page says so.
    helpdesk.fail_next(0);
    let r = browser
        .post(format!("{}/deliveries/{id}/retry", app.url))
        .header(reqwest::header::COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(r.headers()[reqwest::header::LOCATION].to_str().unwrap()).await;
    assert!(html.contains(&format!("Action {id} will be sent again")), "{html}");
    wait_outbox(&app.client, &app.url, "delivered", |a| a.len() == 1).await;
    let (_, html) = page("/deliveries").await;
    assert!(html.contains("dead: 0") && html.contains("arrived"), "{html}");
    assert!(!page("/console").await.1.contains("undelivered"), "nothing dead, no warning");
    // Without its CSRF token, or for an action already delivered, nothing is sent.
    let r = browser
        .post(format!("{}/deliveries/{id}/retry", app.url))
        .header(reqwest::header::COOKIE, &cookie)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = browser
        .post(format!("{}/deliveries/{id}/retry", app.url))
        .header(reqwest::header::COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains(&format!("outbox action {id} was already delivered")));
    assert_eq!(page("/deliveries?state=lost").await.0, StatusCode::BAD_REQUEST);
    app.stop().await;
}

async fn wait_metric(app: &TestApp, line: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = app.client.get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap();
        if text.contains(line) {
            return true;
        }
        assert!(Instant::now() < deadline, "no `{line}` in {text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_500_deliveries_with_repeats_makes_one_ticket_per_delivery() {
    let helpdesk = MockHelpdesk::start().await;
    let app = app_for(&helpdesk.url, |_| {}).await;
    // 400 distinct deliveries; 100 of them sent a second time, interleaved.
    let order: Vec<usize> = (0..400).chain((0..400).step_by(4)).collect();
    let texts =
        [ROUTINE, "Where is my parcel? I ordered a Lumo Air last week.", "Is the Lumo Speaker waterproof?"];
    let answers: Vec<(usize, StatusCode, Value)> = futures::stream::iter(order)
        .map(|n| {
            let (client, url) = (app.client.clone(), app.url.clone());
            async move {
                let body = generic_ticket(&format!("burst-{n}"), &format!("B-{n}"), texts[n % texts.len()]);
                let (status, v) = send(&client, &url, body).await;
                (n, status, v)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut tickets: HashMap<usize, HashSet<String>> = HashMap::new();
    for (n, status, v) in &answers {
        assert!(matches!(*status, StatusCode::ACCEPTED | StatusCode::OK), "{status} {v}");
        tickets.entry(*n).or_default().insert(v["ticket_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(answers.iter().filter(|(_, s, _)| *s == StatusCode::ACCEPTED).count(), 400);
    assert_eq!(answers.iter().filter(|(_, _, v)| v["status"] == "duplicate").count(), 100);
    assert!(tickets.values().all(|ids| ids.len() == 1), "a repeat got another ticket");
    let distinct: HashSet<&String> = tickets.values().flatten().collect();
    assert_eq!(distinct.len(), 400);
    assert_eq!(app.kindly.store.delivery_count(CONNECTION).await.unwrap(), 400);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_actions_pending_delivers_each_exactly_once_after_restart() {
    let helpdesk = MockHelpdesk::start().await;
    helpdesk.fail_next(usize::MAX);
    let dir = common::data_dir();
    let config = dir.path().join("kindly.toml");
    std::fs::write(
        &config,
        format!(
            "[integrations.outbox]\npoll_interval_ms = 50\nbase_delay_ms = 100\nmax_delay_ms = 300\n\
             request_timeout_ms = 400\nmax_attempts = 1000\n\n[integrations.connections.{CONNECTION}]\n\
             provider = \"generic\"\nsecret = \"{SECRET}\"\nbase_url = \"{}\"\n",
            helpdesk.url
        ),
    )
    .unwrap();
    // Webhooks need no token; the outbox API does.
    let client = common::client_with_token(&common::cli_admin_token(dir.path()));
    let server = common::binary::Server::start(dir.path(), &["--config", config.to_str().unwrap(), "serve"]);
    let texts = [ROUTINE, "My mum passed away and I need to cancel her Lumo Plus subscription."];
    for n in 0..12 {
        let body = generic_ticket(&format!("k-{n}"), &format!("K-{n}"), texts[n % 2]);
        let (status, v) = send(&client, &server.url, body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{v}");
    }
    // Every ticket decided: 6 answers (1 action each) and 6 handoffs (3 actions each).
    let all = wait_outbox(&client, &server.url, "pending", |a| a.len() == 24).await;
    let expected: HashSet<String> =
        all.iter().map(|a| a["idempotency_key"].as_str().unwrap().to_owned()).collect();
    assert_eq!(expected.len(), 24);
    // The helpdesk recovers, but answers slowly: calls are in flight when Kindly is killed.
    helpdesk.slow_next(usize::MAX);
    helpdesk.fail_next(0);
    helpdesk.wait_for(3, |_| true).await;
    server.kill();
    let before_restart = helpdesk.applied().len();
    assert!(before_restart < 24, "everything was delivered before the kill; the test proved nothing");

    helpdesk.slow_next(0);
    let server = common::binary::Server::start(dir.path(), &["--config", config.to_str().unwrap(), "serve"]);
    wait_outbox(&client, &server.url, "delivered", |a| a.len() == 24).await;
    let applied = helpdesk.applied();
    let seen: HashSet<String> = applied.keys().cloned().collect();
    assert_eq!(seen, expected, "each action reached the helpdesk under its own key, and no other");
    // Calls cut short by the kill were sent again under the same key: the helpdesk keeps one.
    assert!(applied.values().any(|n| *n > 1), "no call was in flight at the kill: {applied:?}");
    let mut bodies: HashMap<String, HashSet<String>> = HashMap::new();
    for c in helpdesk.calls().iter().filter(|c| !c.failed) {
        bodies.entry(c.key()).or_default().insert(c.text());
    }
    assert!(bodies.values().all(|b| b.len() == 1), "a repeat under one key carried the same content");
    server.kill();
}

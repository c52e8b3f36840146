//! Durability: SIGKILL the real `kindly` binary in the middle of a burst of 200 accepted tickets,
//! start it again on the same data directory, and check that every accepted ticket ends answered
//! or handed off exactly once, with the queue, decisions and index intact.

mod common;

use std::time::{Duration, Instant};

use futures::StreamExt;
use kindly_core::TicketStore;
use reqwest::StatusCode;
use serde_json::{Value, json};

const TEXTS: [&str; 6] = [
    "How do I reset my password for the Lumo app?",
    "Where is my parcel? I ordered a Lumo Air last week.",
    "My mum passed away and I need to cancel her Lumo Plus subscription.",
    "The filter light on my purifier is red, what does it mean?",
    "I was charged twice for my order. I will take legal action!",
    "Can I use the Lumo Cam with a solar panel?",
];

async fn get(client: &reqwest::Client, url: &str) -> Value {
    let r = client.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_burst_loses_nothing_and_decides_each_ticket_once() {
    let dir = common::data_dir();
    let client = common::client_with_token(&common::cli_admin_token(dir.path()));
    let server = common::binary::Server::start(dir.path(), &["serve"]);
    let points_before =
        get(&client, &format!("{}/readyz", server.url)).await["index_points"].as_u64().unwrap();

    // A burst of 200 tickets, 16 in flight at a time; every one must be accepted.
    let url = server.url.clone();
    let ids: Vec<String> = futures::stream::iter(0..200)
        .map(|n| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let body = json!({ "external_id": format!("burst-{n}"), "customer": { "id": format!("c-{n}") }, "body": TEXTS[n % TEXTS.len()] });
                let r = client.post(format!("{url}/v1/tickets")).json(&body).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::ACCEPTED);
                r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
            }
        })
        .buffered(16)
        .collect()
        .await;

    // Kill as soon as triage is under way.
    let deadline = Instant::now() + Duration::from_secs(120);
    'wait: loop {
        for id in &ids {
            if get(&client, &format!("{url}/v1/tickets/{id}")).await["status"] != "received" {
                break 'wait;
            }
        }
        assert!(Instant::now() < deadline, "nothing was triaged");
    }
    server.kill();

    // The kill really came mid-burst: some accepted tickets were still waiting.
    let store = kindly_store::SqliteStore::open(&dir.path().join("kindly.db")).await.unwrap();
    let waiting = store.backlog().await.unwrap();
    store.close().await;
    assert!(waiting > 0, "every ticket was done before the kill; the test proved nothing");

    let server = common::binary::Server::start(dir.path(), &["serve"]);
    let url = server.url.clone();
    for id in &ids {
        let t = common::wait_decided(&client, &url, id).await;
        let decisions = t["decisions"].as_array().unwrap().len();
        let handoffs = t["handoffs"].as_array().unwrap().len();
        let answers = t["messages"].as_array().unwrap().iter().filter(|m| m["author"] == "kindly").count();
        assert_eq!(decisions, 1, "ticket {id} decided {decisions} times");
        match t["status"].as_str().unwrap() {
            "answered" => assert_eq!((answers, handoffs), (1, 0), "{t:#}"),
            "handed_off" => assert_eq!((answers, handoffs), (0, 1), "{t:#}"),
            other => panic!("ticket {id} ended {other}"),
        }
    }
    let queue = get(&client, &format!("{url}/v1/handoffs?limit=1000")).await;
    let handed_off = queue["handoffs"].as_array().unwrap().len();
    assert!(handed_off > 0 && handed_off < 200, "{handed_off} handoffs");
    assert_eq!(get(&client, &format!("{url}/readyz")).await["index_points"].as_u64().unwrap(), points_before);

    // A clean stop (SIGTERM), then SQLite's own check of the file.
    server.terminate();
    let store = kindly_store::SqliteStore::open(&dir.path().join("kindly.db")).await.unwrap();
    store.integrity_check().await.unwrap();
    assert_eq!(store.backlog().await.unwrap(), 0);
}

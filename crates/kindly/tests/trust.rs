//! What a team checks before trusting Kindly: shadow mode decides without sending and measures
//! its would-be precision and coverage, in all and per intent, and lists the tickets behind each
//! number; the dashboard lists the intents people corrected; intent model versions are listed with their scores; a knowledge change retrains the
//! model in the background while the old version keeps serving. (Imported labels teaching a new
//! intent are tested in cli.rs.)

mod common;

use std::time::{Duration, Instant};

use common::{TestApp, reason_codes};
use reqwest::StatusCode;
use serde_json::json;

const RESET: &str = "Hi, I forgot my password and can't log in to the Lumo app. How do I reset it?";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_mode_sends_nothing_and_measures_would_be_answers() {
    let app = TestApp::spawn_with(|s| s.pipeline.shadow_mode = true).await;
    let t = app.decided(&app.submit("t-shadow-1", "c-s1", RESET).await).await;
    assert_eq!(t["status"], "handed_off", "{t:#}");
    assert_eq!(reason_codes(&t), ["shadow_mode"]);
    assert!(t["answer"].is_null(), "nothing is sent in shadow mode: {t:#}");
    assert!(t["messages"].as_array().unwrap().iter().all(|m| m["author"] != "kindly"), "{t:#}");
    let shadow = &t["decision"]["evidence"]["shadow"];
    assert_eq!(shadow["would_answer"]["id"], "kb-011", "{t:#}");
    assert!(t["decision"]["summary"].as_str().unwrap().contains("would have answered"), "{t:#}");
    // The reply it would have sent, rendered as a live answer (the article and its link).
    let reply = shadow["reply"].as_str().unwrap();
    assert!(reply.starts_with("Hi ") && reply.contains("/kb/kb-011"), "{t:#}");

    // A ticket Kindly would have handed off anyway keeps its own reasons.
    let sad = app
        .decided(
            &app.submit("t-shadow-2", "c-s2", "My father died last week and I need to close his account.")
                .await,
        )
        .await;
    assert!(reason_codes(&sad).contains(&"bereavement".to_owned()), "{sad:#}");
    assert!(sad["decision"]["evidence"]["shadow"]["would_answer"].is_null());
    assert!(sad["decision"]["evidence"]["shadow"]["reply"].is_null(), "no reply when it would hand off too");

    // The ticket's page shows the would-be reply; the other ticket's has none.
    let (s, page) = app.page(&format!("/tickets/{}", t["id"].as_str().unwrap())).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Kindly would have sent, from article kb-011"), "{page}");
    let first_line = reply.lines().next().unwrap();
    assert!(page.contains(first_line), "{first_line} in {page}");
    let (_, page) = app.page(&format!("/tickets/{}", sad["id"].as_str().unwrap())).await;
    assert!(!page.contains("would have sent"), "{page}");

    // The ticket list says, per ticket, what Kindly would have done: a team can read the
    // would-be answers before going live.
    let (_, listed) = app.get("/v1/tickets?customer=c-s1").await;
    let gist = listed["tickets"][0]["decision"]["summary"].as_str().unwrap();
    assert!(gist.starts_with("handed off (shadow mode): Kindly would have answered"), "{listed:#}");
    assert_eq!(listed["tickets"][0]["decision"]["shadow"], "would_answer", "{listed:#}");

    // Before any verdict: coverage is known, precision is not.
    let (s, r) = app.get("/v1/shadow").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["shadow_mode"].as_bool(), r["decided"].as_u64(), r["would_answer"].as_u64()),
        (Some(true), Some(2), Some(1))
    );
    assert_eq!(r["coverage"], 0.5);
    assert!(r["precision"].is_null(), "{r}");

    // The agent confirms the intent Kindly predicted: the would-be answer counts as correct.
    let handoff = t["handoffs"][0]["id"].as_str().unwrap();
    // The handoff's page shows the agent what Kindly would have sent, and offers the known
    // intents to confirm or correct.
    let (s, console) = app.page(&format!("/console/handoffs/{handoff}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(console.contains("What Kindly would have sent") && console.contains(first_line), "{console}");
    assert!(console.contains("<option value=\"reset_password\">"), "{console}");
    let (s, _) = app.post(&format!("/v1/handoffs/{handoff}/claim"), json!({ "agent": "ana" })).await;
    assert_eq!(s, StatusCode::OK);
    let predicted = t["decision"]["evidence"]["intent"]["intent"].as_str().unwrap();
    let (s, r) = app
        .post(
            &format!("/v1/handoffs/{handoff}/resolve"),
            json!({ "agent": "ana", "reply": "Use 'Forgot password' on the sign-in screen.", "reusable": false, "intent": predicted }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let (_, r) = app.get("/v1/shadow").await;
    assert_eq!((r["judged"].as_u64(), r["correct"].as_u64()), (Some(1), Some(1)), "{r}");
    assert_eq!(r["precision"], 1.0);
    assert!(r["precision_lower_bound"].as_f64().unwrap() < 1.0, "one verdict proves little: {r}");
    // Per predicted intent: the one Kindly would have answered first, judged right.
    let first = &r["intents"][0];
    assert_eq!(first["intent"].as_str(), Some(predicted), "{r}");
    assert_eq!((first["would_answer"].as_u64(), first["correct"].as_u64()), (Some(1), Some(1)), "{r}");
    let decided: u64 = r["intents"].as_array().unwrap().iter().map(|i| i["decided"].as_u64().unwrap()).sum();
    assert_eq!(decided, 2, "every shadow decision has a predicted intent here: {r}");

    // The ticket list sorts shadow decisions by what Kindly would have done and by the verdict.
    let ids = |listed: &serde_json::Value| -> Vec<String> {
        listed["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
    };
    let (mine, sad_id) = (t["id"].as_str().unwrap(), sad["id"].as_str().unwrap());
    for (filter, expected) in [
        ("would_answer", vec![mine]),
        ("would_hand_off", vec![sad_id]),
        ("confirmed", vec![mine]),
        ("corrected", vec![]),
    ] {
        let (s, listed) = app.get(&format!("/v1/tickets?shadow={filter}")).await;
        assert_eq!(s, StatusCode::OK, "{listed}");
        assert_eq!(ids(&listed), expected, "{filter}: {listed:#}");
        assert_eq!(listed["total"], expected.len(), "{filter}");
    }
    // By the intent Kindly predicted: the would-be answers of one intent, and their verdicts.
    let (_, listed) = app.get(&format!("/v1/tickets?predicted_intent={predicted}&shadow=confirmed")).await;
    assert_eq!((ids(&listed), listed["total"].as_u64()), (vec![mine.to_owned()], Some(1)), "{listed:#}");
    let (_, listed) = app.get("/v1/tickets?predicted_intent=never_predicted").await;
    assert_eq!(listed["total"], 0, "{listed:#}");
    let (s, r) = app.get("/v1/tickets?shadow=maybe").await;
    assert_eq!((s, r["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")), "{r}");

    // The dashboard shows the scoreboard and leads to the tickets behind each number.
    let (s, dashboard) = app.page("/studio/dashboard").await;
    assert_eq!(s, StatusCode::OK);
    assert!(dashboard.contains("Shadow mode is on"), "{dashboard}");
    assert!(dashboard.contains("<strong>50.0%</strong> of the latest 2 shadow decisions"), "{dashboard}");
    assert!(dashboard.contains("<strong>100.0%</strong> of the 1 would-be answers"), "{dashboard}");
    assert!(dashboard.contains("href=\"/tickets?shadow=corrected\""), "{dashboard}");
    // Each count of the per-intent table leads to its tickets.
    let by = format!("/tickets?predicted_intent={predicted}&amp;shadow=");
    let row = format!(
        "<tr><td>{predicted}</td><td>1</td><td><a href=\"{by}would_answer\">1</a> (100.0%)</td><td>1</td>\
         <td><a href=\"{by}confirmed\">1</a></td><td><a href=\"{by}corrected\" class=\"corrected\">0</a></td>"
    );
    assert!(dashboard.contains(&row), "{dashboard}");
    let (s, theirs) = app.page(&format!("/tickets?predicted_intent={predicted}&shadow=confirmed")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(theirs.contains(&format!("/tickets/{mine}")) && !theirs.contains(&format!("/tickets/{sad_id}")));
    assert!(theirs.contains(&format!("1 ticket, predicted as {predicted}; shadow mode:")), "{theirs}");
    assert!(theirs.contains(&format!("name=\"predicted_intent\" value=\"{predicted}\"")), "{theirs}");
    let (s, wrong) = app.page("/tickets?shadow=corrected").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        wrong.contains("0 tickets") && wrong.contains("shadow mode: would have answered, but"),
        "{wrong}"
    );
    let (s, right) = app.page("/tickets?shadow=confirmed").await;
    assert_eq!(s, StatusCode::OK);
    assert!(right.contains(&format!("/tickets/{mine}")) && !right.contains(&format!("/tickets/{sad_id}")));
    assert_eq!(app.page("/tickets?shadow=maybe").await.0, StatusCode::BAD_REQUEST);

    let metrics = app.client.get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("kindly_shadow_precision 1"), "{metrics}");
    assert!(metrics.contains("kindly_shadow_coverage 0.5"), "{metrics}");

    let (s, r) = app.get("/v1/shadow?limit=0").await;
    assert_eq!((s, r["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")), "{r}");
    app.stop().await;
}

/// Where triage and people disagree: a handoff resolved with another intent than triage predicted
/// shows on the dashboard as a pair, which leads to its tickets (through the API as well).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intents_people_corrected_lead_to_their_tickets() {
    let app = TestApp::spawn().await;
    let (_, dashboard) = app.page("/studio/dashboard").await;
    assert!(dashboard.contains("id=\"no-corrections\""), "{dashboard}");
    // A bereavement goes to a person whatever its intent; she gives the intent it really is.
    let body = "My father died last week and I need to close his account.";
    let t = app.decided(&app.submit("t-corrected-1", "c-corrected", body).await).await;
    assert_eq!(t["status"], "handed_off", "{t:#}");
    let predicted = t["decision"]["evidence"]["intent"]["intent"].as_str().unwrap().to_owned();
    let given = "close_account_of_deceased";
    assert_ne!(predicted, given);
    let handoff = t["handoffs"][0]["id"].as_str().unwrap();
    app.post(&format!("/v1/handoffs/{handoff}/claim"), json!({ "agent": "ana" })).await;
    let resolution = json!({ "agent": "ana", "reply": "I am so sorry.", "reusable": false, "intent": given });
    let (s, r) = app.post(&format!("/v1/handoffs/{handoff}/resolve"), resolution).await;
    assert_eq!(s, StatusCode::OK, "{r}");

    let (_, dashboard) = app.page("/studio/dashboard").await;
    let link = format!("/tickets?predicted_intent={predicted}&amp;intent={given}");
    // For someone who edits knowledge, each intent leads to its articles.
    let articles = |intent: &str| format!("<a href=\"/studio/articles?q={intent}\">{intent}</a>");
    let row = format!(
        "<tr><td>{}</td><td>{}</td><td><a href=\"{link}\">1</a></td></tr>",
        articles(&predicted),
        articles(given)
    );
    assert!(dashboard.contains(&row), "{dashboard}");
    let (s, found) = app.page(&format!("/studio/articles?q={predicted}")).await;
    assert_eq!(s, StatusCode::OK);
    let intents_cells = found.split("<td>").filter_map(|cell| cell.split("</td>").next());
    let about = intents_cells.filter(|cell| cell.split(", ").any(|i| i == predicted)).count();
    assert!(found.contains("1 article") && about == 1, "{found}");
    let (s, listed) = app.page(&link.replace("&amp;", "&")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(listed.contains(&format!("/tickets/{}", t["id"].as_str().unwrap())), "{listed}");
    assert!(listed.contains(&format!("1 ticket, intent {given}, predicted as {predicted};")), "{listed}");
    let (_, r) = app.get(&format!("/v1/tickets?predicted_intent={predicted}&intent={given}")).await;
    assert_eq!(r["total"], 1, "{r:#}");
    let (_, r) = app.get(&format!("/v1/tickets?predicted_intent={given}")).await;
    assert_eq!(r["total"], 0, "triage never predicted the person's intent: {r:#}");
    app.stop().await;
}

/// Two questions in two sentences go to a person; a question with its context in one sentence
/// does not (the clause split used to read "charged twice" and "my money back" as two).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_questions_are_told_apart_by_sentence() {
    let app = TestApp::spawn().await;
    let two = "I was charged twice for the same order. How do I reset my password for the Lumo app?";
    let t = app.decided(&app.submit("t-two-questions", "c-q1", two).await).await;
    assert!(reason_codes(&t).contains(&"multiple_questions".to_owned()), "{t:#}");
    let found = &t["decision"]["evidence"]["complexity"]["distinct_intents"];
    assert_eq!(found, &json!(["double_charge", "reset_password"]), "{t:#}");

    let one = "I was charged twice for the same order, can I get my money back?";
    let t = app.decided(&app.submit("t-one-question", "c-q2", one).await).await;
    assert!(!reason_codes(&t).contains(&"multiple_questions".to_owned()), "{t:#}");
    assert_eq!(t["status"], "answered", "{t:#}");
    app.stop().await;
}

async fn serving_version(app: &TestApp) -> (i64, serde_json::Value) {
    let (s, r) = app.get("/v1/intent-models").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    (r["serving"].as_i64().unwrap(), r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_knowledge_change_retrains_the_intent_model_in_the_background() {
    let app = TestApp::spawn_with(|s| s.pipeline.intent.debounce_seconds = 1).await;
    let (before, r) = serving_version(&app).await;
    assert!(before >= 1, "the template trained a version: {r}");
    let v = &r["versions"][0];
    assert!(v["examples"].as_u64().unwrap() > 100, "{v}");
    assert!(v["scores"]["accuracy"].as_f64().unwrap() > 0.5, "{v}");
    assert!(v["thresholds"]["target_precision"].as_f64().unwrap() > 0.9, "{v}");

    let article = json!({
        "id": "kb-900",
        "title": "Is the Lumo Speaker waterproof?",
        "intents": ["speaker_water_resistance"],
        "questions": ["Is the speaker waterproof?", "Can my Lumo speaker get wet?", "Can I use the speaker by the pool?"],
        "status": "published",
        "body": "The Lumo Speaker is splash-resistant (IPX4). Rain and splashes are fine; do not submerge it."
    });
    let (s, r) = app.post("/v1/kb/articles", article).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");

    // Triage keeps working while the new version trains.
    let t = app.decided(&app.submit("t-retrain-1", "c-r1", RESET).await).await;
    assert_eq!(t["status"], "answered", "{t:#}");

    let deadline = Instant::now() + Duration::from_secs(180);
    let r = loop {
        let (now, r) = serving_version(&app).await;
        if now > before {
            break r;
        }
        assert!(Instant::now() < deadline, "no new version was trained: {r}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let labels = r["versions"][0]["labels"].as_array().unwrap();
    assert!(labels.iter().any(|l| l == "speaker_water_resistance"), "{r}");
    app.stop().await;
}

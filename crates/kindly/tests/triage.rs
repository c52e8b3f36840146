//! End to end through the HTTP API with the real model, index and store: answers, handoffs for
//! every sensitive category, learning from resolutions, follow-ups, and the queue.

mod common;

use common::{TestApp, reason_codes};
use kindly_core::{
    Embedder, IndexError, KnowledgeStore, Point, PointStore, ScoredPoint, SearchFilter, Source, VectorIndex,
};
use kindly_pipeline::KnowledgeBase;
use kindly_server::Kindly;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_routine_question_is_answered_citing_the_right_article() {
    let app = TestApp::spawn().await;
    let id = app
        .submit(
            "t-routine",
            "c-1",
            "Hi, I forgot my password and can't log in to the Lumo app. How do I reset it?",
        )
        .await;
    let t = app.decided(&id).await;
    assert_eq!(t["status"], "answered", "{t:#}");
    assert_eq!(t["decision"]["outcome"]["knowledge"]["id"], "kb-011", "{t:#}");
    assert_eq!(t["decision"]["rule"], "answer.all_checks_passed");
    let answer = t["answer"]["body"].as_str().unwrap();
    assert!(answer.starts_with("Hi Sam,"), "{answer}");
    assert!(answer.contains("https://help.lumo.example/kb/kb-011"), "{answer}");
    assert!(t["decision"]["summary"].as_str().unwrap().starts_with("answered: intent reset_password"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sensitive_category_goes_to_a_person_even_when_an_article_matches() {
    let app = TestApp::spawn().await;
    let cases = [
        ("bereavement", "My mum passed away in October. Please help me cancel her Lumo Plus subscription."),
        (
            "anger_or_frustration",
            "I was charged twice for my order. This is absolutely ridiculous and I am furious!",
        ),
        ("repeat_contact", "This is the third time I'm writing about this. When will I get my refund?"),
        (
            "churn_risk",
            "Please cancel my Lumo Plus subscription. After this experience I'm switching to another brand.",
        ),
        (
            "legal_threat",
            "I was charged twice for my order. If this isn't refunded I will take legal action.",
        ),
        (
            "safety_or_injury",
            "My purifier filter light is blinking and the unit started smoking with a burning smell.",
        ),
        (
            "vulnerability",
            "I was charged twice for my order. I lost my job and I can't afford this, I'm struggling.",
        ),
        ("human_requested", "Why was I charged twice for one order? I want to speak to a real person."),
    ];
    let mut ids = Vec::new();
    for (n, (_, body)) in cases.iter().enumerate() {
        ids.push(app.submit(&format!("t-sensitive-{n}"), &format!("c-s-{n}"), body).await);
    }
    for ((reason, body), id) in cases.iter().zip(ids) {
        let t = app.decided(&id).await;
        assert_eq!(t["status"], "handed_off", "{reason}: {body}");
        assert!(reason_codes(&t).contains(&reason.to_string()), "{reason}: got {:?}", reason_codes(&t));
        // An approved article matched well enough that, without the flag, it could have answered.
        let best = t["decision"]["evidence"]["knowledge"][0]["score"].as_f64().unwrap();
        assert!(best >= 0.6, "{reason}: best article only {best}");
        let handoff = &t["handoffs"][0];
        assert_eq!(handoff["status"], "open");
        assert!(handoff["sla_due_at"].is_string());
        assert!(!handoff["context"]["knowledge"].as_array().unwrap().is_empty());
    }
    // Safety comes first in the queue.
    let (_, queue) = app.get("/v1/handoffs").await;
    assert_eq!(queue["handoffs"][0]["priority"], "urgent", "{queue:#}");
    let (_, legal_only) = app.get("/v1/handoffs?reason=legal_threat").await;
    assert_eq!(legal_only["handoffs"].as_array().unwrap().len(), 1);
    // A page of the queue says how many match in all; none is overdue yet.
    let (_, page) = app.get("/v1/handoffs?limit=2").await;
    assert_eq!(page["handoffs"].as_array().unwrap().len(), 2);
    assert_eq!(page["total"], cases.len(), "{page:#}");
    let (_, overdue) = app.get("/v1/handoffs?overdue=true").await;
    assert_eq!((overdue["handoffs"].as_array().unwrap().len(), overdue["total"].as_u64()), (0, Some(0)));
    app.stop().await;
}

async fn handed_off(app: &TestApp, external_id: &str, customer: &str, body: &str) -> serde_json::Value {
    let id = app.submit(external_id, customer, body).await;
    let t = app.decided(&id).await;
    assert_eq!(t["status"], "handed_off", "{t:#}");
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reusable_resolution_answers_the_next_paraphrase_and_a_candidate_does_not() {
    let app = TestApp::spawn().await;

    // Nothing in the knowledge base covers this: a person answers and marks it reusable.
    let t =
        handed_off(&app, "t-learn-1", "c-l1", "Is the Lumo Speaker waterproof? Can I use it by the pool?")
            .await;
    let handoff = t["handoffs"][0]["id"].as_str().unwrap().to_owned();
    let (s, _) = app.post(&format!("/v1/handoffs/{handoff}/claim"), json!({ "agent": "ana" })).await;
    assert_eq!(s, StatusCode::OK);
    let reply = "The Lumo Speaker is splash-resistant (IPX4): rain and pool splashes are fine, but please don't submerge it.";
    let (s, r) = app
        .post(
            &format!("/v1/handoffs/{handoff}/resolve"),
            json!({ "agent": "ana", "reply": reply, "reusable": true, "intent": "speaker_water_resistance" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");

    let paraphrase = "Can my Lumo speaker get wet? I want to take it to the swimming pool.";
    let t = app.decided(&app.submit("t-learn-2", "c-l2", paraphrase).await).await;
    assert_eq!(t["status"], "answered", "{:#}", t["decision"]);
    assert_eq!(t["decision"]["outcome"]["knowledge"]["source"], "resolution");
    assert!(t["answer"]["body"].as_str().unwrap().contains("IPX4"));
    // After the next training too (a server retrains seconds later): the head learnt the new
    // intent from one example, too few to vouch for it, so a sure vote still answers.
    app.kindly.pipeline.retrain_intent_model().await.unwrap().expect("a new version");
    let model = app.kindly.pipeline.intent_models().current();
    assert_eq!(model.record().new_intents, ["speaker_water_resistance"]);
    let t = app.decided(&app.submit("t-learn-2b", "c-l2b", paraphrase).await).await;
    assert_eq!(t["status"], "answered", "{:#}", t["decision"]);
    assert_eq!(t["decision"]["outcome"]["knowledge"]["source"], "resolution");

    // Not reusable: kept as a candidate, shown to agents, never sent automatically.
    let t = handed_off(&app, "t-learn-3", "c-l3", "Does the Lumo Cam work with Apple HomeKit?").await;
    let handoff = t["handoffs"][0]["id"].as_str().unwrap().to_owned();
    let (s, _) = app
        .post(&format!("/v1/handoffs/{handoff}/resolve"), json!({ "agent": "ben", "reply": "Not yet: HomeKit support is planned for next year.", "reusable": false }))
        .await;
    assert_eq!(s, StatusCode::OK);
    let t = handed_off(&app, "t-learn-4", "c-l4", "Can I add my Lumo camera to Apple HomeKit?").await;
    let similar = t["handoffs"][0]["context"]["similar_resolutions"].as_array().unwrap().clone();
    assert!(
        similar
            .iter()
            .any(|k| k["answer"].as_str().unwrap().contains("HomeKit") && k["status"] == "candidate"),
        "{similar:#?}"
    );
    app.stop().await;
}

/// Indexing that fails after a resolution is stored (the index or the model unreachable) leaves
/// it stored but not searchable; the worker retries it while running, not only at start-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolution_whose_indexing_failed_is_indexed_while_running() {
    use kindly_core::{HandoffId, NewResolution, QueueStore};
    let app = TestApp::spawn_with(|s| s.worker.retry_indexing_secs = 1).await;
    let t =
        handed_off(&app, "t-retry-1", "c-r1", "Is the Lumo Speaker waterproof? Can I use it by the pool?")
            .await;
    let handoff = t["handoffs"][0]["id"].as_str().unwrap().to_owned();
    let (s, _) = app.post(&format!("/v1/handoffs/{handoff}/claim"), json!({ "agent": "ana" })).await;
    assert_eq!(s, StatusCode::OK);
    // Stored as `resolve` stores it, without the indexing that follows (as when that fails).
    let stored = app
        .kindly
        .store
        .resolve(&NewResolution {
            handoff_id: HandoffId(handoff.parse().unwrap()),
            agent: "ana".into(),
            reply:
                "The Lumo Speaker is splash-resistant (IPX4): pool splashes are fine, but don't submerge it."
                    .into(),
            reusable: true,
            intent: Some("speaker_water_resistance".into()),
            resolved_at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    let unindexed = || async { app.kindly.store.unindexed_resolutions().await.unwrap() };
    assert_eq!(unindexed().await.iter().map(|r| r.id).collect::<Vec<_>>(), [stored.id]);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !unindexed().await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the worker did not retry the indexing");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let paraphrase = "Can my Lumo speaker get wet? I want to take it to the swimming pool.";
    let t = app.decided(&app.submit("t-retry-2", "c-r2", paraphrase).await).await;
    assert_eq!(t["status"], "answered", "{:#}", t["decision"]);
    assert_eq!(t["decision"]["outcome"]["knowledge"]["source"], "resolution");
    assert!(t["answer"]["body"].as_str().unwrap().contains("IPX4"));
    let metrics = app.client.get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("kindly_indexing_retries_total{outcome=\"indexed\"} 1"), "{metrics}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_on_an_automatic_answer_goes_to_a_person() {
    let app = TestApp::spawn().await;
    let id = app.submit("t-follow", "c-f", "How do I reset my password for the Lumo app?").await;
    assert_eq!(app.decided(&id).await["status"], "answered");
    let (s, r) = app
        .post(
            &format!("/v1/tickets/{id}/messages"),
            json!({ "body": "That didn't help, I never got the reset email." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(r["reopened"], true);
    let (_, t) = app.get(&format!("/v1/tickets/{id}")).await;
    assert_eq!(t["status"], "handed_off");
    let handoffs = t["handoffs"].as_array().unwrap();
    assert_eq!(handoffs.len(), 1);
    assert_eq!(handoffs[0]["reasons"][0]["code"], "customer_follow_up");
    assert_eq!(t["decisions"].as_array().unwrap().len(), 2);
    // A second follow-up joins the open handoff instead of opening another.
    let (s, r) = app.post(&format!("/v1/tickets/{id}/messages"), json!({ "body": "Hello?" })).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(r["reopened"], false);
    let (_, t) = app.get(&format!("/v1/tickets/{id}")).await;
    assert_eq!(t["handoffs"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ticket_is_listed_newest_first_with_its_latest_decision() {
    let app = TestApp::spawn().await;
    let answered = app.submit("t-list-1", "c-list-a", "How do I reset my password for the Lumo app?").await;
    app.decided(&answered).await;
    let person = app.submit("t-list-2", "c-list-b", "I want to speak to a real person about my order.").await;
    app.decided(&person).await;
    let again = app.submit("t-list-3", "c-list-c", "How do I reset my password for the Lumo app?").await;
    app.decided(&again).await;

    let (s, all) = app.get("/v1/tickets").await;
    assert_eq!(s, StatusCode::OK, "{all}");
    let ids: Vec<&str> =
        all["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [again.as_str(), person.as_str(), answered.as_str()], "newest first");
    assert_eq!(all["total"], 3);
    assert!(all["next_before"].is_null(), "a page that is not full has no next page: {all:#}");
    let first = &all["tickets"][2];
    let (_, story) = app.get(&format!("/v1/tickets/{answered}")).await;
    assert_eq!(first["status"], "answered");
    assert_eq!(first["intent"], "reset_password");
    assert_eq!(first["decision"]["outcome"], "answer");
    assert_eq!(
        first["decision"]["summary"], story["decision"]["summary"],
        "the gist is the stored decision's"
    );
    assert_eq!(first["customer"]["id"], "c-list-a");
    assert_eq!(all["tickets"][1]["decision"]["outcome"], "handoff");

    // Filters, and their counts.
    let (_, handed) = app.get("/v1/tickets?status=handed_off").await;
    assert_eq!(
        (handed["total"].as_u64(), handed["tickets"][0]["id"].as_str()),
        (Some(1), Some(person.as_str()))
    );
    let (_, of_b) = app.get("/v1/tickets?customer=c-list-b").await;
    assert_eq!((of_b["total"].as_u64(), of_b["tickets"][0]["id"].as_str()), (Some(1), Some(person.as_str())));
    let (_, by_intent) = app.get("/v1/tickets?intent=reset_password&status=answered").await;
    assert_eq!(by_intent["total"], 2, "{by_intent:#}");

    // Pages: `next_before` leads on, and the last page ends the walk.
    let mut walked = Vec::new();
    let mut path = "/v1/tickets?limit=2".to_owned();
    loop {
        let (s, page) = app.get(&path).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert_eq!(page["total"], 3, "total counts every match, whatever the page");
        walked
            .extend(page["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()));
        match page["next_before"].as_str() {
            Some(next) => path = format!("/v1/tickets?limit=2&before={next}"),
            None => break,
        }
    }
    assert_eq!(walked, ids);

    // A follow-up reopens the answered ticket: the list shows its latest decision.
    let (s, _) =
        app.post(&format!("/v1/tickets/{answered}/messages"), json!({ "body": "It did not work." })).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, of_a) = app.get("/v1/tickets?customer=c-list-a").await;
    let reopened = &of_a["tickets"][0];
    assert_eq!(reopened["status"], "handed_off");
    assert_eq!(reopened["decision"]["outcome"], "handoff");
    assert_eq!(reopened["decision"]["rule"], "handoff.customer_follow_up", "{reopened:#}");

    // Words: every one must appear in the ticket (its helpdesk id, the customer, the text) or in
    // what the customer or an agent wrote after; never only in Kindly's own answer.
    let found = |v: &Value| -> Vec<String> {
        v["tickets"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(found(&app.get("/v1/tickets?q=t-list-2").await.1), std::slice::from_ref(&person));
    assert_eq!(found(&app.get("/v1/tickets?q=real%20PERSON%20order").await.1), std::slice::from_ref(&person));
    assert_eq!(
        found(&app.get("/v1/tickets?q=did%20not%20work&status=handed_off").await.1),
        std::slice::from_ref(&answered)
    );
    assert!(found(&app.get("/v1/tickets?q=person%20password").await.1).is_empty(), "all the words, not any");
    let (_, answer) = app.get(&format!("/v1/tickets/{again}")).await;
    assert!(answer["answer"]["body"].as_str().unwrap().contains("spam"), "{answer:#}");
    assert_eq!(app.get("/v1/tickets?q=spam").await.1["total"], 0, "Kindly's answers are not searched");
    assert_eq!(app.get("/v1/tickets?q=%3F%21").await.1["total"], 0, "no word, no match");
    assert_eq!(app.get("/v1/tickets?q=%20").await.1["total"], 3, "a blank search is no search");
    // Every blank filter is no filter, as an HTML form sends its empty fields.
    let (s, blank) =
        app.get("/v1/tickets?status=&shadow=&intent=&predicted_intent=&customer=&q=&limit=").await;
    assert_eq!((s, &blank["total"]), (StatusCode::OK, &json!(3)), "{blank}");
    let (s, blank) = app.get("/v1/tickets?status=%20&customer=c-list-b").await;
    assert_eq!((s, &blank["total"]), (StatusCode::OK, &json!(1)), "{blank}");
    let (s, queue) = app.get("/v1/handoffs?status=&priority=&overdue=").await;
    assert_eq!((s, &queue["total"]), (StatusCode::OK, &json!(2)), "{queue}");

    // The pages show the same: the list with its counts, and one ticket's every decision.
    let (s, list) = app.page("/tickets").await;
    assert_eq!(s, StatusCode::OK);
    assert!(list.contains("answered: 1") && list.contains("handed off: 2"), "{list}");
    assert!(list.contains(&format!("/tickets/{again}")), "{list}");
    let (s, one) = app.page(&format!("/tickets/{answered}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(one.contains("Answered from article kb-011"), "{one}");
    assert!(one.contains("Handed off") && one.contains("It did not work."), "{one}");
    assert!(one.contains("tickets?customer=c-list-a\" id=\"customer-tickets\""), "{one}");
    let (_, searched) = app.page("/tickets?q=real+person").await;
    assert!(searched.contains("1 ticket, with “real person”"), "{searched}");
    let (s, _) = app.page("/tickets?status=lost").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = app.page("/tickets/01a20762-1a0b-71d7-a1c2-4ef9da74abd9").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a ticket id that names no ticket");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_is_idempotent_and_the_queue_guards_claims() {
    let app = TestApp::spawn().await;
    let first = app.submit("t-dup", "c-d", "I want to speak to a real person about my order.").await;
    let (s, again) = app
        .post(
            "/v1/tickets",
            json!({ "external_id": "t-dup", "customer": { "id": "c-d" }, "body": "different text" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["id"], first.as_str());
    assert_eq!(again["duplicate"], true);

    let t = app.decided(&first).await;
    let handoff = t["handoffs"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.post(&format!("/v1/handoffs/{handoff}/claim"), json!({ "agent": "ana" })).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.post(&format!("/v1/handoffs/{handoff}/claim"), json!({ "agent": "ana" })).await.0,
        StatusCode::OK
    );
    let (s, e) = app.post(&format!("/v1/handoffs/{handoff}/claim"), json!({ "agent": "ben" })).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "conflict");
    // Only the owner releases it; back in the queue, someone else may claim it, and give it back.
    let (s, e) = app.post(&format!("/v1/handoffs/{handoff}/release"), json!({ "agent": "ben" })).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["error"]["message"], format!("handoff {handoff} is not claimed by ben"));
    let (s, h) = app.post(&format!("/v1/handoffs/{handoff}/release"), json!({ "agent": "ana" })).await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!((&h["status"], &h["agent"]), (&json!("open"), &Value::Null), "{h}");
    assert_eq!(h["sla_due_at"], t["handoffs"][0]["sla_due_at"], "the SLA does not restart");
    let unknown = "/v1/handoffs/00000000-0000-0000-0000-000000000000/release";
    assert_eq!(app.post(unknown, json!({ "agent": "ana" })).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post(&format!("/v1/handoffs/{handoff}/claim"), json!({ "agent": "ben" })).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.post(&format!("/v1/handoffs/{handoff}/release"), json!({ "agent": "ben" })).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.post(&format!("/v1/handoffs/{handoff}/claim"), json!({ "agent": "ana" })).await.0,
        StatusCode::OK
    );
    let body = json!({ "agent": "ben", "reply": "Hi, I'm Ben.", "reusable": false });
    assert_eq!(app.post(&format!("/v1/handoffs/{handoff}/resolve"), body).await.0, StatusCode::CONFLICT);
    let body = json!({ "agent": "ana", "reply": "Hi, I'm Ana and I'll help.", "reusable": false });
    assert_eq!(app.post(&format!("/v1/handoffs/{handoff}/resolve"), body.clone()).await.0, StatusCode::OK);
    assert_eq!(app.post(&format!("/v1/handoffs/{handoff}/resolve"), body).await.0, StatusCode::CONFLICT);
    let (_, t) = app.get(&format!("/v1/tickets/{first}")).await;
    assert_eq!(t["status"], "resolved");
    let (_, mine) = app.get("/v1/handoffs?status=resolved&agent=ana").await;
    assert_eq!(mine["handoffs"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn articles_changed_through_the_api_are_reindexed() {
    let app = TestApp::spawn().await;
    let article = json!({
        "id": "kb-900",
        "title": "Using the Lumo Speaker as a baby monitor",
        "intents": ["speaker_baby_monitor"],
        "questions": ["Can the Lumo Speaker be a baby monitor?", "use speaker to listen to my baby's room"],
        "stage": "everyday_use",
        "body": "Yes: turn on **Listen-in** in the Lumo app under Speaker > Settings.\n\n## Details\nAudio only."
    });
    let (s, r) = app.post("/v1/kb/articles", article.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(app.post("/v1/kb/articles", article).await.0, StatusCode::CONFLICT);
    let t = app
        .decided(&app.submit("t-kb-1", "c-k1", "Can I use my Lumo Speaker as a baby monitor?").await)
        .await;
    assert_eq!(t["decision"]["outcome"]["knowledge"]["id"], "kb-900", "{:#}", t["decision"]);

    let (s, _) =
        app.send_raw(reqwest::Method::DELETE, "/v1/kb/articles/kb-900", "application/json", Vec::new()).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/v1/kb/articles/kb-900").await.0, StatusCode::NOT_FOUND);
    let t = app
        .decided(&app.submit("t-kb-2", "c-k2", "Can I use my Lumo Speaker as a baby monitor?").await)
        .await;
    assert_ne!(t["decision"]["evidence"]["knowledge"][0]["reference"]["id"], "kb-900");
    app.stop().await;
}

/// An index whose first write (replace or remove) waits for `meanwhile`: what another process
/// (a `kindly kb ingest` beside the server) does between this process's read of an article and
/// its points landing.
struct Interleaved {
    index: std::sync::Arc<kindly_index::ExactIndex>,
    meanwhile: tokio::sync::Mutex<Option<futures::future::BoxFuture<'static, ()>>>,
}

impl Interleaved {
    async fn other_process_first(&self) {
        let meanwhile = self.meanwhile.lock().await.take();
        if let Some(meanwhile) = meanwhile {
            meanwhile.await;
        }
    }
}

#[async_trait::async_trait]
impl VectorIndex for Interleaved {
    async fn replace(&self, source: Source, ref_id: &str, points: Vec<Point>) -> Result<(), IndexError> {
        self.other_process_first().await;
        self.index.replace(source, ref_id, points).await
    }
    async fn remove(&self, source: Source, ref_id: &str) -> Result<usize, IndexError> {
        self.other_process_first().await;
        self.index.remove(source, ref_id).await
    }
    async fn search(
        &self,
        query: Vec<f32>,
        limit: usize,
        filter: SearchFilter,
    ) -> Result<Vec<ScoredPoint>, IndexError> {
        self.index.search(query, limit, filter).await
    }
    async fn len(&self) -> Result<usize, IndexError> {
        self.index.len().await
    }
}

/// The stored texts of an article's points, as any process loads them.
async fn point_texts(store: &kindly_store::SqliteStore, id: &str) -> Vec<String> {
    let mut texts: Vec<String> =
        store.load_points().await.unwrap().into_iter().filter(|p| p.ref_id == id).map(|p| p.text).collect();
    texts.sort();
    texts
}

/// `kindly serve` and a `kindly kb ingest` beside it write one article at once, the other
/// process's write landing between the server's read of the article and its points. Whatever
/// the order, the points end as the store's article (or its absence) says, and every process
/// loads them so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_article_written_by_two_processes_at_once_is_indexed_as_stored() {
    let dir = common::data_dir();
    let server = Kindly::build(common::settings(dir.path())).await.unwrap();
    let other = Kindly::build(common::settings(dir.path())).await.unwrap();
    let article = |question: &str| {
        let mut a = kindly_pipeline::knowledge::parse_article(
            "+++\nid = \"kb-950\"\ntitle = \"Descaling the Lumo Kettle\"\nintents = [\"descale_kettle\"]\n+++\n\nRun **Descale** from the kettle's menu.\n",
            chrono::Utc::now(),
        )
        .unwrap();
        a.questions = vec![question.to_owned()];
        a
    };
    let (older, newer) = (article("how do I descale my kettle"), article("white crust inside the kettle"));
    // The server's knowledge base, with its first write held until `meanwhile` has run.
    let server_kb = |meanwhile: futures::future::BoxFuture<'static, ()>| {
        let index =
            Interleaved { index: server.index.clone(), meanwhile: tokio::sync::Mutex::new(Some(meanwhile)) };
        KnowledgeBase::new(
            server.store.clone(),
            std::sync::Arc::new(index),
            server.embedder.clone(),
            Default::default(),
        )
    };
    let other_kb = other.pipeline.knowledge();

    // 1. The other process saves a newer version while the server indexes an older one: the
    // server's points land last, and are of the older version.
    let (kb, newer_copy) = (other_kb.clone(), newer.clone());
    let saving = server_kb(Box::pin(async move {
        kb.save(&newer_copy).await.unwrap();
    }));
    saving.save(&older).await.unwrap();
    let stored = server.store.article("kb-950").await.unwrap().unwrap();
    assert_eq!(stored.questions, newer.questions, "the later save wins in the store");
    let texts = point_texts(&server.store, "kb-950").await;
    assert!(texts.contains(&"white crust inside the kettle".to_owned()), "{texts:?}");
    assert!(!texts.contains(&"how do I descale my kettle".to_owned()), "stale points: {texts:?}");
    assert!(server.store.unindexed_articles().await.unwrap().is_empty());
    let hits = server
        .index
        .search(
            server.embedder.embed(vec!["crust in my kettle".into()]).await.unwrap().remove(0),
            1,
            SearchFilter::default(),
        )
        .await
        .unwrap();
    assert_eq!(hits[0].ref_id, "kb-950", "the server searches the newer version: {hits:?}");

    // 2. The other process deletes the article while the server saves it: no points are left of
    // an article that is gone.
    let kb = other_kb.clone();
    let saving = server_kb(Box::pin(async move {
        assert!(kb.delete("kb-950").await.unwrap());
    }));
    saving.save(&older).await.unwrap();
    assert!(server.store.article("kb-950").await.unwrap().is_none());
    assert_eq!(
        point_texts(&server.store, "kb-950").await,
        Vec::<String>::new(),
        "points of a deleted article"
    );

    // 3. The other process saves the article between the server's removal of its points and the
    // deletion of its record: the delete wins, and takes the points written meanwhile.
    other_kb.save(&older).await.unwrap();
    let (kb, newer_copy) = (other_kb.clone(), newer.clone());
    let deleting = server_kb(Box::pin(async move {
        kb.save(&newer_copy).await.unwrap();
    }));
    assert!(deleting.delete("kb-950").await.unwrap());
    assert!(server.store.article("kb-950").await.unwrap().is_none());
    assert_eq!(point_texts(&server.store, "kb-950").await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.0, StatusCode::OK);
    let (s, ready) = app.get("/readyz").await;
    assert_eq!(s, StatusCode::OK, "{ready}");
    assert!(ready["index_points"].as_u64().unwrap() > 300);
    let id = app.submit("t-metrics", "c-m", "How do I reset my password?").await;
    app.decided(&id).await;
    let text = app.client.get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap();
    for name in ["kindly_tickets_total", "kindly_step_seconds", "kindly_queue_depth", "kindly_triage_seconds"]
    {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    app.stop().await;
}

/// The rows of a CSV export, header first.
fn csv_rows(body: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(body.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

/// `GET /v1/tickets.csv`: the list as a spreadsheet, with the list's filters; text a spreadsheet
/// would run as a formula is kept as text; the Tickets page links to it with its filters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ticket_list_downloads_as_csv_with_its_filters() {
    let app = TestApp::spawn().await;
    let answered = app.submit("t-csv-1", "c-csv-a", "How do I reset my password for the Lumo app?").await;
    app.decided(&answered).await;
    let formula = "=HYPERLINK(\"http://example.com\",\"click\") I want to speak to a real person";
    let person = app.submit("t-csv-2", "c-csv-b", formula).await;
    app.decided(&person).await;

    let export = |query: &str| {
        let url = format!("{}/v1/tickets.csv{query}", app.url);
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap() }
    };
    let r = export("").await;
    assert_eq!(r.status(), StatusCode::OK);
    let header = |name: &str| r.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    assert!(header("content-disposition").starts_with("attachment; filename=\"kindly-tickets-"));
    assert_eq!(header("x-total-count"), "2");
    let rows = csv_rows(&r.text().await.unwrap());
    assert_eq!(rows[0][..6], ["id", "external_id", "channel", "received_at", "status", "intent"]);
    assert_eq!(rows.len(), 3, "{rows:?}");
    let column = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    let (newest, oldest) = (&rows[1], &rows[2]);
    assert_eq!(
        (newest[0].as_str(), oldest[0].as_str()),
        (person.as_str(), answered.as_str()),
        "newest first"
    );
    assert_eq!(oldest[column("status")], "answered");
    assert_eq!(oldest[column("intent")], "reset_password");
    assert_eq!(oldest[column("decision")], "answer");
    assert_eq!(oldest[column("customer_id")], "c-csv-a");
    let (_, story) = app.get(&format!("/v1/tickets/{answered}")).await;
    assert_eq!(oldest[column("summary")], story["decision"]["summary"].as_str().unwrap());
    assert_eq!(newest[column("body")], format!("'{formula}"), "a formula stays text");
    assert_eq!(newest[column("decision")], "handoff");

    // The list's filters, and the list's errors.
    let r = export("?status=handed_off&customer=c-csv-b").await;
    assert_eq!(r.headers()["x-total-count"], "1");
    let rows = csv_rows(&r.text().await.unwrap());
    assert_eq!((rows.len(), rows[1][0].as_str()), (2, person.as_str()));
    let r = export("?status=lost").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let error: Value = r.json().await.unwrap();
    assert_eq!(error["error"]["code"], "invalid_query", "{error}");
    let r = export("?limit=5").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "an export has no pages");
    let error: Value = r.json().await.unwrap();
    assert!(error["error"]["message"].as_str().unwrap().contains("the newest 100,000"), "{error}");

    // The Tickets page offers the download of what it shows.
    let (_, page) = app.page("/tickets?status=handed_off&intent=").await;
    assert!(page.contains("href=\"/v1/tickets.csv?status=handed_off\""), "{page}");
    assert!(page.contains("Download this ticket as CSV"), "{page}");
    assert!(page.contains("the newest 100,000 at most"), "{page}");
    app.stop().await;
}

/// An export reads the store a thousand tickets at a time: every ticket once, newest first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_of_more_tickets_than_one_read_holds_each_ticket_once() {
    use kindly_core::{Customer, NewTicket, TicketStore};
    let app = TestApp::spawn().await;
    let start = chrono::Utc::now() - chrono::Duration::hours(1);
    for i in 0..1_005 {
        let customer = Customer { id: format!("c-{}", i % 7), email: None, name: None, flagged: None };
        let body = format!("Where is my order number {i}?");
        let now = start + chrono::Duration::milliseconds(i);
        let ticket =
            NewTicket::validate(&format!("bulk-{i}"), customer, None, &body, None, Some(now), now).unwrap();
        app.kindly.store.insert_ticket(&ticket, now).await.unwrap();
    }
    let r = app.client.get(format!("{}/v1/tickets.csv", app.url)).send().await.unwrap();
    assert_eq!(r.headers()["x-total-count"], "1005");
    let rows = csv_rows(&r.text().await.unwrap());
    let external: Vec<&str> = rows[1..].iter().map(|r| r[1].as_str()).collect();
    let expected: Vec<String> = (0..1_005).rev().map(|i| format!("bulk-{i}")).collect();
    assert_eq!(external, expected);

    // The Tickets page shows 100 at a time; "Older tickets" keeps its filters (and no blank ones).
    let (_, page) = app.page("/tickets?customer=c-1&intent=").await;
    assert!(page.contains("The 100 newest of 144 tickets, customer c-1"), "{page}");
    let older = page.split("href=\"/tickets?customer=c-1&amp;before=").nth(1).expect("an older page");
    let before = &older[..older.find('"').unwrap()];
    let (_, rest) = app.page(&format!("/tickets?customer=c-1&before={before}")).await;
    assert_eq!(rest.matches("<tr class=").count(), 44, "{rest}");
    assert!(page.contains("href=\"/v1/tickets.csv?customer=c-1\""), "{page}");
    app.stop().await;
}

//! The records-store conformance suite: the contract of kindly-core's store ports, written once
//! against `dyn RecordStore` and run against every implementation (SQLite today; PostgreSQL
//! joins by adding one `#[tokio::test]` that opens it and calls [`suite`]).

use std::sync::Arc;

use chrono::{Duration, Utc};
use kindly_core::calibration::IntentThresholds;
use kindly_core::ports::{ArticleWrite, TriageRecord};
use kindly_core::queue::HandoffContext;
use kindly_core::{
    Article, ArticleStatus, Author, CharNgrams, Customer, Decision, Evidence, Handoff, HandoffId,
    HandoffReason, HandoffStatus, IntentModelRecord, Label, Lexicon, NewMessage, NewResolution, NewTicket,
    Outcome, Point, PointKind, PointStatus, PointsChanged, Priority, QueueFilter, Reason, RecordStore,
    SearchFilter, ShadowFilter, ShadowOutcome, Source, StoreError, TicketFilter, TicketId, TicketStatus,
    ValidationScores, WordGrams, policy,
};

fn new_ticket(external_id: &str, customer: &str) -> NewTicket {
    let customer = Customer {
        id: customer.into(),
        email: Some("sam@example.com".into()),
        name: Some("Sam".into()),
        flagged: None,
    };
    NewTicket::validate(external_id, customer, Some("Help"), "My parcel is late", None, None, Utc::now())
        .unwrap()
}

fn handoff_decision(ticket: TicketId, reason: HandoffReason) -> (Decision, Handoff) {
    let reasons = vec![Reason { code: reason, detail: reason.code().into() }];
    let priority = Priority::for_reasons(&reasons);
    let now = Utc::now();
    let decision = Decision {
        ticket_id: ticket,
        outcome: Outcome::Handoff { priority },
        rule: "handoff.test".into(),
        reasons: reasons.clone(),
        summary: "handed off".into(),
        evidence: Evidence::default(),
        decided_at: now,
    };
    let handoff = Handoff {
        id: HandoffId::new(),
        ticket_id: ticket,
        customer_id: "c1".into(),
        subject: Some("Help".into()),
        status: HandoffStatus::Open,
        priority,
        sla_due_at: now + Duration::hours(1),
        reasons,
        intent: Some("track_order".into()),
        context: HandoffContext::default(),
        agent: None,
        created_at: now,
        claimed_at: None,
        resolved_at: None,
    };
    (decision, handoff)
}

async fn intake_is_idempotent_and_pending_is_oldest_first(store: &dyn RecordStore) {
    let now = Utc::now();
    let a = store.insert_ticket(&new_ticket("x-1", "c1"), now).await.unwrap();
    assert!(a.created);
    let again = store.insert_ticket(&new_ticket("x-1", "c1"), now).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.ticket.id, a.ticket.id);
    let b = store.insert_ticket(&new_ticket("x-2", "c1"), now + Duration::seconds(1)).await.unwrap();
    assert_eq!(store.pending_tickets(10).await.unwrap(), vec![a.ticket.id, b.ticket.id]);
    assert_eq!(store.backlog().await.unwrap(), 2);
    let t = store.ticket(a.ticket.id).await.unwrap().unwrap();
    assert_eq!(t.customer.email.as_deref(), Some("sam@example.com"));
    assert_eq!(t.status, TicketStatus::Received);
    assert_eq!(store.recent_contacts("c1", a.ticket.id, now - Duration::hours(1)).await.unwrap(), 1);
    assert_eq!(store.customer_tickets("c1", a.ticket.id, 10).await.unwrap().len(), 1);
    assert!(store.ticket(TicketId::new()).await.unwrap().is_none());
}

async fn a_ticket_is_decided_once(store: &dyn RecordStore) {
    let t = store.insert_ticket(&new_ticket("once", "c1"), Utc::now()).await.unwrap().ticket;
    let (decision, handoff) = handoff_decision(t.id, HandoffReason::Bereavement);
    let record = TriageRecord {
        decision: decision.clone(),
        intent: None,
        answer: None,
        handoff: Some(handoff.clone()),
    };
    assert!(store.record_triage(&record).await.unwrap());
    assert!(!store.record_triage(&record).await.unwrap(), "a second triage must change nothing");
    assert_eq!(store.decisions(t.id).await.unwrap(), vec![decision]);
    assert_eq!(store.ticket_handoffs(t.id).await.unwrap().len(), 1);
    assert_eq!(store.ticket(t.id).await.unwrap().unwrap().status, TicketStatus::HandedOff);
    assert!(store.pending_tickets(100).await.unwrap().iter().all(|id| *id != t.id));

    let answered = store.insert_ticket(&new_ticket("answered", "c2"), Utc::now()).await.unwrap().ticket;
    let decision = policy::pipeline_failure(answered.id, "x", "y", Utc::now());
    let decision = Decision {
        outcome: Outcome::Answer {
            knowledge: kindly_core::KnowledgeRef { source: Source::Article, id: "kb-1".into() },
        },
        ..decision
    };
    let answer = NewMessage {
        ticket_id: answered.id,
        author: Author::Kindly,
        author_name: None,
        body: "Hi".into(),
        created_at: Utc::now(),
    };
    let record =
        TriageRecord { decision, intent: Some("track_order".into()), answer: Some(answer), handoff: None };
    assert!(store.record_triage(&record).await.unwrap());
    assert_eq!(store.messages(answered.id).await.unwrap().len(), 1);

    // A follow-up reopens an answered ticket only if it is still answered.
    let follow = NewMessage {
        ticket_id: answered.id,
        author: Author::Customer,
        author_name: None,
        body: "no".into(),
        created_at: Utc::now(),
    };
    let (d, h) = handoff_decision(answered.id, HandoffReason::CustomerFollowUp);
    store.add_follow_up(&follow, TicketStatus::Answered, Some((&d, &h))).await.unwrap();
    let err = store.add_follow_up(&follow, TicketStatus::Answered, Some((&d, &h))).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.ticket(answered.id).await.unwrap().unwrap().status, TicketStatus::HandedOff);
}

async fn claims_and_resolutions_are_guarded(store: &dyn RecordStore) {
    let t = store.insert_ticket(&new_ticket("queue", "c3"), Utc::now()).await.unwrap().ticket;
    let (decision, handoff) = handoff_decision(t.id, HandoffReason::SafetyOrInjury);
    let record = TriageRecord { decision, intent: None, answer: None, handoff: Some(handoff.clone()) };
    store.record_triage(&record).await.unwrap();
    let queue = store.handoffs(&QueueFilter::default()).await.unwrap();
    assert_eq!(queue[0].priority, Priority::Urgent, "urgent first");
    assert_eq!(
        store
            .handoffs(&QueueFilter { reason: Some("safety_or_injury".into()), ..Default::default() })
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.queue_depth().await.unwrap() >= 1);
    assert_eq!(
        store.open_handoffs("c1").await.unwrap(),
        store
            .handoffs(&QueueFilter::default())
            .await
            .unwrap()
            .iter()
            .filter(|h| h.customer_id == "c1")
            .count() as u32
    );

    let claimed = store.claim(handoff.id, "ana", Utc::now()).await.unwrap();
    assert_eq!((claimed.status, claimed.agent.as_deref()), (HandoffStatus::Claimed, Some("ana")));
    assert!(matches!(store.claim(handoff.id, "ben", Utc::now()).await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.claim(HandoffId::new(), "ben", Utc::now()).await, Err(StoreError::NotFound(_))));
    let resolution = |agent: &str| NewResolution {
        handoff_id: handoff.id,
        agent: agent.into(),
        reply: "Please unplug it; we'll replace it.".into(),
        reusable: true,
        intent: Some("device_overheating".into()),
        resolved_at: Utc::now(),
    };
    assert!(matches!(store.resolve(&resolution("ben")).await, Err(StoreError::Conflict(_))));
    let r = store.resolve(&resolution("ana")).await.unwrap();
    assert_eq!(r.question, "Help\nMy parcel is late");
    assert!(matches!(store.resolve(&resolution("ana")).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.ticket(t.id).await.unwrap().unwrap().status, TicketStatus::Resolved);
    assert_eq!(store.unindexed_resolutions().await.unwrap().iter().filter(|u| u.id == r.id).count(), 1);
    store.mark_resolution_indexed(r.id).await.unwrap();
    assert!(store.unindexed_resolutions().await.unwrap().iter().all(|u| u.id != r.id));
    assert_eq!(store.resolution(r.id).await.unwrap().unwrap(), r);
}

async fn articles_track_content_and_index_state(store: &dyn RecordStore) {
    let mut a = Article {
        id: "kb-1".into(),
        title: "Track".into(),
        intents: vec!["track_order".into()],
        questions: vec!["where is it".into()],
        tags: vec![],
        stage: Some(kindly_core::LifecycleStage::Delivery),
        status: ArticleStatus::Published,
        body: "Answer.".into(),
        updated_at: Utc::now(),
    };
    assert_eq!(store.upsert_article(&a, "h1").await.unwrap(), ArticleWrite::Created);
    assert_eq!(store.upsert_article(&a, "h1").await.unwrap(), ArticleWrite::Unchanged);
    assert_eq!(store.unindexed_articles().await.unwrap().len(), 1);
    assert!(!store.is_indexed("kb-1", "h1").await.unwrap());
    assert!(!store.mark_article_indexed("kb-1", "h0").await.unwrap(), "the content moved on from h0");
    assert!(!store.is_indexed("kb-1", "h0").await.unwrap());
    assert!(store.mark_article_indexed("kb-1", "h1").await.unwrap());
    assert!(store.is_indexed("kb-1", "h1").await.unwrap());
    assert!(!store.mark_article_indexed("kb-nope", "h1").await.unwrap(), "no such article");
    assert!(!store.is_indexed("kb-nope", "h1").await.unwrap());
    assert!(store.unindexed_articles().await.unwrap().is_empty());
    a.title = "Tracking".into();
    assert_eq!(store.upsert_article(&a, "h2").await.unwrap(), ArticleWrite::Updated);
    assert_eq!(store.unindexed_articles().await.unwrap().len(), 1);
    assert_eq!(store.article("kb-1").await.unwrap().unwrap().title, "Tracking");
    assert!(store.delete_article("kb-1").await.unwrap());
    assert!(!store.delete_article("kb-1").await.unwrap());
}

async fn points_are_replaced_per_record(store: &dyn RecordStore) {
    let p = |ref_id: &str, n: usize| Point {
        id: Point::stable_id(Source::Article, ref_id, PointKind::Question, n),
        source: Source::Article,
        ref_id: ref_id.into(),
        kind: PointKind::Question,
        status: PointStatus::Approved,
        intent: None,
        text: "q".into(),
        vector: vec![0.5, -0.25, 1.0],
    };
    // Every write counts one version, returned by the write itself, so an index that keeps
    // points in memory can tell its own writes from another process's.
    let start = store.points_version().await.unwrap();
    let first = store.replace_points(Source::Article, "a", &[p("a", 0), p("a", 1)]).await.unwrap();
    assert_eq!((first.removed, first.version), (0, start + 1));
    store.replace_points(Source::Article, "b", &[p("b", 0)]).await.unwrap();
    let again = store.replace_points(Source::Article, "a", &[p("a", 0)]).await.unwrap();
    assert_eq!((again.removed, again.version), (2, start + 3));
    let all = store.load_points().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].vector, vec![0.5, -0.25, 1.0]);
    let removed = store.remove_points(Source::Article, "b").await.unwrap();
    assert_eq!((removed.removed, removed.version), (1, start + 4));
    assert_eq!(store.load_points().await.unwrap().len(), 1);
    // What changed since a version: each record once, with the points it holds now.
    let changed = store.points_changed_since(start + 1).await.unwrap().expect("every write since is logged");
    assert_eq!(changed.version, start + 4);
    assert_eq!(changed.records, [(Source::Article, "a".to_owned()), (Source::Article, "b".to_owned())]);
    assert_eq!(changed.points, [p("a", 0)], "b's points were removed");
    store.remove_points(Source::Article, "a").await.unwrap();
    assert_eq!(store.points_version().await.unwrap(), start + 5);
    let changed = store.points_changed_since(start + 4).await.unwrap().unwrap();
    assert_eq!((changed.version, changed.records.len(), changed.points.len()), (start + 5, 1, 0));
    let nothing = store.points_changed_since(start + 5).await.unwrap().unwrap();
    assert_eq!(nothing, PointsChanged { version: start + 5, ..Default::default() });
    // Further back than the log, or ahead of the store (a restored backup): not known.
    assert_eq!(store.points_changed_since(-1).await.unwrap(), None);
    assert_eq!(store.points_changed_since(start + 6).await.unwrap(), None);
}

async fn keyword_search_follows_the_points(store: &dyn RecordStore) {
    // Stores an item's texts as its points (one question each), replacing what it had.
    async fn put(store: &dyn RecordStore, source: Source, ref_id: &str, status: PointStatus, texts: &[&str]) {
        let points: Vec<Point> = texts
            .iter()
            .enumerate()
            .map(|(n, text)| Point {
                id: Point::stable_id(source, ref_id, PointKind::Question, n),
                source,
                ref_id: ref_id.into(),
                kind: PointKind::Question,
                status,
                intent: None,
                text: (*text).into(),
                vector: vec![1.0, 0.0, 0.0],
            })
            .collect();
        store.replace_points(source, ref_id, &points).await.unwrap();
    }
    let approved = PointStatus::Approved;
    let refund = ["How do I get a refund for my order?", "Refunds are paid to the original card"];
    put(store, Source::Article, "kw-refund", approved, &refund).await;
    put(store, Source::Article, "kw-track", approved, &["Where is my parcel? Tracking a delivery"]).await;
    put(store, Source::Resolution, "77", PointStatus::Candidate, &["Refunded the duplicate charge"]).await;
    let all = SearchFilter::default();
    let hits = store.keyword_search("refund please; AND -card* \"", 10, all).await.unwrap();
    assert_eq!(hits[0].ref_id, "kw-refund", "{hits:?}");
    assert!(hits.iter().all(|h| h.ref_id != "kw-track"), "{hits:?}");
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score), "best first: {hits:?}");
    let approved_only = SearchFilter { source: None, status: Some(approved) };
    let hits = store.keyword_search("refunded duplicate", 10, approved_only).await.unwrap();
    assert!(hits.iter().all(|h| h.source == Source::Article), "{hits:?}");
    let resolutions = SearchFilter { source: Some(Source::Resolution), status: None };
    let hits = store.keyword_search("refunded duplicate", 10, resolutions).await.unwrap();
    assert_eq!(hits.iter().map(|h| h.ref_id.as_str()).collect::<Vec<_>>(), ["77"]);
    // Replaced and removed points leave the lexical index with them.
    put(store, Source::Article, "kw-track", approved, &["Courier"]).await;
    assert!(store.keyword_search("parcel", 10, all).await.unwrap().is_empty());
    assert_eq!(store.keyword_search("courier", 10, all).await.unwrap().len(), 1);
    store.remove_points(Source::Article, "kw-refund").await.unwrap();
    assert!(store.keyword_search("refund card", 10, approved_only).await.unwrap().is_empty());
    assert!(store.keyword_search("?! -", 10, all).await.unwrap().is_empty());
    for (source, id) in [(Source::Article, "kw-track"), (Source::Resolution, "77")] {
        store.remove_points(source, id).await.unwrap();
    }
}

async fn labels_and_model_versions(store: &dyn RecordStore) {
    let label = |text: &str, intent: &str| Label {
        text: text.into(),
        intent: intent.into(),
        source: "history.csv".into(),
        vector: vec![0.5, -0.25],
    };
    let added =
        store.add_labels(&[label("where is my parcel", "track_order"), label("refund me", "refund")]).await;
    assert_eq!(added.unwrap(), 2);
    // the same pair again is skipped; the same text with another intent is a new label
    let again = store.add_labels(&[label("refund me", "refund"), label("refund me", "cancel_order")]).await;
    assert_eq!(again.unwrap(), 1);
    let labels = store.labels().await.unwrap();
    assert_eq!(labels.len(), 3);
    assert_eq!(labels[0], label("where is my parcel", "track_order"));

    assert!(store.latest_intent_model().await.unwrap().is_none());
    assert_eq!(store.latest_intent_model_version().await.unwrap(), None);
    let model = |examples: usize| IntentModelRecord {
        version: 0,
        trained_at: Utc::now(),
        examples,
        labels: vec!["refund".into(), "track_order".into()],
        dimension: 2,
        hidden: 0,
        head_weight: 0.5,
        nearest_example_exponent: 0.3,
        head_temperature: 1.5,
        new_intents: vec!["refund".into()],
        lexicon: Some(Lexicon::fit(
            CharNgrams { buckets: 8, ..CharNgrams::default() },
            WordGrams { buckets: 4, weight: 0.5 },
            ["refund me"],
        )),
        thresholds: IntentThresholds::uncalibrated(0.98, 0.9),
        scores: ValidationScores { folds: 5, accuracy: 0.9, ..ValidationScores::default() },
        weights: vec![1, 2, 3],
    };
    assert_eq!(store.save_intent_model(&model(10)).await.unwrap(), 1);
    assert_eq!(store.save_intent_model(&model(12)).await.unwrap(), 2);
    assert_eq!(store.latest_intent_model_version().await.unwrap(), Some(2));
    let latest = store.latest_intent_model().await.unwrap().unwrap();
    assert_eq!((latest.nearest_example_exponent, latest.head_temperature), (0.3, 1.5));
    assert_eq!(latest.new_intents, vec!["refund".to_owned()]);
    assert_eq!((latest.version, latest.examples, latest.weights), (2, 12, vec![1, 2, 3]));
    assert_eq!((latest.thresholds, latest.lexicon), (model(0).thresholds, model(0).lexicon));
    let listed = store.intent_models().await.unwrap();
    let versions: Vec<i64> = listed.iter().map(|m| m.version).collect();
    assert_eq!(versions, [2, 1]);
    // listings leave out the weights and each n-gram bucket's IDF
    let lexicon = listed[0].lexicon.as_ref().unwrap();
    assert_eq!((lexicon.ngrams.buckets, lexicon.words.buckets, lexicon.idf.len()), (8, 4, 0));
}

async fn shadow_cases_pair_would_be_answers_with_verdicts(store: &dyn RecordStore) {
    assert!(store.shadow_cases(10).await.unwrap().is_empty(), "live decisions are not shadow cases");
    let shadowed = |ticket: TicketId, would_answer: bool| {
        let (mut decision, handoff) = handoff_decision(ticket, HandoffReason::ShadowMode);
        decision.evidence.intent = Some(kindly_core::IntentScore {
            intent: "track_order".into(),
            confidence: 0.97,
            nearest_example: None,
        });
        decision.evidence.shadow = Some(kindly_core::ShadowDecision {
            would_answer: would_answer
                .then(|| kindly_core::KnowledgeRef { source: Source::Article, id: "kb-1".into() }),
            rule: "answer.all_checks_passed".into(),
            summary: "answered".into(),
            reply: would_answer.then(|| "Hi there, it ships today.".into()),
        });
        TriageRecord { decision, intent: Some("track_order".into()), answer: None, handoff: Some(handoff) }
    };
    let judged = store.insert_ticket(&new_ticket("shadow-1", "c9"), Utc::now()).await.unwrap().ticket;
    let corrected = store.insert_ticket(&new_ticket("shadow-4", "c9"), Utc::now()).await.unwrap().ticket;
    let pending = store.insert_ticket(&new_ticket("shadow-2", "c9"), Utc::now()).await.unwrap().ticket;
    let declined = store.insert_ticket(&new_ticket("shadow-3", "c9"), Utc::now()).await.unwrap().ticket;
    for (t, would) in [(judged.id, true), (corrected.id, true), (pending.id, true), (declined.id, false)] {
        let record = shadowed(t, would);
        store.record_triage(&record).await.unwrap();
    }
    for (ticket, intent) in [(judged.id, "track_order"), (corrected.id, "return_item")] {
        let h = store.ticket_handoffs(ticket).await.unwrap()[0].id;
        store.claim(h, "ana", Utc::now()).await.unwrap();
        let resolution = NewResolution {
            handoff_id: h,
            agent: "ana".into(),
            reply: "It ships today".into(),
            reusable: false,
            intent: Some(intent.into()),
            resolved_at: Utc::now(),
        };
        store.resolve(&resolution).await.unwrap();
    }

    let cases = store.shadow_cases(10).await.unwrap();
    assert_eq!(cases.len(), 4);
    assert_eq!(
        cases.iter().map(|c| (c.would_answer, c.resolved)).collect::<Vec<_>>(),
        vec![(false, false), (true, false), (true, true), (true, true)],
        "newest first"
    );
    assert_eq!(cases[2].agent_intent.as_deref(), Some("return_item"));
    assert_eq!(cases[3].agent_intent.as_deref(), Some("track_order"));
    assert_eq!(cases[3].predicted_intent.as_deref(), Some("track_order"));
    assert_eq!(store.shadow_cases(1).await.unwrap().len(), 1);

    // The ticket list keeps the tickets of each kind of shadow decision, by the latest decision.
    let shadow = |f: ShadowFilter| TicketFilter { shadow: Some(f), ..Default::default() };
    let listed = |f| async move {
        let listed = store.tickets(&shadow(f)).await.unwrap();
        assert_eq!(store.count_tickets(&shadow(f)).await.unwrap(), listed.len() as u64, "{f:?}");
        listed.into_iter().map(|l| l.ticket.id).collect::<Vec<_>>()
    };
    assert_eq!(listed(ShadowFilter::WouldAnswer).await, [pending.id, corrected.id, judged.id]);
    let gist = |id: TicketId| async move {
        let all = store.tickets(&TicketFilter { customer_id: Some("c9".into()), ..Default::default() }).await;
        all.unwrap().into_iter().find(|l| l.ticket.id == id).and_then(|l| l.decision).and_then(|d| d.shadow)
    };
    assert_eq!(
        gist(pending.id).await,
        Some(ShadowOutcome::WouldAnswer),
        "the gist says it was a shadow decision"
    );
    assert_eq!(gist(declined.id).await, Some(ShadowOutcome::WouldHandOff));
    assert_eq!(listed(ShadowFilter::WouldHandOff).await, [declined.id]);
    assert_eq!(listed(ShadowFilter::Confirmed).await, [judged.id]);
    assert_eq!(listed(ShadowFilter::Corrected).await, [corrected.id]);
    // By the intent the latest decision predicted, whatever a person said since; with the
    // ticket's intent, the tickets triage took for one intent and a person for another.
    let predicted = |intent: &str, person: Option<&str>, shadow: Option<ShadowFilter>| TicketFilter {
        predicted_intent: Some(intent.into()),
        intent: person.map(Into::into),
        shadow,
        customer_id: Some("c9".into()),
        ..Default::default()
    };
    let found = |filter: TicketFilter| async move {
        let listed = store.tickets(&filter).await.unwrap();
        assert_eq!(store.count_tickets(&filter).await.unwrap(), listed.len() as u64, "{filter:?}");
        listed.into_iter().map(|l| l.ticket.id).collect::<Vec<_>>()
    };
    let all_four = [declined.id, pending.id, corrected.id, judged.id];
    assert_eq!(found(predicted("track_order", None, None)).await, all_four);
    assert_eq!(found(predicted("track_order", Some("return_item"), None)).await, [corrected.id]);
    assert_eq!(found(predicted("track_order", None, Some(ShadowFilter::Corrected))).await, [corrected.id]);
    assert!(found(predicted("return_item", None, None)).await.is_empty(), "no decision predicted it");
    // A later live decision (a follow-up after going live) takes the ticket out of the shadow lists.
    let (live, handoff) = handoff_decision(declined.id, HandoffReason::RepeatContact);
    let follow = NewMessage {
        ticket_id: declined.id,
        author: Author::Customer,
        author_name: None,
        body: "Any news?".into(),
        created_at: Utc::now(),
    };
    store.add_follow_up(&follow, TicketStatus::HandedOff, Some((&live, &handoff))).await.unwrap();
    assert!(listed(ShadowFilter::WouldHandOff).await.is_empty());
    assert_eq!(store.shadow_cases(10).await.unwrap().len(), 4, "the scoreboard keeps every shadow decision");
}

/// The count ignores the limit (so a page can say "200 of 512"), and `due_before` finds overdue
/// handoffs however many others are more pressing.
async fn the_queue_is_counted_and_overdue_handoffs_are_found(store: &dyn RecordStore) {
    let by_reason = QueueFilter { reason: Some("bereavement".into()), ..Default::default() };
    let before = store.count_handoffs(&by_reason).await.unwrap();
    let now = Utc::now();
    for (n, due_in) in [(1, 2), (2, 3), (3, -1)] {
        let t = store.insert_ticket(&new_ticket(&format!("due-{n}"), "c4"), now).await.unwrap().ticket;
        let (decision, mut handoff) = handoff_decision(t.id, HandoffReason::Bereavement);
        handoff.sla_due_at = now + Duration::hours(due_in);
        let record = TriageRecord { decision, intent: None, answer: None, handoff: Some(handoff) };
        store.record_triage(&record).await.unwrap();
    }
    assert_eq!(store.count_handoffs(&by_reason).await.unwrap(), before + 3);
    let first_two = QueueFilter { limit: 2, ..by_reason.clone() };
    assert_eq!(store.handoffs(&first_two).await.unwrap().len(), 2);
    assert_eq!(store.count_handoffs(&first_two).await.unwrap(), before + 3, "the limit is not counted");
    let overdue = QueueFilter { due_before: Some(now), limit: 1, ..by_reason };
    let found = store.handoffs(&overdue).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].sla_due_at < now, "{found:?}");
    assert_eq!(store.count_handoffs(&overdue).await.unwrap(), 1);
}

/// The ticket list: newest first by arrival, each with its latest decision's gist; `before` pages
/// on (and a ticket that does not exist matches nothing); counts ignore the page.
async fn the_ticket_list_is_newest_first_with_the_latest_decision(store: &dyn RecordStore) {
    let now = Utc::now();
    let mut ids = Vec::new();
    for n in 0..3 {
        let at = now + Duration::seconds(n);
        ids.push(
            store.insert_ticket(&new_ticket(&format!("list-{n}{n}"), "c-list"), at).await.unwrap().ticket.id,
        );
    }
    let (decision, handoff) = handoff_decision(ids[1], HandoffReason::Bereavement);
    let record = TriageRecord { decision, intent: None, answer: None, handoff: Some(handoff) };
    store.record_triage(&record).await.unwrap();
    let answer = Decision {
        outcome: Outcome::Answer {
            knowledge: kindly_core::KnowledgeRef { source: Source::Article, id: "kb-1".into() },
        },
        summary: "answered: intent track_order".into(),
        ..policy::pipeline_failure(ids[0], "x", "y", now)
    };
    let record =
        TriageRecord { decision: answer, intent: Some("track_order".into()), answer: None, handoff: None };
    store.record_triage(&record).await.unwrap();

    let mine = TicketFilter { customer_id: Some("c-list".into()), ..Default::default() };
    let listed = store.tickets(&mine).await.unwrap();
    assert_eq!(listed.iter().map(|l| l.ticket.id).collect::<Vec<_>>(), [ids[2], ids[1], ids[0]]);
    assert!(listed[0].decision.is_none(), "not decided yet");
    assert_eq!(listed[1].decision.as_ref().map(|d| d.outcome.as_str()), Some("handoff"));
    let answered = listed[2].decision.as_ref().unwrap();
    assert_eq!(
        (answered.outcome.as_str(), answered.summary.as_str()),
        ("answer", "answered: intent track_order")
    );
    assert_eq!(answered.shadow, None, "a live decision");
    assert_eq!(listed[2].ticket.intent.as_deref(), Some("track_order"));
    assert_eq!(listed[2].ticket.status, TicketStatus::Answered);

    let page = TicketFilter { limit: 1, before: Some(ids[1]), ..mine.clone() };
    assert_eq!(store.tickets(&page).await.unwrap().iter().map(|l| l.ticket.id).collect::<Vec<_>>(), [ids[0]]);
    assert_eq!(store.count_tickets(&page).await.unwrap(), 3, "neither the page nor `before` is counted");
    let nowhere = TicketFilter { before: Some(TicketId::new()), ..mine.clone() };
    assert!(store.tickets(&nowhere).await.unwrap().is_empty());
    let answered_only = TicketFilter { status: Some(TicketStatus::Answered), ..mine.clone() };
    assert_eq!(store.count_tickets(&answered_only).await.unwrap(), 1);
    let by_intent = TicketFilter { intent: Some("track_order".into()), ..mine };
    assert_eq!(store.tickets(&by_intent).await.unwrap().len(), 1);

    // Words: all of them, in the ticket's own text or in what the customer wrote after.
    let words = |text: &str| TicketFilter { text: Some(text.into()), ..Default::default() };
    let parcel = store.count_tickets(&words("parcel LATE list-22")).await.unwrap();
    assert_eq!(parcel, 1, "the helpdesk id narrows it to one");
    assert_eq!(store.count_tickets(&words("list-22 nowhere")).await.unwrap(), 0);
    assert_eq!(store.count_tickets(&words("?!")).await.unwrap(), 0, "no word matches nothing");
    let follow = NewMessage {
        ticket_id: ids[1],
        author: Author::Customer,
        author_name: None,
        body: "Still waiting for the courier".into(),
        created_at: now,
    };
    store.add_follow_up(&follow, TicketStatus::HandedOff, None).await.unwrap();
    let found = store.tickets(&words("courier")).await.unwrap();
    assert_eq!(found.iter().map(|l| l.ticket.id).collect::<Vec<_>>(), [ids[1]]);

    let counts = store.ticket_counts().await.unwrap();
    let all = store.count_tickets(&TicketFilter::default()).await.unwrap();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), all);
    assert!(counts.iter().any(|(s, n)| *s == TicketStatus::Received && *n >= 1), "{counts:?}");
}

/// Runs every contract check against one store.
async fn suite(store: Arc<dyn RecordStore>) {
    intake_is_idempotent_and_pending_is_oldest_first(store.as_ref()).await;
    a_ticket_is_decided_once(store.as_ref()).await;
    claims_and_resolutions_are_guarded(store.as_ref()).await;
    the_queue_is_counted_and_overdue_handoffs_are_found(store.as_ref()).await;
    the_ticket_list_is_newest_first_with_the_latest_decision(store.as_ref()).await;
    articles_track_content_and_index_state(store.as_ref()).await;
    points_are_replaced_per_record(store.as_ref()).await;
    keyword_search_follows_the_points(store.as_ref()).await;
    labels_and_model_versions(store.as_ref()).await;
    shadow_cases_pair_would_be_answers_with_verdicts(store.as_ref()).await;
}

#[tokio::test]
async fn sqlite_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = kindly_store::SqliteStore::open(&dir.path().join("kindly.db")).await.unwrap();
    suite(Arc::new(store.clone())).await;
    store.integrity_check().await.unwrap();
}

#[tokio::test]
async fn a_backup_is_one_consistent_file_taken_while_the_store_is_open() {
    use kindly_core::TicketStore;
    let dir = tempfile::tempdir().unwrap();
    let store = kindly_store::SqliteStore::open(&dir.path().join("kindly.db")).await.unwrap();
    let accepted = store.insert_ticket(&new_ticket("b-1", "c1"), Utc::now()).await.unwrap().ticket;
    let copy = dir.path().join("backup").join("copy.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    store.backup_to(&copy).await.unwrap();
    assert_eq!(std::fs::read_dir(copy.parent().unwrap()).unwrap().count(), 1, "no -wal beside the copy");
    let err = store.backup_to(&copy).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "a backup never overwrites: {err:?}");
    // The source keeps working, and the copy opens with the ticket in it.
    store.insert_ticket(&new_ticket("b-2", "c1"), Utc::now()).await.unwrap();
    let restored = kindly_store::SqliteStore::open(&copy).await.unwrap();
    assert_eq!(restored.ticket(accepted.id).await.unwrap().unwrap().external_id, "b-1");
    assert_eq!(restored.backlog().await.unwrap(), 1);
    restored.integrity_check().await.unwrap();
}

//! The integrations store on SQLite: idempotent deliveries, and the outbox filled in the very
//! transaction that records a decision, only for tickets that came from a helpdesk.

use chrono::{Duration, Utc};
use kindly_core::integration::{ActionKind, ActionState, IntegrationStore};
use kindly_core::ports::TriageRecord;
use kindly_core::queue::HandoffContext;
use kindly_core::{
    Author, Customer, Decision, Evidence, Handoff, HandoffId, HandoffReason, HandoffStatus, KnowledgeRef,
    NewMessage, NewTicket, Outcome, Priority, Reason, Source, StoreError, TicketId, TicketStore,
};
use kindly_store::SqliteStore;

fn new_ticket(external_id: &str) -> NewTicket {
    let customer = Customer { id: "c1".into(), email: None, name: Some("Sam".into()), flagged: None };
    NewTicket::validate(external_id, customer, None, "My parcel is late", Some("zendesk"), None, Utc::now())
        .unwrap()
}

fn answer(ticket: TicketId) -> TriageRecord {
    let now = Utc::now();
    TriageRecord {
        decision: Decision {
            ticket_id: ticket,
            outcome: Outcome::Answer {
                knowledge: KnowledgeRef { source: Source::Article, id: "kb-001".into() },
            },
            rule: "answer.test".into(),
            reasons: vec![],
            summary: "answered".into(),
            evidence: Evidence::default(),
            decided_at: now,
        },
        intent: Some("track_order".into()),
        answer: Some(NewMessage {
            ticket_id: ticket,
            author: Author::Kindly,
            author_name: None,
            body: "Here is your tracking link.".into(),
            created_at: now,
        }),
        handoff: None,
    }
}

fn handoff(ticket: TicketId) -> TriageRecord {
    handoff_for(ticket, HandoffReason::Bereavement)
}

fn handoff_for(ticket: TicketId, code: HandoffReason) -> TriageRecord {
    let now = Utc::now();
    let reasons = vec![Reason { code, detail: code.code().into() }];
    let priority = Priority::for_reasons(&reasons);
    TriageRecord {
        decision: Decision {
            ticket_id: ticket,
            outcome: Outcome::Handoff { priority },
            rule: "handoff.test".into(),
            reasons: reasons.clone(),
            summary: "handed off".into(),
            evidence: Evidence::default(),
            decided_at: now,
        },
        intent: None,
        answer: None,
        handoff: Some(Handoff {
            id: HandoffId::new(),
            ticket_id: ticket,
            customer_id: "c1".into(),
            subject: None,
            status: HandoffStatus::Open,
            priority,
            sla_due_at: now + Duration::hours(1),
            reasons,
            intent: None,
            context: HandoffContext::default(),
            agent: None,
            created_at: now,
            claimed_at: None,
            resolved_at: None,
        }),
    }
}

#[tokio::test]
async fn deliveries_are_idempotent_and_decisions_fill_the_outbox_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("kindly.db")).await.unwrap();
    let now = Utc::now();

    let first =
        store.accept_ticket_delivery("zd", "evt-1", "35436", &new_ticket("zd:35436"), now).await.unwrap();
    assert!(first.created && !first.duplicate);
    let again =
        store.accept_ticket_delivery("zd", "evt-1", "35436", &new_ticket("zd:35436"), now).await.unwrap();
    assert_eq!((again.ticket_id, again.duplicate, again.created), (first.ticket_id, true, false));
    assert_eq!(store.linked_ticket("zd", "35436").await.unwrap(), Some(first.ticket_id));
    assert_eq!(store.delivery_count("zd").await.unwrap(), 1);

    // A ticket from plain intake owes no helpdesk anything.
    let plain = store.insert_ticket(&new_ticket("api-1"), now).await.unwrap().ticket.id;
    assert!(store.record_triage(&answer(plain)).await.unwrap());
    assert!(store.due_actions(Utc::now(), 10).await.unwrap().is_empty());

    assert!(store.record_triage(&answer(first.ticket_id)).await.unwrap());
    let due = store.due_actions(Utc::now(), 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].kind, due[0].remote_id.as_str(), due[0].state),
        (ActionKind::Reply, "35436", ActionState::Pending)
    );

    let second =
        store.accept_ticket_delivery("zd", "evt-2", "35437", &new_ticket("zd:35437"), now).await.unwrap();
    assert!(store.record_triage(&handoff(second.ticket_id)).await.unwrap());
    let kinds: Vec<ActionKind> =
        store.due_actions(Utc::now(), 10).await.unwrap().iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [ActionKind::Reply, ActionKind::Note, ActionKind::Update, ActionKind::Acknowledge]);

    // Failed attempts: retried later, then dead; retried by hand; delivered once.
    let id = due[0].id;
    store.action_failed(id, "503", Some(Utc::now() + Duration::hours(1))).await.unwrap();
    assert_eq!(store.due_actions(Utc::now(), 10).await.unwrap().len(), 3, "not due before its retry time");
    let far = Utc::now() + Duration::hours(2);
    assert_eq!(store.due_actions(far, 10).await.unwrap().len(), 4);
    store.action_failed(id, "503", None).await.unwrap();
    let dead = store.actions(Some(ActionState::Dead), 10).await.unwrap();
    assert_eq!((dead.len(), dead[0].attempts), (1, 2));
    let retried = store.retry_action(id, Utc::now()).await.unwrap();
    assert_eq!((retried.state, retried.attempts), (ActionState::Pending, 0));
    store.action_delivered(id, Utc::now()).await.unwrap();
    assert!(matches!(store.retry_action(id, Utc::now()).await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.retry_action(9999, Utc::now()).await, Err(StoreError::NotFound(_))));
    let counts = store.outbox_counts().await.unwrap();
    assert!(
        counts.contains(&(ActionState::Delivered, 1)) && counts.contains(&(ActionState::Pending, 3)),
        "{counts:?}"
    );

    // A customer's reply waits, pending, until applied.
    assert!(store.accept_reply_delivery("zd", "evt-3", first.ticket_id, "Still late", now).await.unwrap());
    assert!(!store.accept_reply_delivery("zd", "evt-3", first.ticket_id, "Still late", now).await.unwrap());
    assert!(store.pending_replies(now, 10).await.unwrap().is_empty(), "only those older than `before`");
    let pending = store.pending_replies(now + Duration::seconds(1), 10).await.unwrap();
    assert_eq!((pending.len(), pending[0].body.as_str()), (1, "Still late"));
    store.mark_reply_applied("zd", "evt-3").await.unwrap();
    assert!(store.pending_replies(now + Duration::seconds(1), 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_shadow_handoff_sends_the_customer_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("kindly.db")).await.unwrap();
    let now = Utc::now();
    let t = store.accept_ticket_delivery("zd", "evt-9", "500", &new_ticket("zd:500"), now).await.unwrap();
    assert!(store.record_triage(&handoff_for(t.ticket_id, HandoffReason::ShadowMode)).await.unwrap());
    let kinds: Vec<ActionKind> =
        store.due_actions(Utc::now(), 10).await.unwrap().iter().map(|a| a.kind).collect();
    assert_eq!(kinds, [ActionKind::Note, ActionKind::Update], "no acknowledgement in shadow mode");
}

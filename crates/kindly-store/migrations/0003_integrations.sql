-- Helpdesk integrations: which helpdesk ticket each Kindly ticket came from, the webhook
-- deliveries already accepted (idempotency), and the outbox of actions Kindly owes the helpdesk.

-- Written in the same transaction as the ticket, so triage can never decide a helpdesk ticket
-- before its link exists (the outbox triggers below read it).
CREATE TABLE helpdesk_tickets (
    ticket_id   TEXT PRIMARY KEY REFERENCES tickets(id),
    connection  TEXT NOT NULL,
    remote_id   TEXT NOT NULL,
    UNIQUE (connection, remote_id)
);

-- One row per accepted delivery, keyed by the helpdesk's delivery id (or provider, ticket and
-- event when it sends none): a retried delivery finds its row and changes nothing.
-- A customer reply is kept here (`body`, state `pending`) until it has been added to its ticket,
-- so a crash between the 2xx and the follow-up loses nothing.
CREATE TABLE webhook_deliveries (
    connection    TEXT NOT NULL,
    delivery_key  TEXT NOT NULL,
    event         TEXT NOT NULL,
    ticket_id     TEXT REFERENCES tickets(id),
    body          TEXT,
    state         TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    PRIMARY KEY (connection, delivery_key)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(state, received_at);

-- Actions owed to a helpdesk. `kind` is reply | note | update | acknowledge; `source_id` is the
-- message (reply) or handoff (the other three) whose content is sent. States: pending,
-- delivered, dead (after the last attempt; retried by hand through the API).
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    connection       TEXT NOT NULL,
    ticket_id        TEXT NOT NULL REFERENCES tickets(id),
    remote_id        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    source_id        TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    state            TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at, id);

-- The outbox is filled by triggers, inside the very transaction that records the decision
-- (Kindly's answer, a handoff) or a person's resolution: an action cannot be lost between the
-- decision and the enqueue, whichever code path wrote it.
CREATE TRIGGER outbox_reply AFTER INSERT ON messages
WHEN NEW.author IN ('kindly', 'agent')
BEGIN
    INSERT INTO outbox (connection, ticket_id, remote_id, kind, source_id, idempotency_key,
                        next_attempt_at, created_at)
    SELECT connection, ticket_id, remote_id, 'reply', NEW.id, 'kindly-reply-' || NEW.ticket_id || '-' || NEW.id,
           NEW.created_at, NEW.created_at
    FROM helpdesk_tickets WHERE ticket_id = NEW.ticket_id;
END;

CREATE TRIGGER outbox_handoff AFTER INSERT ON handoffs
BEGIN
    INSERT INTO outbox (connection, ticket_id, remote_id, kind, source_id, idempotency_key,
                        next_attempt_at, created_at)
    SELECT connection, ticket_id, remote_id, kinds.kind, NEW.id,
           'kindly-' || kinds.kind || '-' || NEW.id, NEW.created_at, NEW.created_at
    FROM helpdesk_tickets,
         (SELECT 1 AS n, 'note' AS kind UNION ALL SELECT 2, 'update' UNION ALL SELECT 3, 'acknowledge') AS kinds
    WHERE ticket_id = NEW.ticket_id
    ORDER BY kinds.n;
END;

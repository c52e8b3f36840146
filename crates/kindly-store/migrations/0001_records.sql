-- Kindly's records: the source of truth. Vectors live here too, beside the knowledge they embed,
-- so the in-memory index can always be rebuilt from this file.

CREATE TABLE customers (
    id          TEXT PRIMARY KEY,
    email       TEXT,
    name        TEXT,
    flagged     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

CREATE TABLE tickets (
    id           TEXT PRIMARY KEY,
    external_id  TEXT NOT NULL UNIQUE,
    customer_id  TEXT NOT NULL REFERENCES customers(id),
    subject      TEXT,
    body         TEXT NOT NULL,
    channel      TEXT NOT NULL,
    status       TEXT NOT NULL,
    intent       TEXT,
    created_at   TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX tickets_by_status ON tickets(status, received_at);
CREATE INDEX tickets_by_customer ON tickets(customer_id, created_at);

CREATE TABLE messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id    TEXT NOT NULL REFERENCES tickets(id),
    author       TEXT NOT NULL,
    author_name  TEXT,
    body         TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX messages_by_ticket ON messages(ticket_id, id);

-- One row per decision (triage, or a follow-up that reopened the ticket); the whole explained
-- decision is kept as JSON, with the columns dashboards filter on beside it.
CREATE TABLE decisions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   TEXT NOT NULL REFERENCES tickets(id),
    outcome     TEXT NOT NULL,
    rule        TEXT NOT NULL,
    decision    TEXT NOT NULL,
    decided_at  TEXT NOT NULL
);
CREATE INDEX decisions_by_ticket ON decisions(ticket_id, id);

CREATE TABLE handoffs (
    id            TEXT PRIMARY KEY,
    ticket_id     TEXT NOT NULL REFERENCES tickets(id),
    customer_id   TEXT NOT NULL,
    subject       TEXT,
    status        TEXT NOT NULL,
    priority      INTEGER NOT NULL,
    sla_due_at    TEXT NOT NULL,
    reasons       TEXT NOT NULL,
    reason_codes  TEXT NOT NULL,
    intent        TEXT,
    context       TEXT NOT NULL,
    agent         TEXT,
    created_at    TEXT NOT NULL,
    claimed_at    TEXT,
    resolved_at   TEXT
);
CREATE INDEX handoffs_queue ON handoffs(status, priority, sla_due_at);
CREATE INDEX handoffs_by_customer ON handoffs(customer_id, status);

CREATE TABLE resolutions (
    id          TEXT PRIMARY KEY,
    handoff_id  TEXT NOT NULL UNIQUE REFERENCES handoffs(id),
    ticket_id   TEXT NOT NULL REFERENCES tickets(id),
    agent       TEXT NOT NULL,
    question    TEXT NOT NULL,
    reply       TEXT NOT NULL,
    reusable    INTEGER NOT NULL,
    intent      TEXT,
    indexed     INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

CREATE TABLE articles (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    intents       TEXT NOT NULL,
    questions     TEXT NOT NULL,
    tags          TEXT NOT NULL,
    stage         TEXT,
    status        TEXT NOT NULL,
    body          TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    indexed_hash  TEXT,
    updated_at    TEXT NOT NULL
);

-- Embedded texts of articles and resolutions. `vector` holds little-endian f32s.
CREATE TABLE points (
    id      TEXT PRIMARY KEY,
    source  TEXT NOT NULL,
    ref_id  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    status  TEXT NOT NULL,
    intent  TEXT,
    text    TEXT NOT NULL,
    vector  BLOB NOT NULL
);
CREATE INDEX points_by_ref ON points(source, ref_id);

-- Labelled examples imported from history, and the intent model's versions.
CREATE TABLE labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    intent TEXT NOT NULL,
    source TEXT NOT NULL,
    vector BLOB NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (text, intent)
);

CREATE TABLE intent_models (
    version INTEGER PRIMARY KEY,
    trained_at TEXT NOT NULL,
    -- everything but the weights, as JSON (labels, thresholds, scores, shape)
    meta TEXT NOT NULL,
    weights BLOB NOT NULL
);

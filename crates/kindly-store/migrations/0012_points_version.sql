-- A counter of changes to the stored points, one per write (a record's points replaced or
-- removed). The embedded index keeps every point in memory; when the counter moved by a write
-- it did not make (`kindly kb ingest` run beside `kindly serve`, say), the index reloads.
CREATE TABLE points_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO points_version (id, version) VALUES (1, 0);

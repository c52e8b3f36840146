-- Which record each write to the points touched, by the version it made (see points_version):
-- an index that keeps points in memory reads the records changed since the version it holds
-- instead of every point. Only the latest writes are kept; a reader further behind loads all.
CREATE TABLE points_changes (
    version INTEGER PRIMARY KEY,
    source  TEXT NOT NULL,
    ref_id  TEXT NOT NULL
);

-- The triage worker looks for resolutions whose indexing failed every minute, not only at
-- start-up; this partial index holds only those (normally none), so the look is not a scan of
-- every resolution.
CREATE INDEX resolutions_unindexed ON resolutions(created_at) WHERE indexed = 0;

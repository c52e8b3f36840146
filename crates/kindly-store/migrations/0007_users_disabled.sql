-- A person who leaves is disabled, not deleted: their name stays on the tickets they worked, and
-- from then on they cannot sign in and their sessions and API tokens authenticate nothing.
ALTER TABLE users ADD COLUMN disabled_at TEXT;

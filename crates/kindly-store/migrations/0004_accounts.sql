-- People and machines that may use Kindly, their browser sessions, and the history the knowledge
-- studio shows: every saved version of an article, and the review of proposed resolutions.

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

-- Only a SHA-256 of each bearer token is kept; the token itself is shown once, at creation.
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    user_id     TEXT REFERENCES users(id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

-- Browser sessions: the cookie carries a random secret, the row its SHA-256 and the CSRF token
-- every form of the session must echo.
CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);

-- Every content change of an article, whichever path wrote it (API, studio, `kb ingest`).
CREATE TABLE article_versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id  TEXT NOT NULL,
    title       TEXT NOT NULL,
    status      TEXT NOT NULL,
    body        TEXT NOT NULL,
    saved_at    TEXT NOT NULL
);
CREATE INDEX article_versions_by_article ON article_versions(article_id, id);

INSERT INTO article_versions (article_id, title, status, body, saved_at)
    SELECT id, title, status, body, updated_at FROM articles;

CREATE TRIGGER article_versions_on_insert AFTER INSERT ON articles BEGIN
    INSERT INTO article_versions (article_id, title, status, body, saved_at)
    VALUES (NEW.id, NEW.title, NEW.status, NEW.body, NEW.updated_at);
END;

CREATE TRIGGER article_versions_on_update AFTER UPDATE OF content_hash ON articles
WHEN NEW.content_hash IS NOT OLD.content_hash BEGIN
    INSERT INTO article_versions (article_id, title, status, body, saved_at)
    VALUES (NEW.id, NEW.title, NEW.status, NEW.body, NEW.updated_at);
END;

-- A knowledge manager's verdict on a resolution proposed as knowledge (a non-reusable one, kept
-- as a candidate): approved (now reusable), rejected, or merged into an article.
CREATE TABLE resolution_reviews (
    resolution_id  TEXT PRIMARY KEY REFERENCES resolutions(id),
    verdict        TEXT NOT NULL,
    reviewer       TEXT NOT NULL,
    article_id     TEXT,
    reviewed_at    TEXT NOT NULL
);

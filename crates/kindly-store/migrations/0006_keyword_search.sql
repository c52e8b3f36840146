-- Lexical search (BM25, SQLite FTS5) over the indexed texts, for hybrid retrieval. The FTS table
-- keeps its own copy of each point's text with the point's id; triggers keep it in step with
-- `points` in the same transaction. (Not an external-content table: `points` has no INTEGER
-- PRIMARY KEY, so its rowids may change on VACUUM, and `kindly backup` is a VACUUM INTO.)
CREATE VIRTUAL TABLE points_fts USING fts5(text, point_id UNINDEXED, tokenize = 'porter unicode61');

CREATE TRIGGER points_fts_insert AFTER INSERT ON points BEGIN
    INSERT INTO points_fts (text, point_id) VALUES (new.text, new.id);
END;

CREATE TRIGGER points_fts_delete AFTER DELETE ON points BEGIN
    DELETE FROM points_fts WHERE point_id = old.id;
END;

CREATE TRIGGER points_fts_update AFTER UPDATE OF id, text ON points BEGIN
    DELETE FROM points_fts WHERE point_id = old.id;
    INSERT INTO points_fts (text, point_id) VALUES (new.text, new.id);
END;

INSERT INTO points_fts (text, point_id) SELECT text, id FROM points;

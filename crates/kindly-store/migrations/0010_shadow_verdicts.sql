-- A decision's predicted intent and, in shadow mode, what Kindly would have done, as columns:
-- the ticket list filters on them (`GET /v1/tickets?shadow=`) and shadow mode's scoreboard
-- (`GET /v1/shadow`) counts them, without reading every decision's JSON.
-- `shadow` is NULL for a live decision, else 'would_answer' or 'would_hand_off'.
ALTER TABLE decisions ADD COLUMN intent TEXT;
ALTER TABLE decisions ADD COLUMN shadow TEXT;
UPDATE decisions SET
    intent = json_extract(decision, '$.evidence.intent.intent'),
    shadow = CASE
        WHEN json_extract(decision, '$.evidence.shadow') IS NULL THEN NULL
        WHEN json_extract(decision, '$.evidence.shadow.would_answer') IS NULL THEN 'would_hand_off'
        ELSE 'would_answer'
    END;
-- The person's verdict on a shadow decision is the intent of the ticket's first resolution. Without
-- this index every lookup scanned the whole table (0.76 s against 0.005 s for 1,000 shadow
-- decisions beside 20,000 resolutions), and `/metrics` reads the scoreboard at every scrape.
CREATE INDEX resolutions_by_ticket ON resolutions(ticket_id, created_at);
-- The scoreboard reads the latest shadow decisions; once live, newer decisions are not shadow ones.
CREATE INDEX decisions_in_shadow ON decisions(id) WHERE shadow IS NOT NULL;

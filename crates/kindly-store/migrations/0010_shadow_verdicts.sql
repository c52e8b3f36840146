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

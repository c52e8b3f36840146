-- Shadow mode sends nothing to customers: a handoff made only because Kindly is in shadow mode
-- (reason shadow_mode) still gives the agents their internal note and the ticket update, but the
-- customer gets no acknowledgement from Kindly.
DROP TRIGGER outbox_handoff;
CREATE TRIGGER outbox_handoff AFTER INSERT ON handoffs
BEGIN
    INSERT INTO outbox (connection, ticket_id, remote_id, kind, source_id, idempotency_key,
                        next_attempt_at, created_at)
    SELECT connection, ticket_id, remote_id, kinds.kind, NEW.id,
           'kindly-' || kinds.kind || '-' || NEW.id, NEW.created_at, NEW.created_at
    FROM helpdesk_tickets,
         (SELECT 1 AS n, 'note' AS kind UNION ALL SELECT 2, 'update' UNION ALL SELECT 3, 'acknowledge') AS kinds
    WHERE ticket_id = NEW.ticket_id
      AND NOT (kinds.kind = 'acknowledge' AND NEW.reason_codes LIKE '% shadow_mode %')
    ORDER BY kinds.n;
END;

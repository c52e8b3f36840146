-- The ticket list (`GET /v1/tickets`, the Tickets page): newest first, whole or by intent.
-- (By status it reads `tickets_by_status`, by customer `tickets_by_customer`.)
CREATE INDEX tickets_by_arrival ON tickets(received_at, id);
CREATE INDEX tickets_by_intent ON tickets(intent, received_at);
-- One ticket's page shows what was sent to its helpdesk and whether it arrived.
CREATE INDEX outbox_by_ticket ON outbox(ticket_id, id);

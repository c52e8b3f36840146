-- Words search over tickets (`GET /v1/tickets?q=`, the Tickets page): the ticket's helpdesk id,
-- its customer's name and email, subject and body, and what the customer and agents wrote after
-- (not Kindly's own answers, which are the knowledge base's words). One FTS5 row per text, with
-- the ticket's id; tickets and messages are never deleted, so inserts are all it follows.
CREATE VIRTUAL TABLE ticket_search USING fts5(text, ticket_id UNINDEXED, tokenize = 'porter unicode61');

CREATE TRIGGER ticket_search_ticket AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_search (text, ticket_id)
    SELECT new.external_id || ' ' || coalesce(c.name, '') || ' ' || coalesce(c.email, '') || ' ' ||
           coalesce(new.subject, '') || ' ' || new.body, new.id
    FROM customers c WHERE c.id = new.customer_id;
END;

CREATE TRIGGER ticket_search_message AFTER INSERT ON messages WHEN new.author != 'kindly' BEGIN
    INSERT INTO ticket_search (text, ticket_id) VALUES (new.body, new.ticket_id);
END;

INSERT INTO ticket_search (text, ticket_id)
SELECT t.external_id || ' ' || coalesce(c.name, '') || ' ' || coalesce(c.email, '') || ' ' ||
       coalesce(t.subject, '') || ' ' || t.body, t.id
FROM tickets t JOIN customers c ON c.id = t.customer_id;

INSERT INTO ticket_search (text, ticket_id) SELECT body, ticket_id FROM messages WHERE author != 'kindly';

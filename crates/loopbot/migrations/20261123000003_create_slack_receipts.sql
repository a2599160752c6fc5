-- Inbound idempotency: an Events API event_id (or other delivery key) seen once.
CREATE TABLE slack_receipts (
    receipt_key         TEXT    PRIMARY KEY,
    received_at         INTEGER NOT NULL
);

CREATE INDEX slack_receipts_by_age ON slack_receipts (received_at);

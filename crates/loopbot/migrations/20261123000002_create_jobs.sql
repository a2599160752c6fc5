-- Durable outbound work. A use case inserts its jobs in the same transaction as its change;
-- the worker claims due jobs atomically and records every failure.
CREATE TABLE jobs (
    id                  INTEGER PRIMARY KEY,
    kind                TEXT    NOT NULL,
    loop_id             INTEGER REFERENCES loops (id) ON DELETE CASCADE,
    payload             TEXT    NOT NULL DEFAULT '{}',
    dedupe_key          TEXT    UNIQUE,
    state               TEXT    NOT NULL DEFAULT 'queued',
    run_at              INTEGER NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    locked_until        INTEGER,
    last_error          TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE INDEX jobs_due ON jobs (state, run_at);

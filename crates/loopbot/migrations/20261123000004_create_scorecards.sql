-- One row per submitted version of a scorecard; the latest version per (loop, stage,
-- interviewer) is the current one, earlier versions are kept.
CREATE TABLE scorecards (
    id                  INTEGER PRIMARY KEY,
    loop_id             INTEGER NOT NULL REFERENCES loops (id) ON DELETE CASCADE,
    position            INTEGER NOT NULL,
    interviewer_id      TEXT    NOT NULL,
    version             INTEGER NOT NULL,
    overall             INTEGER NOT NULL CHECK (overall BETWEEN 1 AND 4),
    ratings             TEXT    NOT NULL,
    evidence            TEXT    NOT NULL,
    concerns            TEXT    NOT NULL DEFAULT '',
    -- The same form submitted twice (a double click, a retry) has the same key: one effect.
    submission_key      TEXT    NOT NULL UNIQUE,
    submitted_at        INTEGER NOT NULL,
    UNIQUE (loop_id, position, interviewer_id, version)
);

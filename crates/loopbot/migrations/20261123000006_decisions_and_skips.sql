-- The hiring decision, stages skipped on purpose, warnings already given, and what purge keeps.
ALTER TABLE loops ADD COLUMN decision TEXT;
ALTER TABLE loops ADD COLUMN decision_rationale TEXT;
ALTER TABLE loops ADD COLUMN decided_by TEXT;
ALTER TABLE loops ADD COLUMN decided_at INTEGER;
ALTER TABLE loops ADD COLUMN decision_ts TEXT;
ALTER TABLE loops ADD COLUMN archived_at INTEGER;
ALTER TABLE loops ADD COLUMN purged_at INTEGER;

-- Counts kept when candidate data is purged.
ALTER TABLE stages ADD COLUMN scorecards_purged INTEGER NOT NULL DEFAULT 0;

CREATE TABLE stage_skips (
    loop_id             INTEGER NOT NULL,
    position            INTEGER NOT NULL,
    reason              TEXT    NOT NULL,
    skipped_by          TEXT    NOT NULL,
    skipped_at          INTEGER NOT NULL,
    PRIMARY KEY (loop_id, position),
    FOREIGN KEY (loop_id, position) REFERENCES stages (loop_id, position) ON DELETE CASCADE
);

-- A missing-stage warning is posted once per stage per loop, whatever triggered it.
CREATE TABLE skip_warnings (
    loop_id             INTEGER NOT NULL,
    position            INTEGER NOT NULL,
    cause               TEXT    NOT NULL,
    warned_at           INTEGER NOT NULL,
    message_ts          TEXT,
    PRIMARY KEY (loop_id, position),
    FOREIGN KEY (loop_id, position) REFERENCES stages (loop_id, position) ON DELETE CASCADE
);

CREATE INDEX loops_by_decision_time ON loops (decided_at);

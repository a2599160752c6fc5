-- Reminder state per (loop, stage, interviewer). `next_at` is when the next reminder may be
-- sent; NULL means nobody is chased (not scheduled, submitted, skipped, decided, stopped).
-- A sweep claims a due row by moving `next_at` forward in the same transaction that queues
-- the reminder, so overlapping sweeps and restarts never send one twice.
CREATE TABLE reminders (
    loop_id             INTEGER NOT NULL,
    position            INTEGER NOT NULL,
    user_id             TEXT    NOT NULL,
    due_at              INTEGER NOT NULL,
    next_at             INTEGER,
    sent_count          INTEGER NOT NULL DEFAULT 0,
    escalated_at        INTEGER,
    stopped_reason      TEXT,
    PRIMARY KEY (loop_id, position, user_id),
    FOREIGN KEY (loop_id, position) REFERENCES stages (loop_id, position) ON DELETE CASCADE
);

CREATE INDEX reminders_due ON reminders (next_at) WHERE next_at IS NOT NULL;

-- Each person's Slack time zone, from users.info, cached.
CREATE TABLE user_profiles (
    user_id             TEXT    PRIMARY KEY,
    tz                  TEXT    NOT NULL,
    fetched_at          INTEGER NOT NULL
);

-- People who have opened Loopbot's App Home, whose view is kept current.
CREATE TABLE home_viewers (
    user_id             TEXT    PRIMARY KEY,
    opened_at           INTEGER NOT NULL
);

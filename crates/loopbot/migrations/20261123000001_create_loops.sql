-- An interview loop for one candidate, and the Slack objects provisioned for it.
-- Each provisioning step stores what it produced before the next step runs, so a job
-- that runs twice never makes a second channel, message or pin.
CREATE TABLE loops (
    id                  INTEGER PRIMARY KEY,
    source_view_id      TEXT    NOT NULL UNIQUE,
    candidate_name      TEXT    NOT NULL,
    rubric_id           TEXT    NOT NULL,
    role                TEXT    NOT NULL,
    coordinator_id      TEXT    NOT NULL,
    hiring_manager_id   TEXT    NOT NULL,
    origin_channel_id   TEXT,
    status              TEXT    NOT NULL DEFAULT 'provisioning',
    channel_name        TEXT,
    channel_id          TEXT    UNIQUE,
    members_invited     INTEGER NOT NULL DEFAULT 0,
    topic_set           INTEGER NOT NULL DEFAULT 0,
    summary_ts          TEXT,
    summary_pinned      INTEGER NOT NULL DEFAULT 0,
    confirmation_sent   INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE stages (
    loop_id             INTEGER NOT NULL REFERENCES loops (id) ON DELETE CASCADE,
    position            INTEGER NOT NULL,
    stage_key           TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    interview_at        INTEGER,
    rubric_ts           TEXT,
    PRIMARY KEY (loop_id, position)
);

CREATE TABLE stage_interviewers (
    loop_id             INTEGER NOT NULL,
    position            INTEGER NOT NULL,
    user_id             TEXT    NOT NULL,
    PRIMARY KEY (loop_id, position, user_id),
    FOREIGN KEY (loop_id, position) REFERENCES stages (loop_id, position) ON DELETE CASCADE
);

CREATE INDEX stage_interviewers_by_user ON stage_interviewers (user_id);

-- Who changed what, when.
CREATE TABLE audit_log (
    id                  INTEGER PRIMARY KEY,
    loop_id             INTEGER REFERENCES loops (id) ON DELETE CASCADE,
    actor_id            TEXT    NOT NULL,
    action              TEXT    NOT NULL,
    detail              TEXT    NOT NULL DEFAULT '',
    at                  INTEGER NOT NULL
);

CREATE INDEX audit_log_by_loop ON audit_log (loop_id, at);

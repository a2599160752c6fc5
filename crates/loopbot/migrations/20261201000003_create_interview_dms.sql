-- Direct messages tied to an interview's time: each interviewer's brief before it and one
-- nudge after it. One row per (loop, stage, interviewer, kind, interview time), so a changed
-- time gets a new brief. The sweep marks a row queued in the transaction that queues its
-- message, so each goes out once, also across restarts.
CREATE TABLE interview_dms (
    loop_id             INTEGER NOT NULL,
    position            INTEGER NOT NULL,
    user_id             TEXT    NOT NULL,
    kind                TEXT    NOT NULL,
    interview_at        INTEGER NOT NULL,
    send_at             INTEGER NOT NULL,
    queued_at           INTEGER,
    PRIMARY KEY (loop_id, position, user_id, kind, interview_at),
    FOREIGN KEY (loop_id, position) REFERENCES stages (loop_id, position) ON DELETE CASCADE
);

CREATE INDEX interview_dms_due ON interview_dms (send_at) WHERE queued_at IS NULL;

-- Polling each ATS (LOOPBOT_ATS_POLL): where the last poll got to (Ashby's syncToken, or the
-- latest Greenhouse updated_at seen) and when the next one is due. A replica that sees a poll
-- due moves next_poll_at on before it queues the poll, so one poll runs per interval.
CREATE TABLE ats_polls (
    ats                 TEXT    PRIMARY KEY,
    cursor              TEXT,
    next_poll_at        INTEGER  NOT NULL,
    polled_at           INTEGER
);

-- ATS webhooks and what Loopbot last read from each ATS (issue 22).
--   ats_deliveries  one row per webhook delivery accepted (Ashby webhookActionId,
--                   Greenhouse-Event-ID): a retried or replayed delivery has no second effect;
--   ats_interviews  each ATS interview as last read from the ATS: when, who (JSON list of
--                   {email, name, ats_user_id}), whether cancelled, and the rubric stage the
--                   mapping file gives it (NULL: not mapped).
CREATE TABLE ats_deliveries (
    ats                 TEXT    NOT NULL,
    delivery_id         TEXT    NOT NULL,
    received_at         INTEGER  NOT NULL,
    PRIMARY KEY (ats, delivery_id)
);

CREATE TABLE ats_interviews (
    ats                 TEXT    NOT NULL,
    interview_id        TEXT    NOT NULL,
    application_id      TEXT    NOT NULL,
    interview_key       TEXT    NOT NULL,
    stage_key           TEXT,
    starts_at           INTEGER,
    ends_at             INTEGER,
    cancelled           INTEGER  NOT NULL DEFAULT 0,
    interviewers        TEXT    NOT NULL DEFAULT '[]',
    read_at             INTEGER  NOT NULL,
    PRIMARY KEY (ats, interview_id)
);

CREATE INDEX ats_interviews_application ON ats_interviews (ats, application_id);

-- What Loopbot told a coordinator about an ATS application (issue 22): an interview the mapping
-- does not name (what = 'unmapped', subject = the ATS interview id) or a panel member with no
-- Slack account (what = 'no_slack', subject = their email). A row is written in the same
-- transaction as the read that found it, with the notice's job, so it is told once however
-- often webhooks and polls repeat it.
CREATE TABLE ats_notices (
    ats                 TEXT    NOT NULL,
    application_id      TEXT    NOT NULL,
    what                TEXT    NOT NULL,
    subject             TEXT    NOT NULL,
    told_at             BIGINT  NOT NULL,
    PRIMARY KEY (ats, application_id, what, subject)
);

-- Where each ATS application ended as the ATS has it (issue 22): hired or rejected (Ashby:
-- archived), NULL while open. outcome_at is the ATS's own time for the change where it gives
-- one (else when Loopbot read it); a read older than the stored one never replaces it. Shown
-- on the summary of the loop the application feeds; never a decision of the loop.
CREATE TABLE ats_outcomes (
    ats                 TEXT    NOT NULL,
    application_id      TEXT    NOT NULL,
    outcome             TEXT,
    outcome_at          INTEGER  NOT NULL,
    read_at             INTEGER  NOT NULL,
    PRIMARY KEY (ats, application_id)
);

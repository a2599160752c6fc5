-- What Loopbot has written back to an ATS (issue 22, item 5): one row per write, keyed like
-- its job (`scorecard:<loop>:<stage>:<interviewer>`, `decision:<loop>:<at>`). A run marks the
-- row `sending` before it calls the ATS and `written` (with the ATS's id when it gives one)
-- after; a later run that finds `written` does nothing, and one that finds `sending` (an
-- earlier answer was lost) asks the ATS whether the write is there before writing again.
CREATE TABLE ats_writes (
    write_key           TEXT    PRIMARY KEY,
    ats                 TEXT    NOT NULL,
    state               TEXT    NOT NULL,
    ats_ref             TEXT,
    sent_at             INTEGER  NOT NULL,
    written_at          INTEGER
);

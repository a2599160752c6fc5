-- A sharper scorecard: criteria an interviewer marked "Not assessed" (JSON array of criterion
-- keys, absent from `ratings`) and the stage's red flags they ticked (JSON array of the flags'
-- texts as the rubric worded them at submission). Older rows read as empty.
ALTER TABLE scorecards ADD COLUMN not_assessed TEXT NOT NULL DEFAULT '[]';
ALTER TABLE scorecards ADD COLUMN red_flags TEXT NOT NULL DEFAULT '[]';

-- What an interviewer has typed into a scorecard form and not yet submitted, saved as they go
-- and when they close the form, restored when they open it again, deleted on submission.
CREATE TABLE scorecard_drafts (
    loop_id         INTEGER NOT NULL REFERENCES loops (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    interviewer_id  TEXT    NOT NULL,
    -- The scorecard version the form was opened from (0 before a first submission): a draft
    -- of an older version is not restored over a newer submission.
    based_on        INTEGER NOT NULL DEFAULT 0,
    -- JSON: the form's typed state (ratings, not assessed, overall, evidence, concerns, flags).
    state           TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (loop_id, position, interviewer_id)
);

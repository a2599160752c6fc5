-- The stages a decision was recorded without (comma-separated positions, confirmed by the
-- person deciding), and how many times the loop was reopened after a decision (each reopening
-- starts a new round of "ready to decide" messages).
ALTER TABLE loops ADD COLUMN decided_without TEXT;
ALTER TABLE loops ADD COLUMN cycle INTEGER NOT NULL DEFAULT 0;

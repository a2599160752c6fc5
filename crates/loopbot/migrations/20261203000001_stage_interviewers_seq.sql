-- The panel's order, explicit: `rowid` is SQLite's alone, and PostgreSQL needs the same order.
ALTER TABLE stage_interviewers ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE stage_interviewers SET seq = rowid;

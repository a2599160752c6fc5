-- Who holds a running job ("host:pid"). The lease is short and renewed while the job runs, so
-- the work of a process that died is taken over in seconds, and a process that restarts takes
-- back its own work at once.
ALTER TABLE jobs ADD COLUMN locked_by TEXT;

-- The jobs of one loop run one at a time, in order: the claim looks up running jobs by loop.
CREATE INDEX jobs_loop_state ON jobs (loop_id, state);

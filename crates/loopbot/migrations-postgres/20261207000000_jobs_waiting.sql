-- The jobs still to run, by loop and in queue order: the claim reads each loop's first due
-- job (its head) from here in one pass, without sorting every due job.
CREATE INDEX jobs_waiting ON jobs (loop_id, id, state, run_at, locked_until)
    WHERE state IN ('queued', 'running');

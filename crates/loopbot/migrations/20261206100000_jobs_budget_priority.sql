-- Slack's budgets in the queue. A job names the workspace budget its first Slack call spends
-- (`budget`, a method such as `conversations.create`, or NULL when it only posts, which is
-- paced per channel inside the job) and how urgent it is (`priority`, lower first). The claim
-- takes only jobs whose budget is free and reserves the slot it hands out (`slot`), so a job is
-- never claimed and put back because Slack would refuse it. `free_at` is when a budget next
-- has room, readable by the claim's query.
ALTER TABLE jobs ADD COLUMN budget TEXT;
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 50;
ALTER TABLE jobs ADD COLUMN slot INTEGER;
CREATE INDEX jobs_by_priority ON jobs (state, priority, run_at);
ALTER TABLE slack_budgets ADD COLUMN free_at INTEGER NOT NULL DEFAULT 0;

-- When `loopbot purge --slack` (or LOOPBOT_RETAIN) finished deleting Loopbot's own messages
-- about the candidate in Slack and renaming their channel; NULL while not done (or not asked).
ALTER TABLE loops ADD COLUMN slack_purged_at INTEGER;

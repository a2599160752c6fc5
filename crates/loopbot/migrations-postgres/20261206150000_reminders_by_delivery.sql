-- Reminders are counted when Slack accepts them, not when they are queued, and at most one is
-- in flight per (loop, stage, interviewer), so a backlog never comes out as a burst.
--   sent_count    reminders Slack accepted (it counted reminders queued before this change);
--   queued_count  reminders queued so far: it numbers each reminder job and the key its post
--                 is tagged with, so a reminder dropped and queued again has a new number;
--   pending_seq   the number of the reminder queued and not yet delivered, or NULL; while it is
--                 set, next_at is NULL and the sweep queues nothing more for the row.
ALTER TABLE reminders ADD COLUMN queued_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reminders ADD COLUMN pending_seq BIGINT;
UPDATE reminders SET queued_count = sent_count;
-- A reminder queued before this change and not sent yet becomes the one in flight: it is
-- counted when Slack accepts it, and the next one is due a full interval after that.
UPDATE reminders
   SET pending_seq = sent_count, sent_count = sent_count - 1, next_at = NULL
 WHERE sent_count > 0
   AND EXISTS (SELECT 1 FROM jobs
                WHERE jobs.state IN ('queued', 'running')
                  AND jobs.dedupe_key = 'reminder:' || reminders.loop_id || ':'
                      || reminders.position || ':' || reminders.user_id || ':'
                      || reminders.sent_count);

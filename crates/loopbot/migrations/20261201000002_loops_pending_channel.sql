-- The channel name a loop is about to create, stored before conversations.create is called, so
-- a retry after a crash or a lost answer finds and adopts the channel instead of making a
-- second one.
ALTER TABLE loops ADD COLUMN pending_channel_name TEXT;

-- The order of interviews (stage positions by time, e.g. "1,3,2") the channel was last told
-- about, so a panel scheduled out of the rubric's order gets one quiet note per arrangement.
ALTER TABLE loops ADD COLUMN order_noted TEXT;

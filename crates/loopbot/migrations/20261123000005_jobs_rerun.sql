-- A job asked for again while it runs (a refresh of a message whose content changed meanwhile)
-- runs once more when it finishes.
ALTER TABLE jobs ADD COLUMN rerun INTEGER NOT NULL DEFAULT 0;

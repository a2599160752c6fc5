-- Process-wide switches, e.g. outbound work paused after the app was uninstalled.
CREATE TABLE app_flags (
    name                TEXT    PRIMARY KEY,
    value               TEXT    NOT NULL,
    set_at              INTEGER NOT NULL
);

-- Slack's rate budgets (per method, or per method and channel), shared by every replica: the
-- budget is the workspace's, not the process's. `state` is the pacer's compact text form of
-- the budget's window.
CREATE TABLE slack_budgets (
    budget_key TEXT   PRIMARY KEY,
    state      TEXT   NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);
CREATE INDEX slack_budgets_by_age ON slack_budgets (updated_at);

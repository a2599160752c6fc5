//! The outbound path, in one room: everything people see in Slack is a job in the database.
//!
//! - [`kinds`]: the job vocabulary services write (kinds, payloads, priority, the Slack budget
//!   each spends, enqueueing in the caller's transaction); [`error`]: how a job can fail.
//! - [`claim`]: the next job whose budget has room, its slot reserved; [`budgets`]: Slack's
//!   budgets as database rows; [`tiers`]: each method's tier and the budget a call spends;
//!   [`pacing`]: the sliding-window arithmetic, which the Slack client asks before each call.
//! - [`run`]: one run and its outcome; [`retry`]: when to try again; [`handlers`]: which code
//!   runs each kind.
//! - [`worker`]: the loop that keeps jobs running, renews leases and sweeps.
//!
//! Adding a job kind: a variant in `kinds.rs` (with its priority and budget) and an arm in
//! `handlers/mod.rs`.

pub mod budgets;
pub mod claim;
pub mod error;
pub mod handlers;
pub mod kinds;
pub mod pacing;
pub mod retry;
pub mod run;
pub mod tiers;
pub mod worker;

pub use error::JobError;
pub use kinds::{Job, loop_of_post_key, message_edit_gap_ms};

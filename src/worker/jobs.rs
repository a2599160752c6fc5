//! The kinds of outbound work, as stored in the jobs table.

use serde::{Deserialize, Serialize};

use crate::clock::UnixMillis;
use crate::db::jobs::NewJob;
use crate::domain::interview_loop::LoopId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Channel, invitations, topic, rubric messages, summary, pin, confirmation.
    ProvisionLoop { loop_id: LoopId },
}

impl Job {
    pub fn kind(&self) -> &'static str {
        match self {
            Job::ProvisionLoop { .. } => "provision_loop",
        }
    }

    fn loop_id(&self) -> Option<LoopId> {
        match self {
            Job::ProvisionLoop { loop_id } => Some(*loop_id),
        }
    }

    /// One provisioning job per loop, ever.
    fn dedupe_key(&self) -> Option<String> {
        match self {
            Job::ProvisionLoop { loop_id } => Some(format!("provision:{loop_id}")),
        }
    }

    pub fn queue_at(&self, run_at: UnixMillis) -> NewJob {
        NewJob {
            kind: self.kind().to_string(),
            loop_id: self.loop_id(),
            payload: serde_json::to_string(self).unwrap_or_default(),
            dedupe_key: self.dedupe_key(),
            run_at,
        }
    }

    pub fn queue_now(&self, now: UnixMillis) -> NewJob {
        self.queue_at(now)
    }

    pub fn from_payload(payload: &str) -> Result<Job, serde_json::Error> {
        serde_json::from_str(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_round_trip_through_their_stored_form() {
        let job = Job::ProvisionLoop { loop_id: 7 };
        let stored = job.queue_now(5);
        assert_eq!(stored.kind, "provision_loop");
        assert_eq!(stored.dedupe_key.as_deref(), Some("provision:7"));
        assert_eq!(Job::from_payload(&stored.payload).unwrap(), job);
    }
}

//! Where an application ended in the ATS (hired, or rejected/archived), as shown on the loop's
//! summary. It is the ATS's record, never the loop's decision: the hiring manager still
//! records that in Slack. Each read of the application carries the outcome as the ATS has it
//! now, with the ATS's time where it gives one; a stored outcome is replaced only by one at
//! least as recent, so a late or repeated read never undoes a newer one.

use crate::domain::ats_mapping::AtsKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtsOutcome {
    Hired,
    /// Greenhouse `rejected`.
    Rejected,
    /// Ashby `Archived` (rejected, withdrawn or otherwise closed: Ashby does not say which here).
    Archived,
}

impl AtsOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AtsOutcome::Hired => "hired",
            AtsOutcome::Rejected => "rejected",
            AtsOutcome::Archived => "archived",
        }
    }

    pub fn parse(text: &str) -> Option<AtsOutcome> {
        match text {
            "hired" => Some(AtsOutcome::Hired),
            "rejected" => Some(AtsOutcome::Rejected),
            "archived" => Some(AtsOutcome::Archived),
            _ => None,
        }
    }

    /// Greenhouse's application `status` (`active`, `hired`, `rejected`, …).
    pub fn from_greenhouse(status: &str) -> Option<AtsOutcome> {
        match status.to_ascii_lowercase().as_str() {
            "hired" => Some(AtsOutcome::Hired),
            "rejected" => Some(AtsOutcome::Rejected),
            _ => None,
        }
    }

    /// Ashby's application `status` (`Active`, `Hired`, `Archived`, `Lead`).
    pub fn from_ashby(status: &str) -> Option<AtsOutcome> {
        match status.to_ascii_lowercase().as_str() {
            "hired" => Some(AtsOutcome::Hired),
            "archived" => Some(AtsOutcome::Archived),
            _ => None,
        }
    }
}

/// The outcome stored for a loop's application: what, when the ATS says it happened (or when
/// Loopbot read it), and from which ATS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedOutcome {
    pub ats: AtsKind,
    pub outcome: Option<AtsOutcome>,
    pub at_ms: i64,
}

/// Whether a read at `new_at` replaces what is stored (read at `stored_at`): only a read at
/// least as recent, and only when it changes something.
pub fn replaces(stored: Option<(Option<AtsOutcome>, i64)>, new: (Option<AtsOutcome>, i64)) -> bool {
    match stored {
        None => new.0.is_some(),
        Some((outcome, at)) => new.1 >= at && new.0 != outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_read_never_replaces_a_newer_one() {
        use AtsOutcome::*;
        assert!(replaces(None, (Some(Hired), 5)));
        assert!(
            !replaces(None, (None, 5)),
            "active from the start: nothing to show"
        );
        assert!(replaces(Some((Some(Rejected), 5)), (Some(Hired), 6)));
        assert!(!replaces(Some((Some(Hired), 6)), (Some(Rejected), 5)));
        assert!(
            !replaces(Some((Some(Hired), 6)), (Some(Hired), 7)),
            "same: no effect"
        );
        assert!(replaces(Some((Some(Rejected), 5)), (None, 8)), "unrejected");
    }

    #[test]
    fn each_ats_words_it_its_own_way() {
        assert_eq!(
            AtsOutcome::from_greenhouse("hired"),
            Some(AtsOutcome::Hired)
        );
        assert_eq!(
            AtsOutcome::from_greenhouse("rejected"),
            Some(AtsOutcome::Rejected)
        );
        assert_eq!(AtsOutcome::from_greenhouse("active"), None);
        assert_eq!(AtsOutcome::from_ashby("Hired"), Some(AtsOutcome::Hired));
        assert_eq!(
            AtsOutcome::from_ashby("Archived"),
            Some(AtsOutcome::Archived)
        );
        assert_eq!(AtsOutcome::from_ashby("Active"), None);
        for o in [
            AtsOutcome::Hired,
            AtsOutcome::Rejected,
            AtsOutcome::Archived,
        ] {
            assert_eq!(AtsOutcome::parse(o.as_str()), Some(o));
        }
    }
}

//! A button Loopbot can no longer act on: its value no longer reads (a message from an older
//! Loopbot, or a tampered value), or the loop or stage it names is gone. The person is told
//! what happened and what to do; nothing changes.

use crate::domain::interview_loop::InterviewLoop;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// The value does not read as the button's kind.
    OldMessage,
    /// No loop has that number.
    NoSuchLoop,
    /// The loop's candidate data was purged after its decision.
    Purged,
    /// The loop has no stage at that position.
    NoSuchStage,
}

impl Stale {
    /// Short enough for a phone: what happened, that nothing changed, what to do.
    pub fn message(self) -> &'static str {
        match self {
            Stale::OldMessage => {
                "This button is from an old message and no longer works, so nothing was changed. To see the loop as it is now, type `/loop status` in the candidate's channel."
            }
            Stale::NoSuchLoop => {
                "This button is for a loop Loopbot no longer has, so nothing was changed. If the candidate is still interviewing, ask the coordinator to start a new loop."
            }
            Stale::Purged => {
                "This candidate's data was deleted after the decision, so this button has nothing left to act on. Nothing was changed."
            }
            Stale::NoSuchStage => {
                "This button is for a stage the loop no longer has, so nothing was changed. To see its stages, type `/loop status` in the candidate's channel."
            }
        }
    }
}

/// Whether a press naming a loop (and perhaps one of its stages) can go ahead. `found` is the
/// loop and whether its candidate data was purged, `None` when there is no such loop.
pub fn check(found: Option<(&InterviewLoop, bool)>, stage: Option<u32>) -> Result<(), Stale> {
    let (l, purged) = found.ok_or(Stale::NoSuchLoop)?;
    if purged {
        return Err(Stale::Purged);
    }
    match stage {
        Some(position) if l.stage_at(position).is_none() => Err(Stale::NoSuchStage),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interview_loop::fixtures::sample_loop;

    #[test]
    fn a_press_goes_ahead_only_when_what_it_names_is_there() {
        let l = sample_loop();
        for (found, stage, expected) in [
            (Some((&l, false)), None, Ok(())),
            (Some((&l, false)), Some(1), Ok(())),
            (Some((&l, false)), Some(4), Ok(())),
            (Some((&l, false)), Some(0), Err(Stale::NoSuchStage)),
            (Some((&l, false)), Some(5), Err(Stale::NoSuchStage)),
            (Some((&l, true)), None, Err(Stale::Purged)),
            (Some((&l, true)), Some(9), Err(Stale::Purged)),
            (None, None, Err(Stale::NoSuchLoop)),
            (None, Some(1), Err(Stale::NoSuchLoop)),
        ] {
            assert_eq!(check(found, stage), expected, "{stage:?}");
        }
    }

    #[test]
    fn each_notice_fits_a_phone_and_says_nothing_changed() {
        for stale in [
            Stale::OldMessage,
            Stale::NoSuchLoop,
            Stale::Purged,
            Stale::NoSuchStage,
        ] {
            let m = stale.message();
            assert!(m.chars().count() <= 180, "{m}");
            assert!(m.contains("nothing") || m.contains("Nothing"), "{m}");
        }
    }
}

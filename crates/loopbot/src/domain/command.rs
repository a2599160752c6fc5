//! The `/loop` grammar: `start [candidate]`, `status`, `skip <stage> <reason>`, `decide`,
//! `reopen <reason>`, `remind`, `panel`, `link <ATS URL or id>`, `help`. Anything else is
//! `Unknown` and gets the help text.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start {
        candidate: Option<String>,
    },
    Status,
    Skip {
        stage: String,
        reason: String,
    },
    Decide,
    /// Reopen a loop with a final decision, with the reason.
    Reopen {
        reason: String,
    },
    Remind,
    Panel,
    /// Link the loop to its ATS application (a link or an id, read by
    /// [`crate::domain::ats_link::parse_target`]).
    Link {
        target: String,
    },
    Help,
    /// A known subcommand used wrongly: the message says how to use it.
    Usage {
        message: String,
    },
    Unknown {
        text: String,
    },
}

pub fn parse(text: &str) -> Command {
    let text = text.trim();
    let (word, rest) = match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    };
    match word.to_ascii_lowercase().as_str() {
        "" | "help" | "?" => Command::Help,
        "start" | "new" => Command::Start {
            candidate: (!rest.is_empty()).then(|| rest.to_string()),
        },
        "status" => Command::Status,
        "decide" => Command::Decide,
        "reopen" if rest.is_empty() => Command::Usage {
            message: "Usage: `/loop reopen <reason>`, for example `/loop reopen The candidate asked to redo the coding round`.".to_string(),
        },
        "reopen" => Command::Reopen {
            reason: rest.to_string(),
        },
        "remind" => Command::Remind,
        "panel" => Command::Panel,
        "link" if rest.is_empty() => Command::Usage {
            message: "Usage: `/loop link <ATS URL or id>`, for example `/loop link https://app.greenhouse.io/people/123/applications/456`.".to_string(),
        },
        "link" => Command::Link {
            target: rest.to_string(),
        },
        "skip" => {
            let (stage, reason) = rest
                .split_once(char::is_whitespace)
                .map(|(s, r)| (s.trim(), r.trim()))
                .unwrap_or((rest, ""));
            if stage.is_empty() || reason.is_empty() {
                Command::Usage {
                    message: "Usage: `/loop skip <stage> <reason>`, for example `/loop skip coding Candidate withdrew before the coding round`.".to_string(),
                }
            } else {
                Command::Skip {
                    stage: stage.to_string(),
                    reason: reason.to_string(),
                }
            }
        }
        _ => Command::Unknown {
            text: text.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_parses() {
        let cases = [
            ("", Command::Help),
            ("help", Command::Help),
            ("  HELP  ", Command::Help),
            ("start", Command::Start { candidate: None }),
            (
                "start  Ada Lovelace ",
                Command::Start {
                    candidate: Some("Ada Lovelace".into()),
                },
            ),
            ("status", Command::Status),
            ("decide", Command::Decide),
            (
                "reopen  New evidence came in ",
                Command::Reopen {
                    reason: "New evidence came in".into(),
                },
            ),
            ("remind", Command::Remind),
            ("panel", Command::Panel),
            (
                "link  456 ",
                Command::Link {
                    target: "456".into(),
                },
            ),
            (
                "skip coding candidate withdrew",
                Command::Skip {
                    stage: "coding".into(),
                    reason: "candidate withdrew".into(),
                },
            ),
            (
                "dance",
                Command::Unknown {
                    text: "dance".into(),
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), expected, "{text:?}");
        }
    }

    #[test]
    fn skip_without_a_reason_explains_its_usage() {
        assert!(
            matches!(parse("reopen"), Command::Usage { message } if message.contains("<reason>"))
        );
        assert!(
            matches!(parse("link"), Command::Usage { message } if message.contains("<ATS URL or id>"))
        );
        for text in ["skip", "skip coding"] {
            assert!(
                matches!(parse(text), Command::Usage { message } if message.contains("<reason>"))
            );
        }
    }
}

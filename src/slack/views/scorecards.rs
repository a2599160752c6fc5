//! "View scorecards": every current scorecard of a loop, for those allowed to read them.

use crate::domain::interview_loop::InterviewLoop;
use crate::domain::rubric::Rubric;
use crate::domain::scorecard::{NOT_ASSESSED, Rating, Scorecard};
use crate::slack::mrkdwn::{clip, date_time, escape, mention};
use serde_json::{Value, json};

use super::*;

/// Every current scorecard of the loop, for those allowed to read them.
pub fn scorecards_modal(l: &InterviewLoop, rubric: Option<&Rubric>, cards: &[Scorecard]) -> Value {
    let mut blocks = vec![json!({
        "type": "section",
        "text": { "type": "mrkdwn", "text": clip(&format!("*{}* · {}", escape(&l.candidate_name), escape(&l.role)), 3000) },
    })];
    for stage in &l.stages {
        let stage_cards: Vec<&Scorecard> = cards
            .iter()
            .filter(|c| c.position == stage.position)
            .collect();
        blocks.push(json!({ "type": "divider" }));
        blocks.push(json!({ "type": "header", "text": plain(&clip(&format!("{}. {}", stage.position, stage.name), 150)) }));
        if stage_cards.is_empty() {
            blocks.push(json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": "No scorecard yet." }] }));
        }
        let stage_rubric = rubric.and_then(|r| r.stage(&stage.key));
        for card in stage_cards {
            // In the rubric's order; criteria no longer in the rubric come last, by key.
            let name_of = |key: &str| {
                stage_rubric
                    .and_then(|s| s.criterion(key))
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| key.to_string())
            };
            let order = |key: &str| {
                stage_rubric
                    .and_then(|s| s.criteria.iter().position(|c| c.key == key))
                    .unwrap_or(usize::MAX)
            };
            let mut rated: Vec<(&String, &Rating)> = card.body.ratings.iter().collect();
            rated.sort_by_key(|(key, _)| (order(key), (*key).clone()));
            let mut ratings: Vec<String> = rated
                .into_iter()
                .map(|(key, rating)| format!("• {}: {}", name_of(key), rating.display()))
                .collect();
            ratings.extend(
                card.body
                    .not_assessed
                    .iter()
                    .map(|key| format!("• {}: {NOT_ASSESSED}", name_of(key))),
            );
            if !card.body.red_flags.is_empty() {
                ratings.push(format!(
                    "*Red flags:* {}",
                    escape(&card.body.red_flags.join("; "))
                ));
            }
            blocks.push(json!({
                "type": "section",
                "text": { "type": "mrkdwn", "text": clip(&format!(
                    "{} · overall *{}*{}\n{}",
                    mention(&card.interviewer_id),
                    card.body.overall.display(),
                    if card.version > 1 { format!(" · edited (version {})", card.version) } else { String::new() },
                    ratings.join("\n"),
                ), 3000) },
            }));
            blocks.push(json!({
                "type": "section",
                "text": { "type": "mrkdwn", "text": clip(&format!("*Evidence:* {}", escape(&card.body.evidence)), 3000) },
            }));
            if !card.body.concerns.is_empty() {
                blocks.push(json!({
                    "type": "section",
                    "text": { "type": "mrkdwn", "text": clip(&format!("*Concerns for the next stages:* {}", escape(&card.body.concerns)), 3000) },
                }));
            }
            blocks.push(json!({
                "type": "context",
                "elements": [{ "type": "mrkdwn", "text": format!("Submitted {}", date_time(card.submitted_at)) }],
            }));
        }
    }
    blocks.truncate(100);
    json!({
        "type": "modal",
        "title": plain("Scorecards"),
        "close": plain("Close"),
        "blocks": blocks,
    })
}

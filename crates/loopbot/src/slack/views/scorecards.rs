//! "View scorecards": the debrief and every current scorecard of a loop, in pages, for those
//! allowed to read them.

use crate::domain::debrief::Debrief;
use crate::domain::interview_loop::InterviewLoop;
use crate::domain::rubric::Rubric;
use crate::domain::scorecard::{NOT_ASSESSED, Rating, Scorecard};
use crate::slack::ids::{SCORECARDS_CALLBACK, SCORECARDS_PAGE};
use crate::slack::mrkdwn::{clip, date_time, escape, escape_within, mention};
use serde_json::{Value, json};

use super::*;

/// Blocks per page of "View scorecards", below Slack's 100 for a modal (room for the page
/// line and its buttons).
pub const BLOCKS_PER_PAGE: usize = 90;

/// Everything "View scorecards" shows, split into pages that fit a modal: the debrief, then
/// every current scorecard in full, stage by stage. A scorecard is never split across pages.
pub fn scorecard_pages(
    l: &InterviewLoop,
    rubric: Option<&Rubric>,
    cards: &[Scorecard],
    debrief: &Debrief,
) -> Vec<Vec<Value>> {
    let mut groups: Vec<Vec<Value>> = vec![vec![json!({
        "type": "section",
        "text": { "type": "mrkdwn", "text": clip(&format!("*{}* · {}", escape(&l.candidate_name), escape(&l.role)), 3000) },
    })]];
    groups.extend(debrief_blocks(debrief).into_iter().map(|b| vec![b]));
    for stage in &l.stages {
        let stage_cards: Vec<&Scorecard> = cards
            .iter()
            .filter(|c| c.position == stage.position)
            .collect();
        let mut heading = vec![
            json!({ "type": "divider" }),
            json!({ "type": "header", "text": plain(&clip(&format!("{}. {}", stage.position, stage.name), 150)) }),
        ];
        if stage_cards.is_empty() {
            heading.push(json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": "No scorecard yet." }] }));
        }
        groups.push(heading);
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
                .map(|(key, rating)| format!("• {}: {}", name_of(key), rating.criterion_display()))
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
            let mut group = Vec::new();
            group.push(json!({
                "type": "section",
                "text": { "type": "mrkdwn", "text": clip(&format!(
                    "{} · overall *{}*{}\n{}",
                    mention(&card.interviewer_id),
                    card.body.overall.recommendation_display(),
                    if card.version > 1 { format!(" · edited (version {})", card.version) } else { String::new() },
                    ratings.join("\n"),
                ), 3000) },
            }));
            group.push(json!({
                "type": "section",
                "text": { "type": "mrkdwn", "text": format!("*Evidence:* {}", escape_within(&card.body.evidence, 2_980)) },
            }));
            if !card.body.concerns.is_empty() {
                group.push(json!({
                    "type": "section",
                    "text": { "type": "mrkdwn", "text": format!("*Concerns for the next stages:* {}", escape_within(&card.body.concerns, 2_960)) },
                }));
            }
            group.push(json!({
                "type": "context",
                "elements": [{ "type": "mrkdwn", "text": format!("Submitted {}", date_time(card.submitted_at)) }],
            }));
            groups.push(group);
        }
    }
    let mut pages: Vec<Vec<Value>> = vec![Vec::new()];
    for group in groups {
        let last = pages.last_mut().expect("a page");
        if !last.is_empty() && last.len() + group.len() > BLOCKS_PER_PAGE {
            pages.push(Vec::new());
        }
        pages.last_mut().expect("a page").extend(group);
    }
    pages
}

/// "View scorecards", showing page `page` (0-based) of `pages`, with buttons to the others.
pub fn scorecards_modal(l: &InterviewLoop, pages: &[Vec<Value>], page: usize) -> Value {
    let page = page.min(pages.len().saturating_sub(1));
    let mut blocks: Vec<Value> = pages.get(page).cloned().unwrap_or_default();
    if pages.len() > 1 {
        blocks.push(json!({
            "type": "context",
            "elements": [{ "type": "mrkdwn", "text": format!("Page {} of {}", page + 1, pages.len()) }],
        }));
        let mut buttons = Vec::new();
        if page > 0 {
            buttons.push(json!({ "type": "button", "action_id": SCORECARDS_PAGE, "text": plain("Previous page"), "value": format!("{}:{}", l.id, page - 1) }));
        }
        if page + 1 < pages.len() {
            buttons.push(json!({ "type": "button", "action_id": SCORECARDS_PAGE, "text": plain("Next page"), "value": format!("{}:{}", l.id, page + 1), "style": "primary" }));
        }
        blocks.push(
            json!({ "type": "actions", "block_id": "scorecards_pages", "elements": buttons }),
        );
    }
    json!({
        "type": "modal",
        "callback_id": SCORECARDS_CALLBACK,
        "title": plain("Scorecards"),
        "close": plain("Close"),
        "private_metadata": l.id.to_string(),
        "blocks": blocks,
    })
}

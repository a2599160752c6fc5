//! The debrief as Block Kit: per stage, each criterion against each interviewer, the overall
//! recommendations, red flags and concerns, a tally, and disagreements of two points or more
//! flagged. Long stages are split over several sections; nothing is cut silently.

use crate::domain::debrief::{Debrief, StageDebrief};
use crate::domain::scorecard::{NOT_ASSESSED, Rating};
use crate::slack::mrkdwn::{escape_within, mention};
use serde_json::{Value, json};

/// Room for one section's text, below Slack's 3,000.
const SECTION_ROOM: usize = 2_900;
/// Concerns in the matrix are shown up to this length; the full text is in the scorecards.
const CONCERN_CHARS: usize = 400;
const FLAG: &str = ":warning:";

fn section(text: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } })
}

fn score(r: Option<Rating>) -> String {
    match r {
        Some(r) => r.score().to_string(),
        None => format!("_{}_", NOT_ASSESSED.to_lowercase()),
    }
}

/// What the matrix's numbers mean: a criterion's points are worded against its rubric, the
/// overall recommendation from strong yes to strong no (as the scorecard form asks them).
pub fn scale_key() -> String {
    let points = |word: fn(Rating) -> &'static str| {
        Rating::ALL
            .iter()
            .rev()
            .map(|r| format!("{} {}", r.score(), word(*r).to_lowercase()))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    format!(
        "_Criteria: {}. Overall: {}._",
        points(Rating::criterion_label),
        points(Rating::recommendation_label)
    )
}

/// "2 strong yes · 3 yes · 1 no · 0 strong no"
pub fn tally_text(d: &Debrief) -> String {
    let t = d.tally;
    format!(
        "{} strong yes · {} yes · {} no · {} strong no",
        t.strong_yes, t.yes, t.no, t.strong_no
    )
}

fn stage_lines(s: &StageDebrief) -> Vec<String> {
    let mut lines = vec![format!("*{}. {}*", s.position, s.name)];
    for row in &s.rows {
        let cells: Vec<String> = row
            .cells
            .iter()
            .map(|(u, r)| format!("{} {}", mention(u), score(*r)))
            .collect();
        lines.push(format!(
            "• {}: {}{}",
            row.name,
            cells.join(" · "),
            if row.disagreement {
                format!(" {FLAG} 2+ apart")
            } else {
                String::new()
            }
        ));
    }
    let overall: Vec<String> = s
        .overall
        .iter()
        .map(|(u, r)| format!("{} *{}*", mention(u), r.recommendation_display()))
        .collect();
    lines.push(format!(
        "*Overall:* {}{}",
        overall.join(" · "),
        if s.overall_disagreement {
            format!(" {FLAG} 2+ apart")
        } else {
            String::new()
        }
    ));
    for (u, flags) in &s.red_flags {
        lines.push(format!(
            ":triangular_flag_on_post: {}: {}",
            mention(u),
            escape_within(&flags.join("; "), 1_000)
        ));
    }
    for (u, concern) in &s.concerns {
        lines.push(format!(
            "_Concerns_ {}: {}",
            mention(u),
            escape_within(concern, CONCERN_CHARS)
        ));
    }
    lines
}

/// Lines packed into sections of at most [`SECTION_ROOM`] characters, in order.
fn pack(lines: Vec<String>) -> Vec<Value> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    for line in lines {
        if !current.is_empty() && current.chars().count() + 1 + line.chars().count() > SECTION_ROOM
        {
            blocks.push(section(&current));
            current.clear();
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&line);
    }
    if !current.is_empty() {
        blocks.push(section(&current));
    }
    blocks
}

/// The whole debrief: a heading with the tally and disagreements, then each stage.
pub fn debrief_blocks(d: &Debrief) -> Vec<Value> {
    if d.stages.is_empty() {
        return vec![section("*Debrief* · no scorecard yet.")];
    }
    let disagreements = d.disagreements();
    let mut head = format!("*Debrief* · {}\n{}", tally_text(d), scale_key());
    if !disagreements.is_empty() {
        head.push_str(&format!(
            "\n{FLAG} *2 points or more apart:* {}",
            disagreements.join("; ")
        ));
    }
    let mut blocks = pack(vec![head]);
    for stage in &d.stages {
        blocks.push(json!({ "type": "divider" }));
        blocks.extend(pack(stage_lines(stage)));
    }
    blocks
}

/// The short form for tight places (the decision form of a very large panel): the tally, the
/// disagreements and each stage's overall recommendations.
pub fn debrief_overview(d: &Debrief) -> Vec<Value> {
    let mut lines = vec![format!("*Debrief* · {}", tally_text(d))];
    for s in &d.stages {
        let overall: Vec<String> = s
            .overall
            .iter()
            .map(|(u, r)| format!("{} *{}*", mention(u), r.recommendation_display()))
            .collect();
        lines.push(format!(
            "*{}. {}:* {}",
            s.position,
            s.name,
            overall.join(" · ")
        ));
    }
    let disagreements = d.disagreements();
    if !disagreements.is_empty() {
        lines.push(format!(
            "{FLAG} *2 points or more apart:* {}",
            disagreements.join("; ")
        ));
    }
    lines.push("The full matrix, criterion by criterion, is in *View scorecards*.".into());
    pack(lines)
}

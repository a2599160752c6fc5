//! The debrief: what the panel said, side by side, for the decision. Per stage, each
//! criterion against each interviewer, the overall recommendations, the red flags recorded and
//! the concerns; a tally across the loop; and the places where two interviewers are two points
//! or more apart. Pure: built from the loop, its rubric and the latest scorecards.

use crate::domain::interview_loop::InterviewLoop;
use crate::domain::rubric::Rubric;
use crate::domain::scorecard::{Rating, Scorecard};

/// Two ratings this far apart (or more) on the 4-point scale are a disagreement to talk about.
pub const DISAGREEMENT_POINTS: i64 = 2;

/// One interviewer's mark on a criterion: a rating, `None` for not assessed.
pub type Cell = (String, Option<Rating>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionRow {
    pub name: String,
    /// In the order of the stage's interviewers who submitted.
    pub cells: Vec<Cell>,
    pub disagreement: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageDebrief {
    pub position: u32,
    pub name: String,
    pub rows: Vec<CriterionRow>,
    pub overall: Vec<(String, Rating)>,
    pub overall_disagreement: bool,
    /// (interviewer, red flags they recorded), for those who recorded any.
    pub red_flags: Vec<(String, Vec<String>)>,
    /// (interviewer, concerns), for those who wrote any.
    pub concerns: Vec<(String, String)>,
}

/// How many overall recommendations of each kind the loop has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub strong_yes: usize,
    pub yes: usize,
    pub no: usize,
    pub strong_no: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debrief {
    /// Stages with at least one scorecard, in loop order.
    pub stages: Vec<StageDebrief>,
    pub tally: Tally,
}

fn apart(ratings: impl Iterator<Item = Rating>) -> bool {
    let scores: Vec<i64> = ratings.map(Rating::score).collect();
    match (scores.iter().max(), scores.iter().min()) {
        (Some(max), Some(min)) => max - min >= DISAGREEMENT_POINTS,
        _ => false,
    }
}

impl Debrief {
    pub fn build(l: &InterviewLoop, rubric: Option<&Rubric>, latest: &[Scorecard]) -> Debrief {
        let mut tally = Tally::default();
        let mut stages = Vec::new();
        for stage in &l.stages {
            let mut cards: Vec<&Scorecard> = latest
                .iter()
                .filter(|c| c.position == stage.position)
                .collect();
            if cards.is_empty() {
                continue;
            }
            // The panel's order, then anyone else who submitted (a former panel member).
            let rank = |c: &Scorecard| {
                stage
                    .interviewers
                    .iter()
                    .position(|u| *u == c.interviewer_id)
                    .unwrap_or(usize::MAX)
            };
            cards.sort_by_key(|c| (rank(c), c.interviewer_id.clone()));
            let stage_rubric = rubric.and_then(|r| r.stage(&stage.key));
            // The rubric's criteria in order, then any rated key it no longer has.
            let mut keys: Vec<(String, String)> = stage_rubric
                .map(|s| {
                    s.criteria
                        .iter()
                        .map(|c| (c.key.clone(), c.name.clone()))
                        .collect()
                })
                .unwrap_or_default();
            for card in &cards {
                for key in card
                    .body
                    .ratings
                    .keys()
                    .chain(card.body.not_assessed.iter())
                {
                    if !keys.iter().any(|(k, _)| k == key) {
                        keys.push((key.clone(), key.clone()));
                    }
                }
            }
            let rows = keys
                .into_iter()
                .map(|(key, name)| {
                    let cells: Vec<Cell> = cards
                        .iter()
                        .map(|c| (c.interviewer_id.clone(), c.body.ratings.get(&key).copied()))
                        .collect();
                    let disagreement = apart(cells.iter().filter_map(|(_, r)| *r));
                    CriterionRow {
                        name,
                        cells,
                        disagreement,
                    }
                })
                .collect();
            let overall: Vec<(String, Rating)> = cards
                .iter()
                .map(|c| (c.interviewer_id.clone(), c.body.overall))
                .collect();
            for (_, rating) in &overall {
                match rating {
                    Rating::StrongYes => tally.strong_yes += 1,
                    Rating::Yes => tally.yes += 1,
                    Rating::No => tally.no += 1,
                    Rating::StrongNo => tally.strong_no += 1,
                }
            }
            stages.push(StageDebrief {
                position: stage.position,
                name: stage.name.clone(),
                rows,
                overall_disagreement: apart(overall.iter().map(|(_, r)| *r)),
                overall,
                red_flags: cards
                    .iter()
                    .filter(|c| !c.body.red_flags.is_empty())
                    .map(|c| (c.interviewer_id.clone(), c.body.red_flags.clone()))
                    .collect(),
                concerns: cards
                    .iter()
                    .filter(|c| !c.body.concerns.trim().is_empty())
                    .map(|c| (c.interviewer_id.clone(), c.body.concerns.trim().to_string()))
                    .collect(),
            });
        }
        Debrief { stages, tally }
    }

    /// Where the panel disagrees: "System design: Clarifies requirements, overall".
    pub fn disagreements(&self) -> Vec<String> {
        self.stages
            .iter()
            .filter_map(|s| {
                let mut what: Vec<&str> = s
                    .rows
                    .iter()
                    .filter(|r| r.disagreement)
                    .map(|r| r.name.as_str())
                    .collect();
                if s.overall_disagreement {
                    what.push("overall");
                }
                (!what.is_empty()).then(|| format!("{}: {}", s.name, what.join(", ")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interview_loop::fixtures::sample_loop;
    use crate::domain::rubric::RubricSet;
    use crate::domain::scorecard::ScorecardBody;

    fn card(position: u32, who: &str, rating: Rating, overall: Rating) -> Scorecard {
        let rubrics = RubricSet::builtin();
        let stage = &rubrics.default_rubric().stages[position as usize - 1];
        let mut ratings: std::collections::BTreeMap<String, Rating> = stage
            .criteria
            .iter()
            .map(|c| (c.key.clone(), rating))
            .collect();
        let first = stage.criteria[0].key.clone();
        let mut not_assessed = std::collections::BTreeSet::new();
        if who == "UNA" {
            ratings.remove(&first);
            not_assessed.insert(first);
        }
        Scorecard {
            loop_id: 1,
            position,
            interviewer_id: who.into(),
            version: 1,
            body: ScorecardBody {
                ratings,
                not_assessed,
                red_flags: if who == "UB" {
                    vec![stage.red_flags[0].clone()]
                } else {
                    Vec::new()
                },
                overall,
                evidence: "e".into(),
                concerns: if who == "UB" {
                    "probe caching".into()
                } else {
                    String::new()
                },
            },
            submitted_at: 0,
        }
    }

    #[test]
    fn the_matrix_puts_each_criterion_against_each_interviewer_and_flags_two_points_apart() {
        let rubrics = RubricSet::builtin();
        let rubric = rubrics.default_rubric();
        let l = sample_loop();
        let cards = [
            card(1, "UA", Rating::Yes, Rating::Yes),
            card(2, "UB", Rating::StrongYes, Rating::StrongYes),
            card(2, "UHM", Rating::No, Rating::No),
            card(2, "UNA", Rating::StrongNo, Rating::StrongNo),
        ];
        let d = Debrief::build(&l, Some(rubric), &cards);
        assert_eq!(d.stages.len(), 2, "only stages with scorecards");
        let design = &d.stages[1];
        assert_eq!(design.rows.len(), rubric.stages[1].criteria.len());
        let first = &design.rows[0];
        assert_eq!(first.name, rubric.stages[1].criteria[0].name);
        // The panel's order: UB, UHM, then UNA (not on the panel).
        let who: Vec<&str> = first.cells.iter().map(|(u, _)| u.as_str()).collect();
        assert_eq!(who, ["UB", "UHM", "UNA"]);
        assert_eq!(first.cells[2].1, None, "not assessed");
        assert!(first.disagreement, "4 against 2");
        assert!(design.overall_disagreement);
        assert_eq!(design.red_flags.len(), 1);
        assert_eq!(
            design.concerns,
            [("UB".to_string(), "probe caching".to_string())]
        );
        assert!(
            !d.stages[0].overall_disagreement,
            "one voice cannot disagree"
        );
        assert_eq!(
            d.tally,
            Tally {
                strong_yes: 1,
                yes: 1,
                no: 1,
                strong_no: 1
            }
        );
        assert_eq!(d.disagreements().len(), 1);
        assert!(d.disagreements()[0].starts_with("System design: "));
        assert!(d.disagreements()[0].ends_with("overall"));
    }
}

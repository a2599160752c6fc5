//! Chapter 5: a loop from the ATS. An interview scheduled in the simulated Ashby becomes a loop
//! in Slack with nobody typing, the interview moves and the stage follows, and the scorecard
//! submitted in Slack lands back in Ashby as the interviewer's own feedback.

use super::print::{seen_by, step, title};
use super::{COORDINATOR, Demo, HIRING_MANAGER, Person, SCREENER};
use loopbot::clock::{Clock, SharedClock};
use slack_sim::ats::{AtsSim, SimApplication, SimAts, SimPerson};
use slack_sim::render_message;

const APPLICATION: &str = "app-grace";
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// The mapping file: the Ashby job runs the built-in rubric; its technical-screen interview is
/// the rubric's first stage, and its scorecard goes to the interview's feedback form.
pub(super) const MAPPING: &str = r#"
[[jobs]]
ats = "ashby"
job = "job-backend"
rubric = "senior-backend"

[[jobs.interviews]]
id = "int-tech-screen"
stage = "technical-screen"

[jobs.interviews.feedback]
form = "form-tech-screen"
overall = "overall_recommendation"
evidence = "what_they_said"
criteria = { trade-offs = "tradeoffs_score", mistakes = "mistakes_score" }
"#;

const ASHBY: Person = Person {
    id: "",
    name: "Ashby (the ATS)",
    tz: "UTC",
};

fn in_ashby(id: &str, p: &Person) -> SimPerson {
    let mut words = p.name.split(' ');
    SimPerson::new(id, words.next().unwrap_or(p.name), "", &p.email())
}

/// The simulated Ashby, with Grace Hopper's application (Harper hiring manager, Casey
/// coordinator) and no interview yet.
pub(super) fn simulated_ashby(clock: SharedClock) -> AtsSim {
    let ats = AtsSim::new(SimAts::Ashby, clock);
    ats.add_application(SimApplication {
        id: APPLICATION.into(),
        candidate_id: "cand-grace".into(),
        candidate_first: "Grace".into(),
        candidate_last: "Hopper".into(),
        job_id: "job-backend".into(),
        job_name: "Senior Backend Engineer".into(),
        hiring_manager: Some(in_ashby("u-harper", &HIRING_MANAGER)),
        recruiter: None,
        coordinator: Some(in_ashby("u-casey", &COORDINATOR)),
    });
    ats
}

impl Demo {
    pub(super) async fn loop_from_the_ats(&self) -> anyhow::Result<()> {
        title("5. From the ATS: a loop nobody typed");
        println!(
            "Loopbot polls the (simulated) Ashby every 2 minutes. The mapping file says which Ashby job runs which rubric, and which interview is which stage."
        );
        let now = self.clock.now_ms();
        let day = 24 * HOUR;
        let at = (now / day + 2) * day + 14 * HOUR;
        step("In Ashby, the recruiter schedules Grace Hopper's technical screen with Ines");
        let event = self.ats.schedule(
            APPLICATION,
            "int-tech-screen",
            "Technical screen",
            at,
            60,
            &[in_ashby("u-ines", &SCREENER)],
        );
        self.advance_to(now + 2 * MINUTE, "Loopbot's next poll of Ashby")
            .await?;
        let channel = self
            .sim
            .channels()
            .into_iter()
            .find(|c| c.name.starts_with("loop-grace-hopper"))
            .ok_or_else(|| anyhow::anyhow!("no loop channel for Grace Hopper"))?;
        println!(
            "\nNobody typed a command: #{} (private) is there, with Ines invited.",
            channel.name
        );
        let summary = self
            .summary(&channel.id)
            .ok_or_else(|| anyhow::anyhow!("no summary for Grace Hopper"))?;
        seen_by(
            &COORDINATOR,
            "the pinned summary of the new loop",
            &render_message(&self.sim, &summary, COORDINATOR.tz),
        );

        step("In Ashby, the screen moves one hour later");
        self.ats.move_interview(&event, at + HOUR, 60);
        let now = self.clock.now_ms();
        self.advance_to(now + 2 * MINUTE, "the next poll").await?;
        let summary = self
            .summary(&channel.id)
            .ok_or_else(|| anyhow::anyhow!("no summary for Grace Hopper"))?;
        seen_by(
            &SCREENER,
            "the summary: the stage moved with Ashby",
            &render_message(&self.sim, &summary, SCREENER.tz),
        );

        self.advance_to(at + 2 * HOUR + 10 * MINUTE, "the screen is over")
            .await?;
        step("Ines submits her scorecard in Slack");
        self.submit_scorecard(
            &SCREENER,
            &channel.id,
            "Technical screen",
            "3",
            "Walked through the queue she sharded, why, and what she would undo today.",
        )
        .await?;
        self.settle().await?;
        let written = self.ats.feedback();
        let feedback = written
            .first()
            .ok_or_else(|| anyhow::anyhow!("nothing was written back to Ashby"))?;
        let mut lines = vec![
            "applicationFeedback.submit, filed as Ines herself:".to_string(),
            format!(
                "form {}, application {}, user {}",
                feedback["formDefinitionId"].as_str().unwrap_or("?"),
                feedback["applicationId"].as_str().unwrap_or("?"),
                feedback["userId"].as_str().unwrap_or("?"),
            ),
        ];
        for field in feedback["feedbackForm"]["fieldSubmissions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            lines.push(format!(
                "  {} = {}",
                field["path"].as_str().unwrap_or("?"),
                field["value"]
            ));
        }
        seen_by(&ASHBY, "the scorecard come back", &lines.join("\n"));
        println!(
            "\nWritten once, by a durable job (`loopbot jobs` lists it); an outage only delays it, and a refusal is told to Casey with Ashby's reason. Greenhouse gets a private note instead. Set-up: docs/ats.md."
        );
        Ok(())
    }
}

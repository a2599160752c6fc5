//! Chapter 2: scorecards, blind by default: a rejected submission, a refused peek, a missing
//! stage's warning, and the hiring manager's full view.

use serde_json::Value;

use super::acts::{all_rated, field_errors};
use super::print::{seen_by, step, title};
use super::{CODER, Demo, HIRING_MANAGER, SCREENER, START_MS};
use loopbot::slack::ids;
use slack_sim::{render_message, render_view};

impl Demo {
    pub(super) async fn scorecards(&self, channel: &str) -> anyhow::Result<()> {
        title("2. Scorecards: blind by default");
        step(&format!(
            "{} presses \"Submit scorecard\" on the Technical screen rubric a day early",
            SCREENER.name
        ));
        let screen = self.rubric_of(channel, "Technical screen")?;
        let early = self
            .press(&SCREENER, channel, &screen, ids::SCORECARD_OPEN)
            .await?;
        seen_by(
            &SCREENER,
            "when the form opens",
            &render_view(&self.sim, &early, SCREENER.tz),
        );
        let screen_start = (START_MS / 1000 + 86_400 + 5 * 3600) * 1000;
        self.advance_to(screen_start - 30 * 60_000, "half an hour before the screen")
            .await?;
        if let Some(brief) = self
            .sim
            .dms_to(SCREENER.id)
            .into_iter()
            .find(|m| m.text.contains("is coming up"))
        {
            seen_by(
                &SCREENER,
                "her brief, by direct message",
                &render_message(&self.sim, &brief, SCREENER.tz),
            );
        }
        self.advance_to(screen_start + 30 * 60_000, "the technical screen is over")
            .await?;
        step(&format!("{} presses the button again", SCREENER.name));
        self.press(&SCREENER, channel, &screen, ids::SCORECARD_OPEN)
            .await?;
        let form = self.latest_modal(&SCREENER)?;
        seen_by(
            &SCREENER,
            "the scorecard form",
            &render_view(&self.sim, &form.view, SCREENER.tz),
        );

        step(&format!(
            "{} rates every criterion but writes almost no evidence, and submits",
            SCREENER.name
        ));
        let ratings = all_rated(&form.view, "4");
        let answer = self
            .slack
            .submit_view(
                SCREENER.id,
                &form.id,
                &ratings.clone().text("evidence", "Great."),
            )
            .await;
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        seen_by(&SCREENER, "the form stays open, with", &field_errors(&body));

        step(&format!(
            "{} adds the evidence and submits again",
            SCREENER.name
        ));
        let evidence = "Walked through the payments ledger they built: why they chose idempotency keys over exactly-once delivery, and the double-charge incident that taught them to.";
        let hand_off = "Probe how they handle backpressure: the answer on queue limits was thin.";
        self.slack
            .submit_view(
                SCREENER.id,
                &form.id,
                &ratings
                    .text("evidence", evidence)
                    .text("concerns", hand_off),
            )
            .await;
        self.settle().await?;
        if let Some(gate) = self
            .sim
            .dms_to(HIRING_MANAGER.id)
            .into_iter()
            .find(|m| m.text.contains("technical screen for"))
        {
            seen_by(
                &HIRING_MANAGER,
                "the screen is in: a direct message",
                &render_message(&self.sim, &gate, HIRING_MANAGER.tz),
            );
            step(&format!(
                "{} presses \"Continue the loop\"",
                HIRING_MANAGER.name
            ));
            let answer = self
                .press(&HIRING_MANAGER, &gate.channel, &gate, ids::SCREEN_CONTINUE)
                .await?;
            seen_by(
                &HIRING_MANAGER,
                "the answer",
                &render_view(&self.sim, &answer, HIRING_MANAGER.tz),
            );
        }
        if let Some(note) = self.sim.replies(channel, &screen.ts).into_iter().last() {
            seen_by(
                &HIRING_MANAGER,
                "a reply in the stage's thread (never who, never the scores)",
                &render_message(&self.sim, &note, HIRING_MANAGER.tz),
            );
        }

        step(&format!(
            "{}, who has not submitted anything, tries to peek at the scorecards",
            CODER.name
        ));
        let summary = self
            .summary(channel)
            .ok_or_else(|| anyhow::anyhow!("no summary"))?;
        let peek = self
            .press(&CODER, channel, &summary, ids::SCORECARDS_VIEW)
            .await?;
        seen_by(
            &CODER,
            "a refusal",
            &render_view(&self.sim, &peek, CODER.tz),
        );

        self.advance_to(
            screen_start + (2 * 3600 + 90 * 60) * 1000,
            "the coding interview is over",
        )
        .await?;
        step(&format!(
            "{} submits the Coding scorecard; System design, earlier in the rubric, is tomorrow",
            CODER.name
        ));
        self.submit_scorecard(&CODER, channel, "Coding", "2", "Solid API design, but retries were unbounded and the failure of the downstream call was never handled.").await?;
        self.settle().await?;
        let alarms = self
            .sim
            .messages(channel)
            .iter()
            .filter(|m| m.text.ends_with("has no feedback"))
            .count();
        println!(
            "\n(No alarm: {alarms} missing-stage warnings. A stage is missing only once its own feedback is due with none in.)"
        );
        let summary = self
            .summary(channel)
            .ok_or_else(|| anyhow::anyhow!("no summary"))?;
        seen_by(
            &CODER,
            "the pinned summary, edited in place (still blind)",
            &render_message(&self.sim, &summary, CODER.tz),
        );

        step(&format!(
            "{} presses \"View scorecards\"",
            HIRING_MANAGER.name
        ));
        let full = self
            .press(&HIRING_MANAGER, channel, &summary, ids::SCORECARDS_VIEW)
            .await?;
        seen_by(
            &HIRING_MANAGER,
            "the debrief matrix, then every scorecard in full",
            &render_view(&self.sim, &full, HIRING_MANAGER.tz),
        );
        Ok(())
    }
}

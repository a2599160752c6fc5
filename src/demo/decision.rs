//! Chapter 4: skipping a stage and deciding.

use serde_json::Value;

use super::acts::field_errors;
use super::print::{seen_by, step, title};
use super::{CODER, COORDINATOR, Demo, HIRING_MANAGER, SCREENER};
use slack_sim::client::FormValues;
use slack_sim::{render_message, render_view};

impl Demo {
    pub(super) async fn decision(&self, channel: &str) -> anyhow::Result<()> {
        title("4. Skipping a stage and deciding");
        step(&format!(
            "{} types `/loop skip system-design Dev was pulled into an incident; design was probed in the coding round`",
            HIRING_MANAGER.name
        ));
        if let Some(reply) = self.command(&HIRING_MANAGER, channel, "skip system-design Dev was pulled into an incident; design was probed in the coding round").await? {
            seen_by(&HIRING_MANAGER, "only for them", &reply);
        }
        self.settle().await?;
        self.show_message(&COORDINATOR, "a note in the channel", channel, true, |m| {
            m.text.contains("skipped")
        });

        step(&format!("{} types `/loop decide`", HIRING_MANAGER.name));
        self.command(&HIRING_MANAGER, channel, "decide").await?;
        let form = self.latest_modal(&HIRING_MANAGER)?;
        seen_by(
            &HIRING_MANAGER,
            "the decision form",
            &render_view(&self.sim, &form.view, HIRING_MANAGER.tz),
        );
        self.settle().await?;
        println!(
            "\n(Opening the form posted nothing to the channel: the missing stage is shown in the form.)"
        );

        step(&format!(
            "{} chooses Hire and submits without ticking the confirmation",
            HIRING_MANAGER.name
        ));
        let decision = FormValues::new()
            .option("outcome", "hire")
            .text("rationale", "Strong production ownership in the screen; the coding concerns are coachable and design was probed there.");
        let answer = self
            .slack
            .submit_view(HIRING_MANAGER.id, &form.id, &decision)
            .await;
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        seen_by(
            &HIRING_MANAGER,
            "the form stays open, with",
            &field_errors(&body),
        );

        step(&format!(
            "{} ticks the confirmation and submits",
            HIRING_MANAGER.name
        ));
        self.slack
            .submit_view(
                HIRING_MANAGER.id,
                &form.id,
                &decision.checked("confirm_missing", &["confirm"]),
            )
            .await;
        self.settle().await?;
        self.show_message(&CODER, "the decision in the channel", channel, true, |m| {
            m.text.starts_with("Decision for")
        });
        let summary = self
            .summary(channel)
            .ok_or_else(|| anyhow::anyhow!("no summary"))?;
        seen_by(
            &SCREENER,
            "the final summary: every recommendation revealed",
            &render_message(&self.sim, &summary, SCREENER.tz),
        );

        step(&format!(
            "{} types `/loop reopen The candidate asked to add the values interview after all`",
            HIRING_MANAGER.name
        ));
        if let Some(reply) = self
            .command(
                &HIRING_MANAGER,
                channel,
                "reopen The candidate asked to add the values interview after all",
            )
            .await?
        {
            seen_by(&HIRING_MANAGER, "only for them", &reply);
        }
        self.settle().await?;
        self.show_message(&COORDINATOR, "a note in the channel", channel, true, |m| {
            m.text.contains("reopened the loop")
        });
        println!(
            "\nOutcomes: Hire, No hire and Withdrawn are final (scorecards freeze, the channel is archived later); Hold keeps the loop open. A decided loop can be reopened while its channel is not archived."
        );
        Ok(())
    }
}

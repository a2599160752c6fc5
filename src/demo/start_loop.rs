//! Chapter 1: the coordinator starts a loop; the form's errors, the candidate channel, the
//! pinned summary and a rubric.

use serde_json::Value;

use super::acts::field_errors;
use super::print::{seen_by, step, title};
use super::{CODER, COORDINATOR, DESIGNER, Demo, HIRING_MANAGER, SCREENER, START_MS};
use slack_sim::client::FormValues;
use slack_sim::{render_blocks, render_message, render_view};

impl Demo {
    pub(super) async fn start_loop(&self) -> anyhow::Result<String> {
        title("1. Starting the loop");
        step(&format!(
            "{} types `/loop start Ada Lovelace` in #hiring",
            COORDINATOR.name
        ));
        self.command(&COORDINATOR, &self.hiring_channel, "start Ada Lovelace")
            .await?;
        let view = self.latest_modal(&COORDINATOR)?;
        seen_by(
            &COORDINATOR,
            "the start form",
            &render_view(&self.sim, &view.view, COORDINATOR.tz),
        );

        step(&format!(
            "{} submits without choosing a hiring manager",
            COORDINATOR.name
        ));
        let answer = self
            .slack
            .submit_view(COORDINATOR.id, &view.id, &FormValues::new())
            .await;
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        seen_by(
            &COORDINATOR,
            "the form stays open, with",
            &field_errors(&body),
        );

        step(&format!(
            "{} fills in the panel and times, leaving Values and collaboration unstaffed, and submits",
            COORDINATOR.name
        ));
        let first_day = START_MS / 1000 + 86_400 + 5 * 3600; // Tue 14:00 UTC
        let form = FormValues::new()
            .user("hiring_manager", HIRING_MANAGER.id)
            .users("panel:technical-screen", &[SCREENER.id])
            .date_time("time:technical-screen", first_day)
            .users("panel:system-design", &[DESIGNER.id])
            .date_time("time:system-design", first_day + 86_400)
            .users("panel:coding", &[CODER.id])
            // Out of the rubric's order: coding on the first day, before system design.
            .date_time("time:coding", first_day + 2 * 3600);
        let answer = self
            .slack
            .submit_view(COORDINATOR.id, &view.id, &form)
            .await;
        anyhow::ensure!(
            answer.text().await.unwrap_or_default().is_empty(),
            "the form was not accepted"
        );
        println!(
            "The modal closes at once: the loop and its Slack work are stored in one transaction."
        );
        let ran = self.run_worker().await?;
        println!(
            "The worker runs {ran} job(s): channel, invitations, topic, rubric messages, summary, pin, confirmation."
        );

        let channel = self
            .sim
            .channels()
            .into_iter()
            .find(|c| c.name.starts_with("loop-"))
            .ok_or_else(|| anyhow::anyhow!("no candidate channel was created"))?;
        step("The candidate channel");
        let members: Vec<String> = channel
            .members
            .iter()
            .map(|m| {
                self.sim
                    .user(m)
                    .map(|u| u.real_name)
                    .unwrap_or_else(|| m.clone())
            })
            .collect();
        println!(
            "#{} ({}), topic: {}",
            channel.name,
            if channel.is_private {
                "private"
            } else {
                "public"
            },
            channel.topic
        );
        println!("Members: {}", members.join(", "));
        for confirmation in self.sim.ephemerals_for(COORDINATOR.id) {
            seen_by(
                &COORDINATOR,
                "only for them, in #hiring",
                &render_blocks(&self.sim, &confirmation.blocks, COORDINATOR.tz),
            );
        }
        if let Some(summary) = self.summary(&channel.id) {
            seen_by(
                &HIRING_MANAGER,
                "the pinned summary",
                &render_message(&self.sim, &summary, HIRING_MANAGER.tz),
            );
        }
        if let Some(design) = self
            .sim
            .messages(&channel.id)
            .iter()
            .find(|m| m.text.contains("System design"))
        {
            seen_by(
                &DESIGNER,
                "the post for their stage, one phone screen",
                &render_message(&self.sim, design, DESIGNER.tz),
            );
            if let Some(detail) = self.sim.replies(&channel.id, &design.ts).first() {
                seen_by(
                    &DESIGNER,
                    "the full rubric, in the post's thread",
                    &render_message(&self.sim, detail, DESIGNER.tz),
                );
            }
        }
        self.show_message(
            &CODER,
            "a quiet note: the panel runs out of the rubric's order, which is no alarm",
            &channel.id,
            true,
            |m| m.text.contains("out of the rubric's order"),
        );
        println!(
            "\n({} messages in the channel: one rubric per stage, the summary and that note.)",
            self.sim.messages(&channel.id).len()
        );
        Ok(channel.id)
    }
}

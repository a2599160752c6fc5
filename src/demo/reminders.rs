//! Chapter 3: reminders by DM in each person's working hours, one escalation, and the App
//! Home.

use super::print::{seen_by, step, title};
use super::{COORDINATOR, DESIGNER, Demo, HIRING_MANAGER, START_MS};
use slack_sim::{render_blocks, render_message};

impl Demo {
    pub(super) async fn reminders(&self, channel: &str) -> anyhow::Result<()> {
        title("3. Reminders: by DM, in working hours, escalated once");
        // System design: Wed 14:00 UTC, 60 minutes, due 24 h after it ends (Thu 15:00 UTC).
        let design_at = START_MS + (2 * 86_400 + 5 * 3600) * 1000;
        self.advance_to(design_at - 30 * 60_000, "half an hour before system design")
            .await?;
        if let Some(brief) = self
            .sim
            .dms_to(DESIGNER.id)
            .into_iter()
            .find(|m| m.text.contains("is coming up"))
        {
            seen_by(
                &DESIGNER,
                "their brief, with the screen's hand-off note (never its scores)",
                &render_message(&self.sim, &brief, DESIGNER.tz),
            );
        }
        let thursday_morning = START_MS + (2 * 86_400 + 18 * 3600 + 1800) * 1000; // Thu 03:30 UTC
        self.advance_to(thursday_morning, "09:00 in Kolkata, before anything is due")
            .await?;
        if let Some(nudge) = self
            .sim
            .dms_to(DESIGNER.id)
            .into_iter()
            .find(|m| m.blocks.to_string().contains("How did"))
        {
            seen_by(
                &DESIGNER,
                "one friendly nudge, in working hours",
                &render_message(&self.sim, &nudge, DESIGNER.tz),
            );
        }
        let design_due = START_MS + (3 * 86_400 + 6 * 3600) * 1000;
        self.advance_to(design_due + 60_000, "Dev's System design scorecard is due")
            .await?;
        println!(
            "It is 20:31 in Kolkata, outside Dev's working hours (09:00-18:00): the reminder waits."
        );
        println!(
            "Direct messages to Dev so far: {} (the brief and the nudge)",
            self.sim.dms_to(DESIGNER.id).len()
        );
        let kolkata_morning = START_MS + (3 * 86_400 + 18 * 3600 + 1800) * 1000; // Fri 03:30 UTC
        self.advance_to(kolkata_morning, "09:00 in Kolkata").await?;
        if let Some(reminder) = self.sim.dms_to(DESIGNER.id).last() {
            seen_by(
                &DESIGNER,
                "a direct message",
                &render_message(&self.sim, reminder, DESIGNER.tz),
            );
        }
        self.advance_to(
            kolkata_morning + 86_400_000,
            "a day later, still nothing from Dev",
        )
        .await?;
        println!(
            "Dev gets a second reminder. After {} reminders the hiring manager is told, once, in their own working hours.",
            self.state.settings.escalate_after
        );
        let london_morning = START_MS + (7 * 86_400) * 1000; // Mon 09:00 UTC: weekends wait
        self.advance_to(london_morning, "Monday 09:00 in London (weekends wait)")
            .await?;
        if let Some(escalation) = self
            .sim
            .dms_to(HIRING_MANAGER.id)
            .into_iter()
            .find(|m| m.text.contains("still missing"))
        {
            seen_by(
                &HIRING_MANAGER,
                "an escalation",
                &render_message(&self.sim, &escalation, HIRING_MANAGER.tz),
            );
        }
        step(&format!("{} opens Loopbot's App Home", DESIGNER.name));
        self.slack.event("EvDemoHome", serde_json::json!({"type": "app_home_opened", "user": DESIGNER.id, "channel": "D0", "tab": "home", "event_ts": "1.0"})).await;
        self.settle().await?;
        if let Some(home) = self.sim.home_of(DESIGNER.id) {
            seen_by(
                &DESIGNER,
                "their App Home",
                &render_blocks(&self.sim, &home["blocks"], DESIGNER.tz),
            );
        }
        let summary = self
            .summary(channel)
            .ok_or_else(|| anyhow::anyhow!("no summary"))?;
        seen_by(
            &COORDINATOR,
            "the pinned summary",
            &render_message(&self.sim, &summary, COORDINATOR.tz),
        );
        Ok(())
    }
}

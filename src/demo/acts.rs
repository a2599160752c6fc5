//! What the people in the demo do in Slack (type commands, press buttons, submit scorecards)
//! and what they find there (modals, messages, the pinned summary, a form's errors).

use serde_json::Value;

use super::print::seen_by;
use super::{Demo, Person};
use loopbot::slack::ids;
use slack_sim::client::FormValues;
use slack_sim::{SimMessage, render_blocks, render_message};

impl Demo {
    pub(super) async fn command(
        &self,
        person: &Person,
        channel: &str,
        text: &str,
    ) -> anyhow::Result<Option<String>> {
        let answer = self.slack.command(person.id, channel, text).await;
        anyhow::ensure!(
            answer.status().is_success(),
            "the command was refused: {}",
            answer.status()
        );
        let body = answer.text().await.unwrap_or_default();
        if body.is_empty() {
            return Ok(None);
        }
        let value: Value = serde_json::from_str(&body)?;
        Ok(Some(render_blocks(&self.sim, &value["blocks"], person.tz)))
    }

    pub(super) fn latest_modal(&self, person: &Person) -> anyhow::Result<slack_sim::SimView> {
        self.sim
            .views_of(person.id)
            .into_iter()
            .last()
            .ok_or_else(|| anyhow::anyhow!("no modal opened"))
    }

    /// Presses a button in a message; returns the modal that opened for `person`.
    pub(super) async fn press(
        &self,
        person: &Person,
        channel: &str,
        message: &SimMessage,
        action_id: &str,
    ) -> anyhow::Result<Value> {
        let value = find_button(&message.blocks, action_id)
            .ok_or_else(|| anyhow::anyhow!("no {action_id} button"))?;
        self.slack
            .press_button(person.id, channel, &message.ts, action_id, &value)
            .await;
        Ok(self.latest_modal(person)?.view)
    }

    /// Shows `person` the first (or, with `newest`, the last) channel message matching `which`.
    pub(super) fn show_message(
        &self,
        person: &Person,
        what: &str,
        channel: &str,
        newest: bool,
        which: impl Fn(&SimMessage) -> bool,
    ) {
        let messages = self.sim.messages(channel);
        let found = if newest {
            messages.iter().rev().find(|m| which(m))
        } else {
            messages.iter().find(|m| which(m))
        };
        if let Some(message) = found {
            seen_by(person, what, &render_message(&self.sim, message, person.tz));
        }
    }

    pub(super) fn summary(&self, channel: &str) -> Option<SimMessage> {
        let pins = self.sim.pins(channel);
        self.sim
            .messages(channel)
            .into_iter()
            .find(|m| pins.contains(&m.ts))
    }

    pub(super) fn rubric_of(&self, channel: &str, stage: &str) -> anyhow::Result<SimMessage> {
        self.sim
            .messages(channel)
            .into_iter()
            .find(|m| {
                m.text.starts_with(|c: char| c.is_ascii_digit())
                    && m.text.contains(&format!(". {stage}"))
            })
            .ok_or_else(|| anyhow::anyhow!("no rubric message for {stage}"))
    }

    /// `person` presses the stage's scorecard button and submits every criterion at `rating`.
    pub(super) async fn submit_scorecard(
        &self,
        person: &Person,
        channel: &str,
        stage: &str,
        rating: &str,
        evidence: &str,
    ) -> anyhow::Result<()> {
        let message = self.rubric_of(channel, stage)?;
        self.press(person, channel, &message, ids::SCORECARD_OPEN)
            .await?;
        let form = self.latest_modal(person)?;
        let answer = self
            .slack
            .submit_view(
                person.id,
                &form.id,
                &all_rated(&form.view, rating).text("evidence", evidence),
            )
            .await;
        anyhow::ensure!(
            answer.text().await.unwrap_or_default().is_empty(),
            "the scorecard was not accepted"
        );
        Ok(())
    }
}

/// Every rating input of a scorecard form set to `rating`.
pub(super) fn all_rated(view: &Value, rating: &str) -> FormValues {
    let mut form = FormValues::new();
    for block in view["blocks"].as_array().into_iter().flatten() {
        if let Some(id) = block["block_id"]
            .as_str()
            .filter(|id| id.starts_with("crit:") || *id == "overall")
        {
            form = form.option(id, rating);
        }
    }
    form
}

fn find_button(blocks: &Value, action_id: &str) -> Option<String> {
    match blocks {
        Value::Object(map) if map.get("action_id").and_then(Value::as_str) == Some(action_id) => {
            map.get("value").and_then(Value::as_str).map(str::to_string)
        }
        Value::Object(map) => map.values().find_map(|v| find_button(v, action_id)),
        Value::Array(items) => items.iter().find_map(|v| find_button(v, action_id)),
        _ => None,
    }
}

pub(super) fn field_errors(body: &Value) -> String {
    body["errors"]
        .as_object()
        .map(|e| {
            e.iter()
                .map(|(field, msg)| {
                    format!("  next to `{field}`: {}", msg.as_str().unwrap_or_default())
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_else(|| "no errors?".into())
}

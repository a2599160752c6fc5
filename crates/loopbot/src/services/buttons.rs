//! A press of one of Loopbot's buttons ([`ids::BUTTONS`]). Its value is read back and what it
//! names is checked first: a press Loopbot cannot act on (an old message whose value no longer
//! reads, a loop or stage that is gone, a purged loop) is told so in a notice and changes
//! nothing. Then the button's use case runs. Every press is answered: with a form, or with a
//! notice saying what happened.

use anyhow::Context;

use crate::db;
use crate::domain::button::{self, Stale};
use crate::error::{AppError, AppResult};
use crate::services::{decide, notice, nudges, panel, reminders, scorecards, screen_gate, skips};
use crate::slack::ids::{self, Pressed, ValueKind};
use crate::slack::payloads::SubmittedView;
use crate::slack::views::notice_modal;
use crate::slack::{InteractionReply, Modal};
use crate::state::AppState;

/// One press, as Slack delivered it.
pub struct Press<'a> {
    pub user: &'a str,
    pub action_id: &'a str,
    pub value: &'a str,
    /// Slack sends one with every press; a modal opens with it.
    pub trigger_id: Option<&'a str>,
    /// Where the person is told if the modal cannot be opened.
    pub response_url: Option<&'a str>,
    /// The modal the button is in, if it is in one.
    pub view: Option<&'a SubmittedView>,
}

/// What a button leads to: a form, a few words in a notice, or the modal it is in, updated.
enum Answer {
    Form(Modal),
    Text(String),
    Updated,
}

/// Answers a press of the button `kind` says how to read.
pub async fn answer(state: &AppState, press: &Press<'_>, kind: ValueKind) -> InteractionReply {
    let title = title(press.action_id);
    let result = match checked(state, kind, press.value).await {
        Ok(pressed) => run(state, press, pressed).await,
        Err(e) => Err(e),
    };
    let text = match result {
        Ok(Answer::Updated) => return InteractionReply::Ack,
        Ok(Answer::Form(modal)) => {
            return InteractionReply::Modal(Modal {
                response_url: press.response_url.map(str::to_string),
                ..modal
            });
        }
        Ok(Answer::Text(text)) => text,
        Err(e) => {
            e.log(title);
            e.message().to_string()
        }
    };
    // A page button inside the scorecards modal: the notice takes the modal's place.
    if let (ValueKind::Page, Some(view)) = (kind, press.view) {
        match state
            .slack_inline
            .update_view(&view.id, None, notice_modal(title, &text))
            .await
        {
            Ok(_) => return InteractionReply::Ack,
            Err(e) => tracing::warn!(error = %e, "could not show a notice in a modal"),
        }
    }
    InteractionReply::Modal(Modal {
        response_url: press.response_url.map(str::to_string),
        ..notice(press.trigger_id.unwrap_or_default(), title, &text)
    })
}

/// A press of a button this Loopbot does not have, on a message (one left by an older version):
/// told so, nothing else. Presses inside a modal or the Home tab are left alone: the forms'
/// own menus and inputs come through there.
pub fn retired(press: &Press<'_>) -> Option<InteractionReply> {
    if press.view.is_some() || ids::button_kind(press.action_id).is_some() {
        return None;
    }
    let trigger = press.trigger_id?;
    tracing::debug!(action_id = press.action_id, "a press of a retired button");
    Some(InteractionReply::Modal(Modal {
        response_url: press.response_url.map(str::to_string),
        ..notice(trigger, title(press.action_id), Stale::OldMessage.message())
    }))
}

/// The press read back, and what it names still there: the loop, not purged, and the stage.
async fn checked(state: &AppState, kind: ValueKind, value: &str) -> AppResult<Pressed> {
    let pressed = kind.parse(value).ok_or(Stale::OldMessage)?;
    let loop_id = pressed.loop_id();
    let found = db::loops::get(&state.db, loop_id)
        .await
        .context("could not load the loop a button names")?;
    let purged = match &found {
        Some(_) => db::purge::is_purged(&state.db, loop_id)
            .await
            .context("could not look up whether a loop is purged")?
            .unwrap_or(false),
        None => false,
    };
    button::check(found.as_ref().map(|l| (l, purged)), pressed.stage())?;
    Ok(pressed)
}

/// The button's use case.
async fn run(state: &AppState, press: &Press<'_>, pressed: Pressed) -> AppResult<Answer> {
    let user = press.user;
    let trigger = press.trigger_id.unwrap_or_default();
    let form = |r: AppResult<Modal>| r.map(Answer::Form);
    let text = |r: AppResult<String>| r.map(Answer::Text);
    match (press.action_id, pressed) {
        (ids::SCORECARDS_PAGE, Pressed::Page(l, page)) => {
            let Some(view) = press.view else {
                return Err(Stale::OldMessage.into());
            };
            scorecards::turn_page(state, user, &view.id, l, page as usize).await?;
            Ok(Answer::Updated)
        }
        (ids::SCORECARD_OPEN, Pressed::Stage(l, p)) => {
            form(scorecards::open(state, user, trigger, l, p).await)
        }
        (ids::STAGE_SKIP, Pressed::Stage(l, p)) => {
            form(skips::open_skip_form(state, user, trigger, l, p).await)
        }
        (ids::STAGE_REMIND, Pressed::Stage(l, p)) => {
            text(nudges::remind_stage(state, user, l, p).await)
        }
        (ids::NOT_RUN, Pressed::Stage(l, p)) => text(reminders::not_run(state, user, l, p).await),
        (ids::PANEL_OPEN, Pressed::Loop(l)) => {
            form(panel::open_from_button(state, user, trigger, l).await)
        }
        (ids::SCORECARDS_VIEW, Pressed::Loop(l)) => {
            form(scorecards::view(state, user, trigger, l).await)
        }
        (ids::SCREEN_CONTINUE, Pressed::Loop(l)) => {
            text(screen_gate::continue_loop(state, user, l).await)
        }
        (ids::SCREEN_STOP | ids::DECIDE_OPEN, Pressed::Loop(l)) => {
            form(decide::open_from_button(state, user, trigger, l).await)
        }
        // A button whose value kind and action disagree: only a change to `ids::BUTTONS`
        // without one here could cause it.
        _ => Err(AppError::internal(anyhow::anyhow!(
            "button {} has no use case for {pressed:?}",
            press.action_id
        ))),
    }
}

/// The notice's title: what the person was doing.
fn title(action_id: &str) -> &'static str {
    match action_id {
        ids::SCORECARD_OPEN => "Scorecard",
        ids::SCORECARDS_VIEW | ids::SCORECARDS_PAGE => "Scorecards",
        ids::STAGE_SKIP => "Skip a stage",
        ids::STAGE_REMIND => "Remind",
        ids::NOT_RUN => "Reminders",
        ids::PANEL_OPEN => "Change the panel",
        ids::SCREEN_CONTINUE => "Continue the loop",
        ids::SCREEN_STOP | ids::DECIDE_OPEN => "Record the decision",
        _ => "Loopbot",
    }
}

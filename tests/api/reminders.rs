//! Overdue feedback: due times, working hours in each person's time zone, cadence, one
//! escalation, stopping, exactly-once across restarts, and the App Home.

use std::time::Duration;

use loopbot::clock::Clock;
use loopbot::slack::ids::{NOT_RUN, PANEL_OPEN, SCORECARD_OPEN};
use serde_json::json;
use slack_sim::client::FormValues;

use crate::helpers::*;

const MINUTE: u64 = 60;
const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

/// Stage 1 (Ines, Berlin) is interviewed Tue 24 Nov 09:00 UTC for 30 minutes: with the
/// default 24 h, its feedback is due Wed 25 Nov 09:30 UTC (10:30 in Berlin).
fn screen_due_ms() -> i64 {
    START_MS + (DAY as i64 + 30 * 60) * 1000 + DAY as i64 * 1000
}

fn advance_to(world: &World, at_ms: i64) {
    let now = world.clock.now_ms();
    assert!(at_ms >= now);
    world
        .clock
        .advance(Duration::from_millis((at_ms - now) as u64));
}

fn reminders_to(world: &World, user: &str) -> Vec<slack_sim::SimMessage> {
    world
        .sim
        .dms_to(user)
        .into_iter()
        .filter(|m| m.text.contains("is overdue"))
        .collect()
}

/// Escalations about the Technical screen (stage 1).
fn escalations_to(world: &World, user: &str) -> Vec<slack_sim::SimMessage> {
    world
        .sim
        .dms_to(user)
        .into_iter()
        .filter(|m| m.text.contains("still missing after") && m.text.contains("Technical screen"))
        .collect()
}

#[tokio::test]
async fn reminders_start_when_feedback_is_due_repeat_on_cadence_and_escalate_once() {
    let world = World::new().await;
    // Every day a working day here: weekends are the subject of their own test.
    let app = world
        .spawn_app_with(&[("LOOPBOT_WORK_DAYS", "always")])
        .await;
    provisioned(&world, &app).await;

    advance_to(&world, screen_due_ms() - MINUTE as i64 * 1000);
    app.run_jobs().await;
    assert!(reminders_to(&world, SCREENER).is_empty(), "not due yet");

    world.clock.advance(Duration::from_secs(2 * MINUTE));
    app.run_jobs().await;
    let first = reminders_to(&world, SCREENER);
    assert_eq!(first.len(), 1);
    assert!(first[0].text.contains("Technical screen"));
    assert_eq!(
        button(&first[0].blocks, SCORECARD_OPEN).unwrap().1,
        "Submit scorecard"
    );
    assert_eq!(
        button(&first[0].blocks, NOT_RUN).unwrap().1,
        "I didn't run this interview"
    );
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert!(
        summary(&world)
            .blocks
            .to_string()
            .contains("due: reminders are going out")
    );

    world.clock.advance(Duration::from_secs(23 * HOUR));
    app.run_jobs().await;
    assert_eq!(
        reminders_to(&world, SCREENER).len(),
        1,
        "every 24 h, not sooner"
    );
    assert!(escalations_to(&world, HIRING_MANAGER).is_empty());

    world.clock.advance(Duration::from_secs(HOUR));
    app.run_jobs().await;
    assert_eq!(reminders_to(&world, SCREENER).len(), 2);
    let escalated = escalations_to(&world, HIRING_MANAGER);
    assert_eq!(
        escalated.len(),
        1,
        "after 2 reminders, the hiring manager is told"
    );
    assert!(
        escalated[0].text.contains(&format!("<@{SCREENER}>"))
            && escalated[0].text.contains("Technical screen")
    );
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert!(summary(&world).blocks.to_string().contains("*overdue*"));

    for _ in 0..3 {
        world.clock.advance(Duration::from_secs(DAY));
        app.run_jobs().await;
    }
    assert_eq!(reminders_to(&world, SCREENER).len(), 5, "reminders go on");
    assert_eq!(
        escalations_to(&world, HIRING_MANAGER).len(),
        1,
        "the escalation happens once"
    );
}

#[tokio::test]
async fn reminders_wait_for_working_hours_in_the_recipients_own_time_zone() {
    for (hours, expected_wait) in [("09:00-18:00", true), ("always", false)] {
        let world = World::new().await;
        let app = world.spawn_app_with(&[("LOOPBOT_WORK_HOURS", hours)]).await;
        app.slack
            .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
            .await;
        // Coding with Cody (Los Angeles), Mon 09:00 UTC, 90 minutes: due Tue 10:30 UTC,
        // which is 02:30 in Los Angeles.
        let form = FormValues::new()
            .user("hiring_manager", HIRING_MANAGER)
            .users("panel:coding", &[CODER])
            .date_time("time:coding", START_MS / 1000);
        app.slack
            .submit_view(COORDINATOR, &latest_view(&world, COORDINATOR).id, &form)
            .await;
        // (The form itself asks Slack who Cody is; the reminder a day later asks again.)
        let coder_looked_up = |world: &World| {
            world
                .sim
                .calls()
                .into_iter()
                .filter(|c| c.method == "users.info" && c.params["user"] == CODER)
                .count()
        };
        let at_start = coder_looked_up(&world);
        app.run_jobs().await;
        let due = START_MS + (DAY + 90 * MINUTE) as i64 * 1000;
        advance_to(&world, due + 60_000);
        app.run_jobs().await;
        if !expected_wait {
            assert_eq!(reminders_to(&world, CODER).len(), 1, "{hours}: at once");
            continue;
        }
        assert!(
            reminders_to(&world, CODER).is_empty(),
            "02:31 in Los Angeles: wait"
        );
        // 09:00 in Los Angeles is 17:00 UTC.
        let la_morning = START_MS + (DAY + 8 * HOUR) as i64 * 1000;
        advance_to(&world, la_morning - 60_000);
        app.run_jobs().await;
        assert!(
            reminders_to(&world, CODER).is_empty(),
            "08:59 in Los Angeles: still waiting"
        );
        advance_to(&world, la_morning);
        app.run_jobs().await;
        assert_eq!(reminders_to(&world, CODER).len(), 1, "09:00 in Los Angeles");
        assert_eq!(
            coder_looked_up(&world) - at_start,
            1,
            "the time zone is looked up once and cached"
        );
    }
}

#[tokio::test]
async fn submitting_stops_the_reminders_at_once() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    advance_to(&world, screen_due_ms());
    app.run_jobs().await;
    assert_eq!(reminders_to(&world, SCREENER).len(), 1);
    submit_stage(&world, &app, SCREENER, 1, "3").await;
    for _ in 0..4 {
        world.clock.advance(Duration::from_secs(DAY));
        app.run_jobs().await;
    }
    assert_eq!(reminders_to(&world, SCREENER).len(), 1);
    assert!(escalations_to(&world, HIRING_MANAGER).is_empty());
}

#[tokio::test]
async fn unscheduled_stages_are_not_chased() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    for _ in 0..30 {
        world.clock.advance(Duration::from_secs(DAY));
        app.run_jobs().await;
    }
    assert!(
        reminders_to(&world, CODER).is_empty(),
        "coding has no interview time"
    );
}

#[tokio::test]
async fn overlapping_sweeps_and_a_restart_never_send_a_reminder_twice() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    advance_to(&world, screen_due_ms());
    let (a, b) = tokio::join!(
        loopbot::services::reminders::sweep(&app.state),
        loopbot::services::reminders::sweep(&app.state)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "one sweep claims it");
    // The process stops before the reminder is sent.
    app.stop().await;
    let app = world.spawn_app().await;
    app.run_jobs().await;
    app.run_jobs().await;
    assert_eq!(reminders_to(&world, SCREENER).len(), 1);
    let queued = app
        .count("SELECT COUNT(*) FROM jobs WHERE kind = 'reminder'")
        .await;
    assert_eq!(queued, 1);
}

#[tokio::test]
async fn a_failed_reminder_is_retried_and_still_sent_once() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    advance_to(&world, screen_due_ms());
    world
        .sim
        .inject_fault("chat.postMessage", slack_sim::Fault::Http(503));
    app.run_jobs().await;
    assert!(reminders_to(&world, SCREENER).is_empty());
    world.clock.advance(Duration::from_secs(30));
    app.run_jobs().await;
    assert_eq!(reminders_to(&world, SCREENER).len(), 1);
}

/// A reminder is a post too: while the workspace's posts are spent (by other channels), it
/// waits unclaimed, and goes out once when the minute moves on.
#[tokio::test]
async fn a_reminder_waits_unclaimed_while_the_workspaces_posts_are_spent() {
    let world = World::new().await;
    let app = world.spawn_paced_app().await;
    start_standard_loop(&world, &app).await;
    run_jobs_every(&world, &app, 120, Duration::from_millis(250)).await;
    advance_to(&world, screen_due_ms());
    let others = spend_the_workspaces_posts(&app).await;
    assert!(others > 250 && others <= 300, "{others} posts elsewhere");
    let claims = || claims_of(&app, "reminder");
    run_jobs_every(&world, &app, 25, Duration::from_secs(2)).await;
    assert_eq!(
        claims(),
        0,
        "never claimed while the workspace's posts are spent"
    );
    assert!(reminders_to(&world, SCREENER).is_empty());
    world.clock.advance(Duration::from_secs(15));
    run_jobs_every(&world, &app, 8, Duration::from_millis(500)).await;
    assert_eq!(
        claims(),
        1,
        "claimed once, when the workspace's minute moved on"
    );
    assert_eq!(reminders_to(&world, SCREENER).len(), 1);
}

#[tokio::test]
async fn sqlite_only_the_sweep_query_uses_its_index() {
    let world = World::new().await;
    if world.on_postgres() {
        return; // SQLite's query plan.
    }
    let app = world.spawn_app().await;
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN {}",
        loopbot::db::reminders::DUE_SQL
    )))
    .bind(0_i64)
    .bind(10_i64)
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    let detail: Vec<String> = plan.into_iter().map(|r| r.3).collect();
    assert!(
        detail
            .iter()
            .any(|d| d.contains("USING INDEX reminders_due")),
        "{detail:?}"
    );
    assert!(
        !detail
            .iter()
            .any(|d| d.starts_with("SCAN reminders") && !d.contains("INDEX")),
        "{detail:?}"
    );
}

#[tokio::test]
async fn i_did_not_run_this_interview_stops_reminders_and_tells_the_coordinator() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    advance_to(&world, screen_due_ms());
    app.run_jobs().await;
    let reminder = reminders_to(&world, SCREENER).remove(0);
    let (value, _) = button(&reminder.blocks, NOT_RUN).unwrap();
    let dm = world.sim.dm_channel_of(SCREENER).unwrap();
    app.slack
        .press_button(SCREENER, &dm, &reminder.ts, NOT_RUN, &value)
        .await;
    assert!(
        latest_view(&world, SCREENER)
            .view
            .to_string()
            .contains("Reminders for *Technical screen* have stopped")
    );
    app.run_jobs().await;
    let notices: Vec<_> = world
        .sim
        .dms_to(COORDINATOR)
        .into_iter()
        .filter(|m| m.text.contains("did not run"))
        .collect();
    assert_eq!(notices.len(), 1);
    let (loop_value, label) = button(&notices[0].blocks, PANEL_OPEN).unwrap();
    assert_eq!(label, "Change the panel");
    let coord_dm = world.sim.dm_channel_of(COORDINATOR).unwrap();
    app.slack
        .press_button(
            COORDINATOR,
            &coord_dm,
            &notices[0].ts,
            PANEL_OPEN,
            &loop_value,
        )
        .await;
    assert_eq!(
        latest_view(&world, COORDINATOR).view["callback_id"],
        "panel"
    );
    for _ in 0..3 {
        world.clock.advance(Duration::from_secs(DAY));
        app.run_jobs().await;
    }
    assert_eq!(reminders_to(&world, SCREENER).len(), 1, "no more reminders");
}

#[tokio::test]
async fn the_app_home_lists_what_you_owe_and_the_loops_you_run_and_stays_current() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let opened = |user: &str| json!({"type": "app_home_opened", "user": user, "channel": "D0", "tab": "home", "event_ts": "1.0"});
    app.slack.event("EvH1", opened(SCREENER)).await;
    app.slack.event("EvH2", opened(COORDINATOR)).await;
    app.run_jobs().await;
    let home = world.sim.home_of(SCREENER).expect("published").to_string();
    assert!(
        home.contains("Your scorecards")
            && home.contains("Technical screen")
            && home.contains("Values and collaboration"),
        "{home}"
    );
    assert!(home.contains("Submit scorecard"));
    assert!(
        home.contains(&format!("<!date^{}^", screen_due_ms() / 1000)),
        "due time shown"
    );
    let coordinator = world.sim.home_of(COORDINATOR).unwrap().to_string();
    assert!(
        coordinator.contains("Loops you run") && coordinator.contains("Ada Lovelace"),
        "{coordinator}"
    );

    submit_stage(&world, &app, SCREENER, 1, "3").await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    let home = world.sim.home_of(SCREENER).unwrap().to_string();
    assert!(
        !home.contains("Technical screen"),
        "refreshed after the submission: {home}"
    );
    assert!(home.contains("Values and collaboration"));
    let coordinator = world.sim.home_of(COORDINATOR).unwrap().to_string();
    assert!(
        coordinator.contains("1. Technical screen · submitted"),
        "{coordinator}"
    );

    // A new loop with the screener on its panel shows up on their Home without reopening it.
    app.slack
        .command(COORDINATOR, &world.hiring_channel, "start Grace Hopper")
        .await;
    let form = FormValues::new()
        .user("hiring_manager", HIRING_MANAGER)
        .users("panel:coding", &[SCREENER]);
    app.slack
        .submit_view(COORDINATOR, &latest_view(&world, COORDINATOR).id, &form)
        .await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert!(
        world
            .sim
            .home_of(SCREENER)
            .unwrap()
            .to_string()
            .contains("Grace Hopper")
    );
}

#[tokio::test]
async fn overdue_items_come_first_on_the_app_home() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    // The hiring manager is also on the System design panel; let it go overdue.
    let design_due = START_MS + (2 * DAY + HOUR + DAY) as i64 * 1000;
    advance_to(&world, design_due);
    app.run_jobs().await;
    world.clock.advance(Duration::from_secs(DAY));
    app.run_jobs().await;
    app.slack.event("EvH3", json!({"type": "app_home_opened", "user": HIRING_MANAGER, "channel": "D0", "tab": "home", "event_ts": "1.0"})).await;
    app.run_jobs().await;
    let home = world.sim.home_of(HIRING_MANAGER).unwrap();
    let first_item = home["blocks"][1].to_string();
    assert!(
        first_item.contains("System design") && first_item.contains("overdue"),
        "{first_item}"
    );
    let text = home.to_string();
    let running = &text[text.find("Loops you run").unwrap()..];
    assert!(running.contains("*overdue*"), "{running}");
}

#[tokio::test]
async fn loop_status_in_the_channel_shows_overdue_like_the_pinned_summary() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    // Two reminders a day apart, then the escalation: the screen is overdue.
    advance_to(&world, screen_due_ms() + MINUTE as i64 * 1000);
    app.run_jobs().await;
    world.clock.advance(Duration::from_secs(DAY));
    app.run_jobs().await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert_eq!(escalations_to(&world, HIRING_MANAGER).len(), 1);
    assert!(summary(&world).blocks.to_string().contains("*overdue*"));

    let channel = loop_channel(&world);
    let status: serde_json::Value = app
        .slack
        .command(COORDINATOR, &channel.id, "status")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["response_type"], "ephemeral");
    let shown = status["blocks"].to_string();
    assert!(shown.contains("*overdue*"), "{shown}");
    assert_eq!(
        status["blocks"],
        summary(&world).blocks,
        "the status is the pinned summary, as it stands"
    );
}

#[tokio::test]
async fn civil_reminders_skip_weekends_stop_after_the_last_and_escalate_to_both_owners() {
    let world = World::new().await;
    let app = world
        .spawn_app_with(&[
            ("LOOPBOT_REMIND_MAX", "3"),
            NO_BRIEF_OR_NUDGE[0],
            NO_BRIEF_OR_NUDGE[1],
        ])
        .await;
    provisioned(&world, &app).await;
    // Due Wed 25 Nov; reminders Wed, Thu, Fri; Saturday and Sunday are not working days.
    advance_to(&world, screen_due_ms() + MINUTE as i64 * 1000);
    app.run_jobs().await;
    for _ in 0..4 {
        world.clock.advance(Duration::from_secs(DAY));
        app.run_jobs().await;
    }
    // Now Sun 29 Nov: three reminders (Wed, Thu, Fri), none on Saturday or Sunday.
    let reminders = reminders_to(&world, SCREENER);
    assert_eq!(reminders.len(), 3, "the last one, and no weekend");
    let times: Vec<f64> = reminders
        .iter()
        .map(|m| m.ts.parse::<f64>().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[1] - w[0] >= 24.0 * 3600.0),
        "never closer than LOOPBOT_REMIND_EVERY: {times:?}"
    );
    // A week more (owners hear on their own working days): nothing else for the interviewer.
    for _ in 0..7 {
        world.clock.advance(Duration::from_secs(DAY));
        app.run_jobs().await;
    }
    assert_eq!(reminders_to(&world, SCREENER).len(), 3);
    // Into the coordinator's working hours on a working day (Monday, after 09:00 in New York).
    world.clock.advance(Duration::from_secs(DAY + 6 * HOUR));
    app.run_jobs().await;
    // The escalation (after 2) reached both owners, with what they can do about it.
    for owner in [HIRING_MANAGER, COORDINATOR] {
        let escalated = escalations_to(&world, owner);
        assert_eq!(escalated.len(), 1, "{owner} is told once");
        for action in [
            loopbot::slack::ids::STAGE_REMIND,
            PANEL_OPEN,
            loopbot::slack::ids::STAGE_SKIP,
        ] {
            assert!(
                button(&escalated[0].blocks, action).is_some(),
                "{owner}: {action}"
            );
        }
        let ended: Vec<_> = world
            .sim
            .dms_to(owner)
            .into_iter()
            .filter(|m| m.text.contains("no longer chased") && m.text.contains("Technical screen"))
            .collect();
        assert_eq!(ended.len(), 1, "{owner} learns that chasing stopped");
    }
}

/// A loop started after its screen already happened has the screen's feedback due at once.
/// When the reminder runs before the channel exists (here: Slack holds channel creation back
/// with a 429), it waits for the channel instead of being dropped, and then goes out once.
#[tokio::test]
async fn a_reminder_due_before_the_channel_exists_waits_for_it_and_goes_out_once() {
    let world = World::new().await;
    let app = world
        .spawn_app_with(&[
            ("LOOPBOT_WORK_DAYS", "always"),
            ("LOOPBOT_WORK_HOURS", "always"),
        ])
        .await;
    world.sim.inject_fault(
        "conversations.create",
        slack_sim::Fault::RateLimited {
            retry_after_secs: 30,
        },
    );
    let opened = app
        .slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    assert_eq!(opened.status(), 200);
    let view = latest_view(&world, COORDINATOR);
    let three_days_ago = START_MS / 1000 - 3 * DAY as i64;
    let form = full_start_form().date_time("time:technical-screen", three_days_ago);
    let r = app.slack.submit_view(COORDINATOR, &view.id, &form).await;
    assert_eq!(r.status(), 200);
    app.run_jobs().await;
    assert!(
        loop_channels(&world).is_empty(),
        "the channel waits for Retry-After"
    );
    assert!(reminders_to(&world, SCREENER).is_empty());
    for _ in 0..12 {
        world.clock.advance(Duration::from_secs(5));
        app.run_jobs().await;
    }
    assert_eq!(loop_channels(&world).len(), 1);
    assert_eq!(
        reminders_to(&world, SCREENER).len(),
        1,
        "the overdue screen is chased once the channel exists"
    );
}

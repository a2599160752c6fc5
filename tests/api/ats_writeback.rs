//! Feedback written back (issue 22, item 5) through the real surface: a loop the simulated ATS
//! started, a scorecard submitted in Slack, a decision recorded in Slack, and what the ATS then
//! holds: Ashby feedback with the mapped fields, Greenhouse private notes; once through
//! outages, rate limits and lost answers; a refusal told to the coordinator.

use std::time::Duration;

use loopbot::clock::{Clock, SharedClock};
use loopbot::db;
use serde_json::{Value, json};
use slack_sim::ats::{AtsServer, AtsSim, SimAts, SimPerson};
use slack_sim::client::FormValues;

use crate::ats_webhooks::{ada_application, adapter_settings, give_emails};
use crate::helpers::*;

const HOUR: i64 = 3_600_000;

const MAPPING: &str = r#"
[[jobs]]
ats = "ashby"
job = "7001"
rubric = "senior-backend"

[[jobs.interviews]]
id = "int-tech"
stage = "technical-screen"

[jobs.interviews.feedback]
form = "form-tech"
overall = "overall_score"
evidence = "notes"
criteria = { trade-offs = "tradeoffs_score" }

[[jobs]]
ats = "greenhouse"
job = "7001"
rubric = "senior-backend"

[[jobs.interviews]]
name = "Technical"
stage = "technical-screen"
"#;

struct Ats {
    sim: AtsSim,
    _server: AtsServer,
    app: TestApp,
    _dir: tempfile::TempDir,
    kind: SimAts,
}

fn ines() -> SimPerson {
    SimPerson::new("103", "Ines", "Screener", "ines@example.com")
}

/// An app with one ATS adapter on, and the simulated ATS holding application 5001.
async fn ats_world(world: &World, kind: SimAts) -> Ats {
    give_emails(world);
    let shared: SharedClock = world.clock.clone();
    let sim = AtsSim::new(kind, shared);
    sim.add_application(ada_application(true));
    let server = sim.serve().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("ats.toml");
    std::fs::write(&mapping, MAPPING).unwrap();
    let mapping = mapping.to_str().unwrap().to_string();
    let settings = adapter_settings(kind, &sim, &server.base_url, true);
    let mut extra: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    extra.push(("LOOPBOT_ATS_MAPPING", &mapping));
    extra.push(("LOOPBOT_ATS_POLL", "never"));
    let app = world.spawn_app_with(&extra).await;
    Ats {
        sim,
        _server: server,
        app,
        _dir: dir,
        kind,
    }
}

impl Ats {
    /// The technical screen is scheduled in the ATS with Ines; its webhook starts the loop.
    async fn loop_from_the_ats(&self) -> String {
        let key = match self.kind {
            SimAts::Ashby => "int-tech",
            SimAts::Greenhouse => "8001",
        };
        let tech = self.sim.schedule(
            "5001",
            key,
            "Technical",
            START_MS + 24 * HOUR,
            60,
            &[ines()],
        );
        let (hook, path) = match self.kind {
            SimAts::Ashby => (self.sim.ashby_schedule_webhook(&tech), "ashby"),
            SimAts::Greenhouse => (self.sim.greenhouse_stage_change("5001"), "greenhouse"),
        };
        let url = format!("{}/ats/{path}", self.app.address);
        assert_eq!(self.sim.deliver(&url, &hook).await.as_u16(), 200);
        self.app.run_jobs().await;
        assert_eq!(self.app.count("SELECT COUNT(*) FROM loops").await, 1);
        tech
    }

    async fn jobs(&self, kind: &str) -> Vec<(String, i64)> {
        sqlx::query_as("SELECT state, attempts FROM jobs WHERE kind = $1 ORDER BY id")
            .bind(kind)
            .fetch_all(&self.app.state.db)
            .await
            .unwrap()
    }

    fn writes(&self) -> Vec<Value> {
        match self.kind {
            SimAts::Ashby => self.sim.feedback(),
            SimAts::Greenhouse => self.sim.notes(),
        }
    }
}

/// Ines submits her technical-screen scorecard in Slack, everything rated `rating`.
async fn ines_submits(world: &World, app: &TestApp, rating: &str) {
    let body = submit_stage(world, app, SCREENER, 1, rating).await;
    assert!(body.is_empty(), "{body}");
}

/// Ines edits her scorecard: a new version in Slack.
async fn ines_edits(world: &World, app: &TestApp) {
    let view = press_stage(world, app, SCREENER, 1).await;
    let form = filled_scorecard(&view.view, "4", EVIDENCE);
    let body = app
        .slack
        .submit_view(SCREENER, &view.id, &form)
        .await
        .text()
        .await
        .unwrap();
    assert!(body.is_empty(), "{body}");
}

/// `/loop decide` as the loop's hiring manager (the ATS's, or its coordinator when the ATS
/// names none): hire, confirming the stages without feedback.
async fn hire(world: &World, app: &TestApp) {
    let hm: String = sqlx::query_scalar("SELECT hiring_manager_id FROM loops")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let channel = loop_channel(world);
    let r = app.slack.command(&hm, &channel.id, "decide").await;
    assert_eq!(r.status(), 200);
    let form = latest_view(world, &hm);
    assert_eq!(form.view["callback_id"], "decide", "{}", form.view);
    let mut values = FormValues::new().option("outcome", "hire").text(
        "rationale",
        "Strong evidence in the screen; the rest was waived.",
    );
    if form.view.to_string().contains("confirm_missing") {
        values = values.checked("confirm_missing", &["confirm"]);
    }
    let r = app.slack.submit_view(&hm, &form.id, &values).await;
    assert!(r.text().await.unwrap().is_empty());
}

fn field(feedback: &Value, path: &str) -> Value {
    feedback["feedbackForm"]["fieldSubmissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .map(|f| f["value"].clone())
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn an_ashby_scorecard_becomes_the_interviewers_own_feedback_with_the_mapped_fields() {
    let world = World::new().await;
    let ats = ats_world(&world, SimAts::Ashby).await;
    let tech = ats.loop_from_the_ats().await;

    ines_submits(&world, &ats.app, "3").await;
    ats.app.run_jobs().await;
    let feedback = ats.sim.feedback();
    assert_eq!(feedback.len(), 1, "{feedback:?}");
    let f = &feedback[0];
    assert_eq!(f["formDefinitionId"], "form-tech");
    assert_eq!(f["applicationId"], "5001");
    assert_eq!(
        f["userId"], "103",
        "filed as Ines, the Ashby user on the event"
    );
    assert_eq!(f["interviewEventId"], tech.as_str());
    assert_eq!(field(f, "overall_score"), json!({"score": 3}));
    assert_eq!(field(f, "tradeoffs_score"), json!({"score": 3}));
    assert_eq!(
        field(f, "notes"),
        json!({"type": "PlainText", "value": EVIDENCE})
    );
    assert_eq!(
        f["feedbackForm"]["fieldSubmissions"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        ats.jobs("ats_write_scorecard").await,
        vec![("done".into(), 1)]
    );

    // An edit in Slack is not a second submission in Ashby; a decision writes no note there.
    ines_edits(&world, &ats.app).await;
    hire(&world, &ats.app).await;
    ats.app.run_jobs().await;
    assert_eq!(ats.sim.feedback().len(), 1);
    assert!(ats.sim.notes().is_empty());
    assert!(ats.jobs("ats_write_decision").await.is_empty());
}

#[tokio::test]
async fn greenhouse_gets_private_notes_for_the_scorecard_and_the_decision() {
    let world = World::new().await;
    let ats = ats_world(&world, SimAts::Greenhouse).await;
    ats.loop_from_the_ats().await;

    ines_submits(&world, &ats.app, "3").await;
    ats.app.run_jobs().await;
    let notes = ats.sim.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    let note = &notes[0];
    assert_eq!(
        note["visibility"], "private",
        "never where the panel sees it"
    );
    assert_eq!(note["application_id"], 5001);
    assert_eq!(note["candidate_id"], 6001);
    assert_eq!(
        note["user_id"], 101,
        "written as LOOPBOT_GREENHOUSE_USER_ID"
    );
    let body = note["body"].as_str().unwrap();
    assert!(body.contains("Technical screen"), "{body}");
    assert!(body.contains("Ines Screener"), "{body}");
    assert!(body.contains("Recommendation: 3 · Yes"), "{body}");
    assert!(body.contains(EVIDENCE), "{body}");
    assert!(!body.contains("UINT"), "no Slack ids: {body}");

    hire(&world, &ats.app).await;
    ats.app.run_jobs().await;
    let notes = ats.sim.notes();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(notes[1]["visibility"], "private");
    let body = notes[1]["body"].as_str().unwrap();
    assert!(body.contains("Loopbot decision: Hire"), "{body}");
    assert!(body.contains("(recorded by Casey Coordinator)"), "{body}");
    assert!(body.contains("Strong evidence in the screen"), "{body}");
    assert!(
        !body.contains(EVIDENCE),
        "the decision note carries no one's scorecard"
    );
}

#[tokio::test]
async fn an_outage_and_a_rate_limit_delay_the_write_and_it_lands_once() {
    for kind in [SimAts::Ashby, SimAts::Greenhouse] {
        let world = World::new().await;
        let ats = ats_world(&world, kind).await;
        ats.loop_from_the_ats().await;

        ats.sim.set_down(true);
        ines_submits(&world, &ats.app, "3").await;
        for _ in 0..8 {
            ats.app.run_jobs().await;
            world.clock.advance(Duration::from_secs(31));
        }
        assert!(ats.writes().is_empty());
        let jobs = ats.jobs("ats_write_scorecard").await;
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].0, "queued", "never given up while the ATS is down");
        let refused = ats.sim.calls().iter().filter(|c| c.status == 503).count();
        assert!(refused >= 8, "retried through the outage: {refused}");

        ats.sim.set_down(false);
        ats.sim.rate_limit(1, 7);
        ats.app.run_jobs().await;
        assert!(ats.writes().is_empty(), "429: waits its Retry-After");
        world.clock.advance(Duration::from_secs(3));
        ats.app.run_jobs().await;
        assert!(ats.writes().is_empty(), "not before Retry-After");
        world.clock.advance(Duration::from_secs(5));
        ats.app.run_jobs().await;
        world.clock.advance(Duration::from_secs(31));
        ats.app.run_jobs().await;
        assert_eq!(ats.writes().len(), 1, "{kind:?}");
        assert_eq!(ats.jobs("ats_write_scorecard").await[0].0, "done");
    }
}

#[tokio::test]
async fn a_lost_answer_is_not_written_twice() {
    for kind in [SimAts::Ashby, SimAts::Greenhouse] {
        let world = World::new().await;
        let ats = ats_world(&world, kind).await;
        ats.loop_from_the_ats().await;

        // The ATS stores the write, but its answer never arrives (a 503 on the way back).
        ats.sim.lose_answers(1);
        ines_submits(&world, &ats.app, "3").await;
        ats.app.run_jobs().await;
        assert_eq!(ats.writes().len(), 1);
        assert_eq!(ats.jobs("ats_write_scorecard").await[0].0, "queued");

        world.clock.advance(Duration::from_secs(31));
        ats.app.run_jobs().await;
        assert_eq!(ats.writes().len(), 1, "{kind:?}: found, not written again");
        assert_eq!(ats.jobs("ats_write_scorecard").await[0].0, "done");
    }
}

#[tokio::test]
async fn a_refused_write_is_told_to_the_coordinator_and_ends_the_job() {
    for (kind, reason) in [
        (SimAts::Ashby, "missing_endpoint_permission"),
        (SimAts::Greenhouse, "harvest:notes:create is not granted"),
    ] {
        let world = World::new().await;
        let ats = ats_world(&world, kind).await;
        ats.loop_from_the_ats().await;

        ats.sim.refuse_writes(Some(reason));
        ines_submits(&world, &ats.app, "3").await;
        ats.app.run_jobs().await;
        ats.app.run_jobs().await;
        assert!(ats.writes().is_empty());
        assert_eq!(ats.jobs("ats_write_scorecard").await[0].0, "failed");

        let failed = db::jobs_admin::pending(&ats.app.state.db, Some("failed"))
            .await
            .unwrap();
        let listed = loopbot::cli::jobs::table(&failed, None, world.clock.now_ms());
        assert!(listed.contains("ats_write_scorecard"), "{listed}");
        assert!(listed.contains(reason), "{listed}");

        let dms = world.sim.dms_to(COORDINATOR);
        let told = dms
            .iter()
            .find(|m| m.text.contains("did not take"))
            .unwrap_or_else(|| panic!("the coordinator is told: {dms:?}"));
        let text = blocks_text(&told.blocks);
        assert!(text.contains(reason), "{text}");
        assert!(text.contains("Technical screen"), "{text}");
        assert!(text.contains("loopbot jobs retry"), "{text}");
        assert!(
            !text.contains("the ATS refused"),
            "no internal error chain: {text}"
        );
    }
}

#[tokio::test]
async fn a_loop_started_by_hand_writes_nothing_to_the_ats() {
    let world = World::new().await;
    let ats = ats_world(&world, SimAts::Greenhouse).await;
    provisioned(&world, &ats.app).await;
    ines_submits(&world, &ats.app, "3").await;
    ats.app.run_jobs().await;
    assert!(ats.jobs("ats_write_scorecard").await.is_empty());
    assert!(ats.sim.notes().is_empty());
}

#[tokio::test]
async fn ashby_gets_only_what_it_can_file_under_its_own_interview_and_user() {
    let world = World::new().await;
    let ats = ats_world(&world, SimAts::Ashby).await;
    ats.loop_from_the_ats().await;

    // The coordinator staffs two stages in Slack: coding (no Ashby interview at all) and,
    // beside Ines, the technical screen (someone Ashby has not put on the interview).
    let channel = loop_channel(&world);
    ats.app
        .slack
        .command(COORDINATOR, &channel.id, "panel")
        .await;
    let panel = latest_view(&world, COORDINATOR);
    let r = ats
        .app
        .slack
        .submit_view(
            COORDINATOR,
            &panel.id,
            &FormValues::new()
                .users("panel:coding", &[CODER])
                .users("panel:technical-screen", &[SCREENER, DESIGNER]),
        )
        .await;
    assert!(r.text().await.unwrap().is_empty());
    world.clock.advance(Duration::from_secs(2));
    ats.app.run_jobs().await;

    // Coding: nothing to file it on in Ashby, so nothing written and nobody bothered.
    let body = submit_stage(&world, &ats.app, CODER, 3, "3").await;
    assert!(body.is_empty(), "{body}");
    ats.app.run_jobs().await;
    assert!(ats.sim.feedback().is_empty());
    assert_eq!(
        ats.jobs("ats_write_scorecard").await,
        vec![("done".into(), 1)]
    );

    // The technical screen by someone Ashby does not have on it: the coordinator is told.
    let body = submit_stage(&world, &ats.app, DESIGNER, 1, "3").await;
    assert!(body.is_empty(), "{body}");
    ats.app.run_jobs().await;
    ats.app.run_jobs().await;
    assert!(ats.sim.feedback().is_empty());
    assert_eq!(ats.jobs("ats_write_scorecard").await[1].0, "failed");
    let told = world
        .sim
        .dms_to(COORDINATOR)
        .into_iter()
        .find(|m| m.text.contains("did not take"))
        .expect("the coordinator is told");
    let text = blocks_text(&told.blocks);
    assert!(text.contains("no Ashby user"), "{text}");
}

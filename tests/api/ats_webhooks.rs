//! ATS webhooks through the real HTTP surface: `/ats/ashby` and `/ats/greenhouse` verified,
//! deduplicated and queued durably, and the queued read storing what the (simulated) ATS now
//! has: moves, cancellations, new panels, outages.

use std::time::Duration;

use loopbot::clock::SharedClock;
use slack_sim::ats::{AtsServer, AtsSim, SignedWebhook, SimApplication, SimAts, SimPerson};

use crate::helpers::{START_MS, TestApp, World};

const HOUR: i64 = 3_600_000;

const MAPPING: &str = r#"
[[jobs]]
ats = "ashby"
job = "7001"
rubric = "senior-backend"

[[jobs.interviews]]
id = "int-tech"
stage = "technical-screen"

[[jobs]]
ats = "greenhouse"
job = "7001"
rubric = "senior-backend"

[[jobs.interviews]]
name = "Technical"
stage = "technical-screen"
"#;

pub(crate) struct Ats {
    pub(crate) sim: AtsSim,
    _server: AtsServer,
    pub(crate) app: TestApp,
    _dir: tempfile::TempDir,
    url: String,
}

pub(crate) fn ines() -> SimPerson {
    SimPerson::new("103", "Ines", "Screener", "ines@example.com")
}

pub(crate) fn cody() -> SimPerson {
    SimPerson::new("104", "Cody", "Coder", "cody@example.com")
}

pub(crate) async fn ats_world(world: &World, kind: SimAts) -> Ats {
    ats_world_polling(world, kind, "never").await
}

/// Application 5001: Ada Lovelace for the Senior Backend Engineer job, owned by Harper (hiring
/// manager) and Casey (coordinator) when `owned`.
pub(crate) fn ada_application(owned: bool) -> SimApplication {
    let owner = |id: &str, first: &str, last: &str, email: &str| {
        owned.then(|| SimPerson::new(id, first, last, email))
    };
    SimApplication {
        id: "5001".into(),
        candidate_id: "6001".into(),
        candidate_first: "Ada".into(),
        candidate_last: "Lovelace".into(),
        job_id: "7001".into(),
        job_name: "Senior Backend Engineer".into(),
        hiring_manager: owner("101", "Harper", "Manager", "harper@example.com"),
        recruiter: None,
        coordinator: owner("102", "Casey", "Coordinator", "casey@example.com"),
    }
}

/// The settings that turn `kind`'s adapter on against the simulator at `base_url`, with its
/// webhook secret when `webhooks` (without it the webhook route answers 404).
pub(crate) fn adapter_settings(
    kind: SimAts,
    sim: &AtsSim,
    base_url: &str,
    webhooks: bool,
) -> Vec<(&'static str, String)> {
    let mut settings: Vec<(&'static str, String)> = match kind {
        SimAts::Ashby => vec![
            ("LOOPBOT_ASHBY_API_KEY", sim.key.clone()),
            ("LOOPBOT_ASHBY_API_URL", base_url.into()),
        ],
        SimAts::Greenhouse => vec![
            ("LOOPBOT_GREENHOUSE_CLIENT_ID", sim.key.clone()),
            ("LOOPBOT_GREENHOUSE_CLIENT_SECRET", sim.secret.clone()),
            ("LOOPBOT_GREENHOUSE_USER_ID", "101".into()),
            ("LOOPBOT_GREENHOUSE_API_URL", base_url.into()),
            ("LOOPBOT_GREENHOUSE_AUTH_URL", base_url.into()),
        ],
    };
    if webhooks {
        let secret = match kind {
            SimAts::Ashby => "LOOPBOT_ASHBY_WEBHOOK_SECRET",
            SimAts::Greenhouse => "LOOPBOT_GREENHOUSE_WEBHOOK_SECRET",
        };
        settings.push((secret, sim.webhook_secret.clone()));
    }
    settings
}

/// [`ats_world`] with `LOOPBOT_ATS_POLL` set to `poll`.
async fn ats_world_polling(world: &World, kind: SimAts, poll: &str) -> Ats {
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
    extra.push(("LOOPBOT_ATS_POLL", poll));
    let app = world.spawn_app_with(&extra).await;
    let url = format!(
        "{}/ats/{}",
        app.address,
        match kind {
            SimAts::Ashby => "ashby",
            SimAts::Greenhouse => "greenhouse",
        }
    );
    Ats {
        sim,
        _server: server,
        app,
        _dir: dir,
        url,
    }
}

impl Ats {
    pub(crate) async fn deliver(&self, webhook: &SignedWebhook) -> u16 {
        self.sim.deliver(&self.url, webhook).await.as_u16()
    }

    async fn stored(&self) -> Vec<(String, Option<String>, Option<i64>, i64, String)> {
        sqlx::query_as(
            "SELECT interview_id, stage_key, starts_at, cancelled, interviewers
               FROM ats_interviews ORDER BY interview_id",
        )
        .fetch_all(&self.app.state.db)
        .await
        .unwrap()
    }

    async fn sync_jobs(&self) -> i64 {
        self.app
            .count("SELECT COUNT(*) FROM jobs WHERE kind = 'ats_sync'")
            .await
    }
}

#[tokio::test]
async fn ashby_webhooks_are_verified_deduplicated_and_read_durably() {
    let world = World::new().await;
    let ats = ats_world(&world, SimAts::Ashby).await;
    let tech = ats.sim.schedule(
        "5001",
        "int-tech",
        "Technical",
        START_MS + 24 * HOUR,
        60,
        &[ines()],
    );
    let other = ats.sim.schedule(
        "5001",
        "int-lunch",
        "Lunch",
        START_MS + 25 * HOUR,
        60,
        &[cody()],
    );

    // Forged: the body changed after signing. Refused before anything is read or stored.
    let hook = ats.sim.ashby_schedule_webhook(&tech);
    let mut forged = hook.clone();
    forged.body.extend_from_slice(b" ");
    assert_eq!(ats.deliver(&forged).await, 401);
    let mut unsigned = hook.clone();
    unsigned.headers.retain(|(n, _)| n != "Ashby-Signature");
    assert_eq!(ats.deliver(&unsigned).await, 401);
    assert_eq!(
        ats.app.count("SELECT COUNT(*) FROM ats_deliveries").await,
        0
    );

    // Delivered and read; then replayed (Ashby retries with the same webhookActionId): the
    // replay is answered 200 and queues nothing.
    assert_eq!(ats.deliver(&hook).await, 200);
    assert_eq!(ats.sync_jobs().await, 1);
    ats.app.run_jobs().await;
    assert_eq!(ats.deliver(&hook).await, 200);
    let queued = "SELECT COUNT(*) FROM jobs WHERE kind = 'ats_sync' AND state = 'queued'";
    assert_eq!(
        ats.app.count(queued).await,
        0,
        "a replay has no second effect"
    );
    assert_eq!(
        ats.app.count("SELECT COUNT(*) FROM ats_deliveries").await,
        1
    );
    let stored = ats.stored().await;
    assert_eq!(stored.len(), 2);
    let row = stored.iter().find(|r| r.0 == tech).unwrap();
    assert_eq!(row.1.as_deref(), Some("technical-screen"));
    assert_eq!(row.2, Some(START_MS + 24 * HOUR));
    assert!(row.4.contains("ines@example.com"), "{}", row.4);
    let unmapped = stored.iter().find(|r| r.0 == other).unwrap();
    assert_eq!(unmapped.1, None, "an unmapped interview is never guessed");

    // Moved twice; the webhooks arrive in the wrong order. Each read takes the ATS's state
    // as it is now, so the last move wins whatever the order.
    world.clock.advance(Duration::from_secs(60));
    ats.sim.move_interview(&tech, START_MS + 48 * HOUR, 60);
    let first_move = ats.sim.ashby_schedule_webhook(&tech);
    ats.sim.move_interview(&tech, START_MS + 50 * HOUR, 60);
    ats.sim.repanel(&tech, &[ines(), cody()]);
    let second_move = ats.sim.ashby_schedule_webhook(&tech);
    assert_eq!(ats.deliver(&second_move).await, 200);
    ats.app.run_jobs().await;
    assert_eq!(ats.deliver(&first_move).await, 200);
    ats.app.run_jobs().await;
    let row = ats
        .stored()
        .await
        .into_iter()
        .find(|r| r.0 == tech)
        .unwrap();
    assert_eq!(row.2, Some(START_MS + 50 * HOUR));
    assert!(row.4.contains("cody@example.com"), "{}", row.4);

    // Ashby is down when the cancellation's read runs: the job waits and is not lost.
    ats.sim.cancel(&other);
    let cancelled = ats.sim.ashby_schedule_webhook(&other);
    ats.sim.set_down(true);
    assert_eq!(
        ats.deliver(&cancelled).await,
        200,
        "accepted while Ashby is down"
    );
    ats.app.run_jobs().await;
    let row = ats
        .stored()
        .await
        .into_iter()
        .find(|r| r.0 == other)
        .unwrap();
    assert_eq!(row.3, 0, "nothing changes while Ashby is down");
    let pending = ats
        .app
        .count("SELECT COUNT(*) FROM jobs WHERE kind = 'ats_sync' AND state = 'queued'")
        .await;
    assert_eq!(pending, 1, "the read waits to be retried");
    ats.sim.set_down(false);
    world.clock.advance(Duration::from_secs(60));
    ats.app.run_jobs().await;
    let row = ats
        .stored()
        .await
        .into_iter()
        .find(|r| r.0 == other)
        .unwrap();
    assert_eq!(
        row.3, 1,
        "the cancelled interview is marked once Ashby is back"
    );
}

#[tokio::test]
async fn ashby_is_rate_limited_and_the_read_waits_its_retry_after() {
    let world = World::new().await;
    let ats = ats_world(&world, SimAts::Ashby).await;
    let tech = ats.sim.schedule(
        "5001",
        "int-tech",
        "Technical",
        START_MS + 24 * HOUR,
        60,
        &[ines()],
    );
    ats.sim.rate_limit(1, 20);
    assert_eq!(
        ats.deliver(&ats.sim.ashby_schedule_webhook(&tech)).await,
        200
    );
    ats.app.run_jobs().await;
    assert!(ats.stored().await.is_empty());
    world.clock.advance(Duration::from_secs(10));
    ats.app.run_jobs().await;
    assert!(ats.stored().await.is_empty(), "not before Retry-After");
    world.clock.advance(Duration::from_secs(12));
    ats.app.run_jobs().await;
    assert_eq!(ats.stored().await.len(), 1);
}

#[tokio::test]
async fn greenhouse_webhooks_trigger_reads_and_a_deleted_interview_is_cancelled() {
    let world = World::new().await;
    let ats = ats_world(&world, SimAts::Greenhouse).await;
    let tech = ats.sim.schedule(
        "5001",
        "8001",
        "Technical",
        START_MS + 24 * HOUR,
        60,
        &[ines()],
    );

    let stage = ats.sim.greenhouse_stage_change("5001");
    assert_eq!(ats.deliver(&stage).await, 200);
    assert_eq!(
        ats.deliver(&stage).await,
        200,
        "the same Greenhouse-Event-ID again"
    );
    assert_eq!(ats.sync_jobs().await, 1);
    ats.app.run_jobs().await;
    let stored = ats.stored().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].1.as_deref(),
        Some("technical-screen"),
        "mapped by name"
    );
    assert!(stored[0].4.contains("ines@example.com"));

    let mut no_id = ats.sim.greenhouse_stage_change("5001");
    no_id.headers.retain(|(n, _)| n != "Greenhouse-Event-ID");
    assert_eq!(ats.deliver(&no_id).await, 400);
    let mut wrong = ats.sim.greenhouse_stage_change("5001");
    for (name, value) in &mut wrong.headers {
        if name == "Signature" {
            *value = value.replacen("sha256 ", "sha256=", 1);
        }
    }
    assert_eq!(
        ats.deliver(&wrong).await,
        401,
        "Ashby's form is not Greenhouse's"
    );

    world.clock.advance(Duration::from_secs(60));
    ats.sim.cancel(&tech);
    assert_eq!(
        ats.deliver(&ats.sim.greenhouse_interview_deleted(&tech))
            .await,
        200
    );
    ats.app.run_jobs().await;
    assert_eq!(ats.stored().await[0].3, 1);
}

#[tokio::test]
async fn ats_routes_answer_404_while_their_secret_is_unset() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let client = reqwest::Client::new();
    for path in ["/ats/ashby", "/ats/greenhouse"] {
        let status = client
            .post(format!("{}{path}", app.address))
            .body("{}")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{path}");
    }
}

/// An app with polling on (every 2 minutes) and no webhook secret: polling alone.
async fn polling_world(world: &World, kind: SimAts) -> Ats {
    let shared: SharedClock = world.clock.clone();
    let sim = AtsSim::new(kind, shared);
    let server = sim.serve().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("ats.toml");
    std::fs::write(&mapping, MAPPING).unwrap();
    let mapping = mapping.to_str().unwrap().to_string();
    sim.add_application(ada_application(false));
    // The Ashby webhook route stays on (a lost webhook is caught up by the poll); Greenhouse's
    // is off (its times come from polling only).
    let mut extra = adapter_settings(kind, &sim, &server.base_url, kind == SimAts::Ashby);
    extra.push(("LOOPBOT_ATS_MAPPING", mapping));
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = world.spawn_app_with(&extra).await;
    let url = format!("{}/ats/ashby", app.address);
    Ats {
        sim,
        _server: server,
        app,
        _dir: dir,
        url,
    }
}

#[tokio::test]
async fn a_lost_ashby_webhook_is_caught_up_by_the_poll() {
    let world = World::new().await;
    let ats = polling_world(&world, SimAts::Ashby).await;
    let tech = ats.sim.schedule(
        "5001",
        "int-tech",
        "Technical",
        START_MS + 24 * HOUR,
        60,
        &[ines()],
    );
    // No webhook arrives (lost); the first poll syncs fully and reads the application.
    ats.app.run_jobs().await;
    let stored = ats.stored().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].2, Some(START_MS + 24 * HOUR));

    // Moved; the webhook is lost again. Before the interval nothing polls; after it the
    // incremental poll (Ashby's syncToken) finds the change.
    world.clock.advance(Duration::from_secs(30));
    ats.sim.move_interview(&tech, START_MS + 30 * HOUR, 60);
    ats.app.run_jobs().await;
    assert_eq!(ats.stored().await[0].2, Some(START_MS + 24 * HOUR));
    world.clock.advance(Duration::from_secs(120));
    ats.app.run_jobs().await;
    assert_eq!(ats.stored().await[0].2, Some(START_MS + 30 * HOUR));
    let polls: Vec<_> = ats
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.method == "interviewSchedule.list" && c.body.get("syncToken").is_some())
        .collect();
    assert!(!polls.is_empty(), "the second poll was incremental");

    // Ashby down during a poll: the poll waits and retries; nothing is lost.
    ats.sim.move_interview(&tech, START_MS + 32 * HOUR, 60);
    ats.sim.set_down(true);
    world.clock.advance(Duration::from_secs(120));
    ats.app.run_jobs().await;
    assert_eq!(ats.stored().await[0].2, Some(START_MS + 30 * HOUR));
    ats.sim.set_down(false);
    world.clock.advance(Duration::from_secs(60));
    ats.app.run_jobs().await;
    assert_eq!(ats.stored().await[0].2, Some(START_MS + 32 * HOUR));
}

#[tokio::test]
async fn greenhouse_times_come_from_polling_by_updated_at() {
    let world = World::new().await;
    let ats = polling_world(&world, SimAts::Greenhouse).await;
    let tech = ats.sim.schedule(
        "5001",
        "8001",
        "Technical",
        START_MS + 24 * HOUR,
        60,
        &[ines()],
    );
    ats.app.run_jobs().await;
    assert_eq!(ats.stored().await[0].2, Some(START_MS + 24 * HOUR));
    world.clock.advance(Duration::from_secs(150));
    ats.sim.move_interview(&tech, START_MS + 26 * HOUR, 60);
    ats.sim.repanel(&tech, &[cody()]);
    ats.app.run_jobs().await;
    let row = &ats.stored().await[0];
    assert_eq!(row.2, Some(START_MS + 26 * HOUR));
    assert!(
        row.4.contains("cody@example.com") && !row.4.contains("ines@"),
        "{}",
        row.4
    );
    let filters: Vec<_> = ats
        .sim
        .calls()
        .into_iter()
        .filter_map(|c| {
            c.body
                .get("updated_at")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .collect();
    assert!(filters.iter().all(|f| f.starts_with("gte|")), "{filters:?}");
}

#[tokio::test]
async fn people_are_matched_to_slack_by_email() {
    let world = World::new().await;
    world.sim.add_user(
        slack_sim::SimUser::new("UINES", "ines", "Ines Screener", "Europe/Berlin", 3600)
            .with_email("Ines@Example.com"),
    );
    world.sim.add_user(slack_sim::SimUser {
        deleted: true,
        ..slack_sim::SimUser::new("UGONE", "gone", "Gone Person", "UTC", 0)
            .with_email("gone@example.com")
    });
    let app = world.spawn_app().await;
    let slack = &app.state.slack;
    assert_eq!(
        slack
            .lookup_by_email("ines@example.com")
            .await
            .unwrap()
            .as_deref(),
        Some("UINES")
    );
    assert_eq!(
        slack.lookup_by_email("nobody@example.com").await.unwrap(),
        None
    );
    assert_eq!(
        slack.lookup_by_email("gone@example.com").await.unwrap(),
        None,
        "a deactivated account is nobody"
    );
}

/// The World's Slack people, with the addresses the simulated ATS knows them by.
pub(crate) fn give_emails(world: &World) {
    use crate::helpers::{CODER, COORDINATOR, HIRING_MANAGER, SCREENER};
    use slack_sim::SimUser;
    for (id, name, real, tz, offset, email) in [
        (
            COORDINATOR,
            "casey",
            "Casey Coordinator",
            "America/New_York",
            -18000,
            "casey@example.com",
        ),
        (
            HIRING_MANAGER,
            "harper",
            "Harper Manager",
            "Europe/London",
            0,
            "harper@example.com",
        ),
        (
            SCREENER,
            "ines",
            "Ines Screener",
            "Europe/Berlin",
            3600,
            "ines@example.com",
        ),
        (
            CODER,
            "cody",
            "Cody Coder",
            "America/Los_Angeles",
            -28800,
            "cody@example.com",
        ),
    ] {
        world
            .sim
            .add_user(SimUser::new(id, name, real, tz, offset).with_email(email));
    }
}

#[tokio::test]
async fn the_first_mapped_interview_starts_a_loop_with_nobody_typing() {
    use crate::helpers::{COORDINATOR, HIRING_MANAGER, SCREENER, loop_channel, summary};
    let world = World::new().await;
    give_emails(&world);
    let ats = ats_world(&world, SimAts::Ashby).await;

    // An unmapped interview alone starts nothing.
    let lunch = ats.sim.schedule(
        "5001",
        "int-lunch",
        "Lunch",
        START_MS + 20 * HOUR,
        60,
        &[cody()],
    );
    assert_eq!(
        ats.deliver(&ats.sim.ashby_schedule_webhook(&lunch)).await,
        200
    );
    ats.app.run_jobs().await;
    assert_eq!(ats.app.count("SELECT COUNT(*) FROM loops").await, 0);

    // The first mapped one does: channel, panel, time, rubric posts, summary.
    let tech = ats.sim.schedule(
        "5001",
        "int-tech",
        "Technical",
        START_MS + 24 * HOUR,
        60,
        &[ines()],
    );
    let hook = ats.sim.ashby_schedule_webhook(&tech);
    assert_eq!(ats.deliver(&hook).await, 200);
    ats.app.run_jobs().await;
    let (candidate, rubric, coordinator, hm): (String, String, String, String) = sqlx::query_as(
        "SELECT candidate_name, rubric_id, coordinator_id, hiring_manager_id FROM loops",
    )
    .fetch_one(&ats.app.state.db)
    .await
    .unwrap();
    assert_eq!(candidate, "Ada Lovelace");
    assert_eq!(rubric, "senior-backend");
    assert_eq!(
        coordinator, COORDINATOR,
        "the ATS coordinator, matched by email"
    );
    assert_eq!(hm, HIRING_MANAGER);
    let (at, who): (Option<i64>, String) = sqlx::query_as(
        "SELECT s.interview_at, i.user_id FROM stages s
           JOIN stage_interviewers i ON i.loop_id = s.loop_id AND i.position = s.position
          WHERE s.stage_key = 'technical-screen'",
    )
    .fetch_one(&ats.app.state.db)
    .await
    .unwrap();
    assert_eq!(at, Some(START_MS + 24 * HOUR));
    assert_eq!(who, SCREENER);
    let channel = loop_channel(&world);
    assert!(
        channel.members.iter().any(|m| m == SCREENER),
        "{:?}",
        channel.members
    );
    summary(&world); // the pinned summary is there (it panics otherwise)

    // Read again (a poll, a repeat webhook from another action): still one loop.
    ats.sim.move_interview(&tech, START_MS + 25 * HOUR, 60);
    assert_eq!(
        ats.deliver(&ats.sim.ashby_schedule_webhook(&tech)).await,
        200
    );
    ats.app.run_jobs().await;
    assert_eq!(ats.app.count("SELECT COUNT(*) FROM loops").await, 1);
    assert_eq!(
        world
            .sim
            .channels()
            .iter()
            .filter(|c| c.name.starts_with("loop-"))
            .count(),
        1
    );

    // The loop follows the ATS: the move above, then a new panel, then a cancellation.
    let stage = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            let at: Option<i64> = sqlx::query_scalar(
                "SELECT interview_at FROM stages WHERE stage_key = 'technical-screen'",
            )
            .fetch_one(&db)
            .await
            .unwrap();
            let who: Vec<String> = sqlx::query_scalar(
                "SELECT i.user_id FROM stage_interviewers i JOIN stages s
                    ON s.loop_id = i.loop_id AND s.position = i.position
                  WHERE s.stage_key = 'technical-screen' ORDER BY i.user_id",
            )
            .fetch_all(&db)
            .await
            .unwrap();
            (at, who)
        }
    };
    assert_eq!(
        stage(&ats.app).await,
        (Some(START_MS + 25 * HOUR), vec![SCREENER.to_string()])
    );
    ats.sim.repanel(&tech, &[cody()]);
    assert_eq!(
        ats.deliver(&ats.sim.ashby_schedule_webhook(&tech)).await,
        200
    );
    ats.app.run_jobs().await;
    assert_eq!(
        stage(&ats.app).await,
        (
            Some(START_MS + 25 * HOUR),
            vec![crate::helpers::CODER.to_string()]
        )
    );
    ats.sim.cancel(&tech);
    assert_eq!(
        ats.deliver(&ats.sim.ashby_schedule_webhook(&tech)).await,
        200
    );
    ats.app.run_jobs().await;
    assert_eq!(
        stage(&ats.app).await.0,
        None,
        "a cancelled interview unschedules its stage"
    );
}

/// The direct messages `user` got that contain `needle`.
pub(crate) fn dms_with(world: &World, user: &str, needle: &str) -> usize {
    world
        .sim
        .dms_to(user)
        .iter()
        .filter(|m| m.text.contains(needle) || m.blocks.to_string().contains(needle))
        .count()
}

#[tokio::test]
async fn unmapped_interviews_and_people_without_slack_are_told_once() {
    use crate::helpers::COORDINATOR;
    let world = World::new().await;
    give_emails(&world);
    let ats = ats_world_polling(&world, SimAts::Ashby, "2m").await;
    let nia = SimPerson::new("109", "Nia", "Nobody", "nia@example.com");

    // Before any loop: an unmapped interview (named by its Ashby id: schedules carry no name)
    // is told to the application's coordinator (matched by email), and never guessed onto a
    // stage.
    let lunch = ats.sim.schedule(
        "5001",
        "int-lunch",
        "Lunch",
        START_MS + 20 * HOUR,
        60,
        &[cody()],
    );
    assert_eq!(
        ats.deliver(&ats.sim.ashby_schedule_webhook(&lunch)).await,
        200
    );
    ats.app.run_jobs().await;
    assert_eq!(dms_with(&world, COORDINATOR, "_int-lunch_"), 1);
    assert_eq!(ats.app.count("SELECT COUNT(*) FROM loops").await, 0);

    // A mapped interview with someone Slack does not know: the loop starts, and the
    // coordinator is told who, by name and email.
    let tech = ats.sim.schedule(
        "5001",
        "int-tech",
        "Technical",
        START_MS + 24 * HOUR,
        60,
        &[ines(), nia.clone()],
    );
    assert_eq!(
        ats.deliver(&ats.sim.ashby_schedule_webhook(&tech)).await,
        200
    );
    ats.app.run_jobs().await;
    assert_eq!(ats.app.count("SELECT COUNT(*) FROM loops").await, 1);
    assert_eq!(
        dms_with(&world, COORDINATOR, "Nia Nobody (nia@example.com)"),
        1
    );

    // Repeated webhooks (new deliveries), moves and polls: nobody is told twice.
    for round in 0..3 {
        ats.sim
            .move_interview(&tech, START_MS + (25 + round) * HOUR, 60);
        for id in [&lunch, &tech] {
            assert_eq!(ats.deliver(&ats.sim.ashby_schedule_webhook(id)).await, 200);
        }
        world.clock.advance(Duration::from_secs(150));
        ats.app.run_jobs().await;
    }
    assert!(
        ats.sim
            .calls()
            .iter()
            .any(|c| c.method == "interviewSchedule.list"),
        "the polls ran"
    );
    assert_eq!(dms_with(&world, COORDINATOR, "_int-lunch_"), 1);
    assert_eq!(dms_with(&world, COORDINATOR, "nia@example.com"), 1);
    assert_eq!(
        ats.app
            .count("SELECT COUNT(*) FROM jobs WHERE kind = 'ats_notice'")
            .await,
        2
    );
    let stored = ats.stored().await;
    let row = stored.iter().find(|r| r.0 == lunch).unwrap();
    assert_eq!(row.1, None, "the unmapped interview is never guessed");
}

#[tokio::test]
async fn a_hiring_manager_without_slack_is_named_to_the_coordinator_once() {
    use crate::helpers::COORDINATOR;
    let world = World::new().await;
    give_emails(&world);
    let ats = ats_world_polling(&world, SimAts::Ashby, "2m").await;
    ats.sim.add_application(SimApplication {
        id: "5002".into(),
        candidate_id: "6002".into(),
        candidate_first: "Grace".into(),
        candidate_last: "Hopper".into(),
        job_id: "7001".into(),
        job_name: "Senior Backend Engineer".into(),
        hiring_manager: Some(SimPerson::new("111", "Hank", "Offline", "hank@example.com")),
        recruiter: None,
        coordinator: Some(SimPerson::new(
            "102",
            "Casey",
            "Coordinator",
            "casey@example.com",
        )),
    });
    let tech = ats.sim.schedule(
        "5002",
        "int-tech",
        "Technical",
        START_MS + 24 * HOUR,
        60,
        &[ines()],
    );
    for round in 0..3 {
        assert_eq!(
            ats.deliver(&ats.sim.ashby_schedule_webhook(&tech)).await,
            200
        );
        world.clock.advance(Duration::from_secs(150 * round));
        ats.app.run_jobs().await;
    }
    assert_eq!(
        dms_with(
            &world,
            COORDINATOR,
            "Hank Offline (hank@example.com), the hiring manager in Ashby, has no Slack account"
        ),
        1,
        "named once, with the role Loopbot looked for"
    );
    // The owners Slack knows are never named.
    assert_eq!(dms_with(&world, COORDINATOR, "casey@example.com"), 0);
    assert_eq!(dms_with(&world, COORDINATOR, "ines@example.com"), 0);
}

#[tokio::test]
async fn a_notice_with_nobody_in_slack_to_tell_stays_visible_as_a_failed_job() {
    let world = World::new().await;
    let ats = polling_world(&world, SimAts::Ashby).await; // no owners on the application
    ats.sim.schedule(
        "5001",
        "int-lunch",
        "Lunch",
        START_MS + 20 * HOUR,
        60,
        &[cody()],
    );
    ats.app.run_jobs().await;
    assert_eq!(
        ats.app
            .count("SELECT COUNT(*) FROM jobs WHERE kind = 'ats_notice' AND state = 'failed'")
            .await,
        1
    );
}

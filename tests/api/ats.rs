//! The ATS seam over real HTTP: Loopbot's Ashby and Greenhouse clients against the simulated
//! ATSs (their own auth, pagination, envelopes, faults and webhook signing).

use std::sync::Arc;
use std::time::Duration;

use loopbot::ats::ashby::AshbyClient;
use loopbot::ats::greenhouse::{Credentials, GreenhouseClient};
use loopbot::ats::{
    Ats, AtsError, AtsPerson, FeedbackWrite, InterviewStatus, NoteWrite, OwnerRole, signature,
};
use loopbot::clock::{ManualClock, SharedClock};
use loopbot::secret::Secret;
use serde_json::json;
use slack_sim::ats::{AtsServer, AtsSim, SignedWebhook, SimApplication, SimAts, SimPerson};

use crate::helpers::START_MS;

const HOUR: i64 = 3_600_000;

fn people() -> (SimPerson, SimPerson, SimPerson, SimPerson) {
    (
        SimPerson::new("101", "Harper", "Manager", "harper@example.com"),
        SimPerson::new("102", "Casey", "Coordinator", "casey@example.com"),
        SimPerson::new("103", "Ines", "Screener", "ines@example.com"),
        SimPerson::new("104", "Cody", "Coder", "cody@example.com"),
    )
}

async fn sim(kind: SimAts) -> (Arc<ManualClock>, AtsSim, AtsServer) {
    loopbot::install_crypto_provider();
    let clock = ManualClock::starting_at(START_MS);
    let shared: SharedClock = clock.clone();
    let sim = AtsSim::new(kind, shared);
    let (hm, coordinator, _, _) = people();
    sim.add_application(SimApplication {
        id: "5001".into(),
        candidate_id: "6001".into(),
        candidate_first: "Ada".into(),
        candidate_last: "Lovelace".into(),
        job_id: "7001".into(),
        job_name: "Senior Backend Engineer".into(),
        hiring_manager: Some(hm),
        recruiter: None,
        coordinator: Some(coordinator),
    });
    let server = sim.serve().await.expect("ATS simulator starts");
    (clock, sim, server)
}

fn ashby(server: &AtsServer, key: &str) -> AshbyClient {
    AshbyClient::new(&server.base_url, Secret::new(key), Duration::from_secs(5)).unwrap()
}

fn greenhouse(server: &AtsServer, sim: &AtsSim) -> GreenhouseClient {
    GreenhouseClient::new(
        &server.base_url,
        &server.base_url,
        Credentials {
            client_id: sim.key.clone(),
            client_secret: Secret::new(sim.secret.clone()),
            user_id: "101".into(),
        },
        Duration::from_secs(5),
    )
    .unwrap()
}

fn header<'a>(webhook: &'a SignedWebhook, name: &str) -> Option<&'a str> {
    webhook
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn ashby_reads_an_application_its_interviews_and_follows_moves_and_cancellations() {
    let (clock, sim, server) = sim(SimAts::Ashby).await;
    let (_, _, ines, cody) = people();
    sim.set_page_size(1);
    let tech = sim.schedule(
        "5001",
        "int-tech",
        "Technical",
        START_MS + 24 * HOUR,
        60,
        std::slice::from_ref(&ines),
    );
    let design = sim.schedule(
        "5001",
        "int-design",
        "Design",
        START_MS + 26 * HOUR,
        60,
        std::slice::from_ref(&cody),
    );
    let client = ashby(&server, &sim.key);

    let app = client.application("5001").await.unwrap();
    assert_eq!(app.candidate_name, "Ada Lovelace");
    assert_eq!(app.job_id, "7001");
    assert_eq!(app.owners[0].0, OwnerRole::HiringManager);
    assert_eq!(app.owners[0].1.email.as_deref(), Some("harper@example.com"));
    assert_eq!(app.owners[1].0, OwnerRole::Coordinator);

    // Two schedules, one per page: the client follows nextCursor.
    let interviews = client.interviews("5001").await.unwrap();
    assert_eq!(interviews.len(), 2);
    assert_eq!(interviews[0].id, tech);
    assert_eq!(interviews[0].interview_key, "int-tech");
    assert_eq!(interviews[0].starts_at_ms, Some(START_MS + 24 * HOUR));
    assert_eq!(interviews[0].ends_at_ms, Some(START_MS + 25 * HOUR));
    assert_eq!(
        interviews[0].interviewers[0].email.as_deref(),
        Some("ines@example.com")
    );
    assert!(sim.calls().iter().any(|c| c.body.get("cursor").is_some()));

    // Moved twice, re-paneled, then the other cancelled: each read shows the latest.
    clock.advance(Duration::from_secs(60));
    sim.move_interview(&tech, START_MS + 48 * HOUR, 45);
    sim.move_interview(&tech, START_MS + 50 * HOUR, 45);
    sim.repanel(&tech, &[ines.clone(), cody.clone()]);
    sim.cancel(&design);
    let interviews = client.interviews("5001").await.unwrap();
    assert_eq!(
        interviews.len(),
        1,
        "a cancelled Ashby event leaves its schedule"
    );
    assert_eq!(interviews[0].starts_at_ms, Some(START_MS + 50 * HOUR));
    assert_eq!(
        interviews[0].ends_at_ms,
        Some(START_MS + 50 * HOUR + 45 * 60_000)
    );
    assert_eq!(interviews[0].status, InterviewStatus::Scheduled);
    let emails: Vec<_> = interviews[0]
        .interviewers
        .iter()
        .filter_map(|p| p.email.clone())
        .collect();
    assert_eq!(emails, ["ines@example.com", "cody@example.com"]);
}

#[tokio::test]
async fn ashby_polling_syncs_fully_then_incrementally() {
    let (_clock, sim, server) = sim(SimAts::Ashby).await;
    let (_, _, ines, _) = people();
    sim.set_page_size(1);
    let tech = sim.schedule(
        "5001",
        "int-tech",
        "Technical",
        START_MS + 24 * HOUR,
        60,
        std::slice::from_ref(&ines),
    );
    sim.schedule(
        "5002",
        "int-tech",
        "Technical",
        START_MS + 30 * HOUR,
        60,
        &[ines],
    );
    let client = ashby(&server, &sim.key);

    let full = client.changes_since(None).await.unwrap();
    assert_eq!(full.application_ids, ["5001", "5002"]);
    let token = full.cursor.expect("a sync token after the last page");
    let nothing = client.changes_since(Some(&token)).await.unwrap();
    assert!(nothing.application_ids.is_empty());
    sim.move_interview(&tech, START_MS + 28 * HOUR, 60);
    let moved = client.changes_since(Some(&token)).await.unwrap();
    assert_eq!(moved.application_ids, ["5001"]);
    assert_ne!(moved.cursor.as_deref(), Some(token.as_str()));
}

#[tokio::test]
async fn ashby_writes_feedback_and_notes_and_reports_refusals_limits_and_outages() {
    let (_clock, sim, server) = sim(SimAts::Ashby).await;
    let client = ashby(&server, &sim.key);
    let feedback = FeedbackWrite {
        application_id: "5001".into(),
        form_definition_id: "form-1".into(),
        user_id: "103".into(),
        interview_event_id: Some("ev-1".into()),
        fields: vec![
            ("overall".into(), json!({ "score": 3 })),
            (
                "notes".into(),
                json!({ "type": "PlainText", "value": "Clear on trade-offs." }),
            ),
        ],
    };
    client.write_feedback(&feedback).await.unwrap();
    let written = &sim.feedback()[0];
    assert_eq!(written["formDefinitionId"], "form-1");
    assert_eq!(written["interviewEventId"], "ev-1");
    assert_eq!(
        written["feedbackForm"]["fieldSubmissions"][0],
        json!({ "path": "overall", "value": { "score": 3 } })
    );
    let note = NoteWrite {
        application_id: "5001".into(),
        candidate_id: "6001".into(),
        body: "Loop decided: hire".into(),
    };
    client.write_note(&note).await.unwrap();
    assert_eq!(sim.notes()[0]["candidateId"], "6001");

    sim.refuse_writes(Some("missing_endpoint_permission"));
    let err = client.write_feedback(&feedback).await.unwrap_err();
    assert!(
        matches!(&err, AtsError::Refused(r) if r.contains("missing_endpoint_permission")),
        "{err:?}"
    );
    assert!(!err.is_transient());
    sim.refuse_writes(None);

    sim.rate_limit(1, 30);
    assert_eq!(
        client.write_note(&note).await.unwrap_err(),
        AtsError::RateLimited(Duration::from_secs(30))
    );
    sim.set_down(true);
    assert!(matches!(
        client.interviews("5001").await,
        Err(AtsError::Unavailable(_))
    ));
    sim.set_down(false);
    assert_eq!(
        sim.notes().len(),
        1,
        "nothing written while refused, limited or down"
    );

    let wrong = ashby(&server, "not-the-key");
    assert!(
        matches!(wrong.application("5001").await, Err(AtsError::Refused(r)) if r.contains("403"))
    );
}

#[tokio::test]
async fn greenhouse_pages_by_link_header_resolves_panels_and_refreshes_a_revoked_token() {
    let (clock, sim, server) = sim(SimAts::Greenhouse).await;
    let (_, _, ines, cody) = people();
    sim.set_page_size(1);
    let tech = sim.schedule(
        "5001",
        "8001",
        "Technical",
        START_MS + 24 * HOUR,
        60,
        std::slice::from_ref(&ines),
    );
    let design = sim.schedule(
        "5001",
        "8002",
        "Design",
        START_MS + 26 * HOUR,
        60,
        &[cody.clone(), ines.clone()],
    );
    let client = greenhouse(&server, &sim);

    let app = client.application("5001").await.unwrap();
    assert_eq!(app.candidate_id, "6001");
    assert_eq!(app.candidate_name, "Ada Lovelace");
    assert_eq!(
        app.owners,
        vec![(
            OwnerRole::Coordinator,
            AtsPerson {
                ats_user_id: Some("102".into()),
                email: Some("casey@example.com".into()),
                name: Some("Casey Coordinator".into()),
            }
        )]
    );
    let interviews = client.interviews("5001").await.unwrap();
    assert_eq!(interviews.len(), 2);
    assert_eq!(interviews[0].id, tech);
    assert_eq!(interviews[0].interview_key, "8001");
    assert_eq!(interviews[0].name.as_deref(), Some("Technical"));
    assert_eq!(interviews[1].interviewers.len(), 2);
    assert_eq!(sim.lock().tokens_issued, 1, "one token, reused");
    // Every page after the first carried the cursor alone (the simulator refuses otherwise).
    let calls = sim.calls();
    assert!(calls.iter().any(|c| c.body.get("cursor").is_some()));
    assert!(calls.iter().all(|c| c.status < 400), "{calls:?}");

    // Another process takes a token: ours is revoked, refreshed once, and the call succeeds.
    sim.greenhouse_token_taken_elsewhere();
    clock.advance(Duration::from_secs(60));
    sim.cancel(&design);
    let interviews = client.interviews("5001").await.unwrap();
    assert_eq!(interviews[1].status, InterviewStatus::Cancelled);
    assert_eq!(sim.lock().tokens_issued, 2);

    let changes = client
        .changes_since(Some(&slack_sim::ats::rfc3339(START_MS + 30_000)))
        .await
        .unwrap();
    assert_eq!(changes.application_ids, ["5001"]);
    assert_eq!(
        changes.cursor.as_deref(),
        Some(slack_sim::ats::rfc3339(START_MS + 60_000).as_str())
    );
}

#[tokio::test]
async fn greenhouse_gets_private_notes_never_scorecards_and_reports_limits_and_outages() {
    let (_clock, sim, server) = sim(SimAts::Greenhouse).await;
    let client = greenhouse(&server, &sim);
    let note = NoteWrite {
        application_id: "5001".into(),
        candidate_id: "6001".into(),
        body: "Technical: 3/4, lean hire".into(),
    };
    client.write_note(&note).await.unwrap();
    assert_eq!(
        sim.notes()[0],
        json!({
            "candidate_id": 6001, "application_id": 5001, "user_id": 101,
            "body": "Technical: 3/4, lean hire", "visibility": "private",
        })
    );
    let feedback = FeedbackWrite {
        application_id: "5001".into(),
        form_definition_id: String::new(),
        user_id: "103".into(),
        interview_event_id: None,
        fields: Vec::new(),
    };
    assert_eq!(
        client.write_feedback(&feedback).await,
        Err(AtsError::NotSupported)
    );

    sim.refuse_writes(Some("harvest:notes:create scope missing"));
    assert!(
        matches!(client.write_note(&note).await, Err(AtsError::Refused(r)) if r.contains("403"))
    );
    sim.refuse_writes(None);
    sim.rate_limit(1, 10);
    assert_eq!(
        client.interviews("5001").await,
        Err(AtsError::RateLimited(Duration::from_secs(10)))
    );
    sim.set_down(true);
    assert!(client.write_note(&note).await.unwrap_err().is_transient());
    sim.set_down(false);
    assert_eq!(sim.notes().len(), 1);
}

#[tokio::test]
async fn each_ats_signs_webhooks_in_its_own_form_and_loopbot_verifies_them() {
    let (_clock, ashby_sim, _s1) = sim(SimAts::Ashby).await;
    let (_, _, ines, _) = people();
    let tech = ashby_sim.schedule(
        "5001",
        "int-tech",
        "Technical",
        START_MS + HOUR,
        60,
        &[ines],
    );
    let hook = ashby_sim.ashby_schedule_webhook(&tech);
    let secret = ashby_sim.webhook_secret.clone();
    assert_eq!(
        signature::verify_ashby(&secret, header(&hook, "Ashby-Signature"), &hook.body),
        Ok(())
    );
    let mut forged = hook.body.clone();
    forged.extend_from_slice(b" ");
    assert_eq!(
        signature::verify_ashby(&secret, header(&hook, "Ashby-Signature"), &forged),
        Err(signature::Rejection::BadSignature)
    );
    let payload: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(payload["action"], "interviewScheduleUpdate");
    assert!(payload["webhookActionId"].is_string());

    let (_clock, gh_sim, _s2) = sim(SimAts::Greenhouse).await;
    let hook = gh_sim.greenhouse_interview_deleted("4000001");
    assert_eq!(
        signature::verify_greenhouse(
            &gh_sim.webhook_secret,
            header(&hook, "Signature"),
            &hook.body
        ),
        Ok(())
    );
    assert_eq!(
        signature::verify_greenhouse("wrong-secret", header(&hook, "Signature"), &hook.body),
        Err(signature::Rejection::BadSignature)
    );
    let again = gh_sim.greenhouse_stage_change("5001");
    assert_ne!(
        header(&hook, "Greenhouse-Event-ID"),
        header(&again, "Greenhouse-Event-ID"),
        "one event id per delivery"
    );
}

#[tokio::test]
async fn the_mapping_file_is_checked_against_the_rubrics_at_start() {
    use loopbot::settings::{Needs, Settings};
    let world = crate::helpers::World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("ats.toml");
    std::fs::write(
        &good,
        "[[jobs]]\nats = \"ashby\"\njob = \"7001\"\nrubric = \"senior-backend\"\n\
         [[jobs.interviews]]\nid = \"int-tech\"\nstage = \"technical-screen\"\n",
    )
    .unwrap();
    let app = world
        .spawn_app_with(&[
            ("LOOPBOT_ASHBY_API_KEY", "ashby-test-key"),
            ("LOOPBOT_ATS_MAPPING", good.to_str().unwrap()),
            ("LOOPBOT_ATS_POLL", "never"),
        ])
        .await;
    let job = app
        .state
        .ats_mapping
        .job(loopbot::ats::AtsKind::Ashby, "7001")
        .expect("the mapping is loaded");
    assert_eq!(
        job.interview("int-tech", None).unwrap().stage,
        "technical-screen"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[jobs]]\nats = \"ashby\"\njob = \"7001\"\nrubric = \"senior-backend\"\n\
         [[jobs.interviews]]\nid = \"int-tech\"\nstage = \"lunch\"\n",
    )
    .unwrap();
    let mut raw = world.raw_settings();
    raw.insert("LOOPBOT_ASHBY_API_KEY".into(), "ashby-test-key".into());
    raw.insert("LOOPBOT_ATS_MAPPING".into(), bad.to_str().unwrap().into());
    let settings = Settings::parse(&raw, Needs::Slack).unwrap();
    let err = loopbot::startup::Application::build(settings, world.clock.clone())
        .await
        .err()
        .expect("a bad mapping stops start-up")
        .to_string();
    assert!(
        err.contains("LOOPBOT_ATS_MAPPING") && err.contains("jobs[0].interviews[0].stage"),
        "{err}"
    );
}

#[tokio::test]
async fn each_ats_says_whether_a_write_is_already_there() {
    let (_clock, ab, ab_server) = sim(SimAts::Ashby).await;
    let client = ashby(&ab_server, &ab.key);
    let mut feedback = FeedbackWrite {
        application_id: "5001".into(),
        form_definition_id: "form-1".into(),
        user_id: "103".into(),
        interview_event_id: Some("ev-1".into()),
        fields: vec![("overall".into(), json!({ "score": 3 }))],
    };
    assert!(!client.has_feedback(&feedback).await.unwrap());
    client.write_feedback(&feedback).await.unwrap();
    assert!(client.has_feedback(&feedback).await.unwrap());
    feedback.user_id = "104".into();
    assert!(
        !client.has_feedback(&feedback).await.unwrap(),
        "someone else's"
    );
    feedback.fields = vec![("overall".into(), json!({ "score": 5 }))];
    let err = client.write_feedback(&feedback).await.unwrap_err();
    assert!(
        matches!(&err, AtsError::Refused(r) if r.contains("invalid_input")),
        "a Score is 1 to 4: {err:?}"
    );

    let (_clock, gh, gh_server) = sim(SimAts::Greenhouse).await;
    let client = greenhouse(&gh_server, &gh);
    let note = NoteWrite {
        application_id: "5001".into(),
        candidate_id: "6001".into(),
        body: "Loopbot scorecard\n\nLoopbot ref: 0123abcd".into(),
    };
    assert!(
        !client
            .has_note(&note, "Loopbot ref: 0123abcd")
            .await
            .unwrap()
    );
    client.write_note(&note).await.unwrap();
    assert!(
        client
            .has_note(&note, "Loopbot ref: 0123abcd")
            .await
            .unwrap()
    );
    assert!(!client.has_note(&note, "Loopbot ref: ffff").await.unwrap());
    assert_eq!(gh.notes()[0]["visibility"], "private");
}

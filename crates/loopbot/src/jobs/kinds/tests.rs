use super::*;

#[test]
fn jobs_round_trip_through_their_stored_form() {
    for job in [
        Job::ProvisionLoop { loop_id: 7 },
        Job::RefreshSummary { loop_id: 7 },
        Job::RefreshRubric {
            loop_id: 7,
            position: 2,
        },
        Job::ScorecardNote {
            loop_id: 7,
            scorecard_id: 9,
        },
    ] {
        let stored = job.queue_at(5);
        assert_eq!(stored.kind, job.kind());
        assert_eq!(Job::from_payload(&stored.payload).unwrap(), job);
    }
    assert_eq!(
        Job::ProvisionLoop { loop_id: 7 }
            .queue_at(0)
            .dedupe_key
            .as_deref(),
        Some("provision:7")
    );
}

#[test]
fn ats_jobs_round_trip_and_only_the_link_names_a_loop() {
    let link = Job::AtsLink {
        loop_id: 7,
        ats: "greenhouse".into(),
        application_id: "5001".into(),
        user: "U1".into(),
        asked_at: 42,
    };
    let notice = Job::AtsNotice {
        ats: "ashby".into(),
        application_id: "5001".into(),
        what: "unmapped".into(),
        subject: "int-lunch".into(),
        candidate: "Ada Lovelace".into(),
        about: "int-lunch".into(),
        to: None,
    };
    for job in [&link, &notice] {
        assert_eq!(Job::from_payload(&job.queue_at(5).payload).unwrap(), *job);
    }
    assert_eq!(link.queue_at(0).loop_id, Some(7));
    assert_eq!(loop_of_post_key(&link.dedupe_key()), Some(7));
    assert_eq!(notice.queue_at(0).loop_id, None);
    assert_eq!(loop_of_post_key(&notice.dedupe_key()), None);
    assert_eq!(
        notice.dedupe_key(),
        "ats_notice:ashby:5001:unmapped:int-lunch",
        "one notice per application, kind and subject"
    );
}

#[test]
fn every_post_key_names_its_loop() {
    let user = || "U1".to_string();
    let jobs = [
        Job::ProvisionLoop { loop_id: 7 },
        Job::RubricDetail {
            loop_id: 7,
            position: 2,
        },
        Job::SkipWarning {
            loop_id: 7,
            position: 2,
        },
        Job::SkipNote {
            loop_id: 7,
            position: 2,
        },
        Job::DecisionMessage { loop_id: 7, at: 0 },
        Job::DecisionMessage { loop_id: 7, at: 9 },
        Job::ReopenNote {
            loop_id: 7,
            cycle: 1,
        },
        Job::Nudge {
            loop_id: 7,
            position: 1,
            user: user(),
            asked_at: 5,
        },
        Job::Reminder {
            loop_id: 7,
            position: 1,
            user: user(),
            seq: 2,
        },
        Job::Escalation {
            loop_id: 7,
            position: 1,
            user: user(),
        },
        Job::OwnerNotice {
            loop_id: 7,
            position: 1,
            user: user(),
            to: "U2".into(),
            what: "escalation".into(),
        },
        Job::NotRunNotice {
            loop_id: 7,
            position: 1,
            user: user(),
        },
        Job::Brief {
            loop_id: 7,
            position: 1,
            user: user(),
            interview_at: 5,
        },
        Job::InterviewNudge {
            loop_id: 7,
            position: 1,
            user: user(),
            interview_at: 5,
        },
        Job::SetupFailedNotice {
            loop_id: 7,
            job_id: 3,
        },
        Job::OrderNote {
            loop_id: 7,
            order: "1,3,2".into(),
        },
        Job::ScreenGate {
            loop_id: 7,
            to: "U2".into(),
        },
        Job::ReadyToDecide {
            loop_id: 7,
            cycle: 0,
        },
        Job::DecideReminder {
            loop_id: 7,
            cycle: 0,
            ready_at: 5,
            to: "U2".into(),
        },
        Job::InviteRefusedNotice {
            loop_id: 7,
            refused: vec![(user(), "cant_invite".into())],
        },
        Job::AtsWriteRefused {
            loop_id: 7,
            job_id: 3,
            position: 1,
            user: user(),
        },
    ];
    for job in jobs {
        assert_eq!(loop_of_post_key(&job.dedupe_key()), Some(7), "{job:?}");
    }
    // The keys provisioning posts with.
    for key in [
        "provision:7:rubric:2",
        "provision:7:summary",
        "provision:7:ready",
    ] {
        assert_eq!(loop_of_post_key(key), Some(7), "{key}");
    }
    for key in [
        "note:scorecard:7",
        "home:U7",
        "",
        "brief",
        "brief:x:1",
        "owner:7",
    ] {
        assert_eq!(loop_of_post_key(key), None, "{key}");
    }
}

//! The listener over real TCP: slow headers and slow bodies are cut off, stalled connections
//! beyond `LOOPBOT_MAX_CONNECTIONS` are shed so that `/healthz` and Slack's requests are still
//! answered at once, and Socket Mode acknowledgements are timed like HTTP ones. The server's
//! timeouts run on real time (not the injected clock), so the tests set them short.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Longer than any timeout a test sets: a read still pending then means the server kept the
/// connection open.
const PATIENCE: Duration = Duration::from_secs(5);

async fn connect(app: &TestApp) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    TcpStream::connect(address).await.expect("the app accepts")
}

/// Reads until the server closes the connection (end of file or a reset) and returns what it
/// sent; `None` if it is still open after `within`.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    closed
        .ok()
        .map(|()| String::from_utf8_lossy(&received).into_owned())
}

fn dropped(app: &TestApp, reason: &str) -> u64 {
    app.state.metrics.get(
        "loopbot_http_connections_dropped_total",
        &format!("listener=\"main\",reason=\"{reason}\""),
    )
}

/// Headers, then part of a body that never comes in full.
const SLOW_BODY: &str = "POST /slack/commands HTTP/1.1\r\nHost: loopbot\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 400\r\n\r\ncommand=%2Floop&text=";

#[tokio::test]
async fn a_connection_that_stalls_in_its_headers_is_closed_after_the_header_timeout() {
    let world = World::new().await;
    let app = world
        .spawn_app_with(&[("LOOPBOT_HEADER_TIMEOUT", "300ms")])
        .await;
    let started = Instant::now();
    let mut partial = connect(&app).await;
    partial
        .write_all(b"POST /slack/commands HTTP/1.1\r\nHost: loopbot\r\nX-Slack-Signature: v0=")
        .await
        .unwrap();
    let mut silent = connect(&app).await;

    let answer = until_closed(&mut partial, PATIENCE).await;
    let waited = started.elapsed();
    assert_eq!(
        answer.as_deref(),
        Some(""),
        "closed without an answer, not kept open"
    );
    assert!(
        waited >= Duration::from_millis(250),
        "closed by the timeout, not at once: {waited:?}"
    );
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert_eq!(
        until_closed(&mut silent, PATIENCE).await.as_deref(),
        Some(""),
        "a connection that sends nothing is closed too"
    );
    assert_eq!(dropped(&app, "header_timeout"), 2);

    // A prompt request is unaffected, and the keep-alive connection it leaves is closed when
    // it has been idle as long.
    let mut prompt = connect(&app).await;
    prompt
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: loopbot\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut prompt, PATIENCE)
        .await
        .expect("idle connection closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn a_connection_that_stalls_in_its_body_gets_408_and_is_closed() {
    let world = World::new().await;
    let app = world
        .spawn_app_with(&[("LOOPBOT_BODY_TIMEOUT", "300ms")])
        .await;
    let started = Instant::now();
    let mut stream = connect(&app).await;
    stream.write_all(SLOW_BODY.as_bytes()).await.unwrap();
    let answer = until_closed(&mut stream, PATIENCE)
        .await
        .expect("the server closes the connection");
    let waited = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"));
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    assert_eq!(
        app.state.metrics.get(
            "loopbot_slack_requests_rejected_total",
            "reason=\"body_timeout\""
        ),
        1
    );
    assert_eq!(dropped(&app, "body_timeout"), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM loops").await, 0);

    // A body that comes in time is read as usual (here: refused for its missing signature).
    let mut stream = connect(&app).await;
    stream
        .write_all(b"POST /slack/commands HTTP/1.1\r\nHost: loopbot\r\nContent-Length: 4\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stream.write_all(b"a=b&").await.unwrap();
    let answer = until_closed(&mut stream, PATIENCE).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn with_more_stalled_connections_than_the_bound_healthz_and_slack_are_answered() {
    let world = World::new().await;
    // Timeouts far longer than the test: only the bound can free a place.
    let app = world
        .spawn_app_with(&[
            ("LOOPBOT_MAX_CONNECTIONS", "20"),
            ("LOOPBOT_HEADER_TIMEOUT", "60s"),
            ("LOOPBOT_BODY_TIMEOUT", "60s"),
        ])
        .await;
    let mut stalled = Vec::new();
    for i in 0..60 {
        let mut stream = connect(&app).await;
        let sent = if i % 2 == 0 {
            "GET /healthz HTTP/1.1\r\nHost: loo"
        } else {
            SLOW_BODY
        };
        stream.write_all(sent.as_bytes()).await.unwrap();
        stalled.push(stream);
    }
    // Let the accept loop take them all in.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let health = tokio::time::timeout(Duration::from_secs(2), app.get("/healthz"))
        .await
        .expect("/healthz answers at once");
    assert_eq!(health.status(), 200);
    let command = tokio::time::timeout(
        Duration::from_secs(2),
        app.slack
            .command(COORDINATOR, &world.hiring_channel, "help"),
    )
    .await
    .expect("a signed slash command is answered at once");
    assert_eq!(command.status(), 200);
    let body: serde_json::Value = command.json().await.unwrap();
    assert_eq!(body["response_type"], "ephemeral", "{body}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // The stalled connections beyond the bound were closed, oldest first.
    let mut closed = Vec::new();
    for (i, stream) in stalled.iter_mut().enumerate() {
        if until_closed(stream, Duration::from_millis(50))
            .await
            .is_some()
        {
            closed.push(i);
        }
    }
    assert!(
        closed.len() >= 60 - 20,
        "at most 20 stay open, closed: {closed:?}"
    );
    assert!(closed.starts_with(&[0, 1, 2, 3]), "{closed:?}");
    assert!(dropped(&app, "shed") >= 40);
    let open = app
        .state
        .metrics
        .gauge("loopbot_http_connections", "listener=\"main\"")
        .unwrap();
    assert!(open <= 20, "{open}");

    // Stopping closes the stalled connections left after a second's grace instead of waiting
    // out their timeouts (or the 9 s bound on the drain).
    let started = Instant::now();
    app.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn socket_mode_acknowledgements_are_timed_by_envelope_type() {
    let world = World::new().await;
    let (app, side) = crate::socket::spawn_socket_app(&world, &[]).await;
    assert!(
        side.command(COORDINATOR, &world.hiring_channel, "help")
            .await
            .acked()
    );
    let home = json!({"type": "app_home_opened", "user": SCREENER, "channel": "D1", "tab": "home", "event_ts": "1.0"});
    assert!(side.event("EvAckTimed", home).await.acked());
    assert!(
        side.send_closed(SCREENER, "V0NOSUCH", &slack_sim::client::FormValues::new())
            .await
            .acked()
    );
    let text = app.get("/metrics").await.text().await.unwrap();
    for kind in ["slash_commands", "events_api", "interactive"] {
        assert!(
            text.contains(&format!(
                "loopbot_ack_duration_seconds_count{{route=\"socket:{kind}\"}} 1\n"
            )),
            "{kind}: {text}"
        );
        assert!(
            text.contains(&format!(
                "loopbot_ack_duration_seconds_bucket{{route=\"socket:{kind}\",le=\"2.5\"}} 1\n"
            )),
            "acknowledged well within Slack's 3 s: {text}"
        );
    }
    app.stop().await;
}

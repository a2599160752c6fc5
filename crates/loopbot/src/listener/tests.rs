use super::*;

#[test]
fn the_bound_fits_under_the_file_limit() {
    assert_eq!(fit_to_file_limit(512, Some(65_536)), (512, false));
    assert_eq!(fit_to_file_limit(512, None), (512, false));
    assert_eq!(fit_to_file_limit(1_000, Some(1_024)), (896, true));
    assert_eq!(fit_to_file_limit(512, Some(100)), (1, true));
    assert_eq!(fit_to_file_limit(512, Some(u64::MAX)), (512, false));
}

#[test]
fn the_connection_waiting_longest_is_shed_and_a_busy_one_never() {
    let open = Arc::new(Open::new("main", Arc::new(Metrics::default())));
    let (busy, mut busy_shed) = open.add();
    busy.busy();
    let (old, mut old_shed) = open.add();
    std::thread::sleep(Duration::from_millis(2));
    let (new, mut new_shed) = open.add();
    assert!(open.shed_longest_waiting());
    assert!(old_shed.try_recv().is_ok(), "the oldest waiting one goes");
    assert!(new_shed.try_recv().is_err());
    assert!(open.shed_longest_waiting());
    assert!(new_shed.try_recv().is_ok());
    assert!(!open.shed_longest_waiting(), "a busy connection stays");
    assert!(busy_shed.try_recv().is_err());
    assert_eq!(
        open.metrics.get(
            "loopbot_http_connections_dropped_total",
            "listener=\"main\",reason=\"shed\""
        ),
        2
    );
    assert_eq!(
        open.metrics
            .gauge("loopbot_http_connections", "listener=\"main\""),
        Some(1)
    );
    drop((old, new));
    drop(busy);
    assert_eq!(
        open.metrics
            .gauge("loopbot_http_connections", "listener=\"main\""),
        Some(0)
    );
}

#[test]
fn a_body_timeout_is_recognised_through_the_errors_wrapping_it() {
    let inner = axum::Error::new(BodyTimedOut(Duration::from_secs(1)));
    let outer = axum::Error::new(Box::new(inner) as Box<dyn std::error::Error + Send + Sync>);
    assert!(BodyTimedOut::caused(&outer));
    assert!(!BodyTimedOut::caused(&io::Error::other("closed")));
}

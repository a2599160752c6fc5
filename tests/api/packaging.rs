//! The container image and the systemd unit say what the README promises. (Building the image
//! needs a container registry, which the test machines do not reach; `systemd-analyze verify`
//! checks the unit where systemd is installed.)

const DOCKERFILE: &str = include_str!("../../Dockerfile");
const UNIT: &str = include_str!("../../deploy/loopbot.service");

#[test]
fn the_image_is_multi_stage_slim_non_root_with_a_volume_and_a_healthcheck() {
    let stages = DOCKERFILE
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .count();
    assert_eq!(stages, 2, "build, then run");
    for needed in [
        "FROM debian:bookworm-slim",
        "ca-certificates",
        "USER loopbot",
        "VOLUME [\"/data\"]",
        "DATABASE_URL=sqlite:///data/loopbot.db",
        "HEALTHCHECK",
        "\"loopbot\", \"healthcheck\"",
        "--locked",
    ] {
        assert!(DOCKERFILE.contains(needed), "{needed}");
    }
}

#[test]
fn the_unit_runs_hardened_and_does_not_restart_on_a_configuration_error() {
    for needed in [
        "ExecStart=/usr/local/bin/loopbot serve",
        "DynamicUser=yes",
        "StateDirectory=loopbot",
        "UMask=0077",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=\n",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=yes",
        "RestartPreventExitStatus=78",
        "LimitNOFILE=",
    ] {
        assert!(UNIT.contains(needed), "{needed}");
    }
}

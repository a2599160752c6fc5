//! `manifest.yml` is valid against Slack's own manifest JSON schema (slackapi/manifest-schema,
//! vendored in `tests/fixtures/slack-reference/`; offline, no remote `$ref`s) and declares exactly
//! what the bot needs.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/slack-reference/manifest-schema")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn manifest() -> Value {
    read_manifest("manifest.yml")
}

/// The Socket Mode manifest: no request URLs.
fn socket_manifest() -> Value {
    read_manifest("manifest-socket.yml")
}

fn read_manifest(name: &str) -> Value {
    let path = root().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{name} at the repository root: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"))
}

fn validator(version: &str) -> jsonschema::Validator {
    let schema = read_json(&fixtures().join(format!("manifest.schema.{version}.json")));
    jsonschema::draft7::new(&schema).expect("the manifest schema compiles")
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, found {v}"))
        .iter()
        .map(|s| s.as_str().expect("a string"))
        .collect()
}

#[test]
fn manifest_is_valid_against_slack_schema() {
    let v = validator("1.0.0");
    for (name, m) in [
        ("manifest.yml", manifest()),
        ("manifest-socket.yml", socket_manifest()),
    ] {
        let errs = errors(&v, &m);
        assert!(errs.is_empty(), "{name} is invalid:\n{}", errs.join("\n"));
    }
}

#[test]
fn the_socket_mode_manifest_is_the_same_app_without_request_urls() {
    let socket = socket_manifest();
    assert_eq!(socket["settings"]["socket_mode_enabled"], true);
    assert!(
        !socket.to_string().contains("://"),
        "no request URLs: {socket}"
    );
    // Everything else is the HTTPS manifest's: the same command, scopes, events and home.
    let mut https = manifest();
    https["features"]["slash_commands"][0]
        .as_object_mut()
        .unwrap()
        .remove("url");
    https["settings"]["event_subscriptions"]
        .as_object_mut()
        .unwrap()
        .remove("request_url");
    https["settings"]["interactivity"]
        .as_object_mut()
        .unwrap()
        .remove("request_url");
    https["settings"]["socket_mode_enabled"] = true.into();
    assert_eq!(socket, https, "the two manifests differ only in transport");
    let text = std::fs::read_to_string(root().join("manifest-socket.yml")).unwrap();
    let head: String = text.lines().take_while(|l| l.starts_with('#')).collect();
    assert!(
        head.contains("SLACK_APP_TOKEN") && head.contains("connections:write"),
        "{head}"
    );
}

#[test]
fn validator_accepts_upstream_valid_and_rejects_upstream_invalid_examples() {
    for version in ["1", "2"] {
        let v = validator(&format!("{version}.0.0"));
        let dir = fixtures().join(format!("examples/v{version}"));
        let valid = read_json(&dir.join("manifest.valid.json"));
        let errs = errors(&v, &valid);
        assert!(errs.is_empty(), "v{version} valid example: {errs:?}");
        let invalid = read_json(&dir.join("manifest.invalid.json"));
        assert!(
            !v.is_valid(&invalid),
            "v{version} invalid example passed validation"
        );
    }
}

type Mutation = fn(&mut Value);

#[test]
fn validator_rejects_broken_variants_of_our_manifest() {
    let v = validator("1.0.0");
    let mutations: [(&str, Mutation); 4] = [
        ("name longer than 35", |m| {
            m["display_information"]["name"] = "L".repeat(36).into()
        }),
        ("command without a slash", |m| {
            m["features"]["slash_commands"][0]["command"] = "loop".into()
        }),
        ("unknown settings key", |m| {
            m["settings"]["socket_mode"] = true.into()
        }),
        ("short long_description", |m| {
            m["display_information"]["long_description"] = "Too short.".into()
        }),
    ];
    for (case, mutate) in mutations {
        let mut m = manifest();
        mutate(&mut m);
        assert!(!v.is_valid(&m), "{case}: should be rejected");
    }
}

#[test]
fn manifest_declares_what_the_bot_needs() {
    let m = manifest();

    let info = &m["display_information"];
    assert_eq!(info["name"], "Loopbot");
    let description = info["description"].as_str().unwrap();
    assert!((1..=140).contains(&description.chars().count()));
    let long = info["long_description"].as_str().unwrap();
    assert!((175..=4000).contains(&long.chars().count()));
    // The schema's `regex` keyword is non-standard, so check the colour here.
    let color = info["background_color"].as_str().unwrap();
    assert!(
        color.starts_with('#')
            && [4, 7].contains(&color.len())
            && color[1..].chars().all(|c| c.is_ascii_hexdigit()),
        "{color}"
    );

    let features = &m["features"];
    assert_eq!(features["app_home"]["home_tab_enabled"], true);
    assert_eq!(features["app_home"]["messages_tab_enabled"], true);
    assert_eq!(features["app_home"]["messages_tab_read_only_enabled"], true);
    assert_eq!(features["bot_user"]["display_name"], "loopbot");
    assert_eq!(features["bot_user"]["always_online"], true);

    let commands = features["slash_commands"].as_array().unwrap();
    assert_eq!(commands.len(), 1, "exactly one slash command");
    let cmd = &commands[0];
    assert_eq!(cmd["command"], "/loop");
    assert_eq!(cmd["should_escape"], false);
    assert_eq!(
        cmd["usage_hint"],
        "start [candidate] | status | skip <stage> <reason> | decide | reopen <reason> | remind | panel | link <ATS URL or id> | help"
    );
    assert!(!cmd["description"].as_str().unwrap().is_empty());

    let mut scopes = strings(&m["oauth_config"]["scopes"]["bot"]);
    scopes.sort_unstable();
    let mut expected = vec![
        "commands",
        "chat:write",
        "groups:write",
        "groups:read",
        "groups:history",
        "im:write",
        "im:history",
        "users:read",
        "users:read.email",
        "pins:write",
    ];
    expected.sort_unstable();
    assert_eq!(scopes, expected);
    assert!(m["oauth_config"]["scopes"].get("user").is_none());

    let settings = &m["settings"];
    let urls = [
        (&cmd["url"], "/slack/commands"),
        (
            &settings["event_subscriptions"]["request_url"],
            "/slack/events",
        ),
        (
            &settings["interactivity"]["request_url"],
            "/slack/interactions",
        ),
    ];
    for (url, path) in urls {
        let url = url.as_str().expect("a request URL");
        let rest = url
            .strip_prefix("https://")
            .unwrap_or_else(|| panic!("{url} is not https"));
        let (host, got_path) = rest.split_at(rest.find('/').expect("a path"));
        assert_eq!(host, "loopbot.example.com", "{url}");
        assert_eq!(got_path, path, "{url}");
    }
    assert_eq!(settings["interactivity"]["is_enabled"], true);

    let events = strings(&settings["event_subscriptions"]["bot_events"]);
    for needed in [
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
        "group_archive",
        "group_unarchive",
        "group_rename",
        "group_deleted",
    ] {
        assert!(events.contains(&needed), "missing bot event {needed}");
    }
    assert_eq!(settings["org_deploy_enabled"], false);
    assert_eq!(settings["socket_mode_enabled"], false);
    assert_eq!(settings["token_rotation_enabled"], false);
}

#[test]
fn manifest_tells_the_admin_to_replace_the_host() {
    let text = std::fs::read_to_string(root().join("manifest.yml")).unwrap();
    let head: String = text.lines().take_while(|l| l.starts_with('#')).collect();
    assert!(head.contains("loopbot.example.com"), "{head}");
    assert!(head.to_lowercase().contains("replace"), "{head}");
}

//! The one place that reads configuration: environment variables (a `.env` file is read first by
//! `main`), overridden by command-line flags. Every problem names the variable and what is wrong.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::domain::channel_name::ChannelNaming;
pub use crate::domain::schedule::{WorkDays, WorkHours};
pub use crate::secret::Secret;

/// How Slack reaches Loopbot (`LOOPBOT_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Signed HTTPS requests to `/slack/*` (needs a public URL and `SLACK_SIGNING_SECRET`).
    Http,
    /// Socket Mode: Loopbot opens a WebSocket to Slack with `SLACK_APP_TOKEN`; no public URL,
    /// and the `/slack/*` routes are off.
    Socket,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `LOOPBOT_MODE` resolved: `auto` is Socket Mode when `SLACK_APP_TOKEN` is set.
    pub transport: Transport,
    /// `SLACK_APP_TOKEN` (`xapp-…`, scope `connections:write`); set in Socket Mode only.
    pub app_token: Option<Secret>,
    /// Empty in Socket Mode, where nothing is signed.
    pub signing_secret: Secret,
    pub bot_token: Secret,
    pub slack_api_url: String,
    pub database_url: String,
    pub listen: SocketAddr,
    pub feedback_due: Duration,
    pub remind_every: Duration,
    pub escalate_after: u32,
    pub work_hours: WorkHours,
    /// `LOOPBOT_WORK_DAYS`: the days reminders may go out, in each person's time zone.
    pub work_days: WorkDays,
    /// `LOOPBOT_REMIND_MAX`: reminders per person and stage at most; after the last, the
    /// loop's owners are told that person is no longer chased.
    pub remind_max: u32,
    pub tick: Duration,
    pub channel_naming: ChannelNaming,
    pub rubrics_dir: Option<PathBuf>,
    /// `None` keeps decided channels forever.
    pub archive_after: Option<Duration>,
    /// `LOOPBOT_BRIEF_BEFORE`: each interviewer's brief this long before the interview;
    /// `None` sends none.
    pub brief_before: Option<Duration>,
    /// `LOOPBOT_NUDGE_AFTER`: one friendly nudge this long after the interview ends, if the
    /// scorecard is not in and not yet due; `None` sends none.
    pub nudge_after: Option<Duration>,
    /// `LOOPBOT_DECIDE_WITHIN`: working time after the last stage is in before the hiring
    /// manager is reminded, once, to record the decision (and the coordinator told).
    pub decide_within: Duration,
    /// `LOOPBOT_RETAIN`: candidate data is purged this long after the decision; `None` keeps
    /// it.
    pub retain: Option<Duration>,
    /// `LOOPBOT_RETAIN_SLACK`: with `LOOPBOT_RETAIN`, Loopbot's own messages about the loop in
    /// Slack are deleted too and its channel renamed and archived (`delete`, true), or left
    /// (`keep`, false).
    pub retain_slack: bool,
    /// `LOOPBOT_METRICS_LISTEN`: `/metrics` on its own listener (and not on the main one).
    pub metrics_listen: Option<SocketAddr>,
    /// `LOOPBOT_HEADER_TIMEOUT`: a request's headers must be in within this (and an idle
    /// connection is closed after as long).
    pub header_timeout: Duration,
    /// `LOOPBOT_BODY_TIMEOUT`: a request's body must be in within this of its headers.
    pub body_timeout: Duration,
    /// `LOOPBOT_MAX_CONNECTIONS`: HTTP connections open at once, at most (lowered at start if
    /// the file limit would not hold them).
    pub max_connections: usize,
    /// `LOOPBOT_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// How many jobs run at once (`LOOPBOT_CONCURRENCY`); a loop's own jobs still run one at
    /// a time, in order.
    pub concurrency: usize,
    /// The ATS adapters (issue "Loops that start themselves"); each is on when its key is set.
    pub ats: AtsSettings,
    /// Not a user setting: tests and the demo drive the worker themselves.
    pub run_worker: bool,
    /// Not a user setting: outbound calls are paced by Slack's rate tiers. Tests that move a
    /// manual clock by hand turn it off unless they test pacing.
    pub pace_outbound: bool,
}

/// A setting that stops start-up. Displays as one line naming the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct SettingsError {
    pub variable: &'static str,
    pub problem: String,
}

fn problem(variable: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError {
        variable,
        problem: problem.into(),
    }
}

/// The ATS settings. Keys and secrets come from the environment only ([`SECRETS`]) and are
/// held as [`Secret`]s, so they never show in logs.
#[derive(Debug, Clone, Default)]
pub struct AtsSettings {
    /// On when `LOOPBOT_ASHBY_API_KEY` is set.
    pub ashby: Option<AshbySettings>,
    /// On when `LOOPBOT_GREENHOUSE_CLIENT_ID` and `_CLIENT_SECRET` are set.
    pub greenhouse: Option<GreenhouseSettings>,
    /// `POST /ats/ashby` answers 404 without it.
    pub ashby_webhook_secret: Option<Secret>,
    /// `POST /ats/greenhouse` answers 404 without it.
    pub greenhouse_webhook_secret: Option<Secret>,
    /// `LOOPBOT_ATS_POLL`: how often each ATS on is polled; `None` (`never`) relies on
    /// webhooks alone.
    pub poll: Option<Duration>,
    /// `LOOPBOT_ATS_MAPPING`: the mapping file (ATS jobs → rubrics, interviews → stages),
    /// required when an adapter is on.
    pub mapping: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct AshbySettings {
    pub api_key: Secret,
    pub api_url: String,
}

#[derive(Debug, Clone)]
pub struct GreenhouseSettings {
    pub client_id: Secret,
    pub client_secret: Secret,
    /// The Greenhouse user the token acts as (`sub`), and the author of notes.
    pub user_id: String,
    pub api_url: String,
    pub auth_url: String,
}

/// What a command needs: `serve` needs the Slack secrets, `export` and `purge` only the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Slack,
    DatabaseOnly,
}

/// Raw values, by variable name. Flags are merged in over the environment before parsing.
pub type RawSettings = HashMap<String, String>;

/// How log lines are written to stderr (`LOOPBOT_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per line, with the span fields (request route, job kind and loop).
    Json,
}

/// Every setting of `loopbot serve` but the secrets, declared once: its flag, environment
/// variable, default and help. `serve --help` shows them all, [`Settings::parse`] takes its
/// defaults from here, and a test checks `.env.example` against it. The values are checked by
/// [`Settings::parse`], so every problem is one line naming the variable.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(after_help = secrets_help())]
pub struct ServeArgs {
    /// How Slack reaches Loopbot: `auto` (Socket Mode when SLACK_APP_TOKEN is set), `http`
    /// (signed HTTPS requests to /slack/*) or `socket`.
    #[arg(
        long,
        env = "LOOPBOT_MODE",
        default_value = "auto",
        value_name = "MODE"
    )]
    pub mode: Option<String>,
    /// The HTTP listen address (Slack's requests in HTTP mode, /healthz, /readyz, /metrics).
    #[arg(
        long,
        env = "LOOPBOT_LISTEN",
        default_value = "0.0.0.0:3000",
        value_name = "ADDR"
    )]
    pub listen: Option<String>,
    /// Serve /metrics on this address instead of the main listener (e.g. 127.0.0.1:9100).
    #[arg(long, env = "LOOPBOT_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// How long a client has to send a request's headers; an idle connection is closed after
    /// as long.
    #[arg(
        long,
        env = "LOOPBOT_HEADER_TIMEOUT",
        default_value = "5s",
        value_name = "DURATION"
    )]
    pub header_timeout: Option<String>,
    /// How long a client has to send a request's body once its headers are in (408 after).
    #[arg(
        long,
        env = "LOOPBOT_BODY_TIMEOUT",
        default_value = "10s",
        value_name = "DURATION"
    )]
    pub body_timeout: Option<String>,
    /// HTTP connections open at most (1 to 1000000); at the bound, the one waiting longest
    /// on its client is closed to make room.
    #[arg(
        long,
        env = "LOOPBOT_MAX_CONNECTIONS",
        default_value = "512",
        value_name = "N"
    )]
    pub max_connections: Option<String>,
    /// The database, migrated on start: sqlite://loopbot.db (relative, created when missing),
    /// sqlite:///var/lib/loopbot/loopbot.db (absolute) or postgres://user:pass@host/db.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://loopbot.db",
        value_name = "URL"
    )]
    pub database_url: Option<String>,
    /// The Slack Web API base URL; each call goes to <base>/<method>.
    #[arg(
        long,
        env = "SLACK_API_URL",
        default_value = "https://slack.com/api",
        value_name = "URL"
    )]
    pub slack_api_url: Option<String>,
    /// Feedback deadline after an interview ends (unless the rubric sets one).
    #[arg(
        long,
        env = "LOOPBOT_FEEDBACK_DUE",
        default_value = "24h",
        value_name = "DURATION"
    )]
    pub feedback_due: Option<String>,
    /// Interval between reminders of a missing scorecard.
    #[arg(
        long,
        env = "LOOPBOT_REMIND_EVERY",
        default_value = "24h",
        value_name = "DURATION"
    )]
    pub remind_every: Option<String>,
    /// Reminders before the hiring manager is told (1 to 20).
    #[arg(
        long,
        env = "LOOPBOT_ESCALATE_AFTER",
        default_value = "2",
        value_name = "N"
    )]
    pub escalate_after: Option<String>,
    /// Reminders at most per interviewer and stage (1 to 50).
    #[arg(
        long,
        env = "LOOPBOT_REMIND_MAX",
        default_value = "5",
        value_name = "N"
    )]
    pub remind_max: Option<String>,
    /// When reminders may be sent, in each person's time zone: HH:MM-HH:MM or `always`.
    #[arg(
        long,
        env = "LOOPBOT_WORK_HOURS",
        default_value = "09:00-18:00",
        value_name = "HOURS"
    )]
    pub work_hours: Option<String>,
    /// Days on which reminders may be sent: mon-fri, sun-thu, mon,wed,fri or `always`.
    #[arg(
        long,
        env = "LOOPBOT_WORK_DAYS",
        default_value = "mon-fri",
        value_name = "DAYS"
    )]
    pub work_days: Option<String>,
    /// How often due work is looked for.
    #[arg(
        long,
        env = "LOOPBOT_TICK",
        default_value = "30s",
        value_name = "DURATION"
    )]
    pub tick: Option<String>,
    /// How candidate channels are named: `name` or `initials`.
    #[arg(
        long,
        env = "LOOPBOT_CHANNEL_NAMING",
        default_value = "name",
        value_name = "NAMING"
    )]
    pub channel_naming: Option<String>,
    /// A folder of extra rubric files (one per role) beside the built-in ones.
    #[arg(long, env = "LOOPBOT_RUBRICS_DIR", value_name = "DIR")]
    pub rubrics_dir: Option<String>,
    /// Archive a candidate channel this long after the decision; `never` keeps it.
    #[arg(
        long,
        env = "LOOPBOT_ARCHIVE_AFTER",
        default_value = "7d",
        value_name = "DURATION"
    )]
    pub archive_after: Option<String>,
    /// Brief each interviewer by direct message this long before the interview; `never`
    /// sends none.
    #[arg(
        long,
        env = "LOOPBOT_BRIEF_BEFORE",
        default_value = "30m",
        value_name = "DURATION"
    )]
    pub brief_before: Option<String>,
    /// One friendly direct message this long after the interview ends; `never` sends none.
    #[arg(
        long,
        env = "LOOPBOT_NUDGE_AFTER",
        default_value = "1h",
        value_name = "DURATION"
    )]
    pub nudge_after: Option<String>,
    /// Working time after the last stage is in before the hiring manager is reminded to
    /// decide.
    #[arg(
        long,
        env = "LOOPBOT_DECIDE_WITHIN",
        default_value = "2d",
        value_name = "DURATION"
    )]
    pub decide_within: Option<String>,
    /// How many outbound jobs run at once (1 to 64); a loop's own jobs still run one at a time.
    #[arg(
        long,
        env = "LOOPBOT_CONCURRENCY",
        default_value = "16",
        value_name = "N"
    )]
    pub concurrency: Option<String>,
    /// Purge a loop's candidate data this long after its decision (as `loopbot purge` does);
    /// `never` keeps it.
    #[arg(
        long,
        env = "LOOPBOT_RETAIN",
        default_value = "never",
        value_name = "DURATION"
    )]
    pub retain: Option<String>,
    /// With LOOPBOT_RETAIN: `delete` also deletes Loopbot's own messages about the loop in
    /// Slack and renames and archives its channel (as `loopbot purge --slack`); `keep` leaves
    /// Slack as it is.
    #[arg(
        long,
        env = "LOOPBOT_RETAIN_SLACK",
        default_value = "delete",
        value_name = "delete|keep"
    )]
    pub retain_slack: Option<String>,
    /// Log lines on stderr: `text` or `json` (one object per line). RUST_LOG filters them
    /// (default: info).
    #[arg(
        long,
        env = "LOOPBOT_LOG_FORMAT",
        default_value = "text",
        value_name = "FORMAT"
    )]
    pub log_format: Option<String>,
    /// The Ashby API base URL (each call goes to <base>/<category>.<method>).
    #[arg(
        long,
        env = "LOOPBOT_ASHBY_API_URL",
        default_value = "https://api.ashbyhq.com",
        value_name = "URL"
    )]
    pub ashby_api_url: Option<String>,
    /// The Greenhouse Harvest API base URL (v3).
    #[arg(
        long,
        env = "LOOPBOT_GREENHOUSE_API_URL",
        default_value = "https://harvest.greenhouse.io",
        value_name = "URL"
    )]
    pub greenhouse_api_url: Option<String>,
    /// The Greenhouse OAuth base URL (tokens from <base>/token).
    #[arg(
        long,
        env = "LOOPBOT_GREENHOUSE_AUTH_URL",
        default_value = "https://auth.greenhouse.io",
        value_name = "URL"
    )]
    pub greenhouse_auth_url: Option<String>,
    /// The Greenhouse user the token acts as (`sub`) and the author of notes; needed with the
    /// Greenhouse credentials.
    #[arg(long, env = "LOOPBOT_GREENHOUSE_USER_ID", value_name = "ID")]
    pub greenhouse_user_id: Option<String>,
    /// How often each ATS is polled for changed interviews; `never` relies on webhooks alone.
    #[arg(
        long,
        env = "LOOPBOT_ATS_POLL",
        default_value = "2m",
        value_name = "DURATION"
    )]
    pub ats_poll: Option<String>,
    /// The ATS mapping file: ATS jobs to rubrics, ATS interviews to stages, loop owners.
    #[arg(long, env = "LOOPBOT_ATS_MAPPING", value_name = "FILE")]
    pub ats_mapping: Option<String>,
}

/// The secrets: read from the environment only (never a flag, which other users can see in
/// the process list) and never shown. Name and what it is.
pub const SECRETS: &[(&str, &str)] = &[
    (
        "SLACK_BOT_TOKEN",
        "the Bot User OAuth Token (xoxb-...) from your app's OAuth & Permissions page; required",
    ),
    (
        "SLACK_SIGNING_SECRET",
        "the Signing Secret from your app's Basic Information page; required over HTTP",
    ),
    (
        "SLACK_APP_TOKEN",
        "an app-level token (xapp-...) with connections:write; turns on Socket Mode",
    ),
    (
        "LOOPBOT_ASHBY_API_KEY",
        "an Ashby API key (candidatesRead/Write, interviewsRead); turns the Ashby adapter on",
    ),
    (
        "LOOPBOT_ASHBY_WEBHOOK_SECRET",
        "verifies Ashby-Signature on POST /ats/ashby; without it that route answers 404",
    ),
    (
        "LOOPBOT_GREENHOUSE_CLIENT_ID",
        "Harvest v3 OAuth client id (with the secret: turns the Greenhouse adapter on)",
    ),
    (
        "LOOPBOT_GREENHOUSE_CLIENT_SECRET",
        "Harvest v3 OAuth client secret",
    ),
    (
        "LOOPBOT_GREENHOUSE_WEBHOOK_SECRET",
        "verifies Signature on POST /ats/greenhouse; without it that route answers 404",
    ),
];

/// [`SECRETS`], RUST_LOG and the exit codes, as `serve --help` shows them after the flags.
fn secrets_help() -> String {
    let mut text = String::from(
        "Secrets, from the environment only (a .env file in the working directory is read first):\n",
    );
    let width = SECRETS
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0)
        + 2;
    for (name, what) in SECRETS {
        text.push_str(&format!("  {name:<width$}{what}\n"));
    }
    text.push_str(
        "\nLogging: RUST_LOG filters the log (default: info,sqlx=warn), e.g. RUST_LOG=debug.\n\n\
         Exit codes: 0 stopped cleanly, 1 runtime failure, 2 usage error, 78 configuration error.",
    );
    text
}

/// One declared setting: its variable, flag, default and help, read from [`ServeArgs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub id: String,
    pub variable: String,
    pub flag: String,
    pub default: Option<String>,
    pub help: String,
}

/// Every setting [`ServeArgs`] declares, in declaration order.
pub fn declared() -> &'static [Declared] {
    static DECLARED: std::sync::LazyLock<Vec<Declared>> = std::sync::LazyLock::new(|| {
        use clap::Args;
        let command = ServeArgs::augment_args(clap::Command::new("serve"));
        command
            .get_arguments()
            .filter_map(|arg| {
                Some(Declared {
                    id: arg.get_id().to_string(),
                    variable: arg.get_env()?.to_string_lossy().into_owned(),
                    flag: format!("--{}", arg.get_long()?),
                    default: arg
                        .get_default_values()
                        .first()
                        .map(|v| v.to_string_lossy().into_owned()),
                    help: arg.get_help().map(ToString::to_string).unwrap_or_default(),
                })
            })
            .collect()
    });
    &DECLARED
}

/// The settings and secrets set in the process environment.
pub fn from_process_env() -> RawSettings {
    declared()
        .iter()
        .map(|d| d.variable.as_str())
        .chain(SECRETS.iter().map(|(name, _)| *name))
        .filter_map(|name| std::env::var(name).ok().map(|v| (name.to_string(), v)))
        .collect()
}

/// The process environment with the flags given on `serve`'s command line over it.
pub fn from_env_and_flags(matches: &clap::ArgMatches) -> RawSettings {
    let mut raw = from_process_env();
    for d in declared() {
        if matches.value_source(&d.id) == Some(clap::parser::ValueSource::CommandLine)
            && let Some(value) = matches.get_one::<String>(&d.id)
        {
            raw.insert(d.variable.clone(), value.clone());
        }
    }
    raw
}

impl Settings {
    pub fn parse(raw: &RawSettings, needs: Needs) -> Result<Settings, SettingsError> {
        let get = |name: &str| raw.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        // A setting's value, else its declared default ("" when it has none).
        let value = |name: &str| -> String {
            get(name)
                .map(str::to_string)
                .or_else(|| {
                    declared()
                        .iter()
                        .find(|d| d.variable == name)
                        .and_then(|d| d.default.clone())
                })
                .unwrap_or_default()
        };
        let (transport, app_token, signing_secret, bot_token) = match needs {
            Needs::Slack => {
                let (transport, app_token) =
                    parse_transport(&value("LOOPBOT_MODE"), get("SLACK_APP_TOKEN"))?;
                let signing_secret = match transport {
                    Transport::Http => parse_signing_secret(get("SLACK_SIGNING_SECRET"))?,
                    Transport::Socket => Secret::new(""),
                };
                (
                    transport,
                    app_token,
                    signing_secret,
                    parse_bot_token(get("SLACK_BOT_TOKEN"))?,
                )
            }
            Needs::DatabaseOnly => (Transport::Http, None, Secret::new(""), Secret::new("")),
        };
        let duration = |name: &'static str| parse_duration(name, &value(name));
        let optional_duration = |name: &'static str| parse_optional_duration(name, &value(name));
        Ok(Settings {
            transport,
            app_token,
            signing_secret,
            bot_token,
            slack_api_url: parse_api_url(&value("SLACK_API_URL"))?,
            database_url: parse_database_url(&value("DATABASE_URL"))?,
            listen: value("LOOPBOT_LISTEN").parse().map_err(|_| {
                problem(
                    "LOOPBOT_LISTEN",
                    "expected an address and port such as 0.0.0.0:3000",
                )
            })?,
            metrics_listen: match get("LOOPBOT_METRICS_LISTEN") {
                None => None,
                Some(address) => Some(address.parse().map_err(|_| {
                    problem(
                        "LOOPBOT_METRICS_LISTEN",
                        format!(
                            "expected an address and port such as 127.0.0.1:9100, got `{address}`"
                        ),
                    )
                })?),
            },
            header_timeout: duration("LOOPBOT_HEADER_TIMEOUT")?,
            body_timeout: duration("LOOPBOT_BODY_TIMEOUT")?,
            max_connections: match value("LOOPBOT_MAX_CONNECTIONS").parse::<usize>() {
                Ok(n) if (1..=1_000_000).contains(&n) => n,
                _ => {
                    return Err(problem(
                        "LOOPBOT_MAX_CONNECTIONS",
                        "expected a number of connections from 1 to 1000000",
                    ));
                }
            },
            feedback_due: duration("LOOPBOT_FEEDBACK_DUE")?,
            remind_every: duration("LOOPBOT_REMIND_EVERY")?,
            escalate_after: parse_escalate_after(&value("LOOPBOT_ESCALATE_AFTER"))?,
            work_hours: parse_work_hours(&value("LOOPBOT_WORK_HOURS"))?,
            work_days: parse_work_days(&value("LOOPBOT_WORK_DAYS"))?,
            remind_max: match value("LOOPBOT_REMIND_MAX").parse::<u32>() {
                Ok(n) if (1..=50).contains(&n) => n,
                _ => {
                    return Err(problem(
                        "LOOPBOT_REMIND_MAX",
                        "expected a whole number of reminders from 1 to 50",
                    ));
                }
            },
            tick: duration("LOOPBOT_TICK")?,
            channel_naming: match value("LOOPBOT_CHANNEL_NAMING").as_str() {
                "name" => ChannelNaming::Name,
                "initials" => ChannelNaming::Initials,
                other => {
                    return Err(problem(
                        "LOOPBOT_CHANNEL_NAMING",
                        format!("expected `name` or `initials`, got `{other}`"),
                    ));
                }
            },
            rubrics_dir: parse_rubrics_dir(get("LOOPBOT_RUBRICS_DIR"))?,
            archive_after: optional_duration("LOOPBOT_ARCHIVE_AFTER")?,
            brief_before: optional_duration("LOOPBOT_BRIEF_BEFORE")?,
            nudge_after: optional_duration("LOOPBOT_NUDGE_AFTER")?,
            decide_within: duration("LOOPBOT_DECIDE_WITHIN")?,
            retain: optional_duration("LOOPBOT_RETAIN")?,
            retain_slack: match value("LOOPBOT_RETAIN_SLACK").as_str() {
                "delete" => true,
                "keep" => false,
                other => {
                    return Err(problem(
                        "LOOPBOT_RETAIN_SLACK",
                        format!("expected `delete` or `keep`, got `{other}`"),
                    ));
                }
            },
            log_format: parse_log_format(&value("LOOPBOT_LOG_FORMAT"))?,
            concurrency: parse_concurrency(&value("LOOPBOT_CONCURRENCY"))?,
            ats: match needs {
                Needs::Slack => parse_ats(raw)?,
                Needs::DatabaseOnly => AtsSettings::default(),
            },
            run_worker: true,
            pace_outbound: true,
        })
        .and_then(check_mapping_outside_rubrics)
    }
}

/// The ATS adapters: each on when its key is set, its companions then required.
fn parse_ats(raw: &RawSettings) -> Result<AtsSettings, SettingsError> {
    let get = |name: &str| raw.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let value = |name: &str| -> String {
        get(name)
            .map(str::to_string)
            .or_else(|| {
                declared()
                    .iter()
                    .find(|d| d.variable == name)
                    .and_then(|d| d.default.clone())
            })
            .unwrap_or_default()
    };
    let secret = |name: &str| get(name).map(Secret::new);
    let ashby = match get("LOOPBOT_ASHBY_API_KEY") {
        None => None,
        Some(key) => Some(AshbySettings {
            api_key: Secret::new(key),
            api_url: parse_url("LOOPBOT_ASHBY_API_URL", &value("LOOPBOT_ASHBY_API_URL"))?,
        }),
    };
    let greenhouse = match (
        get("LOOPBOT_GREENHOUSE_CLIENT_ID"),
        get("LOOPBOT_GREENHOUSE_CLIENT_SECRET"),
    ) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(problem(
                "LOOPBOT_GREENHOUSE_CLIENT_SECRET",
                "missing: the Harvest v3 client secret goes with LOOPBOT_GREENHOUSE_CLIENT_ID",
            ));
        }
        (None, Some(_)) => {
            return Err(problem(
                "LOOPBOT_GREENHOUSE_CLIENT_ID",
                "missing: the Harvest v3 client id goes with LOOPBOT_GREENHOUSE_CLIENT_SECRET",
            ));
        }
        (Some(id), Some(secret)) => {
            let user_id = get("LOOPBOT_GREENHOUSE_USER_ID").ok_or_else(|| {
                problem(
                    "LOOPBOT_GREENHOUSE_USER_ID",
                    "missing: the Greenhouse user id the token acts as (a Site Admin), needed with the Greenhouse credentials",
                )
            })?;
            if !user_id.chars().all(|c| c.is_ascii_digit()) {
                return Err(problem(
                    "LOOPBOT_GREENHOUSE_USER_ID",
                    format!("expected a Greenhouse user id (digits), got `{user_id}`"),
                ));
            }
            Some(GreenhouseSettings {
                client_id: Secret::new(id),
                client_secret: Secret::new(secret),
                user_id: user_id.to_string(),
                api_url: parse_url(
                    "LOOPBOT_GREENHOUSE_API_URL",
                    &value("LOOPBOT_GREENHOUSE_API_URL"),
                )?,
                auth_url: parse_url(
                    "LOOPBOT_GREENHOUSE_AUTH_URL",
                    &value("LOOPBOT_GREENHOUSE_AUTH_URL"),
                )?,
            })
        }
    };
    let ashby_webhook_secret = secret("LOOPBOT_ASHBY_WEBHOOK_SECRET");
    if ashby_webhook_secret.is_some() && ashby.is_none() {
        return Err(problem(
            "LOOPBOT_ASHBY_API_KEY",
            "missing: webhooks from Ashby (LOOPBOT_ASHBY_WEBHOOK_SECRET) need the API key too",
        ));
    }
    let greenhouse_webhook_secret = secret("LOOPBOT_GREENHOUSE_WEBHOOK_SECRET");
    if greenhouse_webhook_secret.is_some() && greenhouse.is_none() {
        return Err(problem(
            "LOOPBOT_GREENHOUSE_CLIENT_ID",
            "missing: webhooks from Greenhouse (LOOPBOT_GREENHOUSE_WEBHOOK_SECRET) need the Harvest v3 credentials too",
        ));
    }
    let mapping = match get("LOOPBOT_ATS_MAPPING") {
        Some(path) => {
            let path = PathBuf::from(path);
            if !path.is_file() {
                return Err(problem(
                    "LOOPBOT_ATS_MAPPING",
                    format!("`{}` is not a readable file", path.display()),
                ));
            }
            Some(path)
        }
        None if ashby.is_some() || greenhouse.is_some() => {
            return Err(problem(
                "LOOPBOT_ATS_MAPPING",
                "missing: an ATS adapter is on, so name the mapping file (ATS jobs to rubrics, interviews to stages)",
            ));
        }
        None => None,
    };
    Ok(AtsSettings {
        ashby,
        greenhouse,
        ashby_webhook_secret,
        greenhouse_webhook_secret,
        poll: parse_optional_duration("LOOPBOT_ATS_POLL", &value("LOOPBOT_ATS_POLL"))?,
        mapping,
    })
}

/// Every `*.toml` in the rubrics folder is read as a rubric, so the mapping file may not be one.
fn check_mapping_outside_rubrics(settings: Settings) -> Result<Settings, SettingsError> {
    if let (Some(mapping), Some(rubrics)) = (&settings.ats.mapping, &settings.rubrics_dir) {
        let same = |a: &std::path::Path, b: &std::path::Path| {
            a.canonicalize()
                .ok()
                .zip(b.canonicalize().ok())
                .is_some_and(|(a, b)| a == b)
        };
        if mapping.parent().is_some_and(|dir| same(dir, rubrics))
            && mapping.extension().is_some_and(|e| e == "toml")
        {
            return Err(problem(
                "LOOPBOT_ATS_MAPPING",
                "is inside LOOPBOT_RUBRICS_DIR, where every *.toml is read as a rubric; keep it beside that folder",
            ));
        }
    }
    Ok(settings)
}

/// An http(s) base URL, without a trailing slash.
fn parse_url(variable: &'static str, value: &str) -> Result<String, SettingsError> {
    match url::Url::parse(value) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {
            Ok(value.trim_end_matches('/').to_string())
        }
        _ => Err(problem(
            variable,
            format!("expected an http(s) URL, got `{value}`"),
        )),
    }
}

fn parse_log_format(value: &str) -> Result<LogFormat, SettingsError> {
    match value.to_ascii_lowercase().as_str() {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err(problem(
            "LOOPBOT_LOG_FORMAT",
            format!("expected `text` or `json`, got `{value}`"),
        )),
    }
}

/// A duration, or `never` for none.
fn parse_optional_duration(
    variable: &'static str,
    value: &str,
) -> Result<Option<Duration>, SettingsError> {
    match value {
        "never" => Ok(None),
        value => parse_duration(variable, value).map(Some),
    }
}

fn parse_concurrency(value: &str) -> Result<usize, SettingsError> {
    match value.parse::<usize>() {
        Ok(n) if (1..=64).contains(&n) => Ok(n),
        _ => Err(problem(
            "LOOPBOT_CONCURRENCY",
            format!("expected a number of jobs from 1 to 64, got `{value}`"),
        )),
    }
}

fn parse_signing_secret(value: Option<&str>) -> Result<Secret, SettingsError> {
    const NAME: &str = "SLACK_SIGNING_SECRET";
    let value = value.ok_or_else(|| {
        problem(
            NAME,
            "missing: copy the Signing Secret from your app's Basic Information page",
        )
    })?;
    if value.len() < 16 || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(problem(
            NAME,
            "does not look like a Slack signing secret (expected 16 or more letters and digits)",
        ));
    }
    Ok(Secret::new(value))
}

/// `LOOPBOT_MODE` (`auto`, `http`, `socket`) and `SLACK_APP_TOKEN`, which Socket Mode needs.
fn parse_transport(
    mode: &str,
    app_token: Option<&str>,
) -> Result<(Transport, Option<Secret>), SettingsError> {
    const NAME: &str = "SLACK_APP_TOKEN";
    let transport = match mode.to_ascii_lowercase().as_str() {
        "auto" if app_token.is_some() => Transport::Socket,
        "auto" | "http" => Transport::Http,
        "socket" => Transport::Socket,
        other => {
            return Err(problem(
                "LOOPBOT_MODE",
                format!("expected `auto`, `http` or `socket`, got `{other}`"),
            ));
        }
    };
    if transport == Transport::Http {
        return Ok((Transport::Http, None));
    }
    let value = app_token.ok_or_else(|| {
        problem(
            NAME,
            "missing: Socket Mode needs an app-level token (xapp-...) with the connections:write scope, from your app's Basic Information page (App-Level Tokens)",
        )
    })?;
    if !value.starts_with("xapp-") {
        return Err(problem(
            NAME,
            "must be an app-level token starting with xapp- (bot and user tokens do not work)",
        ));
    }
    Ok((Transport::Socket, Some(Secret::new(value))))
}

fn parse_bot_token(value: Option<&str>) -> Result<Secret, SettingsError> {
    const NAME: &str = "SLACK_BOT_TOKEN";
    let value = value.ok_or_else(|| {
        problem(
            NAME,
            "missing: copy the Bot User OAuth Token (xoxb-...) from your app's OAuth & Permissions page",
        )
    })?;
    if !value.starts_with("xoxb-") {
        return Err(problem(
            NAME,
            "must be a bot token starting with xoxb- (user and app-level tokens do not work)",
        ));
    }
    Ok(Secret::new(value))
}

fn parse_api_url(value: &str) -> Result<String, SettingsError> {
    let parsed = url::Url::parse(value).map_err(|_| {
        problem(
            "SLACK_API_URL",
            "expected an http(s) URL such as https://slack.com/api",
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(problem("SLACK_API_URL", "expected an http or https URL"));
    }
    Ok(value.trim_end_matches('/').to_string())
}

fn parse_database_url(value: &str) -> Result<String, SettingsError> {
    let path = value
        .strip_prefix("sqlite://")
        .or_else(|| value.strip_prefix("sqlite:"))
        .or_else(|| value.strip_prefix("postgres://"))
        .or_else(|| value.strip_prefix("postgresql://"));
    match path {
        Some(path) if !path.is_empty() => Ok(value.to_string()),
        _ => Err(problem(
            "DATABASE_URL",
            "expected sqlite://loopbot.db (relative), sqlite:///var/lib/loopbot/loopbot.db (absolute) or postgres://user:password@host/database",
        )),
    }
}

fn parse_duration(variable: &'static str, value: &str) -> Result<Duration, SettingsError> {
    let duration = humantime::parse_duration(value).map_err(|_| {
        problem(
            variable,
            format!("`{value}` is not a duration; use forms like 90s, 15m, 24h or 2d"),
        )
    })?;
    if duration.is_zero() {
        return Err(problem(variable, "must be longer than zero"));
    }
    Ok(duration)
}

fn parse_escalate_after(value: &str) -> Result<u32, SettingsError> {
    match value.parse::<u32>() {
        Ok(n) if (1..=20).contains(&n) => Ok(n),
        _ => Err(problem(
            "LOOPBOT_ESCALATE_AFTER",
            format!("expected a whole number of reminders from 1 to 20, got `{value}`"),
        )),
    }
}

fn parse_work_hours(value: &str) -> Result<WorkHours, SettingsError> {
    const NAME: &str = "LOOPBOT_WORK_HOURS";
    if value == "always" {
        return Ok(WorkHours::Always);
    }
    let bad = || {
        problem(
            NAME,
            format!("expected HH:MM-HH:MM such as 09:00-18:00, or `always`; got `{value}`"),
        )
    };
    let (start, end) = value.split_once('-').ok_or_else(bad)?;
    let start_min = parse_clock_time(start).ok_or_else(bad)?;
    let end_min = parse_clock_time(end).ok_or_else(bad)?;
    if start_min >= end_min {
        return Err(problem(NAME, "the window must start before it ends"));
    }
    Ok(WorkHours::Window { start_min, end_min })
}

/// `mon-fri`, `sun-thu`, `mon,wed,fri`, `mon-sun` or `always`.
fn parse_work_days(value: &str) -> Result<WorkDays, SettingsError> {
    const NAME: &str = "LOOPBOT_WORK_DAYS";
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    if value == "always" {
        return Ok(WorkDays::ALL);
    }
    let bad = || {
        problem(
            NAME,
            format!(
                "expected days such as mon-fri, sun-thu or mon,wed,fri, or `always`; got `{value}`"
            ),
        )
    };
    let index = |d: &str| DAYS.iter().position(|x| *x == d.trim().to_lowercase());
    let mut mask = 0u8;
    for part in value.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (mut i, j) = (index(a).ok_or_else(bad)?, index(b).ok_or_else(bad)?);
                loop {
                    mask |= 1 << i;
                    if i == j {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            }
            None => mask |= 1 << index(part).ok_or_else(bad)?,
        }
    }
    Ok(WorkDays(mask))
}

fn parse_clock_time(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

fn parse_rubrics_dir(value: Option<&str>) -> Result<Option<PathBuf>, SettingsError> {
    let Some(value) = value else { return Ok(None) };
    let path = PathBuf::from(value);
    if !path.is_dir() {
        return Err(problem(
            "LOOPBOT_RUBRICS_DIR",
            format!("`{value}` is not a readable folder"),
        ));
    }
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawSettings {
        let mut map: RawSettings = [
            ("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd99yyyzzz85a5"),
            ("SLACK_BOT_TOKEN", "xoxb-1-2-abc"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in pairs {
            map.insert(k.to_string(), v.to_string());
        }
        map
    }

    #[test]
    fn defaults_match_the_product_contract() {
        let s = Settings::parse(&raw(&[]), Needs::Slack).unwrap();
        assert_eq!(s.slack_api_url, "https://slack.com/api");
        assert_eq!(s.database_url, "sqlite://loopbot.db");
        assert_eq!(s.listen.to_string(), "0.0.0.0:3000");
        assert_eq!(s.feedback_due, Duration::from_secs(24 * 3600));
        assert_eq!(s.remind_every, Duration::from_secs(24 * 3600));
        assert_eq!(s.escalate_after, 2);
        assert_eq!(
            s.work_hours,
            WorkHours::Window {
                start_min: 540,
                end_min: 1080
            }
        );
        assert_eq!(s.tick, Duration::from_secs(30));
        assert_eq!(s.channel_naming, ChannelNaming::Name);
        assert_eq!(s.rubrics_dir, None);
        assert_eq!(s.archive_after, Some(Duration::from_secs(7 * 86400)));
        assert_eq!(s.concurrency, 16);
        assert_eq!(s.work_days, WorkDays::MON_FRI);
        assert_eq!(s.remind_max, 5);
        assert_eq!(s.brief_before, Some(Duration::from_secs(30 * 60)));
        assert_eq!(s.nudge_after, Some(Duration::from_secs(3600)));
        assert_eq!(s.decide_within, Duration::from_secs(2 * 86_400));
        assert_eq!(s.retain, None);
        assert!(s.retain_slack, "with a retention, Slack is cleaned up too");
        assert_eq!(s.metrics_listen, None);
        assert_eq!(s.header_timeout, Duration::from_secs(5));
        assert_eq!(s.body_timeout, Duration::from_secs(10));
        assert_eq!(s.max_connections, 512);
        assert_eq!(s.log_format, LogFormat::Text);
        assert!(s.pace_outbound);
        assert_eq!(s.transport, Transport::Http);
        assert_eq!(s.app_token, None);
    }

    #[test]
    fn an_app_token_turns_socket_mode_on_and_makes_the_signing_secret_optional() {
        let mut only_tokens = raw(&[("SLACK_APP_TOKEN", "xapp-1-A1-2-abc")]);
        only_tokens.remove("SLACK_SIGNING_SECRET");
        let s = Settings::parse(&only_tokens, Needs::Slack).unwrap();
        assert_eq!(s.transport, Transport::Socket);
        assert_eq!(
            s.app_token.as_ref().map(Secret::expose),
            Some("xapp-1-A1-2-abc")
        );
        assert!(!format!("{s:?}").contains("xapp-1-A1-2-abc"));
        // `http` keeps HTTP even with an app token set, and then needs the signing secret.
        only_tokens.insert("LOOPBOT_MODE".into(), "http".into());
        let err = Settings::parse(&only_tokens, Needs::Slack).unwrap_err();
        assert_eq!(err.variable, "SLACK_SIGNING_SECRET");
        let s = Settings::parse(
            &raw(&[("LOOPBOT_MODE", "http"), ("SLACK_APP_TOKEN", "xapp-1")]),
            Needs::Slack,
        )
        .unwrap();
        assert_eq!((s.transport, s.app_token), (Transport::Http, None));
    }

    #[test]
    fn socket_mode_names_a_missing_or_wrong_app_token() {
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (&[("LOOPBOT_MODE", "socket")], "SLACK_APP_TOKEN", "missing"),
            (
                &[("LOOPBOT_MODE", "socket"), ("SLACK_APP_TOKEN", "xoxb-1")],
                "SLACK_APP_TOKEN",
                "xapp-",
            ),
            (
                &[("SLACK_APP_TOKEN", "xoxp-user")],
                "SLACK_APP_TOKEN",
                "xapp-",
            ),
            (&[("LOOPBOT_MODE", "websocket")], "LOOPBOT_MODE", "`socket`"),
        ];
        for (pairs, variable, expected) in cases {
            let err = Settings::parse(&raw(pairs), Needs::Slack).unwrap_err();
            assert_eq!(err.variable, *variable, "{pairs:?}");
            let line = err.to_string();
            assert!(
                line.starts_with(variable) && line.contains(expected),
                "{line}"
            );
            assert!(!line.contains('\n'));
        }
    }

    #[test]
    fn each_bad_setting_is_named_with_what_is_wrong() {
        let cases: &[(&str, &str, &str)] = &[
            ("SLACK_SIGNING_SECRET", "", "missing"),
            ("SLACK_SIGNING_SECRET", "short", "does not look like"),
            ("SLACK_BOT_TOKEN", "", "missing"),
            ("SLACK_BOT_TOKEN", "xoxp-user", "xoxb-"),
            ("SLACK_API_URL", "not a url", "URL"),
            ("DATABASE_URL", "mysql://x", "sqlite://"),
            ("LOOPBOT_LISTEN", "3000", "address"),
            ("LOOPBOT_FEEDBACK_DUE", "soon", "not a duration"),
            ("LOOPBOT_REMIND_EVERY", "0s", "longer than zero"),
            ("LOOPBOT_ESCALATE_AFTER", "many", "whole number"),
            ("LOOPBOT_WORK_HOURS", "9-5", "HH:MM"),
            ("LOOPBOT_WORK_HOURS", "18:00-09:00", "start before"),
            ("LOOPBOT_TICK", "fast", "not a duration"),
            ("LOOPBOT_CHANNEL_NAMING", "emoji", "`name` or `initials`"),
            ("LOOPBOT_RUBRICS_DIR", "/no/such/dir", "folder"),
            ("LOOPBOT_ARCHIVE_AFTER", "later", "not a duration"),
            ("LOOPBOT_CONCURRENCY", "0", "1 to 64"),
            ("LOOPBOT_WORK_DAYS", "weekdays", "mon-fri"),
            ("LOOPBOT_REMIND_MAX", "0", "1 to 50"),
            ("LOOPBOT_BRIEF_BEFORE", "early", "not a duration"),
            ("LOOPBOT_NUDGE_AFTER", "later", "not a duration"),
            ("LOOPBOT_DECIDE_WITHIN", "soon", "not a duration"),
            ("LOOPBOT_CONCURRENCY", "lots", "1 to 64"),
            ("LOOPBOT_LOG_FORMAT", "xml", "`text` or `json`"),
            ("LOOPBOT_METRICS_LISTEN", "9100", "127.0.0.1:9100"),
            ("LOOPBOT_RETAIN", "forever", "not a duration"),
            ("LOOPBOT_HEADER_TIMEOUT", "slow", "not a duration"),
            ("LOOPBOT_BODY_TIMEOUT", "0s", "longer than zero"),
            ("LOOPBOT_MAX_CONNECTIONS", "0", "1 to 1000000"),
            ("LOOPBOT_MAX_CONNECTIONS", "many", "1 to 1000000"),
            ("LOOPBOT_RETAIN_SLACK", "maybe", "`delete` or `keep`"),
        ];
        for (variable, value, expected) in cases {
            let err = Settings::parse(&raw(&[(variable, value)]), Needs::Slack).unwrap_err();
            assert_eq!(err.variable, *variable, "case {variable}={value}");
            let line = err.to_string();
            assert!(line.starts_with(variable), "{line}");
            assert!(line.contains(expected), "{variable}={value}: {line}");
            assert!(!line.contains('\n'));
        }
    }

    #[test]
    fn alternative_forms_parse() {
        let s = Settings::parse(
            &raw(&[
                ("LOOPBOT_WORK_HOURS", "always"),
                ("LOOPBOT_ARCHIVE_AFTER", "never"),
                ("LOOPBOT_CHANNEL_NAMING", "initials"),
                ("LOOPBOT_WORK_DAYS", "sun-thu"),
                ("LOOPBOT_BRIEF_BEFORE", "never"),
                ("DATABASE_URL", "sqlite:///var/lib/loopbot/loopbot.db"),
                ("SLACK_API_URL", "http://127.0.0.1:9/api/"),
                ("LOOPBOT_RETAIN", "180d"),
                ("LOOPBOT_RETAIN_SLACK", "keep"),
                ("LOOPBOT_LOG_FORMAT", "json"),
                ("LOOPBOT_METRICS_LISTEN", "127.0.0.1:9100"),
                ("LOOPBOT_HEADER_TIMEOUT", "250ms"),
            ]),
            Needs::Slack,
        )
        .unwrap();
        assert_eq!(s.work_hours, WorkHours::Always);
        assert_eq!(s.archive_after, None);
        assert_eq!(s.channel_naming, ChannelNaming::Initials);
        assert_eq!(s.work_days, WorkDays(0b100_1111), "Sunday to Thursday");
        assert_eq!(s.brief_before, None);
        assert_eq!(s.slack_api_url, "http://127.0.0.1:9/api");
        assert_eq!(s.retain, Some(Duration::from_secs(180 * 86_400)));
        assert!(!s.retain_slack);
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.metrics_listen.map(|a| a.port()), Some(9100));
        assert_eq!(s.header_timeout, Duration::from_millis(250));
    }

    #[test]
    fn an_empty_variable_means_its_default() {
        let s = Settings::parse(&raw(&[("LOOPBOT_TICK", " ")]), Needs::Slack).unwrap();
        assert_eq!(s.tick, Duration::from_secs(30));
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = Settings::parse(&raw(&[]), Needs::Slack).unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("8f742231b10e8888abcd99yyyzzz85a5"));
        assert!(!debug.contains("xoxb-1-2-abc"));
        assert!(debug.contains("[redacted]"));
    }

    #[test]
    fn ats_adapters_are_off_by_default_and_on_with_their_keys() {
        let s = Settings::parse(&raw(&[]), Needs::Slack).unwrap();
        assert!(s.ats.ashby.is_none() && s.ats.greenhouse.is_none());
        assert_eq!(s.ats.poll, Some(Duration::from_secs(120)));
        assert_eq!(s.ats.mapping, None);

        let mapping = std::env::temp_dir().join(format!("ats-map-{}.toml", std::process::id()));
        std::fs::write(&mapping, "").unwrap();
        let mapping_path = mapping.to_str().unwrap();
        let s = Settings::parse(
            &raw(&[
                ("LOOPBOT_ASHBY_API_KEY", "ashby-key-123"),
                ("LOOPBOT_ASHBY_WEBHOOK_SECRET", "ashby-whsec"),
                ("LOOPBOT_GREENHOUSE_CLIENT_ID", "gh-id"),
                ("LOOPBOT_GREENHOUSE_CLIENT_SECRET", "gh-secret-456"),
                ("LOOPBOT_GREENHOUSE_USER_ID", "4080"),
                ("LOOPBOT_GREENHOUSE_WEBHOOK_SECRET", "gh-whsec"),
                ("LOOPBOT_GREENHOUSE_API_URL", "http://127.0.0.1:9/"),
                ("LOOPBOT_ATS_POLL", "never"),
                ("LOOPBOT_ATS_MAPPING", mapping_path),
            ]),
            Needs::Slack,
        )
        .unwrap();
        let ashby = s.ats.ashby.as_ref().unwrap();
        assert_eq!(ashby.api_key.expose(), "ashby-key-123");
        assert_eq!(ashby.api_url, "https://api.ashbyhq.com");
        let gh = s.ats.greenhouse.as_ref().unwrap();
        assert_eq!(gh.user_id, "4080");
        assert_eq!(gh.api_url, "http://127.0.0.1:9");
        assert_eq!(gh.auth_url, "https://auth.greenhouse.io");
        assert_eq!(s.ats.poll, None);
        let debug = format!("{s:?}");
        for secret in [
            "ashby-key-123",
            "ashby-whsec",
            "gh-secret-456",
            "gh-whsec",
            "gh-id",
        ] {
            assert!(!debug.contains(secret), "{secret} shows in {debug}");
        }
        std::fs::remove_file(mapping).ok();
    }

    #[test]
    fn ats_settings_name_what_is_missing_or_wrong() {
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
        let cases: &[Case] = &[
            (
                &[("LOOPBOT_ASHBY_API_KEY", "k")],
                "LOOPBOT_ATS_MAPPING",
                "missing",
            ),
            (
                &[
                    ("LOOPBOT_ASHBY_API_KEY", "k"),
                    ("LOOPBOT_ATS_MAPPING", "/no/such.toml"),
                ],
                "LOOPBOT_ATS_MAPPING",
                "readable file",
            ),
            (
                &[("LOOPBOT_GREENHOUSE_CLIENT_ID", "i")],
                "LOOPBOT_GREENHOUSE_CLIENT_SECRET",
                "missing",
            ),
            (
                &[("LOOPBOT_GREENHOUSE_CLIENT_SECRET", "s")],
                "LOOPBOT_GREENHOUSE_CLIENT_ID",
                "missing",
            ),
            (
                &[
                    ("LOOPBOT_GREENHOUSE_CLIENT_ID", "i"),
                    ("LOOPBOT_GREENHOUSE_CLIENT_SECRET", "s"),
                ],
                "LOOPBOT_GREENHOUSE_USER_ID",
                "missing",
            ),
            (
                &[
                    ("LOOPBOT_GREENHOUSE_CLIENT_ID", "i"),
                    ("LOOPBOT_GREENHOUSE_CLIENT_SECRET", "s"),
                    ("LOOPBOT_GREENHOUSE_USER_ID", "me"),
                ],
                "LOOPBOT_GREENHOUSE_USER_ID",
                "digits",
            ),
            (
                &[("LOOPBOT_ASHBY_WEBHOOK_SECRET", "w")],
                "LOOPBOT_ASHBY_API_KEY",
                "missing",
            ),
            (
                &[("LOOPBOT_GREENHOUSE_WEBHOOK_SECRET", "w")],
                "LOOPBOT_GREENHOUSE_CLIENT_ID",
                "missing",
            ),
            (
                &[("LOOPBOT_ATS_POLL", "often")],
                "LOOPBOT_ATS_POLL",
                "not a duration",
            ),
            (
                &[
                    ("LOOPBOT_ASHBY_API_KEY", "k"),
                    ("LOOPBOT_ASHBY_API_URL", "ftp://x"),
                ],
                "LOOPBOT_ASHBY_API_URL",
                "http(s) URL",
            ),
        ];
        for (pairs, variable, expected) in cases {
            let err = Settings::parse(&raw(pairs), Needs::Slack).unwrap_err();
            assert_eq!(err.variable, *variable, "{pairs:?}");
            let line = err.to_string();
            assert!(line.contains(expected), "{pairs:?}: {line}");
        }
    }

    #[test]
    fn database_only_commands_need_no_slack_secrets() {
        let s = Settings::parse(&RawSettings::new(), Needs::DatabaseOnly).unwrap();
        assert_eq!(s.database_url, "sqlite://loopbot.db");
    }
}

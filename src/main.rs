//! The `loopbot` binary: a thin shell over the library.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use loopbot::settings::{self, Needs, RawSettings, Settings};
use loopbot::startup::{Application, shutdown_signal};

#[derive(Parser)]
#[command(
    name = "loopbot",
    version,
    about = "Structured interview loops in Slack"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot: Slack endpoints and background work.
    Serve(Box<Overrides>),
    /// Run a whole loop against the built-in Slack simulator and print what each person sees.
    Demo(loopbot::cli::demo::DemoArgs),
    /// Write loops, stages, scorecards (every version), skips and decisions as JSON or CSV.
    Export(loopbot::cli::export::ExportArgs),
    /// Delete the candidate data of loops decided before a date; counts are kept.
    Purge(loopbot::cli::purge::PurgeArgs),
    /// List outbound Slack work that is queued, running or failed; retry failed jobs.
    ///
    /// Without a subcommand, lists like `loopbot jobs list`. Uses only DATABASE_URL (or
    /// --database-url) and can run while `loopbot serve` is running. Exits with 0 on success,
    /// 1 when the database cannot be opened or read or a job was not requeued, 2 on a usage
    /// error.
    Jobs(loopbot::cli::jobs::JobsArgs),
}

/// Flags override the environment variable of the same name.
#[derive(Args, Default)]
struct Overrides {
    /// LOOPBOT_MODE: auto, http or socket
    #[arg(long)]
    mode: Option<String>,
    /// LOOPBOT_LISTEN
    #[arg(long)]
    listen: Option<String>,
    /// DATABASE_URL
    #[arg(long)]
    database_url: Option<String>,
    /// SLACK_API_URL
    #[arg(long)]
    slack_api_url: Option<String>,
    /// LOOPBOT_FEEDBACK_DUE
    #[arg(long)]
    feedback_due: Option<String>,
    /// LOOPBOT_REMIND_EVERY
    #[arg(long)]
    remind_every: Option<String>,
    /// LOOPBOT_ESCALATE_AFTER
    #[arg(long)]
    escalate_after: Option<String>,
    /// LOOPBOT_WORK_HOURS
    #[arg(long)]
    work_hours: Option<String>,
    /// LOOPBOT_TICK
    #[arg(long)]
    tick: Option<String>,
    /// LOOPBOT_CHANNEL_NAMING
    #[arg(long)]
    channel_naming: Option<String>,
    /// LOOPBOT_RUBRICS_DIR
    #[arg(long)]
    rubrics_dir: Option<String>,
    /// LOOPBOT_ARCHIVE_AFTER
    #[arg(long)]
    archive_after: Option<String>,
    /// LOOPBOT_CONCURRENCY
    #[arg(long)]
    concurrency: Option<String>,
    /// LOOPBOT_WORK_DAYS
    #[arg(long)]
    work_days: Option<String>,
    /// LOOPBOT_REMIND_MAX
    #[arg(long)]
    remind_max: Option<String>,
    /// LOOPBOT_BRIEF_BEFORE
    #[arg(long)]
    brief_before: Option<String>,
    /// LOOPBOT_NUDGE_AFTER
    #[arg(long)]
    nudge_after: Option<String>,
    /// LOOPBOT_DECIDE_WITHIN
    #[arg(long)]
    decide_within: Option<String>,
}

impl Overrides {
    fn apply(&self, raw: &mut RawSettings) {
        let pairs = [
            ("LOOPBOT_MODE", &self.mode),
            ("LOOPBOT_LISTEN", &self.listen),
            ("DATABASE_URL", &self.database_url),
            ("SLACK_API_URL", &self.slack_api_url),
            ("LOOPBOT_FEEDBACK_DUE", &self.feedback_due),
            ("LOOPBOT_REMIND_EVERY", &self.remind_every),
            ("LOOPBOT_ESCALATE_AFTER", &self.escalate_after),
            ("LOOPBOT_WORK_HOURS", &self.work_hours),
            ("LOOPBOT_TICK", &self.tick),
            ("LOOPBOT_CONCURRENCY", &self.concurrency),
            ("LOOPBOT_WORK_DAYS", &self.work_days),
            ("LOOPBOT_REMIND_MAX", &self.remind_max),
            ("LOOPBOT_BRIEF_BEFORE", &self.brief_before),
            ("LOOPBOT_NUDGE_AFTER", &self.nudge_after),
            ("LOOPBOT_DECIDE_WITHIN", &self.decide_within),
            ("LOOPBOT_CHANNEL_NAMING", &self.channel_naming),
            ("LOOPBOT_RUBRICS_DIR", &self.rubrics_dir),
            ("LOOPBOT_ARCHIVE_AFTER", &self.archive_after),
        ];
        for (name, value) in pairs {
            if let Some(value) = value {
                raw.insert(name.to_string(), value.clone());
            }
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("loopbot: .env: {e}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    // Logs go to stderr. The demo, export, purge and jobs print for people: only warnings there.
    loopbot::telemetry::init(match cli.command {
        Command::Serve(_) => "info,sqlx=warn",
        _ => "warn",
    });
    loopbot::install_crypto_provider();
    // Bad flags and settings exit with 2; `jobs` exits with 1 when it fails after that.
    let mut failure = ExitCode::from(2);
    let result = match cli.command {
        Command::Serve(overrides) => serve(&overrides).await,
        Command::Demo(args) => loopbot::cli::demo::run(&args).await,
        Command::Export(args) => match database_settings(args.database_url.as_ref()) {
            Ok(settings) => loopbot::cli::export::run(&args, &settings).await,
            Err(e) => Err(e),
        },
        Command::Purge(args) => match database_settings(args.database_url.as_ref()) {
            Ok(settings) => loopbot::cli::purge::run(&args, &settings).await,
            Err(e) => Err(e),
        },
        Command::Jobs(args) => match database_settings(args.database_url()) {
            Ok(settings) => {
                failure = ExitCode::FAILURE;
                loopbot::cli::jobs::run(&args, &settings).await
            }
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loopbot: {e}");
            failure
        }
    }
}

fn settings_from(overrides: &Overrides, needs: Needs) -> anyhow::Result<Settings> {
    let mut raw = settings::from_process_env();
    overrides.apply(&mut raw);
    Ok(Settings::parse(&raw, needs)?)
}

/// Settings for the commands that only use the database; `--database-url` overrides.
fn database_settings(database_url: Option<&String>) -> anyhow::Result<Settings> {
    settings_from(
        &Overrides {
            database_url: database_url.cloned(),
            ..Overrides::default()
        },
        Needs::DatabaseOnly,
    )
}

async fn serve(overrides: &Overrides) -> anyhow::Result<()> {
    let settings = settings_from(overrides, Needs::Slack)?;
    // Handlers first: a SIGTERM that arrives while starting up still stops cleanly.
    let shutdown = shutdown_signal();
    let app =
        Application::build(settings, std::sync::Arc::new(loopbot::clock::SystemClock)).await?;
    tracing::info!(address = %app.address(), transport = ?app.state().settings.transport, "loopbot is listening");
    app.run_until_stopped(shutdown).await
}

//! The `loopbot` binary: a thin shell over the library.
//!
//! Exit codes: 0 on success, 1 on a runtime failure, 2 on a usage error (clap's own, and
//! [`UsageError`]), 78 on a configuration error ([`SettingsError`]: a bad or missing setting, a
//! token Slack refuses, an address that cannot be listened on).

mod demo;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use loopbot::cli::UsageError;
use loopbot::settings::{self, LogFormat, Needs, RawSettings, ServeArgs, Settings, SettingsError};
use loopbot::startup::{Application, shutdown_signal};

/// `EX_CONFIG` from sysexits.h: a configuration error.
const EXIT_CONFIG: u8 = 78;
const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "loopbot",
    version,
    about = "Structured interview loops in Slack",
    after_help = "Exit codes: 0 success, 1 runtime failure, 2 usage error, 78 configuration error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot: Slack endpoints and background work.
    ///
    /// Every setting below is also an environment variable (shown with its default); a flag
    /// overrides the variable of the same name.
    Serve(Box<ServeArgs>),
    /// Run a whole loop against the built-in Slack simulator and print what each person sees.
    Demo(demo::DemoArgs),
    /// Write loops, stages, scorecards (every version), skips and decisions as JSON or CSV.
    Export(loopbot::cli::export::ExportArgs),
    /// Delete candidate data: of loops decided before a date, or of one loop; counts are kept.
    Purge(loopbot::cli::purge::PurgeArgs),
    /// Write a consistent copy of the SQLite database to PATH; safe while `loopbot serve` runs.
    /// (For PostgreSQL, use pg_dump: see docs/operating.md.)
    Backup(loopbot::cli::backup::BackupArgs),
    /// Exit 0 when the `loopbot serve` at LOOPBOT_LISTEN on this machine answers /healthz
    /// (for a container's HEALTHCHECK), 1 otherwise.
    Healthcheck(loopbot::cli::healthcheck::HealthcheckArgs),
    /// List outbound Slack work that is queued, running or failed; retry failed jobs.
    ///
    /// Without a subcommand, lists like `loopbot jobs list`. Uses only DATABASE_URL (or
    /// --database-url) and can run while `loopbot serve` is running. Exits with 0 on success,
    /// 1 when the database cannot be opened or read or a job was not requeued, 2 on a usage
    /// error.
    Jobs(loopbot::cli::jobs::JobsArgs),
    /// Move an installation from SQLite into an empty PostgreSQL database: every table and
    /// row, ids kept.
    ///
    /// Stop `loopbot serve` first and take a `loopbot backup`; the copy refuses to start while
    /// the SQLite file is in use. The file is brought to this version's schema, then copied in
    /// one PostgreSQL transaction that commits only when every table has as many rows on both
    /// sides; one line per table says what was copied. Then set DATABASE_URL to the
    /// PostgreSQL URL and start `loopbot serve`. Exits with 0 on success, 1 when a database
    /// cannot be opened or the copy fails (nothing is committed), 2 on a usage error: a URL of
    /// the wrong kind, a missing file, a file in use or a PostgreSQL database that is not
    /// empty.
    MigrateToPostgres(loopbot::cli::migrate_to_postgres::MigrateArgs),
}

fn main() -> ExitCode {
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("loopbot: .env: {e}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    loopbot::arenas::bound_malloc_arenas(cores);
    runtime(cores).block_on(run())
}

/// The runtime. On SQLite it has one worker thread fewer than the machine has cores: the
/// writers' lane has a thread of its own ([`loopbot::db::lane::runtime_workers`]). Tokio's
/// `TOKIO_WORKER_THREADS` still overrides.
fn runtime(cores: usize) -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        let database_url = std::env::var("DATABASE_URL").ok();
        builder.worker_threads(loopbot::db::lane::runtime_workers(
            cores,
            database_url.as_deref(),
        ));
    }
    builder.build().expect("a runtime")
}

async fn run() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    loopbot::install_crypto_provider();
    let result = match cli.command {
        Command::Serve(_) => {
            let serve_matches = matches.subcommand_matches("serve").unwrap_or(&matches);
            serve(settings::from_env_and_flags(serve_matches)).await
        }
        Command::Demo(args) => {
            // The demo prints for people: only warnings in the log.
            loopbot::telemetry::init("warn", LogFormat::Text);
            demo::run(&args).await
        }
        Command::Export(args) => match database_settings(args.database_url.as_ref()) {
            Ok(settings) => loopbot::cli::export::run(&args, &settings).await,
            Err(e) => Err(e),
        },
        Command::Purge(args) => match database_settings(args.database_url.as_ref()) {
            Ok(settings) => loopbot::cli::purge::run(&args, &settings).await,
            Err(e) => Err(e),
        },
        Command::Backup(args) => match database_settings(args.database_url.as_ref()) {
            Ok(settings) => loopbot::cli::backup::run(&args, &settings).await,
            Err(e) => Err(e),
        },
        Command::Healthcheck(args) => match database_settings(None) {
            Ok(settings) => loopbot::cli::healthcheck::run(&args, settings.listen),
            Err(e) => Err(e),
        },
        Command::Jobs(args) => match database_settings(args.database_url()) {
            Ok(settings) => loopbot::cli::jobs::run(&args, &settings).await,
            Err(e) => Err(e),
        },
        Command::MigrateToPostgres(args) => {
            // It prints for people: only warnings in the log.
            loopbot::telemetry::init("warn", LogFormat::Text);
            loopbot::cli::migrate_to_postgres::run(&args).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loopbot: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// 78 for configuration, 2 for usage, 1 for everything else.
fn exit_code(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<SettingsError>().is_some() {
        EXIT_CONFIG
    } else if e.downcast_ref::<UsageError>().is_some() {
        EXIT_USAGE
    } else {
        1
    }
}

/// Settings for the commands that only use the database; `--database-url` overrides. Their
/// logs are warnings only (they print for people), in `LOOPBOT_LOG_FORMAT`.
fn database_settings(database_url: Option<&String>) -> anyhow::Result<Settings> {
    let mut raw = settings::from_process_env();
    if let Some(url) = database_url {
        raw.insert("DATABASE_URL".into(), url.clone());
    }
    let settings = Settings::parse(&raw, Needs::DatabaseOnly)?;
    loopbot::telemetry::init("warn", settings.log_format);
    Ok(settings)
}

async fn serve(raw: RawSettings) -> anyhow::Result<()> {
    let settings = Settings::parse(&raw, Needs::Slack)?;
    loopbot::telemetry::init("info,sqlx=warn", settings.log_format);
    // Handlers first: a SIGTERM that arrives while starting up still stops cleanly.
    let shutdown = shutdown_signal();
    let app =
        Application::build(settings, std::sync::Arc::new(loopbot::clock::SystemClock)).await?;
    tracing::info!(address = %app.address(), transport = ?app.state().settings.transport, "loopbot is listening");
    app.run_until_stopped(shutdown).await
}

//! The command line: `shiminhua [serve | migrate | create-admin | purge | rekey | openapi]`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

use crate::{
    auth::{Role, password::PasswordPool},
    config::{Config, LogFormat},
    domain::{RegionCode, TextType, Username},
    error::Lang,
    infra::{crypto::DataProtector, db, files},
    regions::RegionDirectory,
    services::{
        rekey, retention,
        staff::{self, NewStaff},
    },
    startup, telemetry,
};

/// Shiminhua (市民化): the backend of the county-level migrant-worker
/// urbanisation programme. Configuration comes from environment variables
/// (see the README); with none set it runs on SQLite and an in-process store.
#[derive(Debug, Parser)]
#[command(name = "shiminhua", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (the default). Migrates the database first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an administrator account; the password is read from standard input.
    ///
    /// There is no default account: this is how the first administrator comes
    /// to be. Example: `echo "$PASSWORD" | shiminhua create-admin --username admin`.
    CreateAdmin {
        /// 3 to 64 lowercase letters, digits, '.', '_' or '-'.
        #[arg(long)]
        username: String,
        /// The name shown to other staff (defaults to the username).
        #[arg(long)]
        display_name: Option<String>,
        /// The region the administrator is responsible for (000000: nationwide).
        #[arg(long, default_value = "000000")]
        region: String,
    },
    /// Remove the personal data of closed cases past the retention period.
    ///
    /// The period is SHIMINHUA_RETENTION_DAYS (default 1095, at least 180)
    /// after a case's last change. Answers, descriptions, contact phones,
    /// staff comments and documents go; the case, its status, amounts and
    /// region stay for the statistics. Audit rows older than the period are
    /// deleted. Prints a JSON summary. Safe to run again, or from cron.
    Purge {
        /// Count what is past retention and change nothing.
        #[arg(long, conflicts_with = "apply", required_unless_present = "apply")]
        dry_run: bool,
        /// Remove it.
        #[arg(long)]
        apply: bool,
    },
    /// Bring personal data at rest under the active keys, after a rotation.
    ///
    /// Re-encrypts every personal-data column and stored document under the
    /// active SHIMINHUA_DATA_KEY, bound to its row (older formats and keys are
    /// read), and recomputes ID and phone number hashes under the active
    /// SHIMINHUA_LOOKUP_KEY. Works in batches; safe to stop and run again.
    /// Prints a JSON summary. Afterwards an older key can be removed from the
    /// configuration.
    Rekey {
        /// Count what is not under the active keys and change nothing.
        #[arg(long, conflicts_with = "apply", required_unless_present = "apply")]
        dry_run: bool,
        /// Rewrite it.
        #[arg(long)]
        apply: bool,
    },
    /// Write the OpenAPI document (openapi.json, openapi.yaml) into a directory.
    Openapi {
        /// Where to write the documents.
        #[arg(long, default_value = "openapi")]
        out: PathBuf,
    },
}

pub fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(serve()),
        Command::Migrate => runtime.block_on(migrate()),
        Command::CreateAdmin {
            username,
            display_name,
            region,
        } => runtime.block_on(create_admin(username, display_name, region)),
        Command::Purge { apply, .. } => runtime.block_on(purge(apply)),
        Command::Rekey { apply, .. } => runtime.block_on(rekey(apply)),
        Command::Openapi { out } => write_openapi(&out),
    }
}

fn load_config() -> anyhow::Result<Config> {
    let loaded = Config::from_env()?;
    telemetry::init_tracing(loaded.config.log_format);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    Ok(loaded.config)
}

async fn serve() -> anyhow::Result<()> {
    let config = load_config()?;
    let server = startup::start(config, startup::termination_signal()).await?;
    server.wait().await
}

async fn migrate() -> anyhow::Result<()> {
    let config = load_config()?;
    let connection = db::connect(config.database_url.expose_secret()).await?;
    db::migrate(&connection).await?;
    tracing::info!("migrations applied");
    Ok(())
}

async fn create_admin(username: String, display_name: Option<String>, region: String) -> anyhow::Result<()> {
    let config = load_config()?;
    let username = Username::parse(&username).map_err(|issue| anyhow::anyhow!("--username: {}", issue.message().en))?;
    let region_code =
        RegionCode::parse(&region).map_err(|issue| anyhow::anyhow!("--region: {}", issue.message().en))?;
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let connection = db::connect(config.database_url.expose_secret()).await?;
    db::migrate(&connection).await?;
    let regions = RegionDirectory::load(&connection).await?;
    let new = NewStaff {
        display_name: display_name.unwrap_or_else(|| username.as_str().to_owned()),
        username,
        password,
        roles: vec![Role::Admin],
        region_code,
    };
    let member = staff::create(&connection, &regions, &PasswordPool::new(1), None, None, new)
        .await
        .map_err(|error| anyhow::anyhow!("{}", error.message(Lang::En)))?;
    tracing::info!(username = %member.username, region = %member.region_code, "administrator created");
    Ok(())
}

async fn purge(apply: bool) -> anyhow::Result<()> {
    let config = load_config()?;
    let connection = db::connect(config.database_url.expose_secret()).await?;
    db::migrate(&connection).await?;
    let files = files::open(&config.files)?;
    let summary = retention::purge(&connection, files.as_ref(), config.retention, apply)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

async fn rekey(apply: bool) -> anyhow::Result<()> {
    let config = load_config()?;
    let connection = db::connect(config.database_url.expose_secret()).await?;
    db::migrate(&connection).await?;
    let protector = DataProtector::new(&config.data_keys, &config.lookup_keys);
    let files = files::open(&config.files)?;
    let summary = rekey::rekey(&connection, &protector, files.as_ref(), apply)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

fn write_openapi(out: &std::path::Path) -> anyhow::Result<()> {
    telemetry::init_tracing(LogFormat::Pretty);
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (name, document) in [
        ("openapi.json", startup::spec_json()),
        ("openapi.yaml", startup::spec_yaml()),
    ] {
        let path = out.join(name);
        std::fs::write(&path, document + "\n").with_context(|| format!("writing {}", path.display()))?;
        tracing::info!(path = %path.display(), "written");
    }
    Ok(())
}

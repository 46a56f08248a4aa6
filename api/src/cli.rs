//! The command line: `shiminhua [serve | migrate | openapi]`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

use crate::{
    config::{Config, LogFormat},
    infra::db,
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

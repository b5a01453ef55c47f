//! `connector-wazuh`: the daemon (`run`, the default) and `config` (print the effective
//! configuration with the source of every value, secrets masked).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use connector_wazuh::config::load::{self, LoadInput};
use connector_wazuh::runtime;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "connector-wazuh",
    version,
    about = "OpenCTI internal-enrichment connector for the Wazuh indexer"
)]
struct Cli {
    /// Configuration file (default: $CONNECTOR_CONFIG_FILE, else config/config.yml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the connector (default).
    Run,
    /// Print the effective configuration and where each value came from.
    Config,
}

fn init_logging(level: &str, json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_new(format!(
        "{level},lapin=warn,amq_protocol=warn,hyper=warn,reqwest=warn"
    ))
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let input = LoadInput::from_process(cli.config.clone());
    let loaded = load::load_with_sources(&input);
    let (settings, entries) = match loaded {
        Ok(x) => x,
        Err(e) => {
            eprintln!("connector-wazuh: configuration error: {e}");
            return ExitCode::from(1);
        }
    };
    match cli.command.unwrap_or(Command::Run) {
        Command::Config => {
            let w_env = entries.iter().map(|e| e.env.len()).max().unwrap_or(0);
            for e in &entries {
                println!(
                    "{:<w_env$}  {}  [{}]",
                    e.env,
                    if e.value_masked.is_empty() {
                        "(unset)"
                    } else {
                        &e.value_masked
                    },
                    e.source
                );
            }
            ExitCode::SUCCESS
        }
        Command::Run => {
            init_logging(
                &settings.connector.log_level,
                settings.connector.json_logging,
            );
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("connector-wazuh: cannot start the async runtime: {e}");
                    return ExitCode::from(1);
                }
            };
            rt.block_on(async move {
                let shutdown = CancellationToken::new();
                let signals = shutdown.clone();
                tokio::spawn(async move {
                    wait_for_signal().await;
                    tracing::info!("termination signal received");
                    signals.cancel();
                });
                match runtime::run(settings, shutdown).await {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        tracing::error!(error = %e, "connector stopped");
                        eprintln!("connector-wazuh: {e}");
                        ExitCode::from(1)
                    }
                }
            })
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

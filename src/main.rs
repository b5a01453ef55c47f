//! `connector-wazuh`: the daemon (`run`, the default) and the operator commands `check` (one line
//! per dependency check), `enrich` (a one-shot dry run) and `config` (the effective configuration
//! with the source of every value, secrets masked). The commands live in
//! `connector_wazuh::cli`; this file parses arguments and prints.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use connector_wazuh::cli;
use connector_wazuh::config::load::{self, LoadInput};
use connector_wazuh::config::Settings;
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
    /// Check the configuration, OpenCTI and the Wazuh indexer; one line per check (exit 1 on failure).
    Check,
    /// Look one observable up in the indexer and print the bundle the connector would send.
    Enrich {
        /// `type:value` (ipv4-addr:1.2.3.4, domain-name:x, file:sha256=…, url:…,
        /// process:<command line>, vulnerability:CVE-…, indicator:[pattern], …) or @file.json
        /// (a STIX object or bundle).
        observable: String,
        /// Print a summary table instead of the bundle.
        #[arg(long)]
        summary: bool,
        /// Read the observable's indicators and the tool names from OpenCTI (when reachable).
        #[arg(long)]
        with_opencti: bool,
        /// Send the bundle to OpenCTI (stixBundlePush). Without it nothing is sent.
        #[arg(long)]
        send: bool,
        /// Also write the bundle's knowledge as a Mermaid flowchart to FILE (a fenced block in a
        /// Markdown page when FILE ends in .md).
        #[arg(long, value_name = "FILE")]
        graph: Option<std::path::PathBuf>,
    },
    /// Print the effective configuration and where each value came from (secrets masked).
    Config {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Print the JSON Schema of every environment variable (the managed-connector
        /// `__metadata__/connector_config_schema.json`) instead; reads no configuration.
        #[arg(long, conflicts_with = "json")]
        schema: bool,
        /// Print the configuration page generated from that schema (the managed-connector
        /// `__metadata__/CONNECTOR_CONFIG_DOC.md`); reads no configuration.
        #[arg(long, conflicts_with_all = ["json", "schema"])]
        schema_doc: bool,
    },
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
    // Before any thread exists: every thread's allocations follow these settings.
    let allocator = connector_wazuh::ops::allocator::tune();
    let cli = Cli::parse();
    // The schema describes the options, not this deployment's values: it needs no configuration,
    // so that it can be generated anywhere (CI, a fresh checkout).
    if let Some(Command::Config { schema: true, .. }) = cli.command {
        print!("{}", connector_wazuh::config::schema::render());
        return ExitCode::SUCCESS;
    }
    if let Some(Command::Config {
        schema_doc: true, ..
    }) = cli.command
    {
        print!("{}", connector_wazuh::config::schema::render_doc());
        return ExitCode::SUCCESS;
    }
    let input = LoadInput::from_process(cli.config.clone());
    let command = cli.command.unwrap_or(Command::Run);
    let load::Loaded {
        settings,
        entries,
        warnings,
    } = match load::load_report(&input) {
        Ok(x) => x,
        Err(e) => {
            if matches!(command, Command::Check) {
                print!(
                    "{}",
                    cli::check::render(&[cli::check::config_error(&e.to_string())])
                );
            } else {
                eprintln!("connector-wazuh: configuration error: {e}");
            }
            return ExitCode::from(1);
        }
    };
    // The daemon logs them once its logging is set up; the other commands print them now.
    if !matches!(command, Command::Run) {
        for w in &warnings {
            eprintln!("connector-wazuh: warning: {w}");
        }
    }
    match command {
        Command::Config { json, .. } => {
            if json {
                match serde_json::to_string_pretty(&cli::config_view::json(&entries)) {
                    Ok(text) => println!("{text}"),
                    Err(e) => {
                        eprintln!("connector-wazuh: {e}");
                        return ExitCode::from(1);
                    }
                }
            } else {
                print!("{}", cli::config_view::table(&entries));
            }
            ExitCode::SUCCESS
        }
        Command::Check => block_on(async move {
            let lines = cli::check::run(&settings).await;
            print!("{}", cli::check::render(&lines));
            if cli::check::failed(&lines) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }),
        Command::Enrich {
            observable,
            summary,
            with_opencti,
            send,
            graph,
        } => enrich(settings, &observable, summary, with_opencti, send, graph),
        Command::Run => {
            init_logging(
                &settings.connector.log_level,
                settings.connector.json_logging,
            );
            for w in &warnings {
                tracing::warn!("{w}");
            }
            tracing::debug!(?allocator, "allocator settings");
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

/// Runs a one-shot command on a small runtime.
fn block_on(f: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f),
        Err(e) => {
            eprintln!("connector-wazuh: cannot start the async runtime: {e}");
            ExitCode::from(1)
        }
    }
}

fn enrich(
    settings: Settings,
    observable: &str,
    summary: bool,
    with_opencti: bool,
    send: bool,
    graph: Option<std::path::PathBuf>,
) -> ExitCode {
    let target = match cli::observable::target(observable) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("connector-wazuh: {e}");
            return ExitCode::from(2);
        }
    };
    // Warnings of the pipeline (shard failures, …) go to stderr; stdout stays the result.
    init_logging("warn", false);
    let opts = cli::enrich::Options { with_opencti, send };
    block_on(async move {
        match cli::enrich::run(settings, target, opts).await {
            Ok(out) => {
                for n in &out.notes {
                    eprintln!("connector-wazuh: {n}");
                }
                if let Some(path) = &graph {
                    let text = cli::enrich::graph(path, &out.bundle, observable);
                    if let Err(e) = std::fs::write(path, text) {
                        eprintln!("connector-wazuh: cannot write {}: {e}", path.display());
                        return ExitCode::from(1);
                    }
                    eprintln!("connector-wazuh: graph written to {}", path.display());
                }
                if summary {
                    print!(
                        "{}",
                        cli::summary::render(
                            out.bundle["objects"]
                                .as_array()
                                .map(Vec::as_slice)
                                .unwrap_or(&[]),
                            &out.enriched.message
                        )
                    );
                } else {
                    eprintln!("connector-wazuh: {}", out.enriched.message);
                    match serde_json::to_string_pretty(&out.bundle) {
                        Ok(t) => println!("{t}"),
                        Err(e) => {
                            eprintln!("connector-wazuh: {e}");
                            return ExitCode::from(1);
                        }
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("connector-wazuh: enrichment failed: {e}");
                ExitCode::from(1)
            }
        }
    })
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

//! The `server` binary: `server` (or `server serve`) runs zportal.

use clap::{Parser, Subcommand};

/// glibc's allocator spent a third of a proxied call's CPU in malloc, free and consolidation
/// (a profile under `cargo xtask bench`); mimalloc keeps per-thread free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "server",
    about = "zportal: sign in with Zoho and work with your CRM records"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve zportal (the default).
    Serve,
    /// Manage stored Zoho connections from the command line.
    Connections {
        #[command(subcommand)]
        command: server::cli::ConnectionsCommand,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match server::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("zportal: configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    server::telemetry::init(config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => server::serve(config).await,
        Command::Connections { command } => server::connections(config, command).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("zportal stopped: {e:#}");
            eprintln!("zportal: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! `emulator`: run the local Zoho on its own (`cargo run -p emulator -- --addr 127.0.0.1:3100`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "emulator",
    about = "A local Zoho (Accounts + CRM v8) for zportal"
)]
struct Cli {
    /// Where to listen (loopback only).
    #[arg(long, env = "ZOHO_EMULATOR_ADDR", default_value = "127.0.0.1:3100")]
    addr: SocketAddr,
    /// Keep the emulator's state in this file across restarts.
    #[arg(long)]
    state_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let running = emulator::start(emulator::Options {
        addr: cli.addr,
        state_file: cli.state_file,
    })
    .await?;
    println!("Zoho emulator at {}", running.base_url);
    let _ = tokio::signal::ctrl_c().await;
    running.stop().await;
    Ok(())
}

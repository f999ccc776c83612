//! `admin-users-emulator --port <n|0> --token <T> [--viewer-token V] [--no-delete-route]
//! [--no-password-route]`: prints `listening on http://127.0.0.1:<port>`; the API is
//! under `/api`.

use admin_users_emulator::{AdminUsersEmulator, Settings};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "An in-memory admin users API (FastAPI-shaped) for tests")]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// An admin's Bearer token.
    #[arg(long, env = "ADMIN_USERS_TOKEN")]
    token: String,
    /// A token that authenticates but is not an admin's (403). Repeatable.
    #[arg(long = "viewer-token")]
    viewer_tokens: Vec<String>,
    /// Serve no DELETE route (405), like a server that only deactivates.
    #[arg(long)]
    no_delete_route: bool,
    /// Serve no password route (405).
    #[arg(long)]
    no_password_route: bool,
    #[arg(long, default_value_t = 100)]
    max_limit: i64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    anyhow::ensure!(a.max_limit > 0, "--max-limit must be at least 1");
    let emu = AdminUsersEmulator::start(Settings {
        token: a.token,
        viewer_tokens: a.viewer_tokens,
        port: a.port,
        delete_route: !a.no_delete_route,
        password_route: !a.no_password_route,
        max_limit: a.max_limit,
        ..Default::default()
    })
    .await?;
    println!("listening on {}", emu.url());
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        r = tokio::signal::ctrl_c() => r?,
    }
    emu.shutdown().await;
    Ok(())
}

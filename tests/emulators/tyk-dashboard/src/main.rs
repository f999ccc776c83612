//! `tyk-dashboard-emulator --port <n|0> --admin-secret <s> [--profile ..] [settings] [faults]`

use clap::Parser;
use tyk_dashboard_emulator::{FaultRule, Faults, Profile, Settings, TykEmulator};

#[derive(Parser, Debug)]
#[command(about = "An in-memory Tyk Dashboard (users, orgs, groups) for tests")]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    #[arg(long, env = "TYK_DB_ADMINSECRET")]
    admin_secret: String,
    #[arg(long, value_enum, default_value_t = Profile::V5_8)]
    profile: Profile,
    #[arg(long)]
    forbid_admin_view_access_token: bool,
    #[arg(long)]
    forbid_admin_reset_access_token: bool,
    #[arg(long)]
    allow_admin_reset_password: bool,
    #[arg(long, default_value_t = 6)]
    password_min_length: usize,
    #[arg(long, default_value_t = 0)]
    password_history: usize,
    #[arg(long, default_value_t = 10)]
    page_size: usize,
    #[arg(long)]
    admin_create_sets_password: bool,
    #[arg(long)]
    admin_reset_requires_current_password: bool,
    #[arg(long)]
    forbid_applies_to_admin_get: bool,
    #[arg(long)]
    unique_email_globally: bool,
    #[arg(long, default_value_t = 403)]
    inactive_key_status: u16,
    #[arg(long, default_value_t = 404)]
    missing_route_status: u16,
    /// Fixed latency added to /admin and /api requests.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    #[arg(long, default_value_t = 500)]
    error_status: u16,
    #[arg(long, default_value_t = 0.0)]
    hang_rate: f64,
    #[arg(long, default_value_t = 0.0)]
    reset_rate: f64,
    #[arg(long, default_value_t = 0.0)]
    commit_then_drop_rate: f64,
    /// A scoped fault as JSON, e.g. '{"kind":"reset","method":"POST","route":"/admin/users","count":1}'.
    /// Repeatable; rules are checked in the order given.
    #[arg(long = "fault-rule", value_parser = parse_rule)]
    fault_rules: Vec<FaultRule>,
}

fn parse_rule(s: &str) -> Result<FaultRule, String> {
    serde_json::from_str(s).map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    anyhow::ensure!(a.page_size > 0, "--page-size must be at least 1");
    let settings = Settings {
        admin_secret: a.admin_secret,
        forbid_admin_view_access_token: a.forbid_admin_view_access_token,
        forbid_admin_reset_access_token: a.forbid_admin_reset_access_token,
        allow_admin_reset_password: a.allow_admin_reset_password,
        password_min_length: a.password_min_length,
        password_history: a.password_history,
        page_size: a.page_size,
        profile: a.profile,
        port: a.port,
        admin_create_sets_password: a.admin_create_sets_password,
        admin_reset_requires_current_password: a.admin_reset_requires_current_password,
        forbid_applies_to_admin_get: a.forbid_applies_to_admin_get,
        unique_email_globally: a.unique_email_globally,
        inactive_key_status: a.inactive_key_status,
        missing_route_status: a.missing_route_status,
    };
    let faults = Faults {
        latency_ms: a.latency_ms,
        jitter_ms: a.jitter_ms,
        error_rate: a.error_rate,
        error_status: a.error_status,
        hang_rate: a.hang_rate,
        reset_rate: a.reset_rate,
        commit_then_drop_rate: a.commit_then_drop_rate,
        rules: a.fault_rules,
    };
    let emu = TykEmulator::start_with_faults(settings, faults).await?;
    println!("listening on {}", emu.url());
    wait_for_signal().await?;
    emu.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        r = tokio::signal::ctrl_c() => r?,
    }
    Ok(())
}

//! Waiting with deadlines. Tests never assert on elapsed time (docs/development/testing.md): they poll until a
//! condition holds and fail only when a generous deadline passes.

use std::future::Future;
use std::time::Duration;

/// The deadline for one wait; `E2E_WAIT_SECS` raises it on slow machines or real clusters.
pub fn default_timeout() -> Duration {
    let secs = std::env::var("E2E_WAIT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// How often to look again: short enough to follow the operator closely, long enough to keep
/// two cores free for the operator under test.
pub const POLL: Duration = Duration::from_millis(150);

/// Polls `probe` until it yields `Ok(value)`. `Err(note)` means "not yet" and carries what was
/// seen, so a timeout reports the last observed state instead of a bare "timed out".
pub async fn until<T, F, Fut>(what: &str, mut probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    until_within(what, default_timeout(), &mut probe).await
}

pub async fn until_within<T, F, Fut>(
    what: &str,
    timeout: Duration,
    probe: &mut F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let last = match probe().await {
            Ok(v) => return Ok(v),
            Err(note) => note,
        };
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!("timed out after {timeout:?} waiting for {what}; last seen: {last}");
        }
        tokio::time::sleep(POLL).await;
    }
}

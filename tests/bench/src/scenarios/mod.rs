//! The scenarios. Each one that needs converged users converges them first on the same
//! cluster, so `all` runs `converge` once and the others build on it.

mod converge;
mod memory;
mod password;
mod steady;

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::env::Env;
use crate::progress::Progress;

pub use converge::in_flight;

/// Runs scenario `name`; a single scenario's fields go at the top level of `out`, `all`
/// puts each scenario's object under its name.
pub async fn run(name: &str, env: &mut Env, out: &mut Map<String, Value>) -> anyhow::Result<()> {
    if name == "all" {
        // Saved after each scenario: a long run that fails late keeps its earlier figures.
        out.insert("converge".into(), converge::run(env).await?);
        crate::save(&env.opts, out)?;
        out.insert("steady".into(), steady::run(env).await?);
        crate::save(&env.opts, out)?;
        out.insert("memory".into(), memory::run(env).await?);
        crate::save(&env.opts, out)?;
        out.insert("password-latency".into(), password::run(env).await?);
        return Ok(());
    }
    let fields = match name {
        "converge" => converge::run(env).await?,
        "steady" => steady::run(env).await?,
        "memory" => memory::run(env).await?,
        "password-latency" => password::run(env).await?,
        other => anyhow::bail!("unknown scenario {other}"),
    };
    if let Value::Object(m) = fields {
        out.extend(m);
    }
    Ok(())
}

/// Converges `--users` users unless that already happened in this run.
async fn ensure_converged(env: &mut Env) -> anyhow::Result<()> {
    if env.users < env.opts.users {
        converge::run(env).await?;
    }
    Ok(())
}

/// Generous enough for a loaded 2-core machine; a run that takes longer is broken, and an
/// unbounded wait would hang CI.
pub fn converge_timeout(users: usize) -> Duration {
    Duration::from_secs(120) + Duration::from_millis(100) * users as u32
}

/// Waits until `target` users are Ready while `work` runs, sampling (seconds, ready) every
/// 100 ms for the progress line and the plot. Returns the time the last one became Ready.
pub async fn wait_ready<F>(
    env: &Env,
    target: usize,
    label: &'static str,
    work: F,
    samples: &mut Vec<(f64, usize)>,
) -> anyhow::Result<Duration>
where
    F: std::future::Future<Output = anyhow::Result<()>>,
{
    let start = Instant::now();
    let deadline = start + converge_timeout(target);
    let mut progress = Progress::new(label, "users Ready");
    tokio::pin!(work);
    let mut working = true;
    loop {
        let ready = env.ready_users();
        let t = start.elapsed();
        if samples.last().is_none_or(|&(_, r)| r != ready) {
            samples.push((t.as_secs_f64(), ready));
        }
        if ready >= target && !working {
            progress.done(ready, target, t);
            return Ok(t);
        }
        progress.update(ready, target, t);
        anyhow::ensure!(
            env.operator_alive(),
            "the operator exited; see {}",
            env.log_path().display()
        );
        anyhow::ensure!(
            Instant::now() < deadline,
            "{label}: only {ready} of {target} users Ready after {:.0} s; see {}",
            t.as_secs_f64(),
            env.log_path().display()
        );
        tokio::select! {
            r = &mut work, if working => {
                r?;
                working = false;
            }
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}

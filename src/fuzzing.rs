//! Property-test runner for the fuzz targets (issue #9 part 7). cargo-fuzz needs a nightly
//! toolchain, which CI cannot fetch; proptest runs on stable, shrinks failures and is driven
//! from `cargo test`.
//!
//! Short by default (CI): `PROPTEST_CASES` cases (proptest's default, 256). For a long run,
//! `FUZZ_SECS=600` keeps each target going for that many seconds, in fresh rounds of cases
//! (e.g. `FUZZ_SECS=600 cargo test --release --lib fuzz_ -- --test-threads 1`).

use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Runs `test` on values of `strategy` until the case budget or the `FUZZ_SECS` deadline is
/// spent; panics with the shrunk input on the first failure.
pub fn fuzz<S, F>(name: &str, strategy: S, test: F)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
    F: Fn(S::Value) -> Result<(), TestCaseError>,
{
    let secs: Option<u64> = std::env::var("FUZZ_SECS").ok().and_then(|s| s.parse().ok());
    let deadline = secs.map(|s| Instant::now() + Duration::from_secs(s));
    let mut cases = 0u64;
    loop {
        let mut runner = TestRunner::new(Config {
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(e) = runner.run(&strategy, &test) {
            panic!("fuzz target {name} failed after {cases} earlier cases: {e}");
        }
        cases += u64::from(runner.config().cases);
        match deadline {
            Some(d) if Instant::now() < d => continue,
            _ => break,
        }
    }
    if secs.is_some() {
        eprintln!("fuzz target {name}: {cases} cases, no failure");
    }
}

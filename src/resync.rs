//! When an object is next re-read for drift: at its own phase of the resync period, with
//! the period stretched when the resyncs alone would take more than half of the reconcile
//! slots.
//!
//! Why the stretch: while every slot is busy, kube-runtime's `Runner` parks expired
//! requests in a hash set and fills each free slot with the first one in hash order
//! (`Scheduler::poll_pop_queue_message`, kube-runtime 5.0). As long as the demand stays
//! above what the slots serve, the set never empties, the same objects win every free slot
//! and the rest wait for good: the long crash loop (500 users, a 2 s resync, 4 slots) left
//! 48 users with pending edits unreconciled for 15 minutes while 360 Ready ones were
//! re-read at 70/s. Resyncs are the one source of demand that never lets up, so keeping
//! them to half of the capacity is what keeps the set draining and new work served.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

/// The part of the slots' time that drift checks may take; the rest is for new work.
const RESYNC_SHARE: f64 = 0.5;
/// Weight of the newest reconcile in the running mean (about the last 16 count).
const EWMA_WEIGHT: f64 = 1.0 / 16.0;
/// Stretches go in steps of 2^¼ (~19 %), so a period stays put while the mean wobbles and
/// the objects keep their phases.
const STEPS_PER_DOUBLING: i32 = 4;
const MAX_PERIOD: Duration = Duration::from_secs(7 * 24 * 3600);

/// One controller's resync pacing: its configured period, its slots, and the running mean
/// of its reconcile times.
pub struct Pace {
    configured: Duration,
    slots: u16,
    state: Mutex<PaceState>,
}

#[derive(Default)]
struct PaceState {
    /// Mean seconds per reconcile; `None` until one has been measured.
    mean: Option<f64>,
    /// The last period handed out, to report only changes.
    last: Option<Duration>,
}

/// A period decision, with what it was made from (for the log line and the gauge).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    pub period: Duration,
    /// The period differs from the one handed out before.
    pub changed: bool,
    pub mean: Duration,
}

impl Pace {
    /// `slots` is the controller's concurrency; 0 (unbounded) never stretches.
    pub fn new(configured: Duration, slots: u16) -> Self {
        Self {
            configured,
            slots,
            state: Mutex::default(),
        }
    }

    /// Feeds one reconcile's duration into the running mean.
    pub fn observe(&self, took: Duration) {
        let s = took.as_secs_f64();
        let mut st = self.state.lock();
        st.mean = Some(match st.mean {
            None => s,
            Some(m) => m + (s - m) * EWMA_WEIGHT,
        });
    }

    /// The period for `objects` objects: the configured one, or the smallest step above it
    /// at which their resyncs take at most [`RESYNC_SHARE`] of the slots.
    pub fn period(&self, objects: usize) -> Period {
        let mut st = self.state.lock();
        let mean = st.mean.unwrap_or(0.0);
        let period = stretched(self.configured, self.slots, objects, mean);
        let changed = st.last.is_some_and(|l| l != period)
            || (st.last.is_none() && period != self.configured);
        st.last = Some(period);
        Period {
            period,
            changed,
            mean: Duration::from_secs_f64(mean),
        }
    }
}

fn stretched(configured: Duration, slots: u16, objects: usize, mean: f64) -> Duration {
    if slots == 0 || mean <= 0.0 {
        return configured;
    }
    // Busy seconds the resyncs ask per second, over the seconds the slots may give them.
    let needed = objects as f64 * mean / (f64::from(slots) * RESYNC_SHARE);
    let base = configured.as_secs_f64().max(1e-3);
    if needed <= base {
        return configured;
    }
    let steps = (STEPS_PER_DOUBLING as f64 * (needed / base).log2()).ceil() as i32;
    let factor = 2f64.powf(f64::from(steps) / f64::from(STEPS_PER_DOUBLING));
    Duration::from_secs_f64((base * factor).min(MAX_PERIOD.as_secs_f64()))
}

/// Each object is re-read at its own point of the period (a hash of its key, on the wall
/// clock, so restarts and replicas agree), never less than half a period after `now`. The
/// resyncs of N objects are thus spread evenly over the period however their reconciles
/// bunched up: with a plain interval (even jittered), the burst of a restart, which
/// reconciles everything at once, would come back every period and queue the edits that
/// land in it behind N drift checks. The first resync comes ½ to 1½ periods after a
/// reconcile, the later ones exactly a period apart.
pub fn phase_resync(period: Duration, key: &str, now: SystemTime) -> Duration {
    let p = u64::try_from(period.as_millis()).unwrap_or(u64::MAX).max(1);
    let phase = fnv1a(key.as_bytes()) % p;
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let into_period = u64::try_from(since_epoch.as_millis()).unwrap_or(0) % p;
    let mut wait = (phase + p - into_period) % p;
    if wait < p / 2 {
        wait += p;
    }
    Duration::from_millis(wait)
}

/// A stable hash (the standard library's may change between releases; phases must not).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resyncs_keep_their_phase_and_spread_over_the_period() {
        let period = Duration::from_secs(600);
        let t0 = UNIX_EPOCH + Duration::from_secs(1_765_000_000);
        // All reconciled at the same instant (a restart): first resyncs ½ to 1½ periods on,
        // spread evenly; every tenth of the period gets about a tenth of 10,000 objects.
        let mut tenths = [0u32; 10];
        for i in 0..10_000 {
            let key = format!("team-{}/user-{i}", i % 7);
            let w = phase_resync(period, &key, t0);
            assert!(w >= period / 2 && w < period * 3 / 2, "{key}: {w:?}");
            let at = (t0 + w).duration_since(UNIX_EPOCH).unwrap().as_millis() % 600_000;
            tenths[(at / 60_000) as usize] += 1;
            // Reconciled again at that moment (or a little after, queued): exactly a period
            // later, not half a period and not drifting with the delay.
            for late_ms in [0, 1, 250] {
                let next = phase_resync(period, &key, t0 + w + Duration::from_millis(late_ms));
                assert_eq!(next + Duration::from_millis(late_ms), period, "{key}");
            }
        }
        assert!(
            tenths.iter().all(|&n| (850..=1150).contains(&n)),
            "{tenths:?}"
        );
        // A tiny period (tests use seconds) still waits at least half of it.
        let w = phase_resync(Duration::from_millis(3), "ns/u", t0);
        assert!(w >= Duration::from_millis(1) && w < Duration::from_millis(5));
    }

    #[test]
    fn the_period_stays_put_while_resyncs_fit_in_half_the_slots() {
        let p = Pace::new(Duration::from_secs(600), 4);
        // Nothing measured yet: the configured period.
        assert_eq!(p.period(10_000).period, Duration::from_secs(600));
        for _ in 0..50 {
            p.observe(Duration::from_millis(50));
        }
        // 10,000 × 50 ms = 500 busy seconds per period ≤ 4 slots × 600 s × ½.
        let got = p.period(10_000);
        assert_eq!(got.period, Duration::from_secs(600));
        assert!(!got.changed);
        // Unbounded concurrency never stretches.
        let unbounded = Pace::new(Duration::from_secs(2), 0);
        unbounded.observe(Duration::from_secs(1));
        assert_eq!(unbounded.period(500).period, Duration::from_secs(2));
    }

    #[test]
    fn an_overloading_period_is_stretched_in_steps_until_resyncs_take_half_the_slots() {
        // The long crash loop: 500 users, 2 s, 4 slots, 58 ms per drift check.
        let p = Pace::new(Duration::from_secs(2), 4);
        for _ in 0..100 {
            p.observe(Duration::from_millis(58));
        }
        let got = p.period(500);
        assert!(got.changed, "reported once");
        let needed = 500.0 * 0.058 / (4.0 * RESYNC_SHARE);
        let secs = got.period.as_secs_f64();
        assert!(
            secs >= needed && secs < needed * 1.19 + 1e-9,
            "{secs} for {needed}"
        );
        // A step of 2^¼ from the configured period.
        let steps = 4.0 * (secs / 2.0).log2();
        assert!((steps - steps.round()).abs() < 1e-6, "{steps}");
        // The mean wobbling by a few per cent keeps the step (and the phases) put.
        p.observe(Duration::from_millis(60));
        let again = p.period(500);
        assert_eq!(again.period, got.period);
        assert!(!again.changed);
        // Fewer users (or faster reconciles) bring it back, to the configured period.
        assert!(p.period(50).changed);
        assert_eq!(p.period(50).period, Duration::from_secs(2));
        // Absurd figures stay bounded.
        assert_eq!(
            stretched(Duration::from_secs(1), 1, usize::MAX, 1e9),
            MAX_PERIOD
        );
    }
}

//! Fault injection for /admin and /api requests (never /__emulator): latency with jitter,
//! error answers, hangs, connection resets and "commit then drop".

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// What happens to one request, besides latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with `status` (default 500) and an error envelope, without running the route.
    Error,
    /// Never answer; the client's timeout ends it.
    Hang,
    /// Close the TCP connection with a RST before running the route.
    Reset,
    /// Run the route (the write happens), then close the connection without answering.
    CommitThenDrop,
    /// Only add `latency_ms`; evaluation continues with the next rules.
    Latency,
    /// Answer with a canned, possibly malformed response (`status`, `content_type`, `body`,
    /// `body_bytes`, `location`): what a proxy, a broken Dashboard or an attacker might send.
    /// With `after_commit` the route runs first, so the write happens and its answer is lost.
    Answer,
}

/// The response an `answer` rule sends instead of the route's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CannedAnswer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub location: Option<String>,
    pub after_commit: bool,
}

/// A scoped fault: e.g. "next 1 POST /admin/users → reset".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    pub kind: FaultKind,
    /// For `error`: the status to answer (500, 502, 503, 429, ...). Default 500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// For `error`: the envelope `Message`, e.g. a documented DB failure such as
    /// "Failed to update User object to DB". Default "Injected fault (emulator)".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// For `latency`: the delay to add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// HTTP method to match (case-insensitive); any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Route pattern (`/admin/users/{id}`) or literal path to match; any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// How many times the rule may fire; unlimited when absent. Spent rules are removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// Probability that a matching request triggers the rule. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// For `answer`: the body (default empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// For `answer`: repeat `body` (or `x`) up to this many bytes, for oversized answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_bytes: Option<u64>,
    /// For `answer`: the `Content-Type` header; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// For `answer`: a `Location` header (redirects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// For `answer`: run the route (commit the write) before sending the canned answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_commit: bool,
}

impl FaultRule {
    /// A rule of `kind` for every request; narrow it with the methods below, e.g.
    /// `FaultRule::new(FaultKind::Reset).on("POST", "/admin/users").times(1)`.
    pub fn new(kind: FaultKind) -> FaultRule {
        FaultRule {
            kind,
            status: None,
            message: None,
            latency_ms: None,
            method: None,
            route: None,
            count: None,
            rate: None,
            body: None,
            body_bytes: None,
            content_type: None,
            location: None,
            after_commit: false,
        }
    }

    /// An `answer` rule: `status` with `body` and `content_type` (none when `None`).
    pub fn answer(status: u16, content_type: Option<&str>, body: &str) -> FaultRule {
        let mut r = FaultRule::new(FaultKind::Answer).with_status(status);
        r.content_type = content_type.map(str::to_string);
        r.body = Some(body.into());
        r
    }

    pub fn with_location(mut self, location: &str) -> FaultRule {
        self.location = Some(location.into());
        self
    }

    pub fn with_body_bytes(mut self, n: u64) -> FaultRule {
        self.body_bytes = Some(n);
        self
    }

    pub fn committing(mut self) -> FaultRule {
        self.after_commit = true;
        self
    }

    fn canned(&self) -> CannedAnswer {
        let seed = self.body.clone().unwrap_or_default().into_bytes();
        let body = match self.body_bytes {
            Some(n) => {
                let unit: &[u8] = if seed.is_empty() { b"x" } else { &seed };
                unit.iter().copied().cycle().take(n as usize).collect()
            }
            None => seed,
        };
        CannedAnswer {
            status: self.status.unwrap_or(200),
            content_type: self.content_type.clone(),
            body,
            location: self.location.clone(),
            after_commit: self.after_commit,
        }
    }

    pub fn on(mut self, method: &str, route: &str) -> FaultRule {
        self.method = Some(method.into());
        self.route = Some(route.into());
        self
    }

    pub fn times(mut self, count: u64) -> FaultRule {
        self.count = Some(count);
        self
    }

    pub fn with_status(mut self, status: u16) -> FaultRule {
        self.status = Some(status);
        self
    }

    pub fn with_message(mut self, message: &str) -> FaultRule {
        self.message = Some(message.into());
        self
    }

    pub fn with_latency_ms(mut self, ms: u64) -> FaultRule {
        self.latency_ms = Some(ms);
        self
    }

    pub fn with_rate(mut self, rate: f64) -> FaultRule {
        self.rate = Some(rate);
        self
    }
}

/// The whole fault configuration; `POST /__emulator/faults` replaces it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Fixed latency added to every /admin and /api request.
    pub latency_ms: u64,
    /// Extra uniform random latency in `0..=jitter_ms`.
    pub jitter_ms: u64,
    /// Probability of an injected error answer with `error_status`.
    pub error_rate: f64,
    pub error_status: u16,
    pub hang_rate: f64,
    pub reset_rate: f64,
    pub commit_then_drop_rate: f64,
    /// Scoped rules, checked in order before the global rates; the first that fires wins.
    pub rules: Vec<FaultRule>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency_ms: 0,
            jitter_ms: 0,
            error_rate: 0.0,
            error_status: 500,
            hang_rate: 0.0,
            reset_rate: 0.0,
            commit_then_drop_rate: 0.0,
            rules: Vec::new(),
        }
    }
}

/// The action decided for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Serve,
    /// Status and optional message.
    Error(u16, Option<String>),
    Hang,
    Reset,
    CommitThenDrop,
    Answer(Box<CannedAnswer>),
}

/// Largest canned body: enough for a "10 MB answer", bounded so a typo cannot eat the machine.
const MAX_CANNED_BODY: u64 = 64 * 1024 * 1024;

fn valid_rate(r: f64) -> bool {
    (0.0..=1.0).contains(&r)
}

fn valid_status(s: u16) -> bool {
    (400..=599).contains(&s)
}

impl Faults {
    pub fn validate(&self) -> Result<(), String> {
        let rates = [
            self.error_rate,
            self.hang_rate,
            self.reset_rate,
            self.commit_then_drop_rate,
        ];
        if !rates.into_iter().all(valid_rate) {
            return Err("rates must be within 0..=1".into());
        }
        if !valid_status(self.error_status) {
            return Err("error_status must be a 4xx or 5xx status".into());
        }
        for r in &self.rules {
            if !r.rate.is_none_or(valid_rate) {
                return Err("rule rate must be within 0..=1".into());
            }
            let status_ok = if r.kind == FaultKind::Answer {
                r.status.is_none_or(|s| (100..=599).contains(&s))
            } else {
                r.status.is_none_or(valid_status)
            };
            if !status_ok {
                return Err(
                    "rule status must be a 4xx or 5xx status (any 1xx-5xx for answer)".into(),
                );
            }
            if r.body_bytes.is_some_and(|n| n > MAX_CANNED_BODY) {
                return Err("rule body_bytes must be at most 64 MiB".into());
            }
        }
        Ok(())
    }

    /// Decides latency and action for a request, consuming counted rules.
    pub fn decide(&mut self, method: &str, route: &str, path: &str) -> (Duration, Action) {
        let mut rng = rand::rng();
        let jitter = if self.jitter_ms > 0 {
            rng.random_range(0..=self.jitter_ms)
        } else {
            0
        };
        let mut latency = self.latency_ms + jitter;
        let mut action = Action::Serve;
        let mut i = 0;
        while i < self.rules.len() {
            let r = &mut self.rules[i];
            let hit = r
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && r.route.as_deref().is_none_or(|p| p == route || p == path)
                && rng.random_bool(r.rate.unwrap_or(1.0));
            if !hit {
                i += 1;
                continue;
            }
            let fired = match r.kind {
                FaultKind::Latency => {
                    latency += r.latency_ms.unwrap_or(0);
                    None
                }
                FaultKind::Error => Some(Action::Error(r.status.unwrap_or(500), r.message.clone())),
                FaultKind::Hang => Some(Action::Hang),
                FaultKind::Reset => Some(Action::Reset),
                FaultKind::CommitThenDrop => Some(Action::CommitThenDrop),
                FaultKind::Answer => Some(Action::Answer(Box::new(r.canned()))),
            };
            if let Some(n) = r.count.as_mut() {
                *n = n.saturating_sub(1);
            }
            if r.count == Some(0) {
                self.rules.remove(i);
            } else {
                i += 1;
            }
            if let Some(a) = fired {
                action = a;
                break;
            }
        }
        if action == Action::Serve {
            action = if rng.random_bool(self.hang_rate) {
                Action::Hang
            } else if rng.random_bool(self.reset_rate) {
                Action::Reset
            } else if rng.random_bool(self.commit_then_drop_rate) {
                Action::CommitThenDrop
            } else if rng.random_bool(self.error_rate) {
                Action::Error(self.error_status, None)
            } else {
                Action::Serve
            };
        }
        (Duration::from_millis(latency), action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: FaultKind, count: Option<u64>) -> FaultRule {
        let r = FaultRule::new(kind)
            .on("POST", "/admin/users")
            .with_latency_ms(7);
        match count {
            Some(n) => r.times(n),
            None => r,
        }
    }

    #[test]
    fn no_faults_serves_without_delay() {
        let mut f = Faults::default();
        assert_eq!(f.decide("GET", "/x", "/x"), (Duration::ZERO, Action::Serve));
    }

    #[test]
    fn counted_rule_fires_then_disappears_and_ignores_other_requests() {
        let mut f = Faults {
            rules: vec![rule(FaultKind::Reset, Some(2))],
            ..Default::default()
        };
        assert_eq!(
            f.decide("GET", "/admin/users", "/admin/users").1,
            Action::Serve
        );
        assert_eq!(
            f.decide("post", "/admin/users", "/admin/users").1,
            Action::Reset
        );
        assert_eq!(f.rules[0].count, Some(1));
        assert_eq!(
            f.decide("POST", "/admin/users", "/admin/users").1,
            Action::Reset
        );
        assert!(f.rules.is_empty());
        assert_eq!(
            f.decide("POST", "/admin/users", "/admin/users").1,
            Action::Serve
        );
    }

    #[test]
    fn latency_rules_add_up_and_let_later_rules_fire() {
        let error = rule(FaultKind::Error, None).with_status(503);
        let mut f = Faults {
            latency_ms: 5,
            rules: vec![rule(FaultKind::Latency, None), error],
            ..Default::default()
        };
        let (d, a) = f.decide("POST", "/admin/users", "/admin/users");
        assert_eq!(
            (d, a),
            (Duration::from_millis(12), Action::Error(503, None))
        );
        assert_eq!(f.rules.len(), 2, "uncounted rules stay");
    }

    #[test]
    fn global_rates_of_one_always_fire_in_documented_order() {
        let mut f = Faults {
            error_rate: 1.0,
            error_status: 429,
            ..Default::default()
        };
        assert_eq!(f.decide("GET", "/a", "/a").1, Action::Error(429, None));
        f.commit_then_drop_rate = 1.0;
        assert_eq!(f.decide("GET", "/a", "/a").1, Action::CommitThenDrop);
        f.reset_rate = 1.0;
        assert_eq!(f.decide("GET", "/a", "/a").1, Action::Reset);
        f.hang_rate = 1.0;
        assert_eq!(f.decide("GET", "/a", "/a").1, Action::Hang);
    }

    #[test]
    fn validation_rejects_bad_rates_and_statuses() {
        let bad_rate = Faults {
            hang_rate: 1.5,
            ..Default::default()
        };
        assert!(bad_rate.validate().is_err());
        let bad_status = Faults {
            error_status: 302,
            ..Default::default()
        };
        assert!(bad_status.validate().is_err());
        assert!(Faults::default().validate().is_ok());
    }
}

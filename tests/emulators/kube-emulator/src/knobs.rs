//! Run-time knobs for resilience and performance tests: latency, watch churn, forced 410s
//! and injected errors. Settable by flag and by `POST /__emulator/knobs`.

use std::collections::BTreeMap;

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::status::ApiError;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Knobs {
    /// Extra delay before every API request is handled.
    #[serde(rename = "latencyMs")]
    pub latency_ms: u64,
    /// Close every watch stream after this many seconds (0 = never).
    #[serde(rename = "watchCloseEverySecs")]
    pub watch_close_every_secs: u64,
    /// Answer every watch resume (explicit RV) and every `continue` with 410 Expired.
    #[serde(rename = "force410OnResume")]
    pub force_410_on_resume: bool,
    /// HTTP code ("409", "500", "429", "503") → probability of injecting it per request.
    #[serde(rename = "faultRate")]
    pub fault_rate: BTreeMap<String, f64>,
    /// Delay before the garbage collector and namespace controller act
    /// (docs/kubernetes-api.md §2.7).
    #[serde(rename = "gcDelayMs")]
    pub gc_delay_ms: u64,
}

impl Knobs {
    /// Merges a partial JSON object into the knobs; unknown keys are an error.
    pub fn apply(&mut self, patch: &Value) -> Result<(), String> {
        let mut cur = serde_json::to_value(&*self).map_err(|e| e.to_string())?;
        let obj = patch.as_object().ok_or("knobs must be a JSON object")?;
        for (k, v) in obj {
            if cur.get(k).is_none() {
                return Err(format!("unknown knob {k:?}"));
            }
            cur[k] = v.clone();
        }
        let next: Knobs = serde_json::from_value(cur).map_err(|e| e.to_string())?;
        for (code, rate) in &next.fault_rate {
            if !matches!(code.as_str(), "409" | "500" | "429" | "503")
                || !(0.0..=1.0).contains(rate)
            {
                return Err(format!("bad faultRate entry {code}: {rate}"));
            }
        }
        *self = next;
        Ok(())
    }

    /// Draws an injected error for a request with this verb, if the dice say so. Conflicts
    /// only make sense on writes that carry a precondition, so 409 is limited to updates and
    /// patches.
    pub fn draw_fault(&self, verb: &str) -> Option<ApiError> {
        let mut rng = rand::rng();
        for (code, rate) in &self.fault_rate {
            if *rate <= 0.0 || !rng.random_bool(rate.min(1.0)) {
                continue;
            }
            match code.as_str() {
                "409" if matches!(verb, "update" | "patch") => {
                    return Some(ApiError::new(
                        409,
                        "Conflict",
                        "Operation cannot be fulfilled: injected conflict (emulator fault knob)",
                    ));
                }
                "500" => {
                    return Some(ApiError::internal(
                        "injected server error (emulator fault knob)",
                    ));
                }
                "429" => {
                    let mut e = ApiError::new(
                        429,
                        "TooManyRequests",
                        "injected throttling (emulator fault knob), please try again later",
                    );
                    e.retry_after = Some(1);
                    return Some(e);
                }
                // What an apiserver answers while its storage is unavailable
                // (`errors.NewServiceUnavailable`); kube clients retry it like a 429.
                "503" => {
                    let mut e = ApiError::new(
                        503,
                        "ServiceUnavailable",
                        "injected unavailability (emulator fault knob): the server is currently unable to handle the request",
                    );
                    e.retry_after = Some(1);
                    return Some(e);
                }
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn partial_updates_and_validation() {
        let mut k = Knobs::default();
        k.apply(&json!({"latencyMs": 5, "force410OnResume": true}))
            .unwrap();
        assert_eq!(k.latency_ms, 5);
        assert!(k.force_410_on_resume);
        k.apply(&json!({"faultRate": {"429": 1.0}})).unwrap();
        assert_eq!(k.latency_ms, 5);
        let e = k.draw_fault("get").unwrap();
        assert_eq!((e.code, e.retry_after), (429, Some(1)));
        assert!(k.apply(&json!({"nope": 1})).is_err());
        assert!(k.apply(&json!({"faultRate": {"418": 0.5}})).is_err());
        k.apply(&json!({"faultRate": {"429": 0.0, "503": 1.0}}))
            .unwrap();
        let e = k.draw_fault("create").unwrap();
        assert_eq!(
            (e.code, e.reason.as_str(), e.retry_after),
            (503, "ServiceUnavailable", Some(1))
        );
        k.apply(&json!({"faultRate": {"503": 0.0, "409": 1.0}}))
            .unwrap();
        assert!(k.draw_fault("get").is_none());
        assert_eq!(k.draw_fault("patch").unwrap().code, 409);
    }
}

//! What a test saw, for the secret scan, and the operator's request log for the RBAC check.
//!
//! Every credential a test hands out or reads back (admin secret, API keys, passwords, access
//! keys) is registered here; at teardown every operator log line, Event, status, connection
//! status and metric is collected and searched for each of them (docs/design.md §4: credentials never
//! in logs, events, status, error messages or metric labels).

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

#[derive(Clone, Default)]
pub struct Corpus {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    secrets: BTreeSet<String>,
    /// (where it came from, text)
    texts: Vec<(String, String)>,
}

/// One secret found somewhere it must never be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub source: String,
    /// The secret, masked to its first 4 characters so the report itself does not leak it.
    pub secret_hint: String,
    pub excerpt: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "secret {}… found in {}: {}",
            self.secret_hint, self.source, self.excerpt
        )
    }
}

impl Corpus {
    /// Registers a credential. Nothing registered is ever dropped: a value shorter than
    /// [`SHORT`] is searched as a whole word (see [`scan`]), and one shorter than
    /// [`MIN_SECRET`] cannot be searched without matching by accident, so it panics.
    pub fn secret(&self, s: &str) {
        assert!(
            s.chars().count() >= MIN_SECRET,
            "a secret of {} characters cannot be scanned for; use at least {MIN_SECRET}",
            s.chars().count()
        );
        let mut g = self.inner.lock().unwrap();
        g.secrets.insert(s.to_string());
        // A dumped Secret shows its values base64-encoded, as `data` holds them.
        if let Ok(serde_json::Value::String(b64)) =
            serde_json::to_value(k8s_openapi::ByteString(s.as_bytes().to_vec()))
        {
            g.secrets.insert(b64);
        }
    }

    pub fn text(&self, source: impl Into<String>, text: impl Into<String>) {
        self.inner
            .lock()
            .unwrap()
            .texts
            .push((source.into(), text.into()));
    }

    pub fn secrets_len(&self) -> usize {
        self.inner.lock().unwrap().secrets.len()
    }

    pub fn texts_len(&self) -> usize {
        self.inner.lock().unwrap().texts.len()
    }

    pub fn scan(&self) -> Vec<Finding> {
        let g = self.inner.lock().unwrap();
        scan(&g.texts, &g.secrets)
    }
}

/// Shortest secret [`Corpus::secret`] accepts.
pub const MIN_SECRET: usize = 4;
/// Secrets shorter than this are matched only as whole words, so that e.g. `Sh0rt!` is
/// found in `"input":"Sh0rt!"` but a 4-letter value is not found inside every longer word.
pub const SHORT: usize = 8;

/// Substring search (whole words for short secrets), so an encoded form is caught only if
/// registered separately.
pub fn scan(texts: &[(String, String)], secrets: &BTreeSet<String>) -> Vec<Finding> {
    let mut out = Vec::new();
    for (source, text) in texts {
        for s in secrets {
            if let Some(pos) = find(text, s) {
                let start = floor_boundary(text, pos.saturating_sub(60));
                let end = floor_boundary(text, (pos + s.len() + 60).min(text.len()));
                out.push(Finding {
                    source: source.clone(),
                    secret_hint: s.chars().take(4).collect(),
                    excerpt: text[start..end].replace(s.as_str(), "<REDACTED-BY-E2E>"),
                });
            }
        }
    }
    out
}

/// The first occurrence of `secret`; for a short one, the first not inside a longer word.
fn find(text: &str, secret: &str) -> Option<usize> {
    if secret.chars().count() >= SHORT {
        return text.find(secret);
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(secret).map(|(i, _)| i).find(|&i| {
        !word(text[..i].chars().next_back()) && !word(text[i + secret.len()..].chars().next())
    })
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `<workspace>/target/e2e/operator-requests.jsonl` (the contract with tests/packaging, docs/development/testing.md).
pub fn requests_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e/operator-requests.jsonl")
}

/// Appends the operator's own requests (user agent `dashboard-user-operator…`) from the kube
/// emulator's request log. The file is truncated once per test process, so it always
/// describes the latest run; parallel tests append under one lock.
pub fn record_operator_requests(log: &[Value]) -> anyhow::Result<usize> {
    static FILE: OnceLock<Result<Mutex<std::fs::File>, String>> = OnceLock::new();
    let file = FILE.get_or_init(|| {
        // Only the e2e binary writes the file the RBAC check reads: another test binary
        // using this harness (reliability) runs after it in `cargo test --workspace` and
        // would otherwise truncate the e2e log. The others get a file of their own.
        let bin = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_default();
        let path = match bin.split('-').next() {
            Some("e2e") | None => requests_file(),
            Some(other) => {
                requests_file().with_file_name(format!("operator-requests-{other}.jsonl"))
            }
        };
        std::fs::create_dir_all(path.parent().expect("has a parent"))
            .and_then(|_| std::fs::File::create(&path))
            .map(Mutex::new)
            .map_err(|e| format!("{}: {e}", path.display()))
    });
    let file = file.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut lines = String::new();
    let mut n = 0;
    for entry in log {
        let ua = entry["userAgent"].as_str().unwrap_or_default();
        if ua.starts_with("dashboard-user-operator") {
            lines.push_str(&serde_json::to_string(entry)?);
            lines.push('\n');
            n += 1;
        }
    }
    let mut f = file.lock().unwrap();
    f.write_all(lines.as_bytes())?;
    f.flush()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_a_planted_secret_and_masks_it() {
        let c = Corpus::default();
        c.secret("s3cret-value-123");
        c.text("log", "all good");
        c.text("event", "oops s3cret-value-123 leaked");
        let f = c.scan();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].source, "event");
        assert!(!f[0].to_string().contains("s3cret-value-123"));
    }

    #[test]
    fn a_short_secret_is_scanned_as_a_whole_word() {
        let c = Corpus::default();
        c.secret("Sh0rt!");
        c.text("log", "Sh0rt!er and xSh0rt! are other words");
        assert!(c.scan().is_empty());
        c.text("event", r#"{"input":"Sh0rt!"}"#);
        let f = c.scan();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].source, "event");
    }

    #[test]
    #[should_panic(expected = "cannot be scanned")]
    fn a_secret_too_short_to_scan_is_refused_loudly() {
        Corpus::default().secret("abc");
    }

    #[test]
    fn scan_finds_a_base64_encoded_secret() {
        let c = Corpus::default();
        c.secret("s3cret-value-123");
        // base64("s3cret-value-123"), as a Secret's `data` would show it.
        c.text("log", r#"{"data":{"password":"czNjcmV0LXZhbHVlLTEyMw=="}}"#);
        assert_eq!(c.scan().len(), 1);
    }
}

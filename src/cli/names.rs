//! `metadata.name`s derived from emails: valid DNS-1123 labels (so `<name>-dashboard-access`
//! and file names stay valid too), unique, and stable across runs.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// A DNS-1123 label is at most 63 characters.
const MAX: usize = 63;
/// Hex digits of the hash suffix that tells colliding names apart.
const SUFFIX: usize = 8;

/// `Alice.Smith+ops@Example.com` → `alice-smith-ops-example-com`: lower case, every run of
/// other characters becomes one `-`, no leading/trailing `-`, at most 63 characters.
pub fn base_name(email: &str) -> String {
    let out = trim(&full_name(email), MAX);
    if out.is_empty() { "user".into() } else { out }
}

/// The derived name before it is cut to 63 characters.
fn full_name(email: &str) -> String {
    let mut out = String::new();
    for c in email.trim().to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

fn trim(s: &str, max: usize) -> String {
    let cut: String = s.chars().take(max).collect();
    cut.trim_end_matches('-').to_string()
}

/// `(org id, email)` → name, for every user. A name that several users would share, or
/// one cut to fit, gets a suffix hashed from that user's own org and email — never from
/// the others', so adding an unrelated user renames nobody and the same Dashboard always
/// gives the same names.
pub fn assign(users: &[(String, String)]) -> Vec<String> {
    let bases: Vec<String> = users.iter().map(|(_, e)| base_name(e)).collect();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for b in &bases {
        *count.entry(b).or_default() += 1;
    }
    let mut names: Vec<String> = users
        .iter()
        .zip(&bases)
        .map(|((org, email), base)| {
            // A cut name could equal another cut name without being "the same" email.
            let cut = full_name(email).len() > MAX;
            if count[base.as_str()] > 1 || cut {
                suffixed(base, org, email, SUFFIX)
            } else {
                base.clone()
            }
        })
        .collect();
    // A suffixed name could still equal someone's plain name (astronomically unlikely):
    // widen the suffixes of the duplicates until every name is unique.
    for width in [16, 32] {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for n in &names {
            *seen.entry(n.clone()).or_default() += 1;
        }
        if seen.values().all(|c| *c == 1) {
            break;
        }
        for (i, (org, email)) in users.iter().enumerate() {
            if seen[&names[i]] > 1 {
                names[i] = suffixed(&bases[i], org, email, width);
            }
        }
    }
    names
}

fn suffixed(base: &str, org: &str, email: &str, width: usize) -> String {
    let digest = Sha256::digest(format!("{org}/{}", email.trim().to_lowercase()));
    let hash: String = hex::encode(digest).chars().take(width).collect();
    format!("{}-{hash}", trim(base, MAX - width - 1))
}

/// Kubernetes' rule for a DNS-1123 label.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(o, e)| (o.to_string(), e.to_string()))
            .collect()
    }

    #[test]
    fn emails_become_dns_labels() {
        assert_eq!(
            base_name("Alice.Smith+ops@Example.com"),
            "alice-smith-ops-example-com"
        );
        assert_eq!(base_name("__x__@y"), "x-y");
        assert_eq!(base_name("@@@"), "user");
        assert_eq!(base_name("ünï@cöde.io"), "n-c-de-io");
        let long = format!("{}@example.com", "a".repeat(80));
        assert!(is_dns_label(&base_name(&long)));
    }

    #[test]
    fn collisions_get_a_suffix_of_their_own() {
        let users = pairs(&[
            ("o1", "a.b@x.io"),
            ("o1", "a-b@x.io"),
            ("o2", "a.b@x.io"),
            ("o1", "solo@x.io"),
        ]);
        let names = assign(&users);
        assert_eq!(names[3], "solo-x-io");
        for n in &names[..3] {
            assert!(n.starts_with("a-b-x-io-") && is_dns_label(n), "{n}");
        }
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), 4);
        // Stable: the same inputs in another order give each user the same name, and a
        // further colliding user renames no one who was already suffixed.
        let mut reversed = users.clone();
        reversed.reverse();
        let mut again = assign(&reversed);
        again.reverse();
        assert_eq!(again, names);
        let mut more = users.clone();
        more.push(("o3".into(), "a+b@x.io".into()));
        assert_eq!(&assign(&more)[..4], &names[..]);
    }

    #[test]
    fn long_emails_are_cut_and_told_apart() {
        let a = format!("{}1@example.com", "x".repeat(70));
        let b = format!("{}2@example.com", "x".repeat(70));
        let names = assign(&pairs(&[("o", &a), ("o", &b)]));
        assert_ne!(names[0], names[1]);
        assert!(names.iter().all(|n| is_dns_label(n)), "{names:?}");
    }
}

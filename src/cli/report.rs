//! What `plan` and `drift` report, per user, and how it is printed (text or JSON).

use serde::Serialize;

use super::{EXIT_CHANGES, EXIT_CLEAN, EXIT_ERROR};
use crate::reconcile::plan::{Blocker, FieldChange};

/// One thing the operator would do to the Dashboard for a user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    /// `create`, `recreate`, `adopt`, `update`, `deactivate`, `setPassword`, `rotateAccessKey`.
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Field-level diff (create: every desired field against nothing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
}

impl Action {
    pub fn new(action: &'static str, user_id: Option<String>, changes: Vec<FieldChange>) -> Self {
        Self {
            action,
            user_id,
            changes,
        }
    }
}

/// The condition the operator would report instead of `Ready=True`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub reason: &'static str,
    pub message: String,
    pub stalled: bool,
}

impl From<Blocker> for Problem {
    fn from(b: Blocker) -> Self {
        Self {
            reason: b.reason,
            message: b.message,
            stalled: b.stalled,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserReport {
    pub namespace: String,
    pub name: String,
    /// `file#document` for `plan`; absent for `drift`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub email: String,
    /// `cluster/<name>`, `<namespace>/<name>` or the `--url`.
    pub connection: String,
    pub actions: Vec<Action>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Problem>,
    /// Limits of what could be checked (never an error by themselves).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A Dashboard user that no manifest mentions (`--prune-report`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct Unmanaged {
    pub connection: String,
    pub email: String,
    pub org_id: String,
    pub user_id: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub create: usize,
    pub recreate: usize,
    pub adopt: usize,
    pub update: usize,
    pub deactivate: usize,
    #[serde(rename = "setPassword")]
    pub set_password: usize,
    #[serde(rename = "rotateAccessKey")]
    pub rotate_access_key: usize,
    pub errors: usize,
    pub unchanged: usize,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub users: Vec<UserReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmanaged: Option<Vec<Unmanaged>>,
    pub summary: Summary,
}

impl Report {
    pub fn new(users: Vec<UserReport>, unmanaged: Option<Vec<Unmanaged>>) -> Self {
        let mut s = Summary::default();
        for u in &users {
            for a in &u.actions {
                match a.action {
                    "create" => s.create += 1,
                    "recreate" => s.recreate += 1,
                    "adopt" => s.adopt += 1,
                    "update" => s.update += 1,
                    "deactivate" => s.deactivate += 1,
                    "setPassword" => s.set_password += 1,
                    "rotateAccessKey" => s.rotate_access_key += 1,
                    _ => {}
                }
            }
            if u.error.is_some() {
                s.errors += 1;
            } else if u.actions.is_empty() {
                s.unchanged += 1;
            }
        }
        Self {
            users,
            unmanaged,
            summary: s,
        }
    }

    /// 1 when any user would fail, else 2 when anything would change, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.users.iter().any(|u| u.error.is_some()) {
            EXIT_ERROR
        } else if self.users.iter().any(|u| !u.actions.is_empty()) {
            EXIT_CHANGES
        } else {
            EXIT_CLEAN
        }
    }

    pub fn json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self).map(|s| s + "\n")
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        for u in &self.users {
            let mark = if u.error.is_some() {
                '!'
            } else if u.actions.is_empty() {
                '='
            } else {
                '~'
            };
            let from = u
                .source
                .as_deref()
                .map(|s| format!(" [{s}]"))
                .unwrap_or_default();
            out.push_str(&format!(
                "{mark} {}/{} ({}){from}",
                u.namespace, u.name, u.email
            ));
            if u.actions.is_empty() && u.error.is_none() {
                out.push_str(": no changes\n");
            } else {
                out.push('\n');
            }
            for a in &u.actions {
                let id = a
                    .user_id
                    .as_deref()
                    .map(|i| format!(" {i}"))
                    .unwrap_or_default();
                let what = match a.action {
                    "setPassword" => {
                        "set password (would set; the value is never shown)".to_string()
                    }
                    "rotateAccessKey" => format!("rotate access key{id}"),
                    "adopt" => format!("adopt existing user{id}"),
                    other => format!("{other}{id}"),
                };
                out.push_str(&format!("    {what}\n"));
                for c in &a.changes {
                    out.push_str(&format!(
                        "      {}: {} -> {}\n",
                        c.field,
                        shown(&c.dashboard),
                        shown(&c.desired)
                    ));
                }
            }
            if let Some(p) = &u.error {
                out.push_str(&format!("    error {}: {}\n", p.reason, p.message));
            }
            for n in &u.notes {
                out.push_str(&format!("    note: {n}\n"));
            }
        }
        if let Some(un) = &self.unmanaged {
            out.push_str(&format!(
                "\nunmanaged (in the Dashboard, in no manifest): {}\n",
                un.len()
            ));
            for u in un {
                let org = if u.org_id.is_empty() {
                    "none (super user)"
                } else {
                    &u.org_id
                };
                out.push_str(&format!(
                    "  {} {} (org {org}, id {})\n",
                    u.connection, u.email, u.user_id
                ));
            }
        }
        let s = &self.summary;
        out.push_str(&format!(
            "\n{} to create, {} to recreate, {} to adopt, {} to update, {} to deactivate, {} passwords to set, {} keys to rotate; {} errors; {} unchanged.\n",
            s.create, s.recreate, s.adopt, s.update, s.deactivate, s.set_password, s.rotate_access_key, s.errors, s.unchanged
        ));
        out
    }
}

fn shown(v: &serde_json::Value) -> String {
    if v.is_null() {
        "(absent)".into()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user(actions: Vec<Action>, error: Option<Problem>) -> UserReport {
        UserReport {
            namespace: "ns".into(),
            name: "a".into(),
            email: "a@b.c".into(),
            actions,
            error,
            ..Default::default()
        }
    }

    #[test]
    fn exit_codes_gate_a_pull_request() {
        let change = Action::new(
            "update",
            Some("id".into()),
            vec![FieldChange {
                field: "firstName".into(),
                dashboard: json!("A"),
                desired: json!("B"),
            }],
        );
        let problem = Problem {
            reason: "InvalidSpec",
            message: "bad".into(),
            stalled: true,
        };
        assert_eq!(Report::new(vec![user(vec![], None)], None).exit_code(), 0);
        let pending = Report::new(
            vec![user(vec![], None), user(vec![change.clone()], None)],
            None,
        );
        assert_eq!(pending.exit_code(), 2);
        assert!(pending.text().contains("firstName: \"A\" -> \"B\""));
        assert_eq!(pending.summary.update, 1);
        let failed = Report::new(
            vec![user(vec![change], None), user(vec![], Some(problem))],
            None,
        );
        assert_eq!(failed.exit_code(), 1);
        assert!(failed.text().contains("error InvalidSpec: bad"));
    }
}

//! The "simple JSONPath" subset CRD `additionalPrinterColumns` may use: dotted fields,
//! `['quoted.keys']`, indices, `[*]`, and `[?(@.field=="value")]` filters
//! (docs/kubernetes-api.md §2.12; e.g. `.status.conditions[?(@.type=="Ready")].status`).

use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    All,
    Filter {
        path: Vec<String>,
        op: FilterOp,
        value: Value,
    },
}

#[derive(Debug, PartialEq)]
enum FilterOp {
    Eq,
    Ne,
    Exists,
}

/// A parsed path; parse once, evaluate per row.
#[derive(Debug)]
pub struct JsonPath(Vec<Step>);

fn parse_literal(s: &str) -> Result<Value, String> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Ok(Value::String(inner.to_string()));
    }
    serde_json::from_str(s).map_err(|_| format!("unsupported filter literal {s}"))
}

fn parse_filter(body: &str) -> Result<Step, String> {
    let (lhs, op, rhs) = if let Some((l, r)) = body.split_once("==") {
        (l, FilterOp::Eq, Some(r))
    } else if let Some((l, r)) = body.split_once("!=") {
        (l, FilterOp::Ne, Some(r))
    } else {
        (body, FilterOp::Exists, None)
    };
    let lhs = lhs.trim();
    let rest = lhs
        .strip_prefix('@')
        .ok_or_else(|| format!("filter must start with @: {body}"))?;
    let path: Vec<String> = rest
        .split('.')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let value = match rhs {
        Some(r) => parse_literal(r)?,
        None => Value::Null,
    };
    Ok(Step::Filter { path, op, value })
}

impl JsonPath {
    pub fn parse(src: &str) -> Result<JsonPath, String> {
        let mut s = src.trim();
        if let Some(inner) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            s = inner.trim();
        }
        s = s.strip_prefix('$').unwrap_or(s);
        let b = s.as_bytes();
        let mut steps = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'.' => {
                    let start = i + 1;
                    let mut j = start;
                    while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                        j += 1;
                    }
                    if j > start {
                        steps.push(Step::Field(s[start..j].to_string()));
                    }
                    i = j;
                }
                b'[' => {
                    let end = s[i..]
                        .find(']')
                        .map(|e| i + e)
                        .ok_or_else(|| format!("unclosed [ in {src}"))?;
                    // A filter may itself contain ']' only inside quotes; find the real end.
                    let end = if s[i..].starts_with("[?(") {
                        s[i..]
                            .find(")]")
                            .map(|e| i + e + 1)
                            .ok_or_else(|| format!("unclosed filter in {src}"))?
                    } else {
                        end
                    };
                    let inner = &s[i + 1..end];
                    if inner == "*" {
                        steps.push(Step::All);
                    } else if let Some(f) =
                        inner.strip_prefix("?(").and_then(|r| r.strip_suffix(')'))
                    {
                        steps.push(parse_filter(f)?);
                    } else if let Ok(n) = inner.parse::<i64>() {
                        steps.push(Step::Index(n));
                    } else if let Value::String(k) = parse_literal(inner)? {
                        steps.push(Step::Field(k));
                    } else {
                        return Err(format!("unsupported subscript [{inner}] in {src}"));
                    }
                    i = end + 1;
                }
                _ => {
                    // A bare leading field (`metadata.name`) is accepted like `.metadata.name`.
                    let start = i;
                    let mut j = i;
                    while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                        j += 1;
                    }
                    steps.push(Step::Field(s[start..j].to_string()));
                    i = j;
                }
            }
        }
        Ok(JsonPath(steps))
    }

    /// Every value the path selects, in document order.
    pub fn find<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        let mut cur = vec![root];
        for step in &self.0 {
            let mut next = Vec::new();
            for v in cur {
                match step {
                    Step::Field(f) => next.extend(v.get(f.as_str())),
                    Step::Index(n) => {
                        if let Some(a) = v.as_array() {
                            let idx = if *n < 0 { a.len() as i64 + n } else { *n };
                            if idx >= 0 {
                                next.extend(a.get(idx as usize));
                            }
                        }
                    }
                    Step::All => match v {
                        Value::Array(a) => next.extend(a.iter()),
                        Value::Object(o) => next.extend(o.values()),
                        _ => {}
                    },
                    Step::Filter { path, op, value } => {
                        if let Some(a) = v.as_array() {
                            for item in a {
                                let got = path.iter().try_fold(item, |acc, k| acc.get(k.as_str()));
                                let keep = match op {
                                    FilterOp::Exists => got.is_some(),
                                    FilterOp::Eq => got == Some(value),
                                    FilterOp::Ne => got.is_some_and(|g| g != value),
                                };
                                if keep {
                                    next.push(item);
                                }
                            }
                        }
                    }
                }
            }
            cur = next;
        }
        cur
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_fields_indices_and_filters() {
        let o = json!({"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "x"}},
            "spec": {"items": [1, 2, 3]},
            "status": {"conditions": [
                {"type": "Reconciling", "status": "False"},
                {"type": "Ready", "status": "True"}]}});
        let f = |p: &str| {
            JsonPath::parse(p)
                .unwrap()
                .find(&o)
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(f(".metadata.name"), [json!("a")]);
        assert_eq!(f("{.metadata.name}"), [json!("a")]);
        assert_eq!(
            f(".status.conditions[?(@.type==\"Ready\")].status"),
            [json!("True")]
        );
        assert_eq!(
            f(".status.conditions[?(@.type=='Reconciling')].status"),
            [json!("False")]
        );
        assert_eq!(
            f(".status.conditions[?(@.type!=\"Ready\")].type"),
            [json!("Reconciling")]
        );
        assert_eq!(f(".spec.items[1]"), [json!(2)]);
        assert_eq!(f(".spec.items[-1]"), [json!(3)]);
        assert_eq!(f(".spec.items[*]").len(), 3);
        assert_eq!(
            f(".metadata.labels['app.kubernetes.io/name']"),
            [json!("x")]
        );
        assert!(f(".status.missing.x").is_empty());
        assert!(JsonPath::parse(".a[1").is_err());
    }
}

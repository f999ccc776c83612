//! Where the CR pipeline meets the schema module (structural checks, pruning, defaulting,
//! validation, CEL). Kept apart so the pure schema code stays free of server types.

use serde_json::{Value, json};

use crate::registry::ResourceType;
use crate::status::{ApiError, Cause};

/// Structural-schema checks at CRD registration.
pub fn validate_crd_schema(schema: &Value, field: &str, causes: &mut Vec<Cause>) {
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        causes.push(Cause::invalid(
            &format!("{field}.type"),
            schema.get("type").unwrap_or(&json!("")),
            "must be object at the root",
        ));
    }
}

/// Request-time processing of a custom resource.
pub fn process_cr(
    _t: &ResourceType,
    _obj: &mut Value,
    _old: Option<&Value>,
    _field_validation: &str,
    _warnings: &mut Vec<String>,
    _causes: &mut Vec<Cause>,
) -> Result<(), ApiError> {
    Ok(())
}

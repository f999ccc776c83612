//! Where the CR pipeline meets the pure `schema` module (docs/kubernetes-api.md §2.12):
//! structural checks at CRD registration; prune → fieldValidation → default → validate
//! (OpenAPI + CEL) for every CR write.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;
use serde_json::Value;

use crate::registry::ResourceType;
use crate::schema::{
    CrSchema, FieldError, FieldValidation, UnknownFields, check_unknown_fields, validate_crd,
};
use crate::status::{ApiError, Cause};

fn to_cause(e: &FieldError) -> Cause {
    Cause::new(e.type_.cause_reason(), &e.field, e.body())
}

/// CRD registration validation (names, versions, structural schema, defaults, CEL parse).
pub fn validate_crd_object(crd: &Value, causes: &mut Vec<Cause>) {
    if let Err(errs) = validate_crd(crd) {
        causes.extend(errs.iter().map(to_cause));
    }
}

/// Compiled schemas per type; recompiled when the CRD's schema changes. Compiling CEL on
/// every request would dominate write latency.
type SchemaCache = HashMap<String, (Arc<Value>, Arc<CrSchema>)>;
static SCHEMAS: LazyLock<Mutex<SchemaCache>> = LazyLock::new(Default::default);

fn compiled(t: &ResourceType, schema: &Arc<Value>) -> Arc<CrSchema> {
    let key = format!("{}/{}/{}", t.group, t.version, t.plural);
    let mut cache = SCHEMAS.lock();
    // The same Arc is the same schema; a deep comparison only after a CRD update.
    if let Some((s, c)) = cache.get(&key)
        && (Arc::ptr_eq(s, schema) || s == schema)
    {
        return c.clone();
    }
    let c = Arc::new(CrSchema::new(schema));
    cache.insert(key, (schema.clone(), c.clone()));
    c
}

/// Request-time processing of a custom resource: unknown fields are pruned (400 under
/// `fieldValidation=Strict`, a `Warning:` under Warn), defaults applied, then the schema
/// and CEL rules validated with ratcheting against `old`.
pub fn process_cr(
    t: &ResourceType,
    obj: &mut Value,
    old: Option<&Value>,
    field_validation: &str,
    warnings: &mut Vec<String>,
    causes: &mut Vec<Cause>,
) -> Result<(), ApiError> {
    let Some(schema) = &t.schema else {
        return Ok(());
    };
    let cs = compiled(t, schema);
    let mode = FieldValidation::parse(field_validation).unwrap_or(FieldValidation::Warn);
    let unknown = cs.prune(obj);
    match check_unknown_fields(mode, &unknown) {
        UnknownFields::Ok => {}
        UnknownFields::Warn(w) => warnings.extend(w),
        UnknownFields::Reject(msg) => return Err(ApiError::bad_request(msg)),
    }
    cs.default(obj);
    causes.extend(cs.validate(obj, old).iter().map(to_cause));
    Ok(())
}

/// Defaults on read (docs/kubernetes-api.md §2.12 step 4): stored objects written before a default
/// existed still come back defaulted.
pub fn default_on_read(t: &ResourceType, obj: &mut Value) {
    if let Some(schema) = &t.schema {
        compiled(t, schema).default(obj);
    }
}

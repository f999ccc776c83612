use super::*;
use serde_json::json;

#[test]
fn field_error_rendering_table() {
    let cases: Vec<(FieldError, &str, &str)> = vec![
        (
            FieldError::invalid(
                "spec.size",
                json!(-1),
                "spec.size in body should be greater than or equal to 0",
            ),
            "spec.size: Invalid value: -1: spec.size in body should be greater than or equal to 0",
            "FieldValueInvalid",
        ),
        (
            FieldError::not_supported("spec.mode", json!("x"), &["a".into(), "b".into()]),
            "spec.mode: Unsupported value: \"x\": supported values: \"a\", \"b\"",
            "FieldValueNotSupported",
        ),
        (
            FieldError::required("spec.name", ""),
            "spec.name: Required value",
            "FieldValueRequired",
        ),
        (
            FieldError::forbidden(
                "metadata.finalizers",
                "no new finalizers can be added if the object is being deleted",
            ),
            "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted",
            "FieldValueForbidden",
        ),
        (
            FieldError::too_long("spec.s", json!("abcdef"), 5),
            "spec.s: Too long: may not be more than 5 bytes",
            "FieldValueTooLong",
        ),
        (
            FieldError::too_many("spec.xs", 4, 3),
            "spec.xs: Too many: 4: must have at most 3 items",
            "FieldValueTooMany",
        ),
        (
            FieldError::duplicate("spec.xs[1]", json!({"name": "a"})),
            "spec.xs[1]: Duplicate value: map[string]interface {}{\"name\":\"a\"}",
            "FieldValueDuplicate",
        ),
        (
            FieldError::invalid("spec.m", json!({"b": 1, "a": [true, null]}), "x"),
            "spec.m: Invalid value: map[string]interface {}{\"a\":[]interface {}{true, interface {}(nil)}, \"b\":1}: x",
            "FieldValueInvalid",
        ),
        (
            FieldError::invalid("spec.f", json!(1.5), "x"),
            "spec.f: Invalid value: 1.5: x",
            "FieldValueInvalid",
        ),
        (
            FieldError::invalid("<nil>", Value::Null, "y"),
            "<nil>: Invalid value: \"null\": y",
            "FieldValueInvalid",
        ),
        (
            FieldError::invalid("spec.b", json!(true), "z"),
            "spec.b: Invalid value: true: z",
            "FieldValueInvalid",
        ),
    ];
    for (err, text, reason) in cases {
        assert_eq!(err.to_string(), text);
        assert_eq!(err.cause()["reason"], reason);
        assert_eq!(
            format!(
                "{}: {}",
                err.field,
                err.cause()["message"].as_str().unwrap()
            ),
            text
        );
    }
}

#[test]
fn invalid_status_matches_apiserver_body() {
    let errs = vec![FieldError::invalid(
        "spec.size",
        json!(-1),
        "spec.size in body should be greater than or equal to 0",
    )];
    let status = invalid_status("example.com", "Widget", "w1", &errs);
    assert_eq!(
        status,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Widget.example.com \"w1\" is invalid: spec.size: Invalid value: -1: spec.size in body should be greater than or equal to 0",
            "reason": "Invalid",
            "details": {"name": "w1", "group": "example.com", "kind": "Widget", "causes": [
                {"reason": "FieldValueInvalid", "message": "Invalid value: -1: spec.size in body should be greater than or equal to 0", "field": "spec.size"}
            ]},
            "code": 422
        })
    );
    let two = vec![
        FieldError::required("spec.a", ""),
        FieldError::required("spec.b", ""),
        FieldError::required("spec.a", ""),
    ];
    let status = invalid_status("", "Secret", "s", &two);
    assert_eq!(
        status["message"],
        "Secret \"s\" is invalid: [spec.a: Required value, spec.b: Required value]"
    );
    assert_eq!(status["details"]["causes"].as_array().unwrap().len(), 3);
    assert!(status["details"].get("group").is_none());
}

#[test]
fn field_validation_modes() {
    let unknown = vec!["spec.foo".to_string(), "spec.bar".to_string()];
    assert_eq!(
        check_unknown_fields(FieldValidation::Strict, &unknown),
        UnknownFields::Reject(
            "strict decoding error: unknown field \"spec.foo\", unknown field \"spec.bar\"".into()
        )
    );
    assert_eq!(
        check_unknown_fields(FieldValidation::Warn, &unknown[..1]),
        UnknownFields::Warn(vec!["unknown field \"spec.foo\"".into()])
    );
    assert_eq!(
        check_unknown_fields(FieldValidation::Ignore, &unknown),
        UnknownFields::Ok
    );
    assert_eq!(
        check_unknown_fields(FieldValidation::Strict, &[]),
        UnknownFields::Ok
    );
    assert_eq!(FieldValidation::parse(""), Some(FieldValidation::Warn));
    assert_eq!(
        FieldValidation::parse("Strict"),
        Some(FieldValidation::Strict)
    );
    assert_eq!(FieldValidation::parse("strict"), None);
    let body = bad_request_status("strict decoding error: unknown field \"spec.foo\"");
    assert_eq!(body["code"], 400);
    assert_eq!(body["reason"], "BadRequest");
}

#[test]
fn process_cr_runs_the_pipeline_in_order() {
    let schema = CrSchema::new(
        &json!({"type": "object", "properties": {"spec": {"type": "object",
        "properties": {"size": {"type": "integer", "minimum": 0, "default": 1}},
        "x-kubernetes-validations": [{"rule": "self.size < 10", "message": "too big"}]}}}),
    );
    let mut obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"foo": 1}});
    let warnings = process_cr(&schema, &mut obj, None, "Warn").unwrap();
    assert_eq!(warnings, vec!["unknown field \"spec.foo\"".to_string()]);
    assert_eq!(obj["spec"], json!({"size": 1}));

    let mut strict = json!({"spec": {"foo": 1}});
    assert_eq!(
        process_cr(&schema, &mut strict, None, "Strict"),
        Err(CrError::BadRequest(
            "strict decoding error: unknown field \"spec.foo\"".into()
        ))
    );
    let mut bad = json!({"spec": {"size": -1}});
    let Err(CrError::Invalid(errs)) = process_cr(&schema, &mut bad, None, "") else {
        panic!("expected 422")
    };
    assert_eq!(
        errs[0].to_string(),
        "spec.size: Invalid value: -1: spec.size in body should be greater than or equal to 0"
    );
    let mut big = json!({"spec": {"size": 20}});
    let Err(CrError::Invalid(errs)) = process_cr(&schema, &mut big, None, "Ignore") else {
        panic!("expected 422")
    };
    assert_eq!(
        errs[0].to_string(),
        "spec: Invalid value: \"object\": too big"
    );
    // ratcheting: an unchanged invalid value passes on update
    let old = json!({"spec": {"size": -1}});
    let mut same = json!({"spec": {"size": -1}});
    assert!(process_cr(&schema, &mut same, Some(&old), "").is_ok());
}

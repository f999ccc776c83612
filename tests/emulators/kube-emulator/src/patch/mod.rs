//! Patch algorithms of the apiserver's PATCH handler, I/O free.
//!
//! docs/kubernetes-api.md §1.5 (JSON patch quirks), docs/kubernetes-api.md §6 Must 9. The server
//! decodes the body, calls one of these on the stored object (as JSON), then runs its usual
//! update pipeline; the error type carries the HTTP code and the `Status` body the
//! apiserver would send.

mod json;
mod order;
mod strategic;
mod table;

pub use json::{MAX_JSON_PATCH_OPS, json_patch, merge_patch};
pub use strategic::{ListStrategy, PatchStrategy, strategic_merge_patch};
pub use table::strategy_for;

use serde_json::{Value, json};

/// A patch that could not be applied; each variant is one HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// 400: the patch body does not decode (`errors.NewBadRequest`).
    #[error("{0}")]
    BadRequest(String),
    /// 422: a JSON patch operation failed. The apiserver wraps the json-patch
    /// error in `NewGenericServerResponse(422, ..)`, so the text lands in a cause.
    #[error("{0}")]
    JsonPatchFailed(String),
    /// 422 from a strategic merge patch, wrapped like [`PatchError::JsonPatchFailed`]
    /// (`interpretStrategicMergePatchError`).
    #[error("{0}")]
    Invalid(String),
    /// 500 reason `Unknown`: an error the apiserver passes through unconverted
    /// (e.g. a strategic-merge list item without its merge key).
    #[error("{0}")]
    Internal(String),
    /// 413: more than [`MAX_JSON_PATCH_OPS`] operations.
    #[error("Request entity too large: {0}")]
    TooLarge(String),
}

impl PatchError {
    /// HTTP status code the apiserver answers with.
    pub fn code(&self) -> u16 {
        match self {
            PatchError::BadRequest(_) => 400,
            PatchError::JsonPatchFailed(_) | PatchError::Invalid(_) => 422,
            PatchError::TooLarge(_) => 413,
            PatchError::Internal(_) => 500,
        }
    }

    /// `Status.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            PatchError::BadRequest(_) => "BadRequest",
            PatchError::JsonPatchFailed(_) | PatchError::Invalid(_) => "Invalid",
            PatchError::TooLarge(_) => "RequestEntityTooLarge",
            PatchError::Internal(_) => "Unknown",
        }
    }

    /// `Status.message` exactly as the apiserver renders it.
    pub fn message(&self) -> String {
        match self {
            // NewGenericServerResponse replaces the message with its generic text
            // and keeps the json-patch error as an UnexpectedServerResponse cause.
            PatchError::JsonPatchFailed(_) | PatchError::Invalid(_) => {
                "the server rejected our request due to an error in our request".to_string()
            }
            other => other.to_string(),
        }
    }

    /// The complete `Status` body (docs/kubernetes-api.md §2.2).
    pub fn status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message(),
            "reason": self.reason(),
            "details": {},
            "code": self.code(),
        });
        match self {
            PatchError::JsonPatchFailed(detail) | PatchError::Invalid(detail) => {
                status["details"] = json!({
                    "causes": [{"reason": "UnexpectedServerResponse", "message": detail}]
                });
            }
            PatchError::BadRequest(_) | PatchError::TooLarge(_) | PatchError::Internal(_) => {
                // NewBadRequest / NewRequestEntityTooLargeError carry no details.
                if let Some(map) = status.as_object_mut() {
                    map.remove("details");
                }
            }
        }
        status
    }
}

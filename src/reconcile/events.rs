//! Kubernetes Events through the one shared Recorder. Notes are built from operation
//! names, emails and sanitised error chains only: never credentials.

use kube::{
    Resource,
    runtime::events::{Event, EventType},
};

use crate::context::Context;

pub struct Note {
    type_: EventType,
    reason: &'static str,
    action: &'static str,
    note: String,
}

impl Note {
    pub fn normal(reason: &'static str, action: &'static str, note: &str) -> Self {
        Self {
            type_: EventType::Normal,
            reason,
            action,
            note: note.into(),
        }
    }

    pub fn warning(reason: &'static str, action: &'static str, note: &str) -> Self {
        Self {
            type_: EventType::Warning,
            reason,
            action,
            note: note.into(),
        }
    }
}

/// Publishes an Event about `obj`. Failing to record an Event never fails a reconcile.
pub async fn publish<K: Resource<DynamicType = ()>>(ctx: &Context, obj: &K, n: Note) {
    // Event notes are limited to 1 KiB (docs/kubernetes-api.md §1.6).
    let mut note = n.note;
    if note.len() > 1000 {
        let mut cut = 1000;
        while !note.is_char_boundary(cut) {
            cut -= 1;
        }
        note.truncate(cut);
    }
    let ev = Event {
        type_: n.type_,
        reason: n.reason.into(),
        note: Some(note),
        action: n.action.into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&ev, &obj.object_ref(&())).await {
        tracing::warn!(error = %e, reason = n.reason, "could not publish event");
    }
}

//! List order after a strategic merge (apimachinery `normalizeElementOrder`).

use super::strategic::ListStrategy;
use serde_json::Value;

/// Go's `normalizeElementOrder`: items named in `patch_order` come in that
/// order, server-only items keep their live order, and the two sequences are
/// interleaved using the live list as the tie-breaker ("$setElementOrder >
/// order in the patch list > order in the live list").
pub(super) fn normalize_order(
    merged: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    list: &ListStrategy,
) -> Vec<Value> {
    let id = |v: &Value| -> Value {
        match list {
            ListStrategy::MergeKey(key) => v.get(key).cloned().unwrap_or(Value::Null),
            _ => v.clone(),
        }
    };
    let index_in = |order: &[Value], v: &Value| -> Option<usize> {
        let want = id(v);
        order.iter().position(|o| id(o) == want)
    };
    let (mut patch_items, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|v| index_in(patch_order, v).is_some());
    // Stable sorts; Go ranks items missing from the order list first (index -1).
    let rank = |order: &[Value], v: &Value| index_in(order, v).map_or(0, |i| i + 1);
    patch_items.sort_by_key(|v| rank(patch_order, v));
    server_only.sort_by_key(|v| rank(server_order, v));
    let mut out = Vec::with_capacity(patch_items.len() + server_only.len());
    let (mut left, mut right) = (
        server_only.into_iter().peekable(),
        patch_items.into_iter().peekable(),
    );
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => match (index_in(server_order, l), index_in(server_order, r)) {
                (Some(li), Some(ri)) => li < ri,
                _ => false,
            },
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

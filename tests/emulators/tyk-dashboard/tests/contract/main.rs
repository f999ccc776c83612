//! The emulator held to Tyk's own OpenAPI files (issue #25): `dashboard-admin-swagger.yml`
//! (Admin API) and `dashboard-swagger.yml` (Dashboard API), read from `../shared/reference/`
//! beside the repository (or `$TYK_OPENAPI_DIR`). A checkout without them skips this suite
//! only, saying which files are missing; with `CI=true` it fails instead.
//!
//! - examples: every covered operation's documented request example gets its 200 with the
//!   documented content type, schema and example body, and every documented error comes back
//!   with exactly its documented body;
//! - properties: requests generated from the request schemas (proptest), checked for status,
//!   content type, schema, error bodies, Go's type checking and `null` rendering.
//!
//! Where the emulator keeps Tyk's real behaviour over the files, `deviations` says so, with a
//! public source; the crate README lists every entry.

mod deviations;
mod examples;
mod harness;
mod properties;
mod spec;

/// Every accepted deviation is listed, by id, in the crate README.
#[test]
fn readme_lists_every_accepted_deviation() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let ids = deviations::MESSAGES
        .iter()
        .map(|m| m.id)
        .chain(deviations::NOTES.iter().map(|n| n.id));
    for id in ids {
        assert!(
            readme.contains(&format!("| {id} |")),
            "README.md has no row for deviation {id}"
        );
    }
}

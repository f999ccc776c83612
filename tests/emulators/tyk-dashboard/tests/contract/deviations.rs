//! Where the emulator answers other than Tyk's OpenAPI files say, and why. Every entry names
//! a public source; tests/emulators/tyk-dashboard/README.md lists every id (a test checks).

/// An error `Message` the spec does not document for that operation and status, which the
/// emulator produces on purpose. `*` in `message` matches any run of characters.
pub struct Message {
    pub id: &'static str,
    /// `"METHOD /path"` as in spec::OPS, or `"*"` for every /api operation.
    pub op: &'static str,
    pub status: u16,
    pub message: &'static str,
    pub source: &'static str,
}

pub const OPA_RULES: &str = "https://github.com/TykTechnologies/tyk-docs/blob/95922c952e677f1b455f06028c04b4b7bb9e10bf/snippets/opa-rules.mdx";

/// Accepted error messages (status documented, message not, or not for that status).
pub const MESSAGES: &[Message] = &[
    Message {
        id: "M1",
        op: "POST /admin/users",
        status: 403,
        message: "Request body malformed",
        source: "ADMIN-SW documents this answer for a body Go cannot decode on PUT /admin/users/{userId} and POST /admin/organisations (docs/tyk-dashboard-api.md §2.1, §10.5)",
    },
    Message {
        id: "M1",
        op: "POST /admin/organisations/import",
        status: 403,
        message: "Request body malformed",
        source: "as M1: ADMIN-SW createOrg",
    },
    Message {
        id: "M1",
        op: "PUT /admin/organisations/{orgID}",
        status: 403,
        message: "Request body malformed",
        source: "as M1: ADMIN-SW createOrg",
    },
    Message {
        id: "M2",
        op: "PUT /admin/users/{userId}",
        status: 500,
        message: "Could not update API session when update user",
        source: "https://github.com/TykTechnologies/tyk/issues/2223 (a PUT without the user's access_key); https://github.com/TykTechnologies/tyk-docs-hugo/pull/2469",
    },
    Message {
        id: "M3",
        op: "PUT /admin/users/{userId}",
        status: 403,
        message: "User email already exists for this Org",
        source: "ADMIN-SW createUser's 403 for the same (org, email) rule; Dashboard 5.1.0 release note on email collisions (docs/tyk-dashboard-api.md §3.4)",
    },
    Message {
        id: "M4",
        op: "POST /api/users",
        status: 403,
        message: "Request body malformed.",
        source: "DASH-SW documents this answer for a body Go cannot decode on POST /api/usergroups and POST /api/users/{userId}/actions/reset",
    },
    Message {
        id: "M5",
        op: "POST /api/users",
        status: 403,
        message: "To create a user specify at least one permission, or make them an admin.",
        source: "DASH-SW updateUser's 403 \"Empty user rights or invalid email format\"; the message itself is about creating (docs/tyk-dashboard-api.md §3.4)",
    },
    Message {
        id: "M6",
        op: "PUT /api/users/{userId}",
        status: 403,
        message: "User email already exists for this org.",
        source: "Dashboard 5.1.0 release note: a user can no longer take the email of another user of the org; message from DASH-SW addUser (docs/tyk-dashboard-api.md §3.4)",
    },
    Message {
        id: "M7",
        op: "POST /api/users/{userId}/actions/reset",
        status: 403,
        message: "You do not have permission to reset the password for other users.",
        source: OPA_RULES,
    },
    Message {
        id: "M7",
        op: "POST /api/users/{userId}/actions/reset",
        status: 403,
        message: "You do not have permission to reset the password for other users. As an admin user, this permission can be modified using OPA rules.",
        source: OPA_RULES,
    },
    Message {
        id: "M8",
        op: "POST /api/users/{userId}/actions/reset",
        status: 403,
        message: "Current password is *.",
        source: "Old Dashboard API docs: \"To change a current password, you need to know the existing password\" (tyk-docs@8984bbd tyk-dashboard-api/users.md); wording is the emulator's (docs/tyk-dashboard-api.md §13.4)",
    },
    Message {
        id: "M9",
        op: "POST /api/users/{userId}/actions/reset",
        status: 403,
        message: "Password must *",
        source: "DASH-SW setUserPassword: \"The password need to be 6 character long… You cannot also reuse a password.\"; wording is the emulator's (docs/tyk-dashboard-api.md §3.6, §7)",
    },
    Message {
        id: "M9",
        op: "PUT /admin/users/{userId}",
        status: 403,
        message: "Password must *",
        source: "as M9; the admin PUT sets passwords (docs/tyk-dashboard-api.md §2.3)",
    },
    Message {
        id: "M10",
        op: "PUT /api/usergroups/{groupId}",
        status: 403,
        message: "You need to specify at least one permission.",
        source: "DASH-SW updateUserGroup: \"When updating a user group you also need to specify at least one permission\"; wording is the emulator's",
    },
    Message {
        id: "M11",
        op: "*",
        status: 403,
        message: "User is not active",
        source: OPA_RULES,
    },
];

/// Whether `message` is accepted for `op`/`status`.
pub fn accepted(op: &str, status: u16, message: &str) -> Option<&'static Message> {
    MESSAGES.iter().find(|m| {
        (m.op == op || (m.op == "*" && op.contains(" /api/")))
            && m.status == status
            && glob(m.message, message)
    })
}

fn glob(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((pre, rest)) => {
            let Some(tail) = s.strip_prefix(pre) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

/// Other places where the emulator keeps Tyk's real behaviour over its files.
pub struct Note {
    pub id: &'static str,
    pub what: &'static str,
    pub source: &'static str,
}

pub const NOTES: &[Note] = &[
    Note {
        id: "N1",
        what: "ids are 24 hex digits; the examples' 48-hex ids are the hex of a 24-hex id's ASCII",
        source: "TYK-DEMO on Dashboard 5.13 and tyk-k8s-bootstrap feed Meta/Meta.id straight into /api/users/{id}; https://github.com/TykTechnologies/storage/blob/f7017f6c9a50fcf23a3b1339eaa685305b839e39/persistent/model/object_id.go (docs/tyk-dashboard-api.md §1.4)",
    },
    Note {
        id: "N2",
        what: "disallow_reset_passwords removes ResetPassword; ADMIN-SW's disallow example (a copy of allow's) still shows it",
        source: "https://github.com/TykTechnologies/tyk/issues/324 (ResetPassword is granted and withdrawn through these actions; docs/tyk-dashboard-api.md §2.4)",
    },
    Note {
        id: "N3",
        what: "user search is a substring match; DASH-SW's search examples answer itachi.w@tyk.io to the query itachi@tyk.io",
        source: "DASH-SW searchUser's own description (\"all users whose email contain the string\"); Dashboard 5.3.1 release note (docs/tyk-dashboard-api.md §3.9)",
    },
    Note {
        id: "N4",
        what: "a group created without user_permissions shows \"user_permissions\":null, which UserPermissionObject (not nullable) does not allow",
        source: "Go encoding/json renders a nil map as null (https://pkg.go.dev/encoding/json#Marshal); the files mark every other Go map nullable (e.g. OrganisationDocument.additional_permissions) but cannot beside a $ref",
    },
    Note {
        id: "N5",
        what: "an `id` in a body must be 24 hex, \"\" or null (the files say `type: string`); `created_at`, `last_login_date` and `password_updated` must be RFC 3339",
        source: "mgo's ObjectId.UnmarshalJSON behind storage's model.ObjectID (docs/tyk-dashboard-api.md §1.4); https://pkg.go.dev/time#Time.UnmarshalJSON",
    },
];

#[test]
fn glob_matches() {
    assert!(glob(
        "Password must *",
        "Password must be at least 6 characters long."
    ));
    assert!(glob(
        "Current password is *.",
        "Current password is required."
    ));
    assert!(!glob(
        "Current password is *.",
        "Current password is required"
    ));
    assert!(glob("a", "a") && !glob("a", "ab"));
}

#[test]
fn every_deviation_names_a_source() {
    for m in MESSAGES {
        assert!(!m.source.is_empty() && !m.message.is_empty(), "{}", m.id);
    }
    for n in NOTES {
        assert!(!n.source.is_empty() && !n.what.is_empty(), "{}", n.id);
    }
}

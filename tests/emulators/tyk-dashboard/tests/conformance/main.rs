//! Conformance tests of the emulator over real HTTP, one emulator per test on port 0.
//! One test binary (modules below) keeps link time low on CI's two cores.

mod admin_users;
mod answers;
mod api_user_actions;
mod api_users;
mod control;
mod faults;
mod orgs_groups;
mod passwords;
mod profiles;
mod support;

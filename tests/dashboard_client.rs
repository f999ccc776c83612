//! The typed Dashboard client (`src/dashboard/`): decoding of every documented answer shape,
//! behaviour over HTTP against the Tyk emulator and a scripted server, TLS, and redaction.

#[path = "dashboard_client/decoding.rs"]
mod decoding;
#[path = "dashboard_client/emulator.rs"]
mod emulator;
#[path = "dashboard_client/emulator_faults.rs"]
mod emulator_faults;
#[path = "dashboard_client/emulator_observer.rs"]
mod emulator_observer;
#[path = "dashboard_client/emulator_settings.rs"]
mod emulator_settings;
#[path = "dashboard_client/groups.rs"]
mod groups;
#[path = "dashboard_client/hostile.rs"]
mod hostile;
#[path = "dashboard_client/key_only.rs"]
mod key_only;
#[path = "dashboard_client/mock.rs"]
mod mock;
#[path = "dashboard_client/mock_cases.rs"]
mod mock_cases;
#[path = "dashboard_client/secrets.rs"]
mod secrets;
#[path = "dashboard_client/tls.rs"]
mod tls;

//! The server's integration tests, as one binary: a real zportal (its router, or the `server`
//! binary) in front of a real emulator on 127.0.0.1, with the helpers of `testkit`. Three suites
//! run as binaries of their own because each installs process-wide state: `logs` (a tracing
//! subscriber), `ops` (the metrics recorder) and `load` (its file-descriptor limit and long run).

mod abuse;
mod activities;
mod budget;
mod bulk;
mod cli;
mod coherence;
mod convert;
mod faults;
mod files;
mod hardening;
mod hostile;
mod live;
mod many_servers;
mod properties;
mod records;
mod restarts;
mod shell;
mod sign_in;
mod views;

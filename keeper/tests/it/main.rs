//! keeper's integration tests, as one binary: the refresh coordinator and the records client
//! against a real emulator on 127.0.0.1 (and PostgreSQL on the PostgreSQL run), the response
//! cache, a database of the tree before the split opening under this one, and properties over
//! generated input (the layering: testkit's `modules` test).

mod kept;
mod migrations;
mod properties;
mod records;
mod refresh;
mod support;
mod watch;

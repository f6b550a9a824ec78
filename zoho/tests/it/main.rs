//! zoho's integration tests, as one binary: the refresh coordinator and the records client against
//! a real emulator on 127.0.0.1 (and PostgreSQL on the PostgreSQL run), properties over
//! generated input, and the layering of the crate's modules.

mod kept;
mod layers;
mod properties;
mod records;
mod refresh;
mod support;

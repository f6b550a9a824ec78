//! zoho's integration tests, as one binary: properties over generated input. The records client against the emulator is shown by the crate's doc
//! test and, with stored connections, by keeper's tests.

mod properties;

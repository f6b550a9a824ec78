//! One tokio runtime for every test in a test binary. Leptos keeps process-wide state (its task
//! spawner among it); giving each test a runtime of its own lets a render wait on a runtime that
//! another test has already shut down.

#![allow(dead_code)]

use std::future::Future;
use std::sync::LazyLock;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
});

/// Runs `f` to completion on the shared runtime.
pub fn block_on<F: Future>(f: F) -> F::Output {
    RUNTIME.block_on(f)
}

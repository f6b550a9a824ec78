//! The shape of each crate, read from its sources: no two sibling modules import each other,
//! directly or through others, in any crate; and `zoho`'s and `keeper`'s top-level modules import
//! one way, each only from the layers below its own (the order their `lib.rs` lists).

use std::path::{Path, PathBuf};

use testkit::modules::Modules;

fn src(krate: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("src")
}

#[test]
fn no_crate_has_a_module_cycle() {
    let cycles: Vec<String> = ["app", "zoho", "keeper", "emulator", "server", "testkit"]
        .into_iter()
        .flat_map(|krate| {
            let found = Modules::read(&src(krate)).cycles();
            found.into_iter().map(move |c| format!("{krate} {c}"))
        })
        .collect();
    assert!(cycles.is_empty(), "module cycles: {cycles:#?}");
}

#[test]
fn zoho_imports_one_way() {
    let wrong = Modules::read(&src("zoho")).against_layers(&[
        &["clock", "dc", "ids", "secret", "random", "meter", "cache"],
        &["call"],
        &["http"],
        &["budget"],
        &["oauth"],
        &["tokens"],
        &["crm"],
        &["fuzzing"],
    ]);
    assert!(
        wrong.is_empty(),
        "zoho imports against its layers: {wrong:?}"
    );
}

#[test]
fn keeper_imports_one_way() {
    let wrong = Modules::read(&src("keeper")).against_layers(&[
        &["coherent", "response_cache"],
        &["bus"],
        &["vault"],
        &["refresh"],
        &["live"],
        &["crm_layer"],
        &["watch"],
        &["connect"],
        &["ledger"],
    ]);
    assert!(
        wrong.is_empty(),
        "keeper imports against its layers: {wrong:?}"
    );
}

#[test]
fn a_layering_test_sees_an_import_against_the_order() {
    // The same check, with zoho's layers upside down: it must object.
    let wrong = Modules::read(&src("zoho")).against_layers(&[
        &["crm"],
        &["tokens"],
        &["oauth"],
        &["budget"],
        &["http"],
        &["call"],
        &["clock", "dc", "ids", "secret", "random", "meter", "cache"],
        &["fuzzing"],
    ]);
    assert!(wrong.iter().any(|w| w == "crm uses tokens"), "{wrong:?}");
}

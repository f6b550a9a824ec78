//! The crate's modules import one way (lib.rs lists the order): a module that imports one above
//! it fails here, naming both. Read from the sources, so a new `use crate::…` is checked too.

use std::collections::BTreeMap;
use std::path::Path;

/// Bottom to top; a module may use those before it in this list.
const LAYERS: &[&[&str]] = &[
    &["clock", "dc", "ids", "secret", "random", "meter", "cache"],
    &["bus"],
    &["call"],
    &["http"],
    &["budget"],
    &["oauth"],
    &["vault"],
    &["refresh"],
    &["live"],
    &["crm"],
    &["watch"],
    &["connect"],
    &["ledger"],
    &["fuzzing"],
];

/// What the crate root re-exports, by the module it comes from.
fn home_of(name: &str) -> &str {
    match name {
        "DataCenter" | "DcError" | "DcTable" => "dc",
        "ClientId" | "ConnectionId" | "OrgId" | "UserId" => "ids",
        "Secret" => "secret",
        "random_token" | "random_hex" => "random",
        "SignInError" | "SignedIn" | "Zoho" => "connect",
        "SaveError" => "ledger",
        module => module,
    }
}

fn layer_of(module: &str) -> usize {
    let module = home_of(module);
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` is not in LAYERS: give it a place"))
}

/// Every `crate::<module>` a file names.
fn crate_uses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

fn sources(dir: &Path, top: Option<&str>, out: &mut BTreeMap<String, Vec<String>>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("name")
            .to_owned();
        let module = top.map_or(name.clone(), str::to_owned);
        if path.is_dir() {
            sources(&path, Some(&module), out);
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" {
            let text = std::fs::read_to_string(&path).expect("read");
            out.entry(module).or_default().extend(crate_uses(&text));
        }
    }
}

#[test]
fn no_module_imports_one_above_it() {
    let mut uses = BTreeMap::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        None,
        &mut uses,
    );
    assert!(uses.contains_key("crm") && uses.contains_key("vault"));
    let mut wrong = Vec::new();
    for (module, used) in &uses {
        for other in used {
            let other = home_of(other);
            if other != module && layer_of(other) >= layer_of(module) && layer_of(module) > 0 {
                wrong.push(format!("{module} uses {other}"));
            }
            if layer_of(module) == 0 && layer_of(other) > 0 {
                wrong.push(format!("{module} uses {other}"));
            }
        }
    }
    wrong.dedup();
    assert!(wrong.is_empty(), "imports against the layering: {wrong:?}");
}

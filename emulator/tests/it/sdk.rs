//! Zoho's own Python SDK (`zohocrmsdk8-0`, reference §4), unmodified, against the emulator over
//! real HTTP on 127.0.0.1: it signs in with a grant code, writes a task and a logged call tied
//! to a lead, and converts another lead with a deal; it changes the owner of one lead and of
//! several, and mass-updates their Lead Status; the emulator must take them as Zoho would. The
//! SDK is installed from PyPI into a virtual environment under the target directory, once per
//! version of `sdk/requirements.txt`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::crm::Crm;
use crate::support::*;

/// Runs `cmd`, failing the test with `what` unless it succeeds.
async fn run(cmd: &mut tokio::process::Command, what: &str) {
    let status = cmd.status().await.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(status.success(), "{what} failed ({status})");
}

/// One installation at a time: the tests run at once and share the virtual environment.
static INSTALLING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A Python with the SDK installed; installs it when `requirements.txt` changed since.
async fn python_with_sdk() -> PathBuf {
    let _installing = INSTALLING.lock().await;
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk");
    let requirements = sdk.join("requirements.txt");
    let venv = testkit::target_dir().join("python-sdk");
    let python = venv.join("bin/python");
    let stamp = venv.join("requirements.installed");
    let wanted = std::fs::read(&requirements).expect("sdk/requirements.txt");
    if std::fs::read(&stamp).ok().as_deref() == Some(&wanted[..]) && python.exists() {
        return python;
    }
    run(
        tokio::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv),
        "python3 -m venv (Debian: apt-get install python3-venv)",
    )
    .await;
    run(
        tokio::process::Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements),
        "pip install -r emulator/sdk/requirements.txt",
    )
    .await;
    std::fs::write(&stamp, &wanted).expect("stamp");
    python
}

/// The scopes zportal's SDK scripts sign in with.
const SDK_SCOPES: &str =
    "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ";

/// Runs `script` (in `sdk/`) with `python` against `emu`, as ada granted `scope` through a
/// self-client code, with the further environment `vars`; the JSON line it prints last.
async fn run_script(
    python: &Path,
    emu: &Emu,
    script: &str,
    scope: &str,
    vars: &[(&str, &str)],
) -> Value {
    let code = emu
        .post(
            "self-client",
            json!({
                "client_id": DEV_ID,
                "email": "ada@us.zportal.test",
                "scope": scope,
            }),
        )
        .await;
    let work = tempfile::tempdir().expect("temp dir");
    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sdk")
            .join(script),
    )
    .env("ZOHO_BASE", &emu.base)
    .env("ZOHO_CODE", s(&code["code"]))
    .env("ZOHO_CLIENT_ID", DEV_ID)
    .env("ZOHO_CLIENT_SECRET", DEV_SECRET)
    .env("ZOHO_REDIRECT", REDIRECT)
    .env("ZOHO_WORK_DIR", work.path())
    .current_dir(work.path());
    for (name, value) in vars {
        cmd.env(name, value);
    }
    let out = cmd.output().await.expect("run the SDK script");
    assert!(
        out.status.success(),
        "the SDK script {script} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(
        out.stdout
            .split(|b| *b == b'\n')
            .rfind(|l| l.starts_with(b"{"))
            .expect("the script prints what it made"),
    )
    .expect("JSON")
}

#[tokio::test]
async fn zohos_python_sdk_creates_a_task_and_a_call_on_a_lead_and_converts_another() {
    let python = python_with_sdk().await;
    let emu = Emu::start().await;
    let made = run_script(&python, &emu, "activities.py", SDK_SCOPES, &[]).await;

    // What the SDK wrote is what zportal reads: a task on the lead, and a logged (closed) call.
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let lead = s(&made["lead"]);
    let (status, open) = crm
        .get(&format!(
            "Leads/{lead}/Activities_Chronological_View?fields=Subject,Due_Date"
        ))
        .await;
    assert_eq!(status, 200, "{open}");
    assert_eq!(s(&open["data"][0]["id"]), s(&made["task"]));
    assert_eq!(s(&open["data"][0]["Subject"]), "SDK follow-up");
    let (_, closed) = crm
        .get(&format!(
            "Leads/{lead}/Activities_Chronological_View_History?fields=Subject"
        ))
        .await;
    assert_eq!(s(&closed["data"][0]["id"]), s(&made["call"]), "{closed}");
    let (_, call) = crm.get(&format!("Calls/{}", s(&made["call"]))).await;
    assert_eq!(call["data"][0]["Call_Duration_in_seconds"], json!(600));
    assert_eq!(s(&call["data"][0]["$se_module"]), "Leads");

    let (_, converted) = crm.get(&format!("Leads/{}", s(&made["converted"]))).await;
    assert_eq!(
        converted["data"][0]["$converted"],
        json!(true),
        "{converted}"
    );
    let contact = s(&converted["data"][0]["$converted_detail"]["Contacts"]["id"]);
    assert_eq!(
        contact,
        s(&made["contact"]),
        "the SDK read the Contact it made"
    );
    let (_, deal) = crm.get(&format!("Deals/{}", s(&made["deal"]))).await;
    assert_eq!(s(&deal["data"][0]["Deal_Name"]), "SDK Deal");
    assert_eq!(s(&deal["data"][0]["Contact_Name"]["id"]), contact);
}

#[tokio::test]
async fn zohos_python_sdk_changes_the_owner_of_one_lead_and_several_and_mass_updates_them() {
    let python = python_with_sdk().await;
    let emu = Emu::start().await;
    let users = emu.get("users").await;
    let ben = users["users"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["email"] == "ben@us.zportal.test")
        .map(|u| s(&u["user_id"]).to_owned())
        .expect("ben");
    let scope = format!("{SDK_SCOPES},ZohoCRM.change_owner.CREATE,ZohoCRM.mass_update.UPDATE");
    let made = run_script(
        &python,
        &emu,
        "owners.py",
        &scope,
        &[("ZOHO_NEW_OWNER", ben.as_str())],
    )
    .await;

    // What the SDK did is what zportal reads: Ben owns all three, each Contacted, by Ada's hand.
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let leads: Vec<String> = made["leads"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| s(l).to_owned())
        .collect();
    assert_eq!(leads.len(), 3, "{made}");
    assert_eq!(made["updated"], made["leads"], "each one updated, in order");
    for lead in &leads {
        let (status, body) = crm.get(&format!("Leads/{lead}")).await;
        assert_eq!(status, 200, "{body}");
        let l = &body["data"][0];
        assert_eq!(s(&l["Owner"]["id"]), ben, "{l}");
        assert_eq!(s(&l["Lead_Status"]), "Contacted", "{l}");
        assert_eq!(s(&l["Modified_By"]["name"]), "Ada Lovelace", "{l}");
    }
}

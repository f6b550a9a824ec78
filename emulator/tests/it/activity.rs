//! What hangs off a record in the emulated CRM (reference §8), over real HTTP on 127.0.0.1:
//! notes, attachments (bytes beside the snapshot, surviving a restart), related lists and their
//! records, and the timeline every change lands in.

use serde_json::{Value, json};

use crate::crm::{Crm, code};
use crate::support::*;

/// The id of the first record of `module` (the seed's "… 0001" / "… 001").
async fn first_id(crm: &Crm<'_>, module: &str, field: &str) -> String {
    let (status, body) = crm
        .get(&format!(
            "{module}?fields={field}&sort_by=id&sort_order=asc&per_page=1"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    s(&body["data"][0]["id"]).to_owned()
}

fn timeline_actions(body: &Value) -> Vec<(String, String)> {
    body["__timeline"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| {
            (
                s(&e["action"]).to_owned(),
                s(&e["record"]["module"]["api_name"]).to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn notes_are_listed_added_changed_and_deleted_and_each_change_shows_in_the_timeline() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let lead = first_id(&crm, "Leads", "Last_Name").await;

    let (status, seeded) = crm
        .get(&format!(
            "Leads/{lead}/Notes?fields=Note_Title,Note_Content,Created_By"
        ))
        .await;
    assert_eq!(status, 200, "{seeded}");
    assert_eq!(
        seeded["data"].as_array().map(Vec::len),
        Some(2),
        "the seed's two notes"
    );
    assert_eq!(s(&seeded["data"][0]["Created_By"]["name"]), "Ada Lovelace");
    let (status, body) = crm.get(&format!("Leads/{lead}/Notes")).await;
    assert_eq!((status, code(&body)), (400, "REQUIRED_PARAM_MISSING"));

    let (status, added) = crm
        .post(
            "Notes",
            json!({"data": [{"Note_Title": "Call", "Note_Content": "Rang them.", "Parent_Id": {"module": {"api_name": "Leads"}, "id": lead}}]}),
        )
        .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(code(&added["data"][0]), "SUCCESS");
    let note = s(&added["data"][0]["details"]["id"]).to_owned();

    let (status, refused) = crm
        .post(
            "Notes",
            json!({"data": [{"Parent_Id": {"module": {"api_name": "Leads"}, "id": lead}}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(code(&refused["data"][0]), "MANDATORY_NOT_FOUND");
    assert_eq!(
        s(&refused["data"][0]["details"]["api_name"]),
        "Note_Content"
    );
    let (_, orphan) = crm
        .post("Notes", json!({"data": [{"Note_Content": "x", "Parent_Id": {"module": {"api_name": "Leads"}, "id": "4150868000000000000"}}]}))
        .await;
    assert_eq!(s(&orphan["data"][0]["details"]["api_name"]), "Parent_Id");

    let (status, changed) = crm
        .put(
            &format!("Notes/{note}"),
            json!({"data": [{"Note_Content": "Rang them twice."}]}),
        )
        .await;
    assert_eq!((status, code(&changed["data"][0])), (200, "SUCCESS"));
    let (_, one) = crm.get(&format!("Notes/{note}")).await;
    assert_eq!(s(&one["data"][0]["Note_Content"]), "Rang them twice.");
    assert_eq!(
        s(&one["data"][0]["Note_Title"]),
        "Call",
        "a change of content keeps the title"
    );

    let (status, gone) = crm.delete(&format!("Notes/{note}")).await;
    assert_eq!(
        (status, s(&gone["data"][0]["message"])),
        (200, "record deleted")
    );
    assert_eq!(crm.get(&format!("Notes/{note}")).await.0, 400);

    // A change of a field is the record's too, with the field's label, old and new value.
    let (status, _) = crm
        .put(
            &format!("Leads/{lead}"),
            json!({"data": [{"Company": "Renamed Ltd"}]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, history) = crm
        .get(&format!(
            "Leads/{lead}/__timeline?include_inner_details=field_history.field_label"
        ))
        .await;
    assert_eq!(status, 200, "{history}");
    let actions = timeline_actions(&history);
    let expected: Vec<(String, String)> = [
        ("updated", "Leads"),
        ("deleted", "Notes"),
        ("updated", "Notes"),
        ("added", "Notes"),
        ("added", "Leads"),
    ]
    .iter()
    .map(|(a, m)| ((*a).to_owned(), (*m).to_owned()))
    .collect();
    assert_eq!(actions, expected, "newest first, the creation last");
    let change = &history["__timeline"][0]["field_history"][0];
    assert_eq!(s(&change["api_name"]), "Company");
    assert_eq!(s(&change["field_label"]), "Company");
    assert_eq!(s(&change["_value"]["old"]), "Company 0001");
    assert_eq!(s(&change["_value"]["new"]), "Renamed Ltd");
    assert_eq!(
        s(&history["__timeline"][0]["done_by"]["name"]),
        "Ada Lovelace"
    );
    let (_, bare) = crm.get(&format!("Leads/{lead}/__timeline")).await;
    assert!(
        bare["__timeline"][0]["field_history"][0]
            .get("field_label")
            .is_none()
    );
    let (_, paged) = crm
        .get(&format!("Leads/{lead}/__timeline?per_page=2"))
        .await;
    assert_eq!(paged["info"]["more_records"], json!(true));
    let token = s(&paged["info"]["next_page_token"]).to_owned();
    let (_, next) = crm
        .get(&format!(
            "Leads/{lead}/__timeline?per_page=2&page_token={token}"
        ))
        .await;
    assert_eq!(
        timeline_actions(&next)[0],
        ("updated".to_owned(), "Notes".to_owned())
    );
}

/// Uploads `bytes` as `name` to `path` (a record's `Attachments`).
async fn upload(crm: &Crm<'_>, path: &str, name: &str, bytes: Vec<u8>) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str("text/html")
        .expect("mime");
    let res = crm
        .emu
        .http
        .post(format!("{}/crm/v8/{path}", crm.emu.api(crm.dc)))
        .header("Authorization", format!("Zoho-oauthtoken {}", crm.token))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn attachments_upload_download_and_go_and_their_bytes_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("emulator.json");
    let emu = Emu::start_with(Some(file.clone())).await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let lead = first_id(&crm, "Leads", "Last_Name").await;
    let list_path = format!("Leads/{lead}/Attachments?fields=File_Name,Size,Created_By");

    let (status, seeded) = crm.get(&list_path).await;
    assert_eq!(status, 200, "{seeded}");
    assert_eq!(s(&seeded["data"][0]["File_Name"]), "welcome-lead-0001.txt");

    let (status, up) = upload(
        &crm,
        &format!("Leads/{lead}/Attachments"),
        "pläne <1>.html",
        b"<script>alert(1)</script>".to_vec(),
    )
    .await;
    assert_eq!((status, code(&up["data"][0])), (200, "SUCCESS"), "{up}");
    let id = s(&up["data"][0]["details"]["id"]).to_owned();
    let (_, listed) = crm.get(&list_path).await;
    assert_eq!(s(&listed["data"][0]["File_Name"]), "pläne <1>.html");
    assert_eq!(s(&listed["data"][0]["Size"]), "25");

    let res = emu
        .http
        .get(format!(
            "{}/crm/v8/Leads/{lead}/Attachments/{id}",
            emu.api("us")
        ))
        .header("Authorization", format!("Zoho-oauthtoken {}", crm.token))
        .send()
        .await
        .expect("download");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()["content-disposition"].to_str().ok(),
        Some("attachment; filename*=UTF-8''pl%C3%A4ne%20%3C1%3E.html")
    );
    assert_eq!(
        res.bytes().await.expect("bytes").as_ref(),
        b"<script>alert(1)</script>"
    );

    let (status, big) = upload(
        &crm,
        &format!("Leads/{lead}/Attachments"),
        "big.bin",
        vec![0; 20 * 1024 * 1024 + 1],
    )
    .await;
    assert_eq!((status, code(&big)), (400, "INVALID_DATA"), "over 20 MB");
    let (status, none) = emu
        .http
        .post(format!("{}/crm/v8/Leads/{lead}/Attachments", emu.api("us")))
        .header("Authorization", format!("Zoho-oauthtoken {}", crm.token))
        .multipart(reqwest::multipart::Form::new().text("other", "x"))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("post");
    assert_eq!((status, none), (400, ()));

    let token = crm.token.clone();
    emu.running.stop().await;
    let again = Emu::start_with(Some(file)).await;
    let res = again
        .http
        .get(format!(
            "{}/crm/v8/Leads/{lead}/Attachments/{id}",
            again.api("us")
        ))
        .header("Authorization", format!("Zoho-oauthtoken {token}"))
        .send()
        .await
        .expect("download after restart");
    assert_eq!(
        res.bytes().await.expect("bytes").as_ref(),
        b"<script>alert(1)</script>"
    );
    let crm = Crm {
        emu: &again,
        dc: "us",
        token,
    };
    let (status, removed) = crm.delete(&format!("Leads/{lead}/Attachments/{id}")).await;
    assert_eq!((status, code(&removed["data"][0])), (200, "SUCCESS"));
    let (_, history) = crm.get(&format!("Leads/{lead}/__timeline")).await;
    let actions = timeline_actions(&history);
    assert_eq!(actions[0], ("deleted".to_owned(), "Attachments".to_owned()));
    assert_eq!(actions[1], ("added".to_owned(), "Attachments".to_owned()));
    assert_eq!(
        crm.get(&format!("Leads/{lead}/Attachments/{id}")).await.0,
        400
    );
}

#[tokio::test]
async fn related_lists_name_the_path_of_their_records_and_serve_them() {
    let emu = Emu::start().await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let (status, meta) = crm.get("settings/related_lists?module=Accounts").await;
    assert_eq!(status, 200, "{meta}");
    let lists: Vec<(String, String)> = meta["related_lists"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|l| (s(&l["display_label"]).to_owned(), s(&l["href"]).to_owned()))
        .collect();
    assert!(
        lists.contains(&("Contacts".into(), "Accounts/{ENTITYID}/Contacts".into())),
        "{lists:?}"
    );
    assert!(lists.contains(&("Deals".into(), "Accounts/{ENTITYID}/Deals".into())));
    assert!(lists.contains(&("Notes".into(), "Accounts/{ENTITYID}/Notes".into())));

    let account = first_id(&crm, "Accounts", "Account_Name").await;
    for child in ["Contacts", "Deals"] {
        let (status, rows) = crm
            .get(&format!("Accounts/{account}/{child}?fields=Account_Name"))
            .await;
        assert_eq!(status, 200, "{child}: {rows}");
        let rows = rows["data"].as_array().cloned().unwrap_or_default();
        assert!(!rows.is_empty(), "Account 001 has {child}");
        assert!(rows.iter().all(|r| s(&r["Account_Name"]["id"]) == account));
    }
    let (status, bad) = crm
        .get(&format!("Accounts/{account}/Bogus?fields=Account_Name"))
        .await;
    assert_eq!((status, code(&bad)), (400, "INVALID_DATA"));
    let (status, _) = crm.get(&format!("Accounts/{account}/Contacts")).await;
    assert_eq!(status, 400, "fields are required");

    // Without the related-lists scope, the metadata is refused as Zoho refuses it.
    let narrow = emu
        .tokens_with_scope("ben@us.zportal.test", "ZohoCRM.modules.ALL")
        .await;
    let (status, refused) = emu
        .api_get(
            "us",
            "settings/related_lists?module=Accounts",
            s(&narrow["access_token"]),
        )
        .await;
    assert_eq!((status, code(&refused)), (401, "OAUTH_SCOPE_MISMATCH"));
}

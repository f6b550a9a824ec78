//! Attachments through zportal's own routes, on 127.0.0.1 against the emulator: a file goes up
//! as multipart and comes back only as a download (never rendered on zportal's origin); a
//! cross-site upload, one without a session and one over 20 MB are refused before Zoho hears of
//! them.

use serde_json::{Value, json};
use testkit::server::*;

/// The id of Lead 0001, the oldest Lead.
async fn first_lead(browser: &Browser, stack: &Stack) -> String {
    let res = browser
        .get(&format!(
            "{}/api/records/list?args[module]=Leads&args[per_page]=1&args[ascending]=true",
            stack.base
        ))
        .await;
    let page: Value = res.json().await.expect("json");
    page["rows"][0]["id"].as_str().expect("an id").to_owned()
}

async fn upload(
    browser: &Browser,
    stack: &Stack,
    lead: &str,
    site: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str("text/html")
        .expect("mime");
    let res = browser
        .http
        .post(format!("{}/files/Leads/{lead}", stack.base))
        .header("sec-fetch-site", site)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn uploads_seen(stack: &Stack) -> u64 {
    stack.control_get("stats").await["by_module"]["Attachments"]["POST"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn a_file_goes_to_zoho_and_comes_back_only_as_a_download() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        let lead = first_lead(&browser, &stack).await;
        let html = b"<script>alert(document.cookie)</script>".to_vec();

        let (status, body) = upload(
            &browser,
            &stack,
            &lead,
            "same-origin",
            "../../page.html",
            html.clone(),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_str().expect("the attachment's id").to_owned();

        let res = browser
            .get(&format!(
                "{}/api/records/attachments?module=Leads&id={lead}",
                stack.base
            ))
            .await;
        let list: Value = res.json().await.expect("json");
        let mine = list
            .as_array()
            .expect("a list")
            .iter()
            .find(|a| a["id"] == json!(id))
            .cloned()
            .expect("the upload is listed");
        assert_eq!(
            mine["name"],
            json!("page.html"),
            "the path in the name is dropped"
        );
        let href = mine["href"].as_str().expect("href").to_owned();
        assert_eq!(href, format!("/files/Leads/{lead}/{id}"));

        let res = browser.get(&format!("{}{href}", stack.base)).await;
        assert_eq!(res.status(), 200);
        let h = res.headers().clone();
        assert_eq!(h["content-type"], "application/octet-stream");
        assert_eq!(h["content-security-policy"], "sandbox");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let disposition = h["content-disposition"].to_str().expect("ascii");
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(
            disposition.contains("filename*=UTF-8''page.html"),
            "{disposition}"
        );
        assert_eq!(res.bytes().await.expect("bytes").as_ref(), html.as_slice());
        // Another user's session cannot fetch it through ada's path: eva is in another org.
        let eva = Browser::new();
        eva.sign_in(&stack, "eva@eu.zportal.test").await;
        assert_ne!(
            eva.get(&format!("{}{href}", stack.base)).await.status(),
            200
        );

        let res = browser
            .http
            .post(format!("{}/api/records/attachments/remove", stack.base))
            .header("sec-fetch-site", "same-origin")
            .json(&json!({ "module": "Leads", "id": lead, "attachment_id": id }))
            .send()
            .await
            .expect("remove");
        assert_eq!(res.json::<Value>().await.expect("json"), json!("Done"));
        assert_eq!(
            browser.get(&format!("{}{href}", stack.base)).await.status(),
            404
        );
        add_to_summary(
            "hardening",
            "an uploaded file downloads as an attachment, sandboxed, never rendered",
        );
    });
}

#[test]
fn uploads_cross_site_without_a_session_or_over_20_mb_are_refused_before_zoho() {
    testkit::block_on(async {
        let stack = stack(&[]).await;
        let browser = Browser::new();
        browser.sign_in(&stack, "ada@us.zportal.test").await;
        let lead = first_lead(&browser, &stack).await;
        let before = uploads_seen(&stack).await;

        let (status, _) = upload(
            &browser,
            &stack,
            &lead,
            "cross-site",
            "a.txt",
            b"x".to_vec(),
        )
        .await;
        assert_eq!(status, 403, "the CSRF guard covers uploads");
        let stranger = Browser::new();
        let (status, body) = upload(
            &stranger,
            &stack,
            &lead,
            "same-origin",
            "a.txt",
            b"x".to_vec(),
        )
        .await;
        assert_eq!(status, 401, "{body}");
        let (status, body) = upload(
            &browser,
            &stack,
            &lead,
            "same-origin",
            "big.bin",
            vec![7; 20 * 1024 * 1024 + 1],
        )
        .await;
        assert_eq!(status, 413, "{body}");
        assert!(
            body["error"].as_str().is_some_and(|e| e.contains("20 MB")),
            "{body}"
        );
        let (status, body) = upload(
            &browser,
            &stack,
            &lead,
            "same-origin",
            "empty.txt",
            Vec::new(),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            uploads_seen(&stack).await,
            before,
            "Zoho heard of none of them"
        );

        let (status, _) = upload(
            &browser,
            &stack,
            &lead,
            "same-origin",
            "fine.txt",
            b"ok".to_vec(),
        )
        .await;
        assert_eq!(status, 201);
        assert_eq!(uploads_seen(&stack).await, before + 1);
        add_to_summary(
            "hardening",
            "uploads: CSRF-guarded, session-bound, capped at 20 MB before Zoho",
        );
    });
}

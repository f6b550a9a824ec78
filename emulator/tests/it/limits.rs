//! Zoho's API limits as the emulator meters them: calls in flight per user and client, and each
//! org's rolling 24-hour credits — 429 `TOO_MANY_REQUESTS` beyond either, counted in `stats`.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::crm::{Crm, code};
use crate::support::*;

fn message(v: &Value) -> &str {
    s(&v["message"])
}

#[tokio::test]
async fn calls_past_the_concurrency_cap_are_refused_and_the_rest_answered() {
    let emu = Emu::start().await;
    emu.post(
        "config",
        json!({"api_latency_ms": 300, "limits": {"api_concurrency": 3}}),
    )
    .await;
    let crm = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let answers = join_all((0..8).map(|_| crm.get("Leads?fields=Last_Name&per_page=5"))).await;
    let ok = answers.iter().filter(|(status, _)| *status == 200).count();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 429)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(ok + refused.len(), 8, "{answers:?}");
    assert_eq!(ok, 3, "exactly the cap's worth run at once");
    for body in &refused {
        assert_eq!(code(body), "TOO_MANY_REQUESTS");
        assert!(message(body).contains("concurrency"), "{body}");
    }
    let stats = emu.get("stats").await;
    assert_eq!(stats["total"]["max_in_flight"], 3, "{stats}");
    assert_eq!(
        stats["by_user"]["ada@us.zportal.test"]["too_many_requests"],
        5
    );

    // Another user of the same org has a cap of their own.
    let ben = Crm::signed_in(&emu, "ben@us.zportal.test", "us").await;
    let (a, b) = tokio::join!(crm.get("org"), ben.get("org"));
    assert_eq!((a.0, b.0), (200, 200));
    // Once answered, the slots are free again.
    let again = join_all((0..3).map(|_| crm.get("org"))).await;
    assert!(again.iter().all(|(status, _)| *status == 200), "{again:?}");
}

#[tokio::test]
async fn an_orgs_credits_run_out_for_every_user_and_come_back_a_day_later() {
    let emu = Emu::start().await;
    let config = emu.get("config").await;
    assert_eq!(config["limits"]["api_concurrency"], true, "{config}");
    assert_eq!(config["limits"]["api_credits"], true);

    let set = emu
        .post("credits", json!({"org_zgid": "70001", "remaining": 2}))
        .await;
    assert_eq!(set["remaining"], 2, "{set}");
    let reset_at = set["resets_at"].as_i64().expect("resets_at");
    let ada = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    let ben = Crm::signed_in(&emu, "ben@us.zportal.test", "us").await;
    assert_eq!(ada.get("org").await.0, 200);
    assert_eq!(ben.get("Leads?fields=Last_Name&per_page=1").await.0, 200);
    let (status, body) = ada.get("org").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(code(&body), "TOO_MANY_REQUESTS");
    assert!(message(&body).contains("credit"), "{body}");
    assert_eq!(ben.get("org").await.0, 429, "the budget is the org's");
    // Another org is untouched.
    let eva = Crm::signed_in(&emu, "eva@eu.zportal.test", "eu").await;
    assert_eq!(eva.get("org").await.0, 200);

    let now = emu
        .post("clock/advance", json!({"seconds": 86_400 + 60}))
        .await["now"]
        .as_i64()
        .expect("now");
    assert!(now >= reset_at);
    let ada = Crm::signed_in(&emu, "ada@us.zportal.test", "us").await;
    assert_eq!(ada.get("org").await.0, 200, "the window rolled on");
    let stats = emu.get("stats").await;
    assert_eq!(
        stats["by_user"]["ben@us.zportal.test"]["too_many_requests"],
        1
    );
}

#[tokio::test]
async fn writes_cost_a_credit_per_ten_records_and_credits_can_be_switched_off() {
    let emu = Emu::start().await;
    emu.post("credits", json!({"org_zgid": "70002", "remaining": 3}))
        .await;
    let eva = Crm::signed_in(&emu, "eva@eu.zportal.test", "eu").await;
    let records: Vec<Value> = (0..21)
        .map(|i| json!({"Last_Name": format!("Bulk {i}")}))
        .collect();
    let (status, body) = eva.post("Leads", json!({"data": records})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(eva.get("org").await.0, 429, "21 records cost 3 credits");

    emu.post("config", json!({"limits": {"api_credits": false}}))
        .await;
    assert_eq!(eva.get("org").await.0, 200);
    let (status, refused) = emu
        .control_answer("credits", json!({"org_zgid": "70002", "remaining": 1}))
        .await;
    assert_eq!(status, 400);
    assert!(s(&refused["error"]).contains("off"), "{refused}");
    let (status, bad) = emu
        .control_answer("config", json!({"limits": {"api_concurrency": 0}}))
        .await;
    assert_eq!(status, 400, "{bad}");
}

//! Silent refresh against the real emulator on 127.0.0.1: one refresh per need however many calls
//! arrive, at expiry and after a 401, across two coordinators sharing one SQLite file; "Access
//! Denied" backs off and leaves the connection good; a revoked refresh token means "reconnect".

use std::time::Duration;

use crate::support::*;
use keeper::refresh::RefreshError;
use keeper::vault::ConnectionStatus;
use serde_json::json;
use zoho::ConnectionId;
use zoho::crm::{CrmClient, CrmError};

async fn fifty_calls(
    crm: &CrmClient,
    id: &ConnectionId,
) -> Vec<Result<std::sync::Arc<zoho::crm::Org>, CrmError>> {
    futures::future::join_all((0..50).map(|_| crm.org(id))).await
}

#[tokio::test]
async fn fifty_calls_at_expiry_cause_exactly_one_refresh() {
    let w = World::start().await;
    w.control("config", json!({"access_token_ttl": 3})).await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    assert_eq!(
        crm.org(&id).await.expect("works before expiry").name,
        "Acme Corp"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let results = fifty_calls(&crm, &id).await;
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(w.refreshes().await, 1);
    let stats = w.stats().await;
    let per_token: Vec<u64> = stats["by_refresh_token"]
        .as_object()
        .expect("map")
        .values()
        .map(|c| c["refreshes"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(per_token, vec![1]);
    let c = vault.get(&id).await.expect("read").expect("exists");
    assert_eq!(c.generation, 2);
    assert!(c.last_refresh_at.is_some());
}

#[tokio::test]
async fn fifty_calls_that_meet_a_401_cause_exactly_one_refresh() {
    let w = World::start().await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    crm.org(&id).await.expect("works");
    // Zoho's clock moves on; ours does not: the stored token still looks valid here.
    w.control("clock/advance", json!({"seconds": 3700})).await;
    let before = w.stats().await["total"]["unauthorized"]
        .as_u64()
        .unwrap_or(0);
    let results = fifty_calls(&crm, &id).await;
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(w.refreshes().await, 1);
    assert!(
        w.stats().await["total"]["unauthorized"]
            .as_u64()
            .unwrap_or(0)
            > before,
        "the 401s happened"
    );
}

fn unauthorized(stats: &serde_json::Value) -> u64 {
    stats["total"]["unauthorized"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn a_token_zoho_refused_is_not_sent_again_while_its_refresh_is_pending() {
    let w = World::start().await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    crm.org(&id).await.expect("works");
    w.control("tokens/expire", json!({"email": "ada@us.zportal.test"}))
        .await;
    // The first refresh fails: the refused token stays the stored one for a while.
    w.control(
        "faults",
        json!({"kind": "http_500", "endpoint": "refresh", "count": 1}),
    )
    .await;
    let before = unauthorized(&w.stats().await);
    let _first = crm.org(&id).await;
    let second = crm.org(&id).await.expect("the next refresh works");
    assert_eq!(second.name, "Acme Corp");
    assert_eq!(
        unauthorized(&w.stats().await) - before,
        1,
        "only the first call sent the expired token"
    );
    assert_eq!(w.refreshes().await, 1);
}

#[tokio::test]
async fn two_coordinators_sharing_one_database_refresh_once() {
    let w = World::start().await;
    let (vault_a, crm_a, oauth) = w.process().await;
    let (_vault_b, crm_b, _) = w.process().await;
    let id = w.connect_ada(&vault_a, &oauth).await;
    w.control("clock/advance", json!({"seconds": 3700})).await;
    w.control("tokens/expire", json!({"email": "ada@us.zportal.test"}))
        .await;
    let (a, b) = tokio::join!(fifty_calls(&crm_a, &id), fifty_calls(&crm_b, &id));
    assert!(a.iter().chain(b.iter()).all(Result::is_ok));
    assert_eq!(w.refreshes().await, 1);
}

#[tokio::test]
async fn access_denied_backs_off_keeps_the_connection_and_is_retried_later() {
    let w = World::start().await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    w.control("tokens/expire", json!({"email": "ada@us.zportal.test"}))
        .await;
    w.control(
        "faults",
        json!({"kind": "access_denied", "endpoint": "refresh", "count": 1}),
    )
    .await;
    match crm.org(&id).await {
        Err(CrmError::Token(RefreshError::Throttled { retry_at })) => assert!(retry_at > now() - 1),
        other => panic!("expected Throttled, got {other:?}"),
    }
    // Backing off: no second refresh goes to Zoho at once.
    assert!(matches!(
        crm.org(&id).await,
        Err(CrmError::Token(RefreshError::Throttled { .. }))
    ));
    assert_eq!(
        w.stats().await["total"]["refreshes_denied"],
        json!(0),
        "the fault, not the limit, said no"
    );
    let c = vault.get(&id).await.expect("read").expect("exists");
    assert_eq!(
        c.status,
        ConnectionStatus::Active,
        "throttling is not revocation"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(crm.org(&id).await.expect("retried later").name, "Acme Corp");
    assert_eq!(w.refreshes().await, 1);
}

#[tokio::test]
async fn a_revoked_refresh_token_means_reconnect() {
    let w = World::start().await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    w.control("tokens/revoke", json!({"email": "ada@us.zportal.test"}))
        .await;
    assert!(matches!(
        crm.org(&id).await,
        Err(CrmError::Token(RefreshError::NeedsReconnect))
    ));
    let c = vault.get(&id).await.expect("read").expect("exists");
    assert_eq!(c.status, ConnectionStatus::NeedsReconnect);
    // And it stays so without asking Zoho again.
    let before = w.stats().await["total"].clone();
    assert!(matches!(
        crm.org(&id).await,
        Err(CrmError::Token(RefreshError::NeedsReconnect))
    ));
    assert_eq!(w.stats().await["total"], before);
}

#[tokio::test]
async fn zportal_never_spends_more_than_zohos_refresh_budget() {
    let w = World::start().await;
    w.control("config", json!({"limits": {"refresh_window": false}}))
        .await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    let mut throttled = 0;
    for _ in 0..12 {
        w.control("tokens/expire", json!({"email": "ada@us.zportal.test"}))
            .await;
        w.control("clock/advance", json!({"seconds": 1})).await;
        match crm.org(&id).await {
            Ok(_) => {}
            Err(CrmError::Token(RefreshError::Throttled { .. })) => throttled += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(
        w.refreshes().await,
        10,
        "the emulator's limit was off: zportal kept its own"
    );
    assert_eq!(throttled, 2);
}

#[tokio::test]
async fn a_refresh_refused_after_a_new_sign_in_leaves_the_new_sign_in_standing() {
    let w = World::start().await;
    let (vault, crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    crm.org(&id).await.expect("works");
    // Zoho drops ada's tokens, and the refresh that finds out takes its time...
    w.control("tokens/revoke", json!({"email": "ada@us.zportal.test"}))
        .await;
    w.control(
        "faults",
        json!({"kind": "delay", "endpoint": "refresh", "count": 1, "delay_ms": 1500}),
    )
    .await;
    let call = tokio::spawn({
        let (crm, id) = (crm.clone(), id.clone());
        async move { crm.org(&id).await }
    });
    // ...while ada signs in again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.connect_ada(&vault, &oauth).await, id);
    let answer = call.await.expect("the call's task");
    assert_eq!(answer.expect("the new sign-in's token").name, "Acme Corp");
    let c = vault.get(&id).await.expect("read").expect("exists");
    assert_eq!(
        c.status,
        ConnectionStatus::Active,
        "the late refusal did not mark the new sign-in"
    );
    testkit::add_to_summary(
        "hardening",
        "leftovers: a status change is checked against the connection's generation",
    );
}

#[tokio::test]
async fn a_refresh_token_replaced_by_a_new_sign_in_is_revoked_at_zoho() {
    let w = World::start().await;
    let (vault, _crm, oauth) = w.process().await;
    let id = w.connect_ada(&vault, &oauth).await;
    let first = vault
        .get(&id)
        .await
        .expect("read")
        .expect("exists")
        .refresh_token
        .expect("a refresh token");
    assert_eq!(w.connect_ada(&vault, &oauth).await, id);
    let second = vault
        .get(&id)
        .await
        .expect("read")
        .expect("exists")
        .refresh_token
        .expect("a refresh token");
    assert_ne!(first.expose(), second.expose(), "the sign-in replaced it");
    assert!(
        oauth.refresh(zoho::DataCenter::Us, &first).await.is_err(),
        "the replaced token no longer works at Zoho"
    );
    assert!(oauth.refresh(zoho::DataCenter::Us, &second).await.is_ok());
    testkit::add_to_summary(
        "hardening",
        "leftovers: a refresh token replaced by a sign-in is revoked at Zoho",
    );
}

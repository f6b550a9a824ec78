//! The storage test suite, run against every store: SQLite always, and PostgreSQL when
//! `ZPORTAL_TEST_POSTGRES_URL` names a database (`cargo xtask test` always provides one, on this
//! machine's server or a private one it starts). Each PostgreSQL test works in a fresh schema.

use std::sync::Arc;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::SqlitePool;

use super::postgres::PgRepo;
use super::sqlite::SqliteRepo;
use super::{
    ConnectionKey, ConnectionStatus, Echo, NewConnection, NewLiveEvent, SavedViewRow, TokenCipher,
    Vault, VaultRepo, ViewOwner,
};
use zoho::budget::OrgKey;
use zoho::dc::DataCenter;
use zoho::ids::{ClientId, ConnectionId, OrgId, UserId};
use zoho::secret::Secret;

/// One store under test, with raw access for the checks a vault cannot make.
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    async fn exec(&self, sql: &str, id: &str) {
        match self {
            Db::Sqlite(p) => sqlx::query(sql).bind(id).execute(p).await.map(drop),
            Db::Postgres(p) => sqlx::query(sql).bind(id).execute(p).await.map(drop),
        }
        .expect("raw statement");
    }

    /// Every stored token column, as the database holds it.
    async fn raw_tokens(&self) -> String {
        let sql = "SELECT refresh_token, access_token FROM connections";
        let rows: Vec<(Option<String>, Option<String>)> = match self {
            Db::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await,
            Db::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await,
        }
        .expect("raw rows");
        format!("{rows:?}")
    }

    /// A second repository on the same database, as another server process would have.
    async fn another_process(&self) -> Arc<dyn VaultRepo> {
        match self {
            Db::Sqlite(p) => Arc::new(SqliteRepo::new(p.clone()).await.expect("repo")),
            Db::Postgres(p) => Arc::new(PgRepo::new(p.clone()).await.expect("repo")),
        }
    }
}

/// A pool on a fresh schema of the test PostgreSQL database, if there is one.
/// Org `org` of data center `dc`, as the credits are stored under it.
fn org_key(dc: &str, org: &str) -> OrgKey {
    OrgKey {
        dc: dc.parse().expect("a data center"),
        org: OrgId::new(org),
    }
}

async fn postgres_schema() -> Option<PgPool> {
    let url = testkit::postgres_url().await?;
    Some(
        PgPoolOptions::new()
            .max_connections(4)
            .connect(&url)
            .await
            .expect("pool in schema"),
    )
}

/// The suite's key (tests of rotation add others).
const K1: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const K2: &str = "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
const K3: &str = "k3:AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=";

fn cipher(keys: &str) -> Arc<TokenCipher> {
    Arc::new(TokenCipher::from_key_list(keys).expect("key list"))
}

/// Every store this run can test, each with a fresh vault.
async fn stores() -> Vec<(&'static str, Vault, Db)> {
    let cipher = cipher(K1);
    let sqlite = SqlitePool::connect("sqlite::memory:")
        .await
        .expect("memory db");
    let repo = SqliteRepo::new(sqlite.clone()).await.expect("migrated");
    let mut out = vec![(
        "sqlite",
        Vault::new(Arc::new(repo), cipher.clone()),
        Db::Sqlite(sqlite),
    )];
    match postgres_schema().await {
        Some(pool) => {
            let repo = PgRepo::new(pool.clone()).await.expect("migrated");
            out.push((
                "postgres",
                Vault::new(Arc::new(repo), cipher),
                Db::Postgres(pool),
            ));
        }
        None => {
            eprintln!("ZPORTAL_TEST_POSTGRES_URL is not set: PostgreSQL not tested in this run")
        }
    }
    out
}

fn sign_in(refresh: Option<&str>, access: &str) -> NewConnection {
    NewConnection {
        key: ConnectionKey {
            client_id: ClientId::new("1000.ZPORTALDEV"),
            dc: DataCenter::Eu,
            org: OrgId::new("70002"),
            user: UserId::new("60000003"),
        },
        email: "eva@eu.zportal.test".into(),
        org_name: "Euro GmbH".into(),
        scopes: vec!["ZohoCRM.modules.ALL".into(), "ZohoCRM.org.READ".into()],
        refresh_token: refresh.map(Secret::new),
        access_token: Secret::new(access),
        access_expires_at: 1_900_000_000,
    }
}

#[tokio::test]
async fn tokens_are_stored_encrypted_and_read_back() {
    for (store, vault, db) in stores().await {
        let c = vault
            .save_sign_in(sign_in(Some("1000.refresh.secret"), "1000.access.secret"))
            .await
            .expect("saved");
        assert_eq!(
            c.refresh_token.as_ref().map(Secret::expose),
            Some("1000.refresh.secret")
        );
        assert_eq!(c.scopes.len(), 2);
        let dump = db.raw_tokens().await;
        assert!(
            !dump.contains("refresh.secret") && !dump.contains("access.secret"),
            "{store}: {dump}"
        );
        let again = vault.get(&c.id).await.expect("read").expect("found");
        assert_eq!(
            again.access_token.as_ref().map(Secret::expose),
            Some("1000.access.secret"),
            "{store}"
        );
    }
}

#[tokio::test]
async fn a_returning_sign_in_updates_the_same_row_and_keeps_the_refresh_token() {
    for (store, vault, _) in stores().await {
        let first = vault
            .save_sign_in(sign_in(Some("1000.rt"), "1000.at1"))
            .await
            .expect("first");
        let second = vault
            .save_sign_in(sign_in(None, "1000.at2"))
            .await
            .expect("second");
        assert_eq!(first.id, second.id, "{store}");
        assert_eq!(
            second.refresh_token.as_ref().map(Secret::expose),
            Some("1000.rt")
        );
        assert_eq!(
            second.access_token.as_ref().map(Secret::expose),
            Some("1000.at2")
        );
        assert_eq!(second.generation, first.generation + 1, "{store}");
        assert_eq!(vault.all().await.expect("all").len(), 1);
        assert!(vault.delete(&first.id).await.expect("delete"));
        assert!(vault.get(&first.id).await.expect("read").is_none());
    }
}

#[tokio::test]
async fn a_row_moved_to_another_connection_does_not_decrypt() {
    for (store, vault, db) in stores().await {
        let c = vault
            .save_sign_in(sign_in(Some("1000.rt"), "1000.at"))
            .await
            .expect("saved");
        // Someone with database access copies the ciphertext onto another identity.
        db.exec(
            "UPDATE connections SET user_zuid = '99999999' WHERE id = $1",
            c.id.as_str(),
        )
        .await;
        let moved = vault.get(&c.id).await.expect("read").expect("found");
        assert!(moved.unreadable, "{store}");
        assert!(moved.refresh_token.is_none() && moved.access_token.is_none());
        assert_eq!(moved.status, ConnectionStatus::NeedsReconnect, "{store}");
        // And swapping the refresh and access ciphertexts fails too.
        db.exec(
            "UPDATE connections SET user_zuid = '60000003', refresh_token = access_token WHERE id = $1",
            c.id.as_str(),
        )
        .await;
        let swapped = vault.get(&c.id).await.expect("read").expect("found");
        assert!(
            swapped.unreadable && swapped.refresh_token.is_none(),
            "{store}"
        );
    }
}

#[tokio::test]
async fn one_lease_at_a_time_across_processes_and_a_dead_holders_lease_expires() {
    for (store, vault, db) in stores().await {
        let c = vault
            .save_sign_in(sign_in(Some("1000.rt"), "1000.at"))
            .await
            .expect("saved");
        let id = c.id.as_str();
        // Twenty "processes" race for the lease at the same second: exactly one gets it.
        let mut repos = Vec::new();
        for _ in 0..20 {
            repos.push(db.another_process().await);
        }
        let now = 1_000;
        let attempts = repos.iter().enumerate().map(|(i, r)| {
            let holder = format!("p{i}");
            async move { r.try_lease(id, &holder, now, now + 10).await }
        });
        let won: Vec<bool> = futures::future::join_all(attempts)
            .await
            .into_iter()
            .map(|r| r.expect("lease"))
            .collect();
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "{store}: {won:?}");
        let winner = format!("p{}", won.iter().position(|w| *w).unwrap_or(0));

        let other = &repos[0];
        assert!(
            !other
                .try_lease(id, "late", now + 5, now + 15)
                .await
                .expect("lease")
        );
        // Only the holder can give it back.
        other.release_lease(id, "impostor").await.expect("release");
        assert!(
            !other
                .try_lease(id, "late", now + 5, now + 15)
                .await
                .expect("lease")
        );
        // Its holder died without releasing: once it expires, someone else takes it.
        assert!(
            other
                .try_lease(id, "heir", now + 11, now + 21)
                .await
                .expect("lease"),
            "{store}"
        );
        // The dead holder's late result is not stored over the heir's lease.
        let stale = super::StoredRefresh {
            access: "k1:stale".into(),
            expires_at: now + 3600,
            now: now + 12,
            window_start: now,
            window_count: 1,
        };
        assert!(
            !other
                .store_refresh(id, &winner, &stale)
                .await
                .expect("store"),
            "{store}"
        );
        other.release_lease(id, "heir").await.expect("release");
        assert!(
            other
                .try_lease(id, "next", now + 12, now + 22)
                .await
                .expect("lease")
        );
    }
}

#[tokio::test]
async fn a_form_creates_once_across_processes_and_a_dead_claim_lapses() {
    use super::SaveClaim::{Busy, Claimed, Done};
    for (store, _, db) in stores().await {
        let (a, b) = (db.another_process().await, db.another_process().await);
        let now = 1_000;
        // Ten presses of Save on ten "processes" at once: one asks Zoho.
        let presses = (0..10).map(|_| db.another_process());
        let repos = futures::future::join_all(presses).await;
        let conn = ConnectionId::new("conn-1");
        let claims = futures::future::join_all(
            repos
                .iter()
                .map(|r| r.claim_save(&conn, "form-1", now, now + 30)),
        )
        .await;
        let claimed = claims.iter().filter(|c| matches!(c, Ok(Claimed))).count();
        assert_eq!(claimed, 1, "{store}: {claims:?}");
        assert!(
            claims.iter().all(|c| matches!(c, Ok(Claimed | Busy))),
            "{store}"
        );
        // Its record is what every later press gets.
        a.finish_save(&ConnectionId::new("conn-1"), "form-1", "5001")
            .await
            .expect("finish");
        let again = b
            .claim_save(&ConnectionId::new("conn-1"), "form-1", now + 1, now + 31)
            .await;
        assert_eq!(again.expect("claim"), Done("5001".into()), "{store}");
        // A finished save is not released, nor does it lapse.
        b.release_save(&ConnectionId::new("conn-1"), "form-1")
            .await
            .expect("release");
        let later = b
            .claim_save(
                &ConnectionId::new("conn-1"),
                "form-1",
                now + 999,
                now + 1_029,
            )
            .await;
        assert_eq!(later.expect("claim"), Done("5001".into()), "{store}");
        // The same token of another connection is another form.
        let other = a
            .claim_save(&ConnectionId::new("conn-2"), "form-1", now, now + 30)
            .await;
        assert_eq!(other.expect("claim"), Claimed, "{store}");

        // Nothing created (Zoho refused): given back, the form can be saved again.
        assert_eq!(
            a.claim_save(&ConnectionId::new("conn-1"), "form-2", now, now + 30)
                .await
                .expect("claim"),
            Claimed
        );
        a.release_save(&ConnectionId::new("conn-1"), "form-2")
            .await
            .expect("release");
        assert_eq!(
            b.claim_save(&ConnectionId::new("conn-1"), "form-2", now, now + 30)
                .await
                .expect("claim"),
            Claimed
        );
        // Its holder died: busy until the claim lapses, then someone else takes it.
        let early = a
            .claim_save(&ConnectionId::new("conn-1"), "form-2", now + 29, now + 59)
            .await;
        assert_eq!(early.expect("claim"), Busy, "{store}");
        let lapsed = a
            .claim_save(&ConnectionId::new("conn-1"), "form-2", now + 31, now + 61)
            .await;
        assert_eq!(lapsed.expect("claim"), Claimed, "{store}");

        // A day on, the ledger forgets.
        assert_eq!(a.prune_saves(now + 1).await.expect("prune"), 3, "{store}");
        let fresh = b
            .claim_save(&ConnectionId::new("conn-1"), "form-1", now + 2, now + 32)
            .await;
        assert_eq!(fresh.expect("claim"), Claimed, "{store}");
    }
}

#[tokio::test]
async fn connections_are_counted_by_status_for_the_operators_view() {
    for (store, vault, _) in stores().await {
        vault.ping().await.expect("the database answers");
        assert!(
            vault.count_by_status().await.expect("counts").is_empty(),
            "{store}"
        );
        let c = vault
            .save_sign_in(sign_in(Some("1000.rt"), "1000.at"))
            .await
            .expect("saved");
        assert_eq!(
            vault.count_by_status().await.expect("counts"),
            vec![(ConnectionStatus::Active, 1)],
            "{store}"
        );
        assert!(
            !vault
                .set_status(&c.id, ConnectionStatus::NeedsReconnect, c.generation - 1)
                .await
                .expect("asked"),
            "an older generation's status change is not applied ({store})"
        );
        assert!(
            vault
                .set_status(&c.id, ConnectionStatus::NeedsReconnect, c.generation)
                .await
                .expect("marked")
        );
        assert_eq!(
            vault.count_by_status().await.expect("counts"),
            vec![(ConnectionStatus::NeedsReconnect, 1)],
            "{store}"
        );
    }
}

#[tokio::test]
async fn the_same_accounts_first_sign_in_in_many_tabs_at_once_makes_one_connection() {
    for (store, vault, _) in stores().await {
        let tabs = (0..8).map(|i| {
            let vault = vault.clone();
            async move {
                vault
                    .save_sign_in(sign_in(Some("1000.rt"), &format!("1000.at{i}")))
                    .await
            }
        });
        let saved = futures::future::join_all(tabs).await;
        let ids: std::collections::HashSet<String> = saved
            .into_iter()
            .map(|r| {
                r.expect("every tab's sign-in is saved")
                    .id
                    .as_str()
                    .to_owned()
            })
            .collect();
        assert_eq!(ids.len(), 1, "{store}: one connection for one account");
        assert_eq!(vault.all().await.expect("all").len(), 1, "{store}");
    }
}

#[tokio::test]
async fn a_new_first_key_rewraps_every_token_and_a_lost_key_means_reconnect() {
    for (store, vault, db) in stores().await {
        let first = vault
            .save_sign_in(sign_in(Some("1000.rt"), "1000.at"))
            .await
            .expect("saved");
        // Rotation: k2 goes first, k1 stays to read what is stored.
        let rotated = Vault::new(db.another_process().await, cipher(&format!("{K2},{K1}")));
        let report = rotated.rewrap_all().await.expect("rewrap");
        assert_eq!(
            (report.connections, report.rewrapped, report.unreadable),
            (1, 1, 0),
            "{store}"
        );
        assert_eq!(report.key, "k2");
        let dump = db.raw_tokens().await;
        assert!(
            dump.contains("\"k2:") && !dump.contains("\"k1:"),
            "{store}: {dump}"
        );
        // A returning sign-in (no new refresh token) keeps the refresh token under k2 too.
        rotated
            .save_sign_in(sign_in(None, "1000.at2"))
            .await
            .expect("returning");
        assert!(!db.raw_tokens().await.contains("\"k1:"), "{store}");
        // k1 can go now.
        let k2_only = Vault::new(db.another_process().await, cipher(K2));
        let c = k2_only.get(&first.id).await.expect("read").expect("found");
        assert_eq!(
            c.refresh_token.as_ref().map(Secret::expose),
            Some("1000.rt"),
            "{store}"
        );
        assert_eq!(c.status, ConnectionStatus::Active);

        // A process whose keys open none of it: "needs reconnect", never an error.
        let lost = Vault::new(db.another_process().await, cipher(K3));
        let c = lost.get(&first.id).await.expect("no error").expect("found");
        assert!(c.unreadable && c.refresh_token.is_none(), "{store}");
        assert_eq!(c.status, ConnectionStatus::NeedsReconnect, "{store}");
        let report = lost.rewrap_all().await.expect("rewrap");
        assert_eq!(report.unreadable, 1, "{store}");
        // A new sign-in with a refresh token makes it whole again.
        let again = lost
            .save_sign_in(sign_in(Some("1000.rt2"), "1000.at3"))
            .await
            .expect("signed in again");
        assert_eq!(again.status, ConnectionStatus::Active, "{store}");
        assert!(!again.unreadable);
    }
}

#[tokio::test]
async fn tokens_under_an_older_key_are_rewrapped_when_used() {
    for (store, vault, db) in stores().await {
        let c = vault
            .save_sign_in(sign_in(Some("1000.rt"), "1000.at"))
            .await
            .expect("saved");
        let rotated = Vault::new(db.another_process().await, cipher(&format!("{K2},{K1}")));
        rotated
            .get_stored(&c.id)
            .await
            .expect("read")
            .expect("found");
        let dump = db.raw_tokens().await;
        assert!(!dump.contains("\"k1:"), "{store}: {dump}");
    }
}

#[tokio::test]
async fn credits_from_many_processes_add_up_per_org_over_a_rolling_day() {
    for (store, vault, db) in stores().await {
        let (a, b) = (db.another_process().await, db.another_process().await);
        let now = 2_000_000_000;
        let bucket = now - now % 600;
        // Two processes flush into the same bucket at once; another org and an old bucket too.
        let us_70001 = org_key("us", "70001");
        let adds = (0..10).map(|i| {
            let repo = if i % 2 == 0 { &a } else { &b };
            repo.add_credits(&us_70001, bucket, 3)
        });
        for done in futures::future::join_all(adds).await {
            done.expect("add");
        }
        a.add_credits(&org_key("us", "70002"), bucket, 7)
            .await
            .expect("add");
        a.add_credits(&org_key("eu", "70001"), bucket, 5)
            .await
            .expect("add");
        b.add_credits(&org_key("us", "70001"), bucket - 90_000, 100)
            .await
            .expect("add");
        let since = now - 86_400;
        assert_eq!(
            a.credits_since(&org_key("us", "70001"), since)
                .await
                .expect("sum"),
            30,
            "{store}"
        );
        assert_eq!(
            b.credits_since(&org_key("us", "70002"), since)
                .await
                .expect("sum"),
            7
        );
        assert_eq!(
            b.credits_since(&org_key("eu", "70001"), since)
                .await
                .expect("sum"),
            5
        );
        assert_eq!(
            b.credits_since(&org_key("us", "404"), since)
                .await
                .expect("sum"),
            0
        );
        assert_eq!(
            a.prune_credits(now - 87_000).await.expect("prune"),
            1,
            "{store}: the day-old bucket"
        );
        // Through the vault, at the real time.
        vault
            .add_credits(DataCenter::Us, &OrgId::new("70009"), 4)
            .await
            .expect("add");
        assert_eq!(
            vault
                .credits_last_day(DataCenter::Us, &OrgId::new("70009"))
                .await
                .expect("sum"),
            4,
            "{store}"
        );
    }
}

/// User `user` of org 70001 in the US data center, as saved views are stored under them.
fn view_owner(user: &str) -> ViewOwner {
    ViewOwner {
        dc: "us".into(),
        org: "70001".into(),
        user: user.into(),
    }
}

/// The names of `views`, in order.
fn names(views: &[SavedViewRow]) -> Vec<String> {
    views.iter().map(|v| v.name.clone()).collect()
}

#[tokio::test]
async fn saved_views_are_per_person_replaced_by_name_and_deleted_only_by_their_owner() {
    for (store, vault, db) in stores().await {
        let (ada, ben) = (view_owner("60000001"), view_owner("60000002"));
        let hot = vault
            .save_view(&ada, "Leads", "Hot", r#"{"sort":"Rating"}"#)
            .await
            .expect("saved");
        let cold = vault
            .save_view(&ada, "Leads", "Cold", r#"{"sort":"Created_Time"}"#)
            .await
            .expect("saved");
        assert_ne!(hot.id, cold.id, "{store}");
        assert_eq!((hot.module.as_str(), hot.name.as_str()), ("Leads", "Hot"));
        let listed = vault.saved_views(&ada, "Leads").await.expect("listed");
        assert_eq!(names(&listed), ["Cold", "Hot"], "{store}: by name");

        // Saving under a name already there replaces that view, and keeps its id.
        let again = vault
            .save_view(&ada, "Leads", "Hot", r#"{"sort":"Lead_Source"}"#)
            .await
            .expect("replaced");
        assert_eq!(again.id, hot.id, "{store}");
        assert_eq!(again.body, r#"{"sort":"Lead_Source"}"#, "{store}");
        assert!(again.updated_at >= hot.updated_at);
        let listed = vault.saved_views(&ada, "Leads").await.expect("listed");
        assert_eq!(listed.len(), 2, "{store}: {listed:?}");
        assert_eq!(listed[1], again, "{store}");

        // Two processes saving the same name at once both succeed: one view, one id.
        let (a, b) = (db.another_process().await, db.another_process().await);
        let (x, y) = tokio::join!(
            a.put_view(&ada, "Leads", "fresh-id-a", "Hot", "{}", 1_000),
            b.put_view(&ada, "Leads", "fresh-id-b", "Hot", "{}", 1_001),
        );
        assert_eq!(x.expect("saved").id, hot.id, "{store}");
        assert_eq!(y.expect("saved").id, hot.id, "{store}");

        // Another person of the same org sees none of them, and cannot delete them.
        assert!(
            vault
                .saved_views(&ben, "Leads")
                .await
                .expect("listed")
                .is_empty(),
            "{store}"
        );
        assert!(
            !vault
                .delete_view(&ben, "Leads", &cold.id)
                .await
                .expect("asked"),
            "{store}"
        );
        assert_eq!(
            vault
                .saved_views(&ada, "Leads")
                .await
                .expect("listed")
                .len(),
            2,
            "{store}: nothing deleted"
        );

        // A view of another module is listed only there, and may share a name.
        let contacts = vault
            .save_view(&ada, "Contacts", "Hot", "{}")
            .await
            .expect("saved");
        assert_ne!(contacts.id, hot.id, "{store}");
        let listed = vault.saved_views(&ada, "Contacts").await.expect("listed");
        assert_eq!(listed, std::slice::from_ref(&contacts), "{store}");
        assert_eq!(
            names(&vault.saved_views(&ada, "Leads").await.expect("listed")),
            ["Cold", "Hot"],
            "{store}"
        );
        // Nor is it deleted through another module.
        assert!(
            !vault
                .delete_view(&ada, "Leads", &contacts.id)
                .await
                .expect("asked")
        );

        // Its owner deletes one; names are ordered regardless of case.
        assert!(
            vault
                .delete_view(&ada, "Leads", &cold.id)
                .await
                .expect("deleted"),
            "{store}"
        );
        assert!(
            !vault
                .delete_view(&ada, "Leads", &cold.id)
                .await
                .expect("asked"),
            "{store}: already gone"
        );
        vault
            .save_view(&ada, "Leads", "amber", "{}")
            .await
            .expect("saved");
        assert_eq!(
            names(&vault.saved_views(&ada, "Leads").await.expect("listed")),
            ["amber", "Hot"],
            "{store}"
        );
        assert_eq!(
            vault.saved_views(&ada, "Contacts").await.expect("listed"),
            [contacts],
            "{store}"
        );
    }
}

#[tokio::test]
async fn live_entries_told_at_once_by_many_get_distinct_seqs_and_a_change_told_twice_is_one() {
    for (store, vault, _db) in stores().await {
        if store != "postgres" {
            // The in-memory SQLite pool is one connection: nothing runs at once there.
            continue;
        }
        let repo = vault.live_repo();
        let at = zoho::clock::now();
        let ids: Vec<String> = (0..16).map(|i| format!("{}", 100 + i)).collect();
        let tells = ids.iter().map(|id| {
            let e = NewLiveEvent {
                dc: "us",
                org: "70001",
                module: "Leads",
                ids: id,
                op: "edit",
                echo_pending: Echo::Notification,
                at,
            };
            async move { repo.tell_live(&e, Some((Echo::Write, at - 5))).await }
        });
        let mut seqs: Vec<i64> = futures::future::join_all(tells)
            .await
            .into_iter()
            .map(|r| r.expect("told").expect("new"))
            .collect();
        seqs.sort_unstable();
        seqs.dedup();
        assert_eq!(seqs.len(), 16, "{store}: every seq taken once");
        assert_eq!(seqs[15] - seqs[0], 15, "{store}: no gaps");

        // A write and Zoho's notification of it, told at once: one entry.
        let write = NewLiveEvent {
            dc: "us",
            org: "70001",
            module: "Deals",
            ids: "7",
            op: "edit",
            echo_pending: Echo::Notification,
            at,
        };
        let notification = NewLiveEvent {
            echo_pending: Echo::Write,
            ..write
        };
        let (a, b) = tokio::join!(
            repo.tell_live(&write, Some((Echo::Write, at - 5))),
            repo.tell_live(&notification, Some((Echo::Notification, at - 60))),
        );
        let told = [a.expect("write"), b.expect("notification")];
        assert_eq!(
            told.iter().filter(|s| s.is_some()).count(),
            1,
            "{store}: {told:?}"
        );
    }
}

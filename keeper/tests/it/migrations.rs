//! A database made before the crates were split opens under keeper, on both stores: the
//! migrations moved from `zoho/migrations` byte for byte, with their versions, so the checksums
//! sqlx recorded for them then (SHA-384 of each file, here as the tree of commit 76cb646 had
//! them) still match, and sqlx, which checks them at every start, finds nothing to refuse; the
//! migrations written since are applied on top.

use std::time::Duration;

use keeper::vault::postgres::PgRepo;
use keeper::vault::sqlite::SqliteRepo;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

/// Each migration's version and the checksum the old tree recorded for it.
const RECORDED: [(i64, &str); 5] = [
    (
        1,
        "1e706dd29e9e1aeb63c63926924b5ab2751f9098d9f9983f8aeff1270f1b4ad1ee07cbd5b90503dc47cc29059b7e2470",
    ),
    (
        2,
        "ce3a3b2aa3846f31dc0007a4bc8825ba84ca7341484bb0b81f5580206eced3abc3ac6dde0c695c11e37a5ce801c19f94",
    ),
    (
        3,
        "778991fe0794d183719582e8912263fe75572ba36a3c85668277969fa1be3c94c3897c3cb5d5b05a5cd902f630180e75",
    ),
    (
        4,
        "f5f6c63f3a6d3581b120043c799ff59830553be655e2ddf8190cbb482c1852e4fa919a1f2a223cd7584f7e355251e916",
    ),
    (
        5,
        "5f89be81915cf24ea7420ed15b30f7ed9e1c5e2f7e9804ec802bb9db4af28b66b2cf31ac5dea2ff323ada40ce6632b82",
    ),
];

/// The migrations the old tree had (its database ran exactly these).
fn old_tree() -> sqlx::migrate::Migrator {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.migrations = std::borrow::Cow::Owned(migrator.migrations[..RECORDED.len()].to_vec());
    migrator
}

/// Every migration version, as the new tree has them.
fn every_version() -> Vec<i64> {
    sqlx::migrate!("./migrations")
        .iter()
        .map(|m| m.version)
        .collect()
}

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[tokio::test]
async fn a_sqlite_database_of_the_old_tree_opens() {
    let dir = tempfile::tempdir().expect("dir");
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("zportal.db"))
        .create_if_missing(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("pool");
    // The old tree's database: its schema, and the checksums it recorded.
    old_tree()
        .run(&pool)
        .await
        .expect("the old tree's migrations");
    for (version, checksum) in RECORDED {
        let updated = sqlx::query("UPDATE _sqlx_migrations SET checksum = ? WHERE version = ?")
            .bind(bytes(checksum))
            .bind(version)
            .execute(&pool)
            .await
            .expect("the recorded checksum");
        assert_eq!(updated.rows_affected(), 1, "version {version} was applied");
    }
    SqliteRepo::new(pool.clone())
        .await
        .expect("the old database opens: same versions, same checksums");
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&pool)
            .await
            .expect("versions");
    assert_eq!(
        versions,
        every_version(),
        "the new ones were applied on top"
    );
}

#[tokio::test]
async fn a_postgres_database_of_the_old_tree_opens() {
    let Some(url) = testkit::postgres_url().await else {
        // The SQLite run: `cargo xtask test` runs this again on PostgreSQL.
        return;
    };
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .expect("pool");
    old_tree()
        .run(&pool)
        .await
        .expect("the old tree's migrations");
    for (version, checksum) in RECORDED {
        let updated = sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = $2")
            .bind(bytes(checksum))
            .bind(version)
            .execute(&pool)
            .await
            .expect("the recorded checksum");
        assert_eq!(updated.rows_affected(), 1, "version {version} was applied");
    }
    PgRepo::new(pool.clone())
        .await
        .expect("the old database opens: same versions, same checksums");
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&pool)
            .await
            .expect("versions");
    assert_eq!(
        versions,
        every_version(),
        "the new ones were applied on top"
    );
}

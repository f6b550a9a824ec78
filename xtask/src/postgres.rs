//! The PostgreSQL the test suite's second run uses, so the PostgreSQL store is never skipped:
//! the one this machine runs on 127.0.0.1:5432 when it answers (a fresh database for the run,
//! dropped at the end), else a private server the xtask installs from Debian's packages and starts
//! in a temporary directory on its own port (stopped and removed at the end).

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::{Workspace, run, tools};

/// The port of the private server, when the machine has none.
const PRIVATE_PORT: u16 = 55432;

/// A database for one test run; dropping it cleans up.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    DropDatabase {
        psql: PathBuf,
        admin: String,
        name: String,
    },
    StopServer {
        pg_ctl: PathBuf,
        data: PathBuf,
        as_postgres: bool,
    },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::DropDatabase { psql, admin, name } => {
                let ok = Command::new(psql)
                    .args([
                        admin.as_str(),
                        "-qAtc",
                        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    ])
                    .status()
                    .is_ok_and(|s| s.success());
                println!(
                    "\n==> dropped the test database {name}: {}",
                    if ok { "done" } else { "FAILED" }
                );
            }
            Cleanup::StopServer {
                pg_ctl,
                data,
                as_postgres,
            } => {
                let ok = postgres_cmd(pg_ctl, *as_postgres)
                    .args(["-D"])
                    .arg(data)
                    .args(["-m", "fast", "-w", "stop"])
                    .status()
                    .is_ok_and(|s| s.success());
                println!(
                    "\n==> stopped the private PostgreSQL: {}",
                    if ok { "done" } else { "FAILED" }
                );
                let _ = std::fs::remove_dir_all(data);
            }
        }
    }
}

fn answers(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

/// A PostgreSQL database for this run.
pub fn provision(ws: &Workspace) -> Result<TestDatabase> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = format!("zportal_test_{}_{stamp}", std::process::id());
    if answers(5432) && std::env::var_os("ZPORTAL_TEST_PRIVATE_POSTGRES").is_none() {
        let psql = find_psql(ws)?;
        let admin = "postgres://postgres@127.0.0.1:5432/postgres".to_owned();
        run(
            &format!("creating the test database {name} on 127.0.0.1:5432"),
            Command::new(&psql).args([admin.as_str(), "-qAtc", &format!("CREATE DATABASE {name}")]),
        )?;
        return Ok(TestDatabase {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            cleanup: Cleanup::DropDatabase { psql, admin, name },
        });
    }
    println!("\n==> no PostgreSQL answers on 127.0.0.1:5432: starting a private one for the tests");
    let bin = match server_bin() {
        Some(bin) => bin,
        None => {
            tools::apt_install(ws, &["postgresql"])?;
            server_bin().context("the postgresql package installed no server binaries")?
        }
    };
    // Under the system's temporary directory: the `postgres` user must be able to reach it,
    // which a checkout in a private home directory would not allow.
    let data = std::env::temp_dir().join(format!("zportal-postgres-{}", std::process::id()));
    let as_postgres = tools::is_root();
    if data.exists() {
        std::fs::remove_dir_all(&data).with_context(|| format!("clearing {}", data.display()))?;
    }
    std::fs::create_dir_all(&data)?;
    if as_postgres {
        // PostgreSQL refuses to run as root: the data directory belongs to the `postgres` user.
        run(
            "chown postgres (the private data directory)",
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&data),
        )?;
    }
    run(
        "initdb (private PostgreSQL)",
        postgres_cmd(&bin.join("initdb"), as_postgres)
            .args(["-D"])
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"]),
    )?;
    let pg_ctl = bin.join("pg_ctl");
    let options = format!(
        "-p {PRIVATE_PORT} -k {} -c listen_addresses=127.0.0.1",
        data.display()
    );
    run(
        &format!("pg_ctl start (private PostgreSQL on 127.0.0.1:{PRIVATE_PORT})"),
        postgres_cmd(&pg_ctl, as_postgres)
            .args(["-D"])
            .arg(&data)
            .args(["-o", &options, "-l"])
            .arg(data.join("server.log"))
            .args(["-w", "start"]),
    )?;
    let db = TestDatabase {
        url: format!("postgres://postgres@127.0.0.1:{PRIVATE_PORT}/postgres"),
        cleanup: Cleanup::StopServer {
            pg_ctl,
            data,
            as_postgres,
        },
    };
    if !answers(PRIVATE_PORT) {
        bail!("the private PostgreSQL did not start");
    }
    Ok(db)
}

/// `program`, run as the `postgres` user when we are root.
fn postgres_cmd(program: &Path, as_postgres: bool) -> Command {
    if as_postgres {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

/// Debian's server binaries (`/usr/lib/postgresql/<version>/bin`), newest first.
fn server_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

/// `psql`, installing Debian's client when it is missing.
fn find_psql(ws: &Workspace) -> Result<PathBuf> {
    let found = |name: &str| {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(name))
            .find(|p| p.exists())
    };
    if let Some(p) = found("psql") {
        return Ok(p);
    }
    tools::apt_install(ws, &["postgresql-client"])?;
    found("psql").context("psql is still missing after installing postgresql-client")
}

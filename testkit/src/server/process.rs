//! The real `server` binary as a child process on a loopback port of its own: what the restart,
//! many-servers and load suites start, kill and start again.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `server`; killed when dropped.
pub struct ServerProcess {
    child: Child,
    pub base: String,
    port: u16,
    env: Vec<(String, String)>,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

impl ServerProcess {
    /// Starts a server with `env` (on top of `RUST_LOG=warn`) and waits until it answers.
    pub async fn start(env: &[(&str, &str)]) -> ServerProcess {
        let port = free_port();
        let process = ServerProcess {
            child: spawn(port, env.iter().map(|(k, v)| (*k, *v))),
            base: format!("http://127.0.0.1:{port}"),
            port,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        process.wait_up().await;
        process
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, reaped.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    /// SIGKILL, then the same binary on the same port with the same environment.
    pub async fn kill_and_restart(&mut self) {
        self.kill();
        self.child = spawn(
            self.port,
            self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        self.wait_up().await;
    }

    /// Waits (up to five seconds) for the process to exit by itself.
    pub async fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    async fn wait_up(&self) {
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if http
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server at {} did not start", self.base);
    }
}

fn spawn<'a>(port: u16, env: impl Iterator<Item = (&'a str, &'a str)>) -> Child {
    Command::new(server_binary())
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .env("ZPORTAL_RATE_LIMIT", "off")
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("server binary")
}

/// The `server` binary cargo built beside this test binary (`<target>/<profile>/server`).
pub fn server_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("<target>/<profile>/deps/<test binary>");
    profile.join("server")
}

/// A client that presents the session `cookie` on every call, as a load balancer forwards it to
/// whichever process it picks.
pub fn client_with(cookie: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::COOKIE,
        format!("zportal_session={cookie}").parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

//! A real `tend serve` process for tests that need one (crashes, several instances).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use tend::config::Config;

/// Starts `tend serve` on a free port over `config`'s data; returns the process and address.
pub fn start(config: &Config) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tend"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env("TEND_DATA_DIR", &config.data_dir)
        .env_remove("TEND_MASTER_KEY")
        .env("TEND_RUN_JOBS", "false")
        .env(
            "TEND_HEADER_TIMEOUT_SECONDS",
            config.header_timeout_seconds.to_string(),
        )
        .env(
            "TEND_REQUEST_TIMEOUT_SECONDS",
            config.request_timeout_seconds.to_string(),
        )
        .env("TEND_MAX_CONNECTIONS", config.max_connections.to_string());
    match &config.database_url {
        Some(url) => cmd.env("DATABASE_URL", url),
        None => cmd.env_remove("DATABASE_URL"),
    };
    let mut server = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the server's own "ready" line, which it prints after binding.
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before it was ready")
            .unwrap();
        if let Some(url) = line.strip_prefix("Tend is ready at http://") {
            break url.trim().to_string();
        }
    };
    (server, addr)
}

//! The real `kindly` binary, served on port 0, for the tests that kill it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Server {
    pub url: String,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `kindly <args>` (ending in `serve`) on port 0 and reads the bound address from
    /// its log.
    pub fn start(data_dir: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kindly"))
            .args(args)
            .current_dir(super::root())
            .env("KINDLY__DATA__DIR", data_dir)
            .env("KINDLY__SERVER__BIND", "127.0.0.1:0")
            .env("KINDLY__WORKER__POLL_INTERVAL_MS", "100")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting kindly");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let deadline = Instant::now() + Duration::from_secs(120);
        let url = loop {
            let line = lines.next().expect("kindly exited before listening").unwrap();
            log.lock().unwrap().push(line.clone());
            if let Some(addr) = line.split("addr=").nth(1) {
                break format!("http://{}", addr.split_whitespace().next().unwrap());
            }
            assert!(Instant::now() < deadline, "kindly did not start listening");
        };
        // Keep draining the log so the server never blocks on a full pipe.
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, url, log }
    }

    /// SIGKILL, as a power cut or the OOM killer would.
    pub fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL on unix
        self.child.wait().unwrap();
    }

    /// SIGTERM, and a clean exit expected.
    pub fn terminate(mut self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(
            exit.success(),
            "kindly did not shut down cleanly: {exit:?}\n{}",
            self.log.lock().unwrap().join("\n")
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

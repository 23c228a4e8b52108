//! A real moto server on a free loopback port, for the AWS-backed tests (`moto_server` is
//! installed by scripts/test). Stopped when dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Moto {
    child: Child,
    pub url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto's server app on werkzeug with one thread (the same app `moto_server` runs), on a port
/// the server binds itself and prints: a port picked here and bound later can be taken in
/// between by a parallel test's server, which this one's readiness probe would then reach.
const SERIAL_MOTO: &str = "import sys
from werkzeug.serving import make_server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
server = make_server('127.0.0.1', 0, DomainDispatcherApplication(create_backend_app), threaded=False)
print(server.server_port, flush=True)
server.serve_forever()
";

pub fn moto() -> Moto {
    // moto's own `moto_server` is threaded, and its DynamoDB UpdateItem is not atomic across
    // threads (a lost ADD let 6 of 24 parallel starts through a limit of 5, once in CI).
    // DynamoDB applies each item's updates one at a time: so does moto served by one thread.
    let mut child = Command::new("python3")
        .args(["-c", SERIAL_MOTO])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 with moto[server] (pip install 'moto[server]'; scripts/test does)");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    // The port is printed once the socket listens, so a connection made after it is served.
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("moto_server did not start");
    let port: u16 = line.trim().parse().expect("moto_server printed its port");
    Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

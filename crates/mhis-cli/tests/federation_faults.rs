//! The federation fault test: two deployments run as separate `mhis serve`
//! processes on loopback (the sender on SQLite, the receiver on PostgreSQL
//! when `MHIS_TEST_POSTGRES_URL` is set, else SQLite). They exchange 1,000
//! referrals and their outcomes while the receiver is killed with SIGKILL
//! and restarted twice and the sender once. At the end every referral was
//! delivered exactly once, every outcome came back, and nothing was lost or
//! applied twice: each side's timeline of each referral holds each event
//! exactly once.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REFERRALS: usize = 1000;
const ASSESSMENTS: usize = 100;
const REASONS: [&str; 5] = [
    "tb_evaluation",
    "hepatitis_care",
    "hiv_care",
    "syphilis_treatment",
    "tb_follow_up_on_arrival",
];

struct Node {
    dir: tempfile::TempDir,
    url: String,
    port: u16,
    child: Option<Child>,
    token: String,
    name: &'static str,
    postgres: Option<(String, String)>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Node {
    fn new(name: &'static str, postgres_admin: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (url, postgres) = match postgres_admin {
            Some(admin) => {
                let db = format!("mhis_fault_{}", uuid::Uuid::now_v7().simple());
                let out = Command::new("psql")
                    .args([admin, "-qAtc", &format!("CREATE DATABASE {db}")])
                    .output()
                    .expect("psql");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let base = admin.rsplit_once('/').unwrap().0;
                (format!("{base}/{db}"), Some((admin.to_owned(), db)))
            }
            None => (
                format!("sqlite://{}", dir.path().join("mhis.db").display()),
                None,
            ),
        };
        Self {
            dir,
            url,
            port: free_port(),
            child: None,
            token: String::new(),
            name,
            postgres,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_mhis"));
        c.args(args)
            .env("MHIS_DATABASE_URL", &self.url)
            .env("MHIS_KEY_ENCRYPTION_KEY_FILE", self.dir.path().join("kek"))
            .env("MHIS_PASSWORD", "a long enough password")
            .env("MHIS_LOG", "off");
        c
    }

    #[track_caller]
    fn run(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}: mhis {args:?}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Sets up a site, a clinician with a token, and the node identity.
    fn set_up(&mut self, site: &str, country: &str) -> String {
        let line = self.run(&[
            "site",
            "add",
            "--code",
            site,
            "--kind",
            "assessment_centre",
            "--country",
            country,
            "--name",
            site,
        ]);
        let site_id = line.split('\t').next().unwrap().to_owned();
        self.run(&[
            "user",
            "add",
            "--name",
            "dr-fault",
            "--role",
            "clinician",
            "--site",
            site,
        ]);
        self.token = self
            .run(&["token", "create", "--user", "dr-fault"])
            .trim()
            .to_owned();
        self.run(&[
            "node",
            "init",
            "--name",
            self.name,
            "--url",
            &self.base(),
            "--inbox-site",
            site,
        ]);
        site_id
    }

    fn public_key(&self) -> String {
        let shown = self.run(&["node", "show"]);
        shown
            .lines()
            .find_map(|l| l.strip_prefix("public key "))
            .unwrap()
            .to_owned()
    }

    fn start(&mut self) {
        let listen = format!("127.0.0.1:{}", self.port);
        let mut child = self
            .command(&["serve", "--listen", &listen])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("serving"), "{}: {line}", self.name);
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown, no flush beyond what was committed.
    fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    fn undelivered(&self) -> usize {
        let out = self.run(&["outbox", "list"]);
        out.lines()
            .next()
            .and_then(|l| l.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some((admin, db)) = self.postgres.take() {
            let _ = Command::new("psql")
                .args([
                    admin.as_str(),
                    "-qAtc",
                    &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

/// One API call, retried while the server is down (killed or restarting).
fn call(
    http: &reqwest::blocking::Client,
    node: &Node,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut request = match method {
            "GET" => http.get(format!("{}{path}", node.base())),
            _ => http.post(format!("{}{path}", node.base())),
        }
        .bearer_auth(&node.token);
        if let Some(body) = &body {
            request = request.json(body);
        }
        match request.send() {
            Ok(r) => {
                let status = r.status().as_u16();
                let json: Value = r.json().unwrap_or(Value::Null);
                assert!(
                    (200..300).contains(&status),
                    "{} {method} {path}: {status} {json}",
                    node.name
                );
                return json;
            }
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("{} {method} {path}: {e}", node.name),
        }
    }
}

/// Every referral of a view, all pages.
fn all_referrals(http: &reqwest::blocking::Client, node: &Node, view: &str) -> Vec<Value> {
    let mut items = Vec::new();
    for page in 1.. {
        let body = call(
            http,
            node,
            "GET",
            &format!("/api/v1/referrals?view={view}&per_page=200&page={page}"),
            None,
        );
        let batch = body["items"].as_array().unwrap().clone();
        let done = batch.len() < 200;
        items.extend(batch);
        if done {
            break;
        }
    }
    items
}

fn timeline(http: &reqwest::blocking::Client, node: &Node, id: &str) -> Vec<String> {
    call(http, node, "GET", &format!("/api/v1/referrals/{id}"), None)["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["event"].as_str().unwrap(),
                e["state"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn federation_survives_restarts() {
    let postgres = std::env::var("MHIS_TEST_POSTGRES_URL").ok();
    let mut sender = Node::new("tj-sender", None);
    let mut receiver = Node::new("ru-receiver", postgres.as_deref());
    let sender_site = sender.set_up("TJ-DYU-01", "TJ");
    receiver.set_up("RU-MOW-01", "RU");
    let (sender_key, receiver_key) = (sender.public_key(), receiver.public_key());
    sender.run(&[
        "peer",
        "add",
        "--name",
        receiver.name,
        "--url",
        &receiver.base(),
        "--key",
        &receiver_key,
        "--country",
        "RU",
    ]);
    receiver.run(&[
        "peer",
        "add",
        "--name",
        sender.name,
        "--url",
        &sender.base(),
        "--key",
        &sender_key,
    ]);
    sender.start();
    receiver.start();
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let started = Instant::now();

    // Phase 1: the sender writes and sends 1,000 referrals. The receiver is
    // killed after 300, the sender after 700.
    let mut assessments = Vec::new();
    for i in 0..ASSESSMENTS {
        let m = call(
            &http,
            &sender,
            "POST",
            "/api/v1/migrants",
            Some(json!({
            "site_id": sender_site, "family_name": format!("Рахимов{}", "а".repeat(i % 3)),
            "given_names": "Шухрат", "sex": "male", "birth_date": format!("{}", 1970 + i % 30),
            "nationality": "TJ"})),
        );
        let a = call(
            &http,
            &sender,
            "POST",
            "/api/v1/assessments",
            Some(json!({
            "migrant_id": m["migrant"]["id"], "site_id": sender_site, "purpose": "labour",
            "destination": "RU", "protocol": "ru-labour"})),
        );
        assessments.push(a["id"].as_str().unwrap().to_owned());
    }
    let mut ids = Vec::new();
    for i in 0..REFERRALS {
        let a = &assessments[i % ASSESSMENTS];
        let r = call(
            &http,
            &sender,
            "POST",
            &format!("/api/v1/assessments/{a}/referrals"),
            Some(json!({
            "reason": REASONS[i % REASONS.len()], "to_peer": receiver.name, "send": true})),
        );
        ids.push(r["id"].as_str().unwrap().to_owned());
        if i + 1 == 300 {
            receiver.kill();
            std::thread::sleep(Duration::from_millis(1500));
            receiver.start();
        }
        if i + 1 == 700 {
            sender.kill();
            std::thread::sleep(Duration::from_millis(500));
            sender.start();
        }
    }
    eprintln!(
        "phase 1: {REFERRALS} referrals written in {:?}",
        started.elapsed()
    );

    // Phase 2: the receiver accepts each referral as it arrives and reports
    // an outcome; it is killed again after 500 outcomes.
    let mut reported = std::collections::HashSet::new();
    let mut killed_again = false;
    let deadline = Instant::now() + Duration::from_secs(600);
    while reported.len() < REFERRALS {
        assert!(
            Instant::now() < deadline,
            "only {} outcomes reported",
            reported.len()
        );
        let inbox = all_referrals(&http, &receiver, "inbox");
        for r in &inbox {
            let id = r["id"].as_str().unwrap().to_owned();
            if reported.contains(&id) {
                continue;
            }
            let path = format!("/api/v1/referrals/{id}");
            if r["state"] == "received" {
                call(
                    &http,
                    &receiver,
                    "POST",
                    &format!("{path}/accept"),
                    Some(json!({})),
                );
            }
            if r["state"] == "received" || r["state"] == "accepted" {
                call(
                    &http,
                    &receiver,
                    "POST",
                    &format!("{path}/outcome"),
                    Some(json!({"outcome": "treatment_started"})),
                );
            }
            reported.insert(id);
            if reported.len() == 500 && !killed_again {
                killed_again = true;
                receiver.kill();
                std::thread::sleep(Duration::from_millis(1500));
                receiver.start();
            }
        }
        if inbox.len() < REFERRALS {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    eprintln!(
        "phase 2: every outcome reported after {:?}",
        started.elapsed()
    );

    // Every outcome comes back to the sender.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let back = all_referrals(&http, &sender, "outbox")
            .iter()
            .filter(|r| r["state"] == "outcome_reported")
            .count();
        if back == REFERRALS && sender.undelivered() == 0 && receiver.undelivered() == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{back} outcomes back");
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("all outcomes back after {:?}", started.elapsed());

    // Exactly once, on both sides.
    let sent = all_referrals(&http, &sender, "outbox");
    let received = all_referrals(&http, &receiver, "inbox");
    assert_eq!(sent.len(), REFERRALS);
    assert_eq!(received.len(), REFERRALS, "each referral received once");
    let mut received_ids: Vec<&str> = received.iter().map(|r| r["id"].as_str().unwrap()).collect();
    received_ids.sort_unstable();
    let mut sent_ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    sent_ids.sort_unstable();
    assert_eq!(received_ids, sent_ids, "the same referrals on both sides");
    let expected = [
        "send:sent",
        "receive:received",
        "accept:accepted",
        "report_outcome:outcome_reported",
    ];
    for id in &ids {
        assert_eq!(
            timeline(&http, &sender, id),
            expected,
            "sender's timeline of {id}"
        );
        assert_eq!(
            timeline(&http, &receiver, id),
            expected,
            "receiver's timeline of {id}"
        );
    }
    eprintln!(
        "federation_survives_restarts: {REFERRALS} referrals and outcomes exactly once in {:?}",
        started.elapsed()
    );
}

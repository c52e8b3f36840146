//! The `kindly` binary as an operator uses it: `kb ingest` is idempotent and removes the points of
//! deleted articles; `triage` prints the decision and its evidence as JSON on stdout; `tokens
//! revoke` shuts a leaked API token out of a running server; `users` manages people while it runs,
//! and the sign-in form stops a password guesser.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn run_with(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kindly"))
        .args(args)
        .current_dir(common::root())
        .env("KINDLY__DATA__DIR", data_dir)
        .env("NO_COLOR", "1")
        .envs(envs.iter().copied())
        .output()
        .expect("running kindly")
}

fn run(data_dir: &Path, args: &[&str]) -> Output {
    run_with(data_dir, args, &[])
}

fn kindly(data_dir: &Path, args: &[&str]) -> Output {
    let out = run(data_dir, args);
    assert!(out.status.success(), "kindly {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// `kindly …` that is expected to fail: its stderr.
fn kindly_fails(data_dir: &Path, args: &[&str]) -> String {
    let out = run(data_dir, args);
    assert!(!out.status.success(), "kindly {args:?} should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn summary(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr.lines().find(|l| l.starts_with("knowledge base")).unwrap_or_default().to_owned()
}

#[test]
fn ingest_twice_changes_nothing_and_removed_articles_leave_the_index() {
    let data = common::data_dir(); // the sample knowledge base, already ingested once
    let again = kindly(data.path(), &["kb", "ingest", "knowledge-base"]);
    assert!(
        summary(&again).contains("0 created, 0 updated, 36 unchanged, 0 removed; 417 points"),
        "{}",
        summary(&again)
    );

    // A folder holding only two of the articles: the other 34 and their points go away.
    let kb = tempfile::tempdir().unwrap();
    for name in ["kb-001-tracking-your-delivery.md", "kb-011-reset-password.md"] {
        std::fs::copy(common::root().join("knowledge-base").join(name), kb.path().join(name)).unwrap();
    }
    let out = kindly(data.path(), &["kb", "ingest", kb.path().to_str().unwrap()]);
    let line = summary(&out);
    assert!(line.contains("0 created, 0 updated, 2 unchanged, 34 removed"), "{line}");
    let points: usize = line.rsplit("; ").next().unwrap().split_whitespace().next().unwrap().parse().unwrap();
    assert!((10..40).contains(&points), "{line}");
}

#[test]
fn triage_prints_the_decision_as_json() {
    let data = common::data_dir();
    let out = kindly(data.path(), &["triage", "How do I reset my password for the Lumo app?"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["decision"]["outcome"]["kind"], "answer");
    assert_eq!(v["decision"]["outcome"]["knowledge"]["id"], "kb-011");
    assert!(v["reply"].as_str().unwrap().contains("kb-011"));
    let out = kindly(
        data.path(),
        &["triage", "--explain", "My father died last week and I need to close his account."],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("handed off: bereavement"), "{text}");
}

#[test]
fn imported_labels_teach_the_intent_model_a_new_intent() {
    let data = common::data_dir();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("history.csv");
    std::fs::write(
        &csv,
        "text,intent\n\
         \"Is the speaker waterproof?\",speaker_water_resistance\n\
         \"Can my Lumo speaker get wet in the rain?\",speaker_water_resistance\n\
         \"Can I take the speaker to the pool?\",speaker_water_resistance\n\
         \"Where is my parcel?\",track_order\n",
    )
    .unwrap();
    let out = kindly(data.path(), &["labels", "import", csv.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("4 new labels from"), "{stderr}");
    let trained = |stderr: &str| -> (i64, usize) {
        let line =
            stderr.lines().find(|l| l.starts_with("intent model v")).unwrap_or_else(|| panic!("{stderr}"));
        let version = line["intent model v".len()..].split(':').next().unwrap().parse().unwrap();
        let intents = line.split(", ").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
        (version, intents)
    };
    let (first, intents) = trained(&stderr);
    assert!(first >= 2, "a new version on top of the template's: {stderr}");
    assert_eq!(intents, 36, "the 35 intents of the sample knowledge base and the imported one: {stderr}");

    // The same file again adds nothing new.
    let out = kindly(data.path(), &["labels", "import", csv.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("0 new labels from"), "{stderr}");

    // A file without the columns is refused with a clear message.
    std::fs::write(&csv, "question,answer\nhi,there\n").unwrap();
    let err = kindly_fails(data.path(), &["labels", "import", csv.to_str().unwrap()]);
    assert!(err.contains("history.csv"), "{err}");
}

#[test]
fn a_backup_restores_to_the_same_knowledge_and_never_overwrites() {
    let data = common::data_dir();
    let copy = tempfile::tempdir().unwrap();
    let file = copy.path().join("kindly.db");
    let out = kindly(data.path(), &["backup", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("backed up"));
    let err = kindly_fails(data.path(), &["backup", file.to_str().unwrap()]);
    assert!(err.contains("already exists"), "{err}");
    // Restoring is putting the file in a data directory: everything is there.
    let restored = kindly(copy.path(), &["kb", "ingest", "knowledge-base"]);
    assert!(summary(&restored).contains("0 created, 0 updated, 36 unchanged, 0 removed; 417 points"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_stops_working_at_once_on_a_running_server() {
    let data = common::data_dir();
    let create = |name: &str| {
        let out = kindly(data.path(), &["tokens", "create", "--role", "agent", "--name", name]);
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let (kept, leaked) = (create("helpdesk-bridge"), create("leaked-laptop"));
    let server = common::binary::Server::start(data.path(), &["serve"]);
    let status = |token: &str| {
        let (client, url) = (common::client_with_token(token), format!("{}/v1/handoffs", server.url));
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!((status(&kept).await, status(&leaked).await), (200, 200));

    // The list names each token and its role, never the token itself.
    let list = String::from_utf8(kindly(data.path(), &["tokens", "list"]).stdout).unwrap();
    assert!(!list.contains(&leaked) && !list.contains(&kept), "{list}");
    let row = |list: &str, name: &str| -> Vec<String> {
        let line = list.lines().find(|l| l.split('\t').nth(1) == Some(name)).expect(name);
        line.split('\t').map(str::to_owned).collect()
    };
    let leaked_row = row(&list, "leaked-laptop");
    assert_eq!((leaked_row[2].as_str(), leaked_row[4].as_str()), ("agent", "-"), "{list}");

    let out = kindly(data.path(), &["tokens", "revoke", &leaked_row[0]]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("revoked API token"));
    assert_eq!((status(&kept).await, status(&leaked).await), (200, 401));
    let list = String::from_utf8(kindly(data.path(), &["tokens", "list"]).stdout).unwrap();
    assert_ne!(row(&list, "leaked-laptop")[4], "-", "{list}");
    assert_eq!(row(&list, "helpdesk-bridge")[4], "-", "{list}");

    // Again: nothing changes; an unknown id is a clear error.
    let out = kindly(data.path(), &["tokens", "revoke", &leaked_row[0]]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already revoked"));
    let err = kindly_fails(data.path(), &["tokens", "revoke", "no-such-token"]);
    assert!(err.contains("no API token has the id \"no-such-token\""), "{err}");
}

const BABY_MONITOR: &str = r#"+++
id = "kb-900"
title = "Using the Lumo Speaker as a baby monitor"
intents = ["speaker_baby_monitor"]
questions = ["Can the Lumo Speaker be a baby monitor?", "use speaker to listen to my baby's room"]
stage = "everyday_use"
status = "published"
+++

Yes: turn on **Listen-in** in the Lumo app under Speaker > Settings.

## Details
Audio only.
"#;

/// `kindly kb ingest` beside a running server on the same data directory (a knowledge manager
/// editing the Markdown files): the server searches the new article without a restart, because
/// its in-memory index reloads when the stored points change under it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ingest_beside_a_running_server_is_searched_without_a_restart() {
    let data = common::data_dir();
    let client = common::client_with_token(&common::cli_admin_token(data.path()));
    let server = common::binary::Server::start(data.path(), &["serve"]);
    let kb = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(common::root().join("knowledge-base")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, kb.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(kb.path().join("kb-900-speaker-baby-monitor.md"), BABY_MONITOR).unwrap();
    let (data_dir, kb_dir) = (data.path().to_owned(), kb.path().to_str().unwrap().to_owned());
    let out =
        tokio::task::spawn_blocking(move || kindly(&data_dir, &["kb", "ingest", &kb_dir])).await.unwrap();
    assert!(summary(&out).contains("1 created, 0 updated, 36 unchanged"), "{}", summary(&out));

    let ticket = serde_json::json!({
        "external_id": "t-beside-1",
        "customer": { "id": "c-beside" },
        "body": "Can I use my Lumo Speaker as a baby monitor?"
    });
    let r = client.post(format!("{}/v1/tickets", server.url)).json(&ticket).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 202);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let decided = loop {
        let t: serde_json::Value =
            client.get(format!("{}/v1/tickets/{id}", server.url)).send().await.unwrap().json().await.unwrap();
        if t["status"] != "received" {
            break t;
        }
        assert!(std::time::Instant::now() < deadline, "the ticket was never triaged");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        decided["decision"]["evidence"]["knowledge"][0]["reference"]["id"], "kb-900",
        "{:#}",
        decided["decision"]
    );
}

/// `kindly labels import` beside a running server: the version it trained serves without a
/// restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_trained_beside_a_running_server_serves_without_a_restart() {
    let data = common::data_dir();
    let client = common::client_with_token(&common::cli_admin_token(data.path()));
    let server = common::binary::Server::start(data.path(), &["serve"]);
    let serving = || {
        let (client, url) = (client.clone(), format!("{}/v1/intent-models", server.url));
        async move {
            let models: serde_json::Value = client.get(url).send().await.unwrap().json().await.unwrap();
            models["serving"].as_i64().unwrap()
        }
    };
    let before = serving().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("history.csv");
    std::fs::write(&csv, "text,intent\nIs the speaker waterproof?,speaker_water_resistance\n").unwrap();
    let data_dir = data.path().to_owned();
    let out =
        tokio::task::spawn_blocking(move || kindly(&data_dir, &["labels", "import", csv.to_str().unwrap()]))
            .await
            .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find(|l| l.starts_with("intent model v")).unwrap_or_else(|| panic!("{stderr}"));
    let trained: i64 = line["intent model v".len()..].split(':').next().unwrap().parse().unwrap();
    assert!(trained > before, "{stderr}");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while serving().await != trained {
        assert!(std::time::Instant::now() < deadline, "the server still serves v{}", serving().await);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// `kindly users …` with a password in `KINDLY_PASSWORD`: its stderr.
fn users_with_password(data_dir: &Path, args: &[&str], password: &str) -> String {
    let out = run_with(data_dir, args, &[("KINDLY_PASSWORD", password)]);
    assert!(out.status.success(), "kindly {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Signs in through the form: the status, the session cookie (`kindly_session=…`) if one was set,
/// and the `Retry-After` header.
async fn sign_in(url: &str, email: &str, password: &str) -> (u16, Option<String>, Option<String>) {
    let r = common::post_sign_in(url, email, password).await;
    let header =
        |name| r.headers().get(name).map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned());
    let cookie = header(reqwest::header::SET_COOKIE)
        .map(|c| c.split(';').next().unwrap().to_owned())
        .filter(|c| c.starts_with("kindly_session="));
    (r.status().as_u16(), cookie, header(reqwest::header::RETRY_AFTER))
}

/// GET a page with a session cookie, without following redirects.
async fn page_status(url: &str, cookie: &str) -> u16 {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    client.get(url).header(reqwest::header::COOKIE, cookie).send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_managed_while_the_server_runs_and_password_guessing_is_stopped() {
    let data = common::data_dir();
    let (password, renewed) = ("a long enough password", "another long password");
    for (email, role) in [
        ("root@example.com", "admin"),
        ("ana@example.com", "agent"),
        ("kim@example.com", "knowledge_manager"),
    ] {
        users_with_password(data.path(), &["users", "add", "--email", email, "--role", role], password);
    }
    let out = kindly(data.path(), &["tokens", "create", "--user", "ana@example.com"]);
    let ana_token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let root_token = common::cli_admin_token(data.path());
    let server = common::binary::Server::start(data.path(), &["serve"]);
    let url = server.url.clone();
    // A sign-in form posted from elsewhere (no CSRF cookie and field from Kindly's page) is refused.
    let form = [("email", "ana@example.com"), ("password", password), ("next", "/console")];
    let r = reqwest::Client::new().post(format!("{url}/sign-in")).form(&form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("was not sent from Kindly"));
    let (status, ana, _) = sign_in(&url, "ana@example.com", password).await;
    let ana = ana.expect("a session cookie");
    assert_eq!((status, page_status(&format!("{url}/console"), &ana).await), (303, 200));
    let (_, kim, _) = sign_in(&url, "kim@example.com", password).await;
    let kim = kim.expect("a session cookie");
    assert_eq!(page_status(&format!("{url}/studio/articles"), &kim).await, 200);

    // A new role applies to a session already open.
    let said = users_with_password(
        data.path(),
        &["users", "set-role", "--email", "kim@example.com", "--role", "agent"],
        "",
    );
    assert!(said.contains("kim@example.com is now agent"), "{said}");
    assert_eq!(page_status(&format!("{url}/studio/articles"), &kim).await, 403);

    // Five wrong passwords, then even the right one is refused for a while, with Retry-After;
    // other people still sign in.
    for _ in 0..5 {
        assert_eq!(sign_in(&url, "kim@example.com", "a wrong guess!").await.0, 401);
    }
    let (status, cookie, retry) = sign_in(&url, "kim@example.com", password).await;
    assert_eq!((status, cookie), (429, None));
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    assert_eq!(sign_in(&url, "ana@example.com", password).await.0, 303);
    let metrics = common::client_with_token(&root_token).get(format!("{url}/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    for counted in [
        r#"kindly_sign_ins_total{outcome="form_refused"} 1"#,
        r#"kindly_sign_ins_total{outcome="wrong_password"} 5"#,
        r#"kindly_sign_ins_total{outcome="throttled"} 1"#,
        r#"kindly_sign_ins_total{outcome="ok"} 3"#,
    ] {
        assert!(metrics.contains(counted), "{counted} in\n{metrics}");
    }

    // A new password signs the person out everywhere; the new one works.
    users_with_password(data.path(), &["users", "set-password", "--email", "ana@example.com"], renewed);
    assert_eq!(page_status(&format!("{url}/console"), &ana).await, 303, "the old session ended");
    assert_eq!(sign_in(&url, "ana@example.com", password).await.0, 401);
    let (status, ana, _) = sign_in(&url, "ana@example.com", renewed).await;
    assert_eq!(status, 303);

    // Disabled: the session, the password and the API token all stop at once.
    let said = users_with_password(data.path(), &["users", "disable", "--email", "ana@example.com"], "");
    assert!(said.contains("disabled ana@example.com"), "{said}");
    assert_eq!(page_status(&format!("{url}/console"), &ana.unwrap()).await, 303);
    assert_eq!(sign_in(&url, "ana@example.com", renewed).await.0, 401);
    let r = common::client_with_token(&ana_token).get(format!("{url}/v1/handoffs")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let list = String::from_utf8(kindly(data.path(), &["users", "list"]).stdout).unwrap();
    let row = |email: &str| {
        list.lines()
            .find(|l| l.starts_with(email))
            .unwrap()
            .split('\t')
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(row("kim@example.com")[1], "agent", "{list}");
    assert_ne!(row("ana@example.com")[3], "-", "{list}");
    assert_eq!(row("root@example.com")[3], "-", "{list}");
    assert!(!list.contains("argon2"), "{list}");

    // The last admin stays; an unknown email is a clear error.
    let err =
        kindly_fails(data.path(), &["users", "set-role", "--email", "root@example.com", "--role", "agent"]);
    assert!(err.contains("last admin who can sign in"), "{err}");
    let err = kindly_fails(data.path(), &["users", "disable", "--email", "nobody@example.com"]);
    assert!(err.contains("no user has the email \"nobody@example.com\""), "{err}");
}

/// `kindly openapi | head -1`: the reader stops early, and the command ends quietly, without a
/// panic or an error. Its output (about 100 KB) is more than a pipe holds, so the write meets the
/// closed pipe whatever the timing.
#[test]
fn a_pipe_closed_early_ends_the_command_quietly() {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kindly"))
        .arg("openapi")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running kindly");
    let mut first = [0u8; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then the pipe closes
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(stderr.is_empty(), "{stderr}");
    assert!(String::from_utf8_lossy(&first).starts_with('{'));
}

//! The pages in a real browser: Debian's headless Chromium driven over WebDriver. An agent works
//! a handoff from sign-in to a reusable resolution; a knowledge manager approves a proposed
//! resolution that then answers a paraphrase, and a refused article save keeps what was typed;
//! roles and CSRF are enforced; a reply typed as the session ends and an unsaved article are
//! offered back (and forgotten on signing out); an admin manages people on their page; the
//! tickets pages show what Kindly answered and why; a team in shadow mode reads its scoreboard and
//! the would-be wrong answers.
//! Screenshots of the queue, the ticket page (also with a restored draft), the article editor,
//! the dashboard, the people page, the ticket list, a ticket's decisions and shadow mode's
//! scoreboard are saved in target/screenshots.
//!
//! Needs /usr/bin/chromium and /usr/bin/chromedriver (`scripts/install-browser.sh`, run by
//! `make test`).

mod common;
#[path = "browser/webdriver.rs"]
mod webdriver;

use std::path::PathBuf;

use common::TestApp;
use kindly_core::Role;
use kindly_server::auth::accounts;
use reqwest::StatusCode;
use serde_json::{Value, json};
use webdriver::{Browser, Driver};

const PASSWORD: &str = "a long enough password";

fn screenshots() -> PathBuf {
    common::root().join("target/screenshots")
}

async fn person(app: &TestApp, email: &str, role: Role) {
    accounts::add_user(&app.kindly.store, email, role, PASSWORD).await.unwrap();
}

async fn sign_in(app: &TestApp, driver: &Driver, profile: &tempfile::TempDir, email: &str) -> Browser {
    let browser = driver.browser(profile.path()).await;
    browser.goto(&format!("{}/console", app.url)).await;
    assert!(
        browser.current_url().await.contains("/sign-in?next=/console"),
        "{}",
        browser.current_url().await
    );
    browser.type_into("#email", email).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#sign-in").await;
    browser.find("#queue-body").await;
    browser
}

/// Submits a ticket that Kindly hands to a person; returns its handoff id.
async fn handed_off(app: &TestApp, external_id: &str, body: &str) -> (String, Value) {
    let t = app.decided(&app.submit(external_id, &format!("cust-{external_id}"), body).await).await;
    assert_eq!(t["status"], "handed_off", "{t:#}");
    (t["handoffs"][0]["id"].as_str().unwrap().to_owned(), t)
}

/// Ana, an agent, signed in to the console, with one bereavement ticket in the queue.
struct AgentDesk {
    app: TestApp,
    browser: Browser,
    handoff: String,
    ticket: Value,
    // Kept alive for the browser: the WebDriver process and the browser profile.
    _driver: Driver,
    _profile: tempfile::TempDir,
}

async fn agent_desk(external_id: &str) -> AgentDesk {
    let app = TestApp::spawn().await;
    person(&app, "ana@example.com", Role::Agent).await;
    let (handoff, ticket) =
        handed_off(&app, external_id, "My mum passed away and I need to cancel her Lumo Plus subscription.")
            .await;
    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = sign_in(&app, &driver, &profile, "ana@example.com").await;
    AgentDesk { app, browser, handoff, ticket, _driver: driver, _profile: profile }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_claims_inserts_knowledge_and_resolves_as_reusable() {
    let AgentDesk { app, browser, handoff, ticket, _driver, _profile } = agent_desk("b-1").await;

    // The queue shows the handoff with its readable reason and an SLA countdown.
    let row = browser.text("#queue-body").await;
    assert!(row.contains("Bereavement"), "{row}");
    assert!(row.contains("due in") || row.contains("overdue by"), "{row}");
    assert_eq!(browser.text("#queue-count").await, "1 ticket, most pressing first");
    browser.screenshot(&screenshots().join("queue.png")).await;
    // Nothing is past its SLA yet: the overdue view is empty and says so.
    browser.goto(&format!("{}/console?view=overdue", app.url)).await;
    assert_eq!(browser.text("#queue-count").await, "0 tickets, most pressing first");
    browser.goto(&format!("{}/console", app.url)).await;

    browser.click(&format!("a[href='/console/handoffs/{handoff}']")).await;
    assert!(browser.text(".message").await.contains("My mum passed away"));
    let why = browser.text("#why").await;
    assert!(!why.is_empty());
    browser.click("#claim").await;
    // The claim reloads the page; the old copy also has an #owner ("unassigned").
    assert_eq!(browser.text_containing("#owner", "@").await, "ana@example.com");

    // One click puts the closest knowledge into the reply.
    browser.script("document.getElementById('reply').value = 'I am so sorry for your loss.';").await;
    let snippet = browser
        .script("return document.querySelector('#knowledge-h ~ .snippet button.insert').dataset.insert;")
        .await;
    let snippet = snippet.as_str().unwrap().to_owned();
    assert!(!snippet.is_empty());
    browser.click("#knowledge-h ~ .snippet button.insert").await;
    let reply = browser.value("#reply").await;
    assert!(reply.starts_with("I am so sorry for your loss.") && reply.contains(&snippet), "{reply}");
    browser.screenshot(&screenshots().join("ticket.png")).await;

    browser.click("#reusable").await;
    browser.click("#resolve").await;
    browser.find("#queue-body").await;

    let (s, h) = app.get(&format!("/v1/handoffs/{handoff}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h["status"], "resolved", "{h:#}");
    assert_eq!(h["agent"], "ana@example.com");
    let (_, t) = app.get(&format!("/v1/tickets/{}", ticket["id"].as_str().unwrap())).await;
    let sent = t["messages"].as_array().unwrap().last().unwrap()["body"].as_str().unwrap().to_owned();
    assert!(sent.contains(&snippet), "{t:#}");
    // Reusable: indexed as approved knowledge (not waiting for review).
    assert!(app.kindly.store.proposed_resolutions(10).await.unwrap().is_empty());

    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tickets_page_shows_what_kindly_answered_and_why() {
    let AgentDesk { app, browser, handoff, ticket: _, _driver, _profile } = agent_desk("b-tickets").await;
    let answered = app
        .decided(
            &app.submit("b-tickets-2", "cust-routine", "How do I reset my password for the Lumo app?").await,
        )
        .await;
    assert_eq!(answered["status"], "answered", "{answered:#}");
    let answered_id = answered["id"].as_str().unwrap();

    // From the nav: every ticket, newest first, each with its decision in a sentence.
    browser.click("nav a[href='/tickets']").await;
    assert_eq!(browser.text("#ticket-count").await, "2 tickets; newest first");
    let rows = browser.text("#tickets tbody").await;
    assert!(rows.contains("answered: intent reset_password"), "{rows}");
    assert!(rows.contains("Bereavement") || rows.contains("bereavement"), "{rows}");
    browser.screenshot(&screenshots().join("tickets.png")).await;
    // Only the answered ones, then the story of one: the reply it sent and why.
    browser.click("a[href='/tickets?status=answered']").await;
    assert_eq!(
        browser.text_containing("#ticket-count", "answered").await,
        "1 ticket, answered; newest first"
    );
    browser.click(&format!("a[href='/tickets/{answered_id}']")).await;
    let decision = browser.text(".decision").await;
    assert!(decision.starts_with("Answered from article kb-011"), "{decision}");
    assert!(decision.contains("Kindly answers from"), "the numbers in words: {decision}");
    assert!(browser.text(".message.kindly").await.contains("kb-011"), "the answer as sent");
    assert!(browser.text("#handoffs-h ~ p").await.contains("no person was needed"));
    browser.script("document.getElementById('decisions-h').scrollIntoView();").await;
    browser.screenshot(&screenshots().join("ticket-decisions.png")).await;

    // From a handoff, its ticket's page, and back to the handoff.
    browser.goto(&format!("{}/console/handoffs/{handoff}", app.url)).await;
    browser.click("#ticket-link").await;
    let decision = browser.text_containing(".decision", "Handed off").await;
    assert!(decision.contains("Bereavement"), "{decision}");
    assert_eq!(browser.text("#status").await, "handed off");
    browser.click(&format!("a[href='/console/handoffs/{handoff}']")).await;
    browser.find("#claim").await;
    assert!(browser.current_url().await.ends_with(&handoff));

    browser.close().await;
    app.stop().await;
}

/// A team in shadow mode reads the scoreboard on the dashboard and, from it, the would-be answers
/// a person corrected: what they would have sent wrongly had Kindly been live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_in_shadow_mode_reads_the_would_be_wrong_answers() {
    let app = TestApp::spawn_with(|s| s.pipeline.shadow_mode = true).await;
    person(&app, "kim@example.com", Role::KnowledgeManager).await;
    let mut would_answer = Vec::new();
    for (id, body, agent_intent) in [
        ("b-shadow-1", "How do I reset my password for the Lumo app?", None),
        (
            "b-shadow-2",
            "I was charged twice for the same order, can I get my money back?",
            Some("refund_status"),
        ),
    ] {
        let (handoff, t) = handed_off(&app, id, body).await;
        assert!(!t["decision"]["evidence"]["shadow"]["would_answer"].is_null(), "{t:#}");
        let predicted = t["decision"]["evidence"]["intent"]["intent"].as_str().unwrap().to_owned();
        app.post(&format!("/v1/handoffs/{handoff}/claim"), json!({ "agent": "ana" })).await;
        let verdict = agent_intent.unwrap_or(&predicted);
        let (s, r) = app
            .post(
                &format!("/v1/handoffs/{handoff}/resolve"),
                json!({ "agent": "ana", "reply": "Done for you.", "reusable": false, "intent": verdict }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        would_answer.push((t["id"].as_str().unwrap().to_owned(), predicted));
    }
    handed_off(&app, "b-shadow-3", "My father died last week and I need to close his account.").await;

    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = sign_in(&app, &driver, &profile, "kim@example.com").await;
    browser.click("nav a[href='/studio/dashboard']").await;
    let board = browser.text("#shadow").await;
    assert!(board.contains("Shadow mode is on"), "{board}");
    assert!(board.contains("66.7% of the latest 3 shadow decisions"), "{board}");
    assert!(board.contains("50.0% of the 2 would-be answers a person has judged were right"), "{board}");
    let per_intent = browser.text("#shadow-intents").await;
    assert!(per_intent.contains(&would_answer[1].1), "{per_intent}");
    // The correction is also one of the intents people corrected, shadow mode or not.
    let corrections = browser.text("#corrections").await;
    assert!(corrections.contains(&format!("{} refund_status 1", would_answer[1].1)), "{corrections}");
    browser.screenshot(&screenshots().join("shadow.png")).await;

    // The number of wrong ones leads to them.
    browser.click("#shadow-corrected").await;
    let caption = browser.text_containing("#ticket-count", "shadow mode").await;
    assert_eq!(
        caption,
        "1 ticket; shadow mode: would have answered, but the person gave another intent; newest first"
    );
    let rows = browser.text("#tickets tbody").await;
    assert!(rows.contains("I was charged twice") && !rows.contains("reset my password"), "{rows}");
    assert!(rows.contains("Kindly would have answered"), "{rows}");
    assert!(browser.exists("#shadow option[value='corrected'][selected]").await);

    // So does the per-intent table's: the would-be wrong answers of one predicted intent.
    let intent = &would_answer[1].1;
    browser.click("nav a[href='/studio/dashboard']").await;
    browser.click(&format!("#shadow-intents a.corrected[href*='predicted_intent={intent}&']")).await;
    let caption = browser.text_containing("#ticket-count", "predicted as").await;
    assert_eq!(
        caption,
        format!(
            "1 ticket, predicted as {intent}; shadow mode: would have answered, but the person gave \
             another intent; newest first"
        )
    );
    let rows = browser.text("#tickets tbody").await;
    assert!(rows.contains("I was charged twice") && !rows.contains("reset my password"), "{rows}");

    browser.close().await;
    app.stop().await;
}

/// The keys of the drafts this browser holds (`kindly.js`).
async fn drafts_held(browser: &Browser) -> Value {
    browser.script("return Object.keys(localStorage).filter((k) => k.startsWith('kindly-draft:'));").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_typed_as_the_session_ends_is_back_after_signing_in() {
    let AgentDesk { app, browser, handoff, ticket, _driver, _profile } = agent_desk("b-5").await;
    browser.goto(&format!("{}/console/handoffs/{handoff}", app.url)).await;
    browser.click("#claim").await;
    browser.text_containing("#owner", "@").await;
    let reply =
        "I am so sorry for your loss. I have cancelled the subscription; nothing more will be charged.";
    browser.type_into("#reply", reply).await;

    // The session ends while she types (here: her password is reset, which ends every session).
    accounts::reset_password(&app.kindly.store, "ana@example.com", PASSWORD).await.unwrap();
    browser.click("#resolve").await;
    browser.find("#password").await;
    let url = browser.current_url().await;
    assert!(url.ends_with(&format!("/sign-in?next=/console/handoffs/{handoff}")), "{url}");
    browser.type_into("#email", "ana@example.com").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#sign-in").await;

    // Back on the ticket, with her reply restored and a word that it was not sent.
    assert!(browser.text("#draft-restored").await.contains("it was not sent"));
    assert_eq!(browser.value("#reply").await, reply);
    browser.screenshot(&screenshots().join("draft-restored.png")).await;
    let (_, h) = app.get(&format!("/v1/handoffs/{handoff}")).await;
    assert_eq!(h["status"], "claimed", "nothing was sent while signed out");
    browser.click("#resolve").await;
    browser.find("#queue-body").await;
    let (_, t) = app.get(&format!("/v1/tickets/{}", ticket["id"].as_str().unwrap())).await;
    assert_eq!(t["messages"].as_array().unwrap().last().unwrap()["body"], reply, "{t:#}");
    // Sent and accepted: the browser keeps no copy.
    assert_eq!(drafts_held(&browser).await, json!([]));

    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsaved_article_is_offered_back_and_can_be_discarded_or_forgotten_on_signing_out() {
    let app = TestApp::spawn().await;
    person(&app, "kim@example.com", Role::KnowledgeManager).await;
    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = sign_in(&app, &driver, &profile, "kim@example.com").await;

    // Typed, then the tab moved on without saving: the editor offers it back.
    browser.goto(&format!("{}/studio/articles/new", app.url)).await;
    browser.type_into("#title", "Pool-side speakers").await;
    browser.type_into("#body", "Half an article, typed on a Friday afternoon.").await;
    browser.goto(&format!("{}/studio/articles", app.url)).await;
    browser.goto(&format!("{}/studio/articles/new", app.url)).await;
    assert!(browser.text("#draft-restored").await.contains("it was not sent"));
    assert_eq!(browser.value("#title").await, "Pool-side speakers");
    assert_eq!(browser.value("#body").await, "Half an article, typed on a Friday afternoon.");
    // "Discard it" puts the page back as it came and forgets the draft.
    browser.click("#discard-draft").await;
    assert_eq!(browser.value("#body").await, "");
    assert!(!browser.exists("#draft-restored").await);
    assert_eq!(drafts_held(&browser).await, json!([]));

    // Signing out forgets every draft: the next person at this browser sees none.
    browser.type_into("#body", "Not for the next person.").await;
    assert_eq!(drafts_held(&browser).await.as_array().unwrap().len(), 1);
    browser.click("form.who button").await;
    browser.find("#password").await;
    browser.type_into("#email", "kim@example.com").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("#sign-in").await;
    browser.find("#queue-body").await;
    assert_eq!(drafts_held(&browser).await, json!([]));
    browser.goto(&format!("{}/studio/articles/new", app.url)).await;
    assert_eq!(browser.value("#body").await, "");
    assert!(!browser.exists("#draft-restored").await);

    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_knowledge_manager_approves_a_proposal_that_then_answers_a_paraphrase() {
    let app = TestApp::spawn().await;
    person(&app, "kim@example.com", Role::KnowledgeManager).await;
    let (handoff, _) =
        handed_off(&app, "b-2", "Is the Lumo Speaker waterproof? Can I use it by the pool?").await;
    let reply = "The Lumo Speaker is splash-resistant (IPX4): rain and pool splashes are fine, but please don't submerge it.";
    let (s, r) = app
        .post(
            &format!("/v1/handoffs/{handoff}/resolve"),
            json!({ "agent": "ben", "reply": reply, "reusable": false, "intent": "speaker_water_resistance" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");

    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = sign_in(&app, &driver, &profile, "kim@example.com").await;
    browser.goto(&format!("{}/studio/review", app.url)).await;
    let proposal = browser.text(".proposal").await;
    assert!(
        proposal.contains("Lumo Speaker waterproof") && proposal.contains("Near-duplicates"),
        "{proposal}"
    );
    browser.click(".proposal button.approve").await;
    browser.find("#no-proposals").await;

    let t = app
        .decided(
            &app.submit(
                "b-3",
                "cust-b-3",
                "Can my Lumo speaker get wet? I want to take it to the swimming pool.",
            )
            .await,
        )
        .await;
    assert_eq!(t["status"], "answered", "{:#}", t["decision"]);
    assert_eq!(t["decision"]["outcome"]["knowledge"]["source"], "resolution");
    assert!(t["answer"]["body"].as_str().unwrap().contains("IPX4"));

    // The article editor: edit an article, and the history shows a diff between versions.
    browser.goto(&format!("{}/studio/articles", app.url)).await;
    browser.type_into("#ask", "how do I reset my password").await;
    browser.click("#try").await;
    assert!(browser.text("#retrieved").await.contains("0."));
    let first =
        browser.script("return document.querySelector('table:last-of-type a').getAttribute('href');").await;
    browser.goto(&format!("{}{}", app.url, first.as_str().unwrap())).await;
    let body = browser.value("#body").await;
    browser.type_into("#body", &format!("{body}\n\nUpdated by the studio test.  ")).await;
    // Typed the way people type (no space after a comma); the page shows it back tidied.
    let intents = browser.value("#intents").await;
    browser.type_into("#intents", &intents.replace(", ", ",")).await;
    browser.click("#save").await;
    // Saved: the page says so, and the browser keeps no draft (nor offers one back) although
    // what it shows back differs from what was typed.
    assert!(browser.text("#saved").await.starts_with("Saved as version"));
    assert!(!browser.exists("#draft-restored").await);
    assert_eq!(drafts_held(&browser).await, json!([]));
    browser.click("#versions a").await;
    assert!(browser.text("#diff").await.contains("+ Updated by the studio test."));
    browser.screenshot(&screenshots().join("article-editor.png")).await;

    // A refused save (the id is taken) shows why and keeps everything typed; fixing it saves.
    browser.goto(&format!("{}/studio/articles/new", app.url)).await;
    browser.type_into("#id", "kb-001").await;
    browser.type_into("#title", "Pool-side speakers").await;
    browser.type_into("#body", "Typed for a long Friday afternoon.").await;
    browser.click("#save").await;
    assert!(browser.text("#save-error").await.contains("article kb-001 already exists"));
    assert_eq!(browser.value("#body").await, "Typed for a long Friday afternoon.");
    assert_eq!(browser.value("#title").await, "Pool-side speakers");
    browser.type_into("#id", "kb-900").await;
    browser.click("#save").await;
    browser.find("#versions").await;
    assert!(browser.current_url().await.ends_with("/studio/articles/kb-900?saved=true"));
    assert_eq!(drafts_held(&browser).await, json!([]), "the new article's draft is settled too");

    // Knowledge gaps: the speaker question found no knowledge; one click drafts an article.
    browser.goto(&format!("{}/studio/gaps", app.url)).await;
    assert!(browser.text(".gap").await.contains("Lumo Speaker waterproof"));
    browser.click(".gap button.draft").await;
    browser.find("#versions").await;
    assert!(browser.current_url().await.contains("/studio/articles/draft-"));
    assert_eq!(browser.value("#status").await, "draft");
    assert!(browser.value("#questions").await.contains("Lumo Speaker waterproof"));

    browser.goto(&format!("{}/studio/dashboard", app.url)).await;
    assert!(browser.exists("svg.chart rect").await, "{}", browser.source().await);
    assert!(browser.text("#intents").await.contains("speaker_water_resistance"));
    assert!(
        !browser.exists("#shadow").await,
        "no shadow-mode scoreboard while live with no shadow decisions"
    );
    browser.screenshot(&screenshots().join("dashboard.png")).await;

    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_manages_people_from_the_people_page() {
    let app = TestApp::spawn().await;
    person(&app, "ada@example.com", Role::Admin).await;
    person(&app, "ana@example.com", Role::Agent).await;
    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = sign_in(&app, &driver, &profile, "ada@example.com").await;
    browser.click("nav a[href='/admin/people']").await;
    let table = browser.text("#people").await;
    assert!(table.contains("ada@example.com (you)") && table.contains("ana@example.com"), "{table}");
    // No button locks the admin out of her own account.
    assert!(!browser.exists("button[aria-label='Disable ada@example.com']").await);

    // Add someone; the page says what was done.
    browser.type_into("#new-email", "bo@example.com").await;
    browser.click("#new-role option[value='knowledge_manager']").await;
    browser.type_into("#new-password", PASSWORD).await;
    browser.click("#add-person").await;
    // The click returns before the next page is in: wait for the words, not just the element.
    let done = browser.text_containing("#done", "was added").await;
    assert!(done.starts_with("bo@example.com was added as Knowledge manager."), "{done}");
    assert_eq!(
        common::post_sign_in(&app.url, "bo@example.com", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    // The same email again is refused with the reason, the typed email kept.
    browser.type_into("#new-email", "bo@example.com").await;
    browser.type_into("#new-password", PASSWORD).await;
    browser.click("#add-person").await;
    assert!(browser.text("#people-error").await.contains("a user with email bo@example.com already exists"));
    assert_eq!(browser.value("#new-email").await, "bo@example.com");

    // A new role for ana, then bo leaves: disabled, he can no longer sign in.
    let row = |action: &str, email: &str| {
        format!("form[action='/admin/people/{action}']:has(input[value='{email}'])")
    };
    browser.click(&format!("{} option[value='knowledge_manager']", row("role", "ana@example.com"))).await;
    browser.click(&format!("{} button", row("role", "ana@example.com"))).await;
    browser.text_containing("#done", "ana@example.com is now Knowledge manager").await;
    let users = app.kindly.store.users().await.unwrap();
    assert_eq!(
        users.iter().find(|u| u.user.email == "ana@example.com").unwrap().user.role,
        Role::KnowledgeManager
    );
    browser.click("button[aria-label='Disable bo@example.com']").await;
    browser.text_containing("#done", "bo@example.com was disabled").await;
    browser.text_containing("#people", "disabled since").await;
    assert_eq!(
        common::post_sign_in(&app.url, "bo@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    browser.click("button[aria-label='Enable bo@example.com']").await;
    browser.text_containing("#done", "bo@example.com may sign in again").await;
    // A new password for ana ends her sessions.
    let ana = session_cookie(&app, "ana@example.com").await;
    browser.type_into("input[aria-label='New password for ana@example.com']", "another long password").await;
    browser.click(&format!("{} button", row("password", "ana@example.com"))).await;
    browser
        .text_containing("#done", "ana@example.com has a new password and was signed out everywhere")
        .await;
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r =
        plain.get(format!("{}/console", app.url)).header(reqwest::header::COOKIE, &ana).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "her old session ended");
    browser.screenshot(&screenshots().join("people.png")).await;
    // Deliveries, with no helpdesk connected: the page says how to connect one.
    browser.click("nav a[href='/deliveries']").await;
    assert!(browser.text("#connections").await.contains("No helpdesk connection is configured"));
    assert_eq!(browser.text("#no-deliveries").await, "Nothing here.");
    browser.screenshot(&screenshots().join("deliveries.png")).await;
    browser.close().await;

    // Posted by hand: her own account and a short password are refused in words; others get 403.
    let ada = session_cookie(&app, "ada@example.com").await;
    let page = plain
        .get(format!("{}/admin/people", app.url))
        .header(reqwest::header::COOKIE, &ada)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let post = |path: &str, cookie: &str, form: Vec<(&str, &str)>| {
        plain.post(format!("{}{path}", app.url)).header(reqwest::header::COOKIE, cookie).form(&form).send()
    };
    let r = post("/admin/people/disable", &ada, vec![("csrf", &csrf), ("email", "ada@example.com")])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("you cannot disable your own account here"));
    let form =
        vec![("csrf", csrf.as_str()), ("email", "cy@example.com"), ("role", "agent"), ("password", "short")];
    let r = post("/admin/people", &ada, form).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = r.text().await.unwrap();
    assert!(
        refused.contains("at least 12 characters") && refused.contains("value=\"cy@example.com\""),
        "{refused}"
    );
    let form = vec![("csrf", csrf.as_str()), ("email", "ana@example.com"), ("role", "root")];
    assert_eq!(
        post("/admin/people/role", &ada, form).await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let bo = session_cookie(&app, "bo@example.com").await;
    let r = plain
        .get(format!("{}/admin/people", app.url))
        .header(reqwest::header::COOKIE, &bo)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("the knowledge_manager role may not manage people"));
    assert_eq!(app.kindly.store.users().await.unwrap().len(), 3, "nothing refused was stored");
    app.stop().await;
}

/// Signs in over plain HTTP and returns the session cookie (`kindly_session=…`).
async fn session_cookie(app: &TestApp, email: &str) -> String {
    let r = common::post_sign_in(&app.url, email, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_csrf_are_enforced() {
    let app = TestApp::spawn().await;
    person(&app, "ana@example.com", Role::Agent).await;
    person(&app, "kim@example.com", Role::KnowledgeManager).await;

    // Unauthenticated: the API answers 401 JSON, pages send the browser to sign in.
    let anonymous = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = anonymous.get(format!("{}/v1/handoffs", app.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "unauthenticated");
    let r = anonymous.get(format!("{}/studio/articles", app.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[reqwest::header::LOCATION], "/sign-in?next=/studio/articles");
    let r = anonymous.get(format!("{}/healthz", app.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The icon, asked for by every browser before anyone signs in.
    let r = anonymous.get(format!("{}/favicon.ico", app.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[reqwest::header::CONTENT_TYPE], "image/svg+xml");
    let r = reqwest::Client::new()
        .get(format!("{}/v1/handoffs", app.url))
        .bearer_auth("kdl_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // An agent is refused on article editing, in the browser and through the API.
    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = sign_in(&app, &driver, &profile, "ana@example.com").await;
    assert!(!browser.source().await.contains("/studio/articles"), "agents see no studio links");
    browser.goto(&format!("{}/studio/articles/kb-001", app.url)).await;
    assert_eq!(browser.script("return document.querySelector('h1').textContent;").await, "403");
    assert!(!browser.exists("#body").await);
    browser.close().await;
    let agent = common::client_with_token(
        &accounts::token_for_user(&app.kindly.store, "ana@example.com").await.unwrap(),
    );
    let article = json!({ "id": "kb-900", "title": "Agents cannot write this", "body": "No." });
    let r = agent.post(format!("{}/v1/kb/articles", app.url)).json(&article).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "forbidden");

    // A knowledge manager cannot resolve a ticket someone else has claimed.
    let (handoff, _) =
        handed_off(&app, "b-4", "My mum passed away and I need to cancel her Lumo Plus subscription.").await;
    let r = agent
        .post(format!("{}/v1/handoffs/{handoff}/claim", app.url))
        .json(&json!({ "agent": "ana@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let kim = session_cookie(&app, "kim@example.com").await;
    let page = reqwest::Client::new()
        .get(format!("{}/console/handoffs/{handoff}", app.url))
        .header(reqwest::header::COOKIE, &kim)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("id=\"resolve\""), "no resolve form for someone else's claim");
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resolve = |token: Option<String>| {
        let mut form = vec![("reply", "Sorted.".to_owned())];
        if let Some(t) = token {
            form.push(("csrf", t));
        }
        no_redirects
            .post(format!("{}/console/handoffs/{handoff}/resolve", app.url))
            .header(reqwest::header::COOKIE, &kim)
            .form(&form)
            .send()
    };
    let r = resolve(Some(csrf.clone())).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let refused = r.text().await.unwrap();
    assert!(refused.contains("ana@example.com has claimed this ticket"), "{refused}");
    // the refused reply is shown back, not lost
    assert!(refused.contains("<pre id=\"unsent\">Sorted.</pre>"), "{refused}");

    // CSRF: the same session's form post without its token (or with another) is refused.
    let ana = session_cookie(&app, "ana@example.com").await;
    let post = |token: Option<&str>| {
        let mut form = vec![("reply", "Sorted.")];
        if let Some(t) = token {
            form.push(("csrf", t));
        }
        no_redirects
            .post(format!("{}/console/handoffs/{handoff}/resolve", app.url))
            .header(reqwest::header::COOKIE, &ana)
            .form(&form)
            .send()
    };
    for token in [None, Some(csrf.as_str())] {
        let r = post(token).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{token:?}");
        assert!(r.text().await.unwrap().contains("data-code=\"csrf\""));
    }
    let (_, h) = app.get(&format!("/v1/handoffs/{handoff}")).await;
    assert_eq!(h["status"], "claimed", "nothing was resolved by a refused post");
    app.stop().await;
}

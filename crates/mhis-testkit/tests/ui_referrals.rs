//! Referral pages at the HTTP level: a cookie-keeping client signs in as a
//! browser would and works through the HTML pages of the real server
//! (SQLite): confirming a suggested referral on the assessment page, the
//! receiving site's inbox, the referral page and its actions, the overdue
//! notice of the home page.

use mhis_server::auth::{NewAccount, create_account};
use mhis_testkit::web::{Page, browser, csrf, get, post};
use mhis_testkit::{Backend, TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

async fn app() -> TestApp {
    spawn_app(Backend::Sqlite).await.expect("SQLite test app")
}

/// Creates a site through the JSON API; returns its id.
async fn site(app: &TestApp, code: &str) -> String {
    let body = app
        .admin
        .post(
            "/api/v1/sites",
            &json!({"code": code, "kind": "assessment_centre", "country": "TJ",
                    "name": format!("Centre {code}")}),
        )
        .await
        .expect(201);
    body["id"].as_str().unwrap().to_owned()
}

/// Creates a password account at the sites with these codes.
async fn account(app: &TestApp, username: &str, role: &str, sites: &[&str]) {
    create_account(
        &app.state,
        &NewAccount {
            username: username.into(),
            display_name: format!("Test {username}"),
            role: role.into(),
            sites: sites.iter().map(|s| (*s).to_owned()).collect(),
            national: sites.is_empty(),
            password: PASSWORD.into(),
            language: None,
        },
        "test",
    )
    .await
    .expect("create account");
}

/// A signed-in browser of `username`.
async fn login(app: &TestApp, username: &str) -> reqwest::Client {
    let client = browser();
    let form = get(app, &client, "/login").await;
    let token = csrf(&form.html);
    let p = post(
        app,
        &client,
        "/login",
        &[
            ("csrf", &token),
            ("username", username),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert_eq!(p.path, "/");
    client
}

/// Posts a form of the page at `from`, with that page's CSRF token.
async fn submit(
    app: &TestApp,
    client: &reqwest::Client,
    from: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> Page {
    let token = csrf(&get(app, client, from).await.html);
    let mut form = vec![("csrf", token.as_str())];
    form.extend_from_slice(fields);
    post(app, client, action, &form).await
}

/// The id in the first link to a referral page.
fn referral_id(html: &str) -> String {
    let marker = "href=\"/referrals/";
    let start = html.find(marker).expect("a link to a referral") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The stored referral and its timeline length, through the JSON API.
async fn stored(app: &TestApp, id: &str) -> (String, usize) {
    let body = app
        .get(&format!("/api/v1/referrals/{id}"))
        .await
        .expect(200);
    (
        body["state"].as_str().unwrap().to_owned(),
        body["timeline"].as_array().unwrap().len(),
    )
}

#[tokio::test]
async fn a_suggested_referral_goes_to_another_site_and_its_outcome_comes_back() {
    let app = app().await;
    let site_a = site(&app, "TJ-DYU-01").await;
    let site_b = site(&app, "TJ-DYU-02").await;
    site(&app, "TJ-DYU-03").await;
    account(&app, "doc.a", "clinician", &["TJ-DYU-01"]).await;
    account(&app, "doc.b", "clinician", &["TJ-DYU-02"]).await;
    account(&app, "reg.b", "registrar", &["TJ-DYU-02"]).await;
    account(&app, "doc.c", "clinician", &["TJ-DYU-03"]).await;
    let assessment = mhis_testkit::assessed_with_suggestions(&app, &site_a).await;
    let assessment_path = format!("/assessments/{assessment}");

    // The referring clinician sees the suggestions with their forms.
    let doc_a = login(&app, "doc.a").await;
    let home = get(&app, &doc_a, "/").await;
    assert!(home.html.contains("href=\"/referrals\""), "nav link");
    let p = get(&app, &doc_a, &assessment_path).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("Suggested by the protocol"), "{}", p.html);
    assert!(p.html.contains("name=\"reason\" value=\"tb_evaluation\""));
    assert!(p.html.contains("name=\"reason\" value=\"hepatitis_care\""));
    assert!(p.html.contains(&format!("value=\"site:{site_b}\"")));
    assert!(
        p.html
            .contains("No referral written from this assessment yet.")
    );

    // Without a receiver the confirmation is refused next to its form.
    let action = format!("{assessment_path}/referrals");
    let refused = submit(
        &app,
        &doc_a,
        &assessment_path,
        &action,
        &[
            ("reason", "tb_evaluation"),
            ("to", ""),
            ("urgency", "routine"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("Choose where to send the referral."));
    assert!(
        refused
            .html
            .contains("No referral written from this assessment yet.")
    );

    // Confirmed to the second site: created and sent, received at once.
    let to = format!("site:{site_b}");
    let done = submit(
        &app,
        &doc_a,
        &assessment_path,
        &action,
        &[
            ("reason", "tb_evaluation"),
            ("to", &to),
            ("urgency", "urgent"),
            ("due_date", ""),
            ("note", "CXR upper-lobe opacity"),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert_eq!(done.path, assessment_path);
    assert!(done.html.contains("already referred"));
    let id = referral_id(&done.html);
    let referral_path = format!("/referrals/{id}");
    assert_eq!(stored(&app, &id).await.0, "received");

    // The receiving clinician finds it in the inbox.
    let doc_b = login(&app, "doc.b").await;
    let inbox = get(&app, &doc_b, "/referrals").await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.html.contains("Inbox (1)"), "{}", inbox.html);
    assert!(inbox.html.contains("Sent (0)"));
    assert!(inbox.html.contains(&format!("href=\"{referral_path}\"")));
    assert!(inbox.html.contains("TB evaluation"));
    assert!(inbox.html.contains("Urgent"));
    let outbox = get(&app, &doc_b, "/referrals?view=outbox").await;
    assert!(!outbox.html.contains(&referral_path));

    // The referral page: person, note, summary, timeline, the accept form.
    let p = get(&app, &doc_b, &referral_path).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("Rakhimov"));
    assert!(p.html.contains("CXR upper-lobe opacity"));
    assert!(p.html.contains("Chest X-ray reading"));
    assert!(p.html.contains("Suggestive of TB"));
    assert!(
        p.html
            .contains(&format!("action=\"{referral_path}/accept\""))
    );
    assert!(
        !p.html
            .contains(&format!("action=\"{referral_path}/cancel\""))
    );
    assert!(
        !p.html
            .contains(&format!("action=\"{referral_path}/outcome\""))
    );
    assert!(
        !p.html.contains("href=\"/assessments/"),
        "no link to another site's assessment"
    );

    // The referrer sees a cancel form before acceptance, not an accept form.
    let p = get(&app, &doc_a, &referral_path).await;
    assert!(
        p.html
            .contains(&format!("action=\"{referral_path}/cancel\""))
    );
    assert!(
        !p.html
            .contains(&format!("action=\"{referral_path}/accept\""))
    );

    // Accepted.
    let accepted = submit(
        &app,
        &doc_b,
        &referral_path,
        &format!("{referral_path}/accept"),
        &[],
    )
    .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.html);
    assert_eq!(accepted.path, referral_path);
    assert!(accepted.html.contains("Accepted"));
    assert!(
        accepted
            .html
            .contains(&format!("action=\"{referral_path}/outcome\""))
    );
    assert!(
        !accepted
            .html
            .contains(&format!("action=\"{referral_path}/accept\""))
    );
    assert_eq!(stored(&app, &id).await, ("accepted".to_owned(), 3));

    // Cancelling after acceptance is refused with a message; nothing changes.
    let cancel = format!("{referral_path}/cancel");
    let refused = post(
        &app,
        &doc_a,
        &cancel,
        &[
            ("csrf", &csrf(&get(&app, &doc_a, "/").await.html)),
            ("note", "changed my mind"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused
            .html
            .contains("not possible in the referral’s current state"),
        "{}",
        refused.html
    );
    assert_eq!(stored(&app, &id).await, ("accepted".to_owned(), 3));
    // Without the CSRF token, a POST is refused outright.
    let p = post(&app, &doc_a, &cancel, &[("note", "x")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);

    // An outcome that is not one of the six is refused.
    let outcome = format!("{referral_path}/outcome");
    let bad = submit(
        &app,
        &doc_b,
        &referral_path,
        &outcome,
        &[("outcome", "cured")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("Choose one of the listed outcomes."));
    assert_eq!(stored(&app, &id).await, ("accepted".to_owned(), 3));

    // The outcome is reported...
    let reported = submit(
        &app,
        &doc_b,
        &referral_path,
        &outcome,
        &[
            ("outcome", "treatment_started"),
            ("date", ""),
            ("note", "started on 4-drug regimen"),
        ],
    )
    .await;
    assert_eq!(reported.status, StatusCode::OK, "{}", reported.html);
    assert!(reported.html.contains("Treatment started"));
    assert!(reported.html.contains("started on 4-drug regimen"));
    assert_eq!(stored(&app, &id).await.0, "outcome_reported");

    // ...and shows on the assessment page of the referring site, with the
    // timeline on the referral page and the form to close the loop.
    let p = get(&app, &doc_a, &assessment_path).await;
    assert!(p.html.contains(&format!("href=\"{referral_path}\"")));
    assert!(p.html.contains("Treatment started"), "{}", p.html);
    assert!(p.html.contains("Outcome reported"));
    let p = get(&app, &doc_a, &referral_path).await;
    for step in ["Sent", "Received", "Accepted", "Outcome reported"] {
        assert!(
            p.html.contains(&format!("<td>{step}</td>")),
            "timeline lacks {step}"
        );
    }
    assert!(p.html.contains("doc.b"), "the actor is shown");
    assert!(
        p.html
            .contains(&format!("action=\"{referral_path}/close\""))
    );
    assert!(p.html.contains(&format!("href=\"{assessment_path}\"")));

    // A registrar of the receiving site reads the page, with no action form.
    let reg_b = login(&app, "reg.b").await;
    let p = get(&app, &reg_b, &referral_path).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("Rakhimov"));
    assert!(!p.html.contains(&format!("action=\"{referral_path}/")));
    let p = get(&app, &reg_b, "/referrals").await;
    assert!(p.html.contains(&referral_path));

    // A user of a third site: not found, and not listed.
    let doc_c = login(&app, "doc.c").await;
    let p = get(&app, &doc_c, &referral_path).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    let p = get(&app, &doc_c, "/referrals").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("Inbox (0)"));
    assert!(!p.html.contains(&referral_path));
    let p = submit(&app, &doc_c, "/", &format!("{referral_path}/close"), &[]).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);

    // The referrer closes the loop.
    let closed = submit(
        &app,
        &doc_a,
        &referral_path,
        &format!("{referral_path}/close"),
        &[],
    )
    .await;
    assert_eq!(closed.status, StatusCode::OK);
    assert_eq!(stored(&app, &id).await.0, "closed");
    assert!(!closed.html.contains(&format!("action=\"{referral_path}/")));
}

#[tokio::test]
async fn the_home_page_shows_overdue_referrals_once_the_due_date_passes() {
    let app = app().await;
    let site_a = site(&app, "TJ-DYU-01").await;
    let site_b = site(&app, "TJ-DYU-02").await;
    site(&app, "TJ-DYU-03").await;
    account(&app, "doc.a", "clinician", &["TJ-DYU-01"]).await;
    account(&app, "doc.c", "clinician", &["TJ-DYU-03"]).await;
    let assessment = mhis_testkit::assessed_with_suggestions(&app, &site_a).await;
    let created = app
        .post(
            &format!("/api/v1/assessments/{assessment}/referrals"),
            &json!({"reason": "tb_evaluation", "to_site_id": site_b, "send": true}),
        )
        .await
        .expect(201);
    let referral_path = format!("/referrals/{}", created["id"].as_str().unwrap());

    let doc_a = login(&app, "doc.a").await;
    let home = get(&app, &doc_a, "/").await;
    assert!(
        !home.html.contains("Overdue referrals"),
        "nothing overdue yet"
    );
    let p = get(&app, &doc_a, "/referrals?view=outbox").await;
    assert!(p.html.contains("Sent (1)"));
    assert!(p.html.contains("Overdue (0)"));
    assert!(!p.html.contains("class=\"overdue\""));

    // tb_evaluation is due in 30 days; 31 days later it is overdue (the
    // sessions have expired by then: sign in again).
    app.advance_days(31);
    let doc_a = login(&app, "doc.a").await;
    let home = get(&app, &doc_a, "/").await;
    assert!(home.html.contains("Overdue referrals: 1"), "{}", home.html);
    assert!(home.html.contains("href=\"/referrals?view=overdue\""));
    let p = get(&app, &doc_a, "/referrals?view=overdue").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("Overdue (1)"));
    assert!(p.html.contains("class=\"overdue\""));
    assert!(p.html.contains(&referral_path));
    let p = get(&app, &doc_a, &referral_path).await;
    assert!(p.html.contains("badge-overdue"));

    // Another site's user sees no notice; an unknown list is not found.
    let doc_c = login(&app, "doc.c").await;
    let home = get(&app, &doc_c, "/").await;
    assert!(!home.html.contains("Overdue referrals"));
    let p = get(&app, &doc_c, "/referrals?view=everything").await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_are_translated() {
    let app = app().await;
    let site_a = site(&app, "TJ-DYU-01").await;
    account(&app, "doc.a", "clinician", &["TJ-DYU-01"]).await;
    let assessment = mhis_testkit::assessed_with_suggestions(&app, &site_a).await;
    let doc_a = login(&app, "doc.a").await;
    get(&app, &doc_a, "/lang/ru?next=/").await;
    let p = get(&app, &doc_a, "/referrals?view=outbox").await;
    assert!(p.html.contains("Отправленные (0)"), "{}", p.html);
    let p = get(&app, &doc_a, &format!("/assessments/{assessment}")).await;
    assert!(p.html.contains("Предложено протоколом"));
    assert!(p.html.contains("Обследование на туберкулёз"));
    get(&app, &doc_a, "/lang/fr?next=/").await;
    let p = get(&app, &doc_a, "/referrals").await;
    assert!(p.html.contains("Reçues (0)"));
}

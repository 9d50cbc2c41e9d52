//! Training and capacity building, through the real server on SQLite and
//! PostgreSQL: a trainer runs a needs assessment, schedules a session from
//! its summary, imports participants (a file with bad rows is refused
//! whole, with its row errors), records attendance and pre/post tests,
//! reads the knowledge gain with its confidence interval, and issues
//! attendance certificates that verify (and a tampered one does not). A
//! trainer never reaches health records; other roles cannot manage
//! training.

use mhis_server::auth::{NewAccount, create_account};
use mhis_testkit::web::{Page, browser, csrf, get, post};
use mhis_testkit::{TestApp, story};
use reqwest::StatusCode;
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";
const HEADER: &str = "family_name,given_names,organisation,organisation_type,role,sex,contact\n";

async fn site(app: &TestApp, code: &str) -> String {
    app.admin
        .post(
            "/api/v1/sites",
            &json!({"code": code, "kind": "assessment_centre", "country": "TJ",
                    "name": format!("Centre {code}")}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

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

async fn login(app: &TestApp, username: &str) -> reqwest::Client {
    let client = browser();
    let token = csrf(&get(app, &client, "/login").await.html);
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
    client
}

/// Posts a form with the CSRF token of the page at `from`.
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

/// Uploads a CSV file to the session's import form.
async fn import(app: &TestApp, client: &reqwest::Client, session: &str, csv: String) -> Page {
    let page = format!("/training/sessions/{session}");
    let token = csrf(&get(app, client, &page).await.html);
    let form = reqwest::multipart::Form::new().text("csrf", token).part(
        "file",
        reqwest::multipart::Part::bytes(csv.into_bytes())
            .file_name("participants.csv")
            .mime_str("text/csv")
            .unwrap(),
    );
    mhis_testkit::web::page(
        client
            .post(format!("{}{page}/participants/import", app.address))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Every value of `name="NAME" value="…"` in a page.
fn values_of(html: &str, name: &str) -> Vec<String> {
    let marker = format!("name=\"{name}\" value=\"");
    html.match_indices(&marker)
        .map(|(i, _)| {
            html[i + marker.len()..]
                .split('"')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn as_refs(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn rows(html: &str, class: &str) -> usize {
    html.matches(&format!("<tr class=\"{class}\">")).count()
}

fn participant_count(html: &str) -> usize {
    // The attendance page lists one checkbox per participant.
    values_of(html, "present").len()
}

fn needs_answers<'a>(org_type: &'a str, tb: &'a str, mhpss: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("organisation", "Ministry of Health"),
        ("organisation_type", org_type),
        ("respondent", "D. Karimova, head of training"),
        ("need_migration_health", "2"),
        ("need_tb", tb),
        ("need_hiv_hepatitis", "3"),
        ("need_covid19", "1"),
        ("need_mhpss", mhpss),
        ("need_point_of_entry", "2"),
        ("staff_to_train", "20"),
        ("preferred_format", "in_person"),
    ]
}

/// Twelve participants whose pre/post scores (out of 5) are, in percent,
/// the first data set of the statistics unit test (SciPy reference:
/// mean gain 20.0, 95% CI 10.614967743607894 … 29.38503225639211, paired t
/// p = 0.0006603135246711986, Wilcoxon p = 0.005749708623335458).
const PRE: [&str; 12] = ["2", "3", "1", "4", "2", "3", "2", "1", "3", "2", "4", "3"];
const POST: [&str; 12] = ["4", "4", "3", "4", "3", "5", "3", "2", "4", "2", "5", "3"];

story!(
    a_trainer_runs_the_whole_training_flow,
    |app: TestApp| async move {
        let site_id = site(&app, "TJ-TRN-01").await;
        account(&app, "trainer-a", "trainer", &["TJ-TRN-01"]).await;
        let t = login(&app, "trainer-a").await;

        // Needs assessment: a missing answer is named; good answers are kept.
        let mut bad = needs_answers("ngo", "5", "4");
        bad.retain(|(k, _)| *k != "need_tb");
        bad.push(("site", site_id.as_str()));
        let p = submit(&app, &t, "/training/needs/new", "/training/needs", &bad).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(p.html.contains("href=\"#f-need_tb\""), "{}", p.html);
        for (ty, tb, mhpss) in [
            ("ngo", "5", "4"),
            ("primary_care", "4", "5"),
            ("ngo", "3", "5"),
        ] {
            let mut form = needs_answers(ty, tb, mhpss);
            form.push(("site", site_id.as_str()));
            let p = submit(&app, &t, "/training/needs/new", "/training/needs", &form).await;
            assert_eq!(p.status, StatusCode::OK, "{}", p.html);
            assert_eq!(p.path, "/training/needs");
        }
        let summary = get(&app, &t, "/training/needs").await;
        assert!(summary.html.contains("<svg"), "a chart");
        // mhpss (4+5+5)/3 = 4.67 and tb (5+4+3)/3 = 4.00 are the priorities.
        assert!(summary.html.contains("4.67") && summary.html.contains("4.00"));
        assert!(summary.html.contains("0 of 2"), "no priority covered yet");
        let marker = "href=\"/training/sessions/new?";
        let start = summary.html.find(marker).expect("a link to schedule") + 6;
        let schedule = summary.html[start..]
            .split('"')
            .next()
            .unwrap()
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        assert_eq!(schedule, "/training/sessions/new?modules=tb&modules=mhpss");

        // Schedule a session from the summary: its modules come ticked.
        let form = get(&app, &t, &schedule).await;
        assert_eq!(form.status, StatusCode::OK);
        assert_eq!(form.html.matches(" checked").count(), 2);
        let today = chrono::Utc::now().date_naive();
        let start = (today - chrono::Duration::days(2)).to_string();
        let end = (today - chrono::Duration::days(1)).to_string();
        let bad = submit(
            &app,
            &t,
            &schedule,
            "/training/sessions",
            &[
                ("site", site_id.as_str()),
                ("title", "TB and MHPSS"),
                ("place", "Dushanbe"),
                ("starts_on", end.as_str()),
                ("ends_on", start.as_str()),
                ("trainers", "N. Saidova"),
                ("modules", "tb"),
                ("modules", "mhpss"),
            ],
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.html.contains("href=\"#f-ends_on\""));
        let created = submit(
            &app,
            &t,
            &schedule,
            "/training/sessions",
            &[
                ("site", site_id.as_str()),
                ("title", "TB and MHPSS"),
                ("place", "Dushanbe"),
                ("starts_on", start.as_str()),
                ("ends_on", end.as_str()),
                ("trainers", "N. Saidova, M. Petrova"),
                ("modules", "tb"),
                ("modules", "mhpss"),
                ("organisations", "PHC 3\nBorder committee"),
            ],
        )
        .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.html);
        let session = created.path.rsplit('/').next().unwrap().to_owned();
        assert!(
            get(&app, &t, "/training/needs")
                .await
                .html
                .contains("2 of 2")
        );

        // A CSV file with bad rows is refused whole, naming every bad row.
        let bad_csv = format!(
            "{HEADER}Karimova,Dilnoza,PHC 3,primary_care,Doctor,female,\n,Ali,PHC 4,clinic,Nurse,female,\nRahimov,Umed,MoH,ministry_of_health,Adviser,unknown,\n"
        );
        let refused = import(&app, &t, &session, bad_csv).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(rows(&refused.html, "import-error"), 3, "{}", refused.html);
        assert!(refused.html.contains("<td>3</td><td>family_name</td>"));
        assert!(
            refused
                .html
                .contains("<td>3</td><td>organisation_type</td>")
        );
        assert!(refused.html.contains("<td>4</td><td>sex</td>"));
        let attendance = format!("/training/sessions/{session}/attendance");
        assert_eq!(
            participant_count(&get(&app, &t, &attendance).await.html),
            0,
            "nothing stored"
        );

        // A good file: eleven participants, one more through the form.
        let mut good = HEADER.to_owned();
        for i in 0..11 {
            let sex = if i % 2 == 0 { "female" } else { "male" };
            good.push_str(&format!(
                "Participant{i:02},Test,PHC {i},primary_care,Doctor,{sex},+992 900 {i:03}\n"
            ));
        }
        let imported = import(&app, &t, &session, good).await;
        assert_eq!(imported.status, StatusCode::OK, "{}", imported.html);
        let page = format!("/training/sessions/{session}");
        let bad_one = submit(
            &app,
            &t,
            &page,
            &format!("{page}/participants"),
            &[
                ("family_name", "Zz"),
                ("given_names", ""),
                ("organisation", "MoI"),
                ("organisation_type", "ministry_of_interior"),
                ("role", "Officer"),
                ("sex", "male"),
            ],
        )
        .await;
        assert_eq!(bad_one.status, StatusCode::UNPROCESSABLE_ENTITY);
        let added = submit(
            &app,
            &t,
            &page,
            &format!("{page}/participants"),
            &[
                ("family_name", "Zz"),
                ("given_names", "Last"),
                ("organisation", "MoI"),
                ("organisation_type", "ministry_of_interior"),
                ("role", "Officer"),
                ("sex", "male"),
            ],
        )
        .await;
        assert_eq!(added.status, StatusCode::OK);
        let ids = values_of(&get(&app, &t, &attendance).await.html, "present");
        assert_eq!(ids.len(), 12);

        // Attendance: everyone both days, except the last one on day two.
        for (d, day) in [start.as_str(), end.as_str()].into_iter().enumerate() {
            let mut form: Vec<(&str, &str)> = vec![("day", day)];
            for (i, id) in ids.iter().enumerate() {
                if !(d == 1 && i == 11) {
                    form.push(("present", id));
                }
            }
            let p = submit(&app, &t, &attendance, &attendance, &form).await;
            assert_eq!(p.status, StatusCode::OK, "{}", p.html);
        }
        let marks = get(&app, &t, &attendance).await.html;
        assert_eq!(marks.matches("<td>✓</td>").count(), 23);
        assert_eq!(marks.matches("<td>✗</td>").count(), 1);

        // Tests: a score above the bank's five questions refuses the form.
        let tests = format!("/training/sessions/{session}/tests?module=tb");
        let action = format!("/training/sessions/{session}/tests");
        let mut form: Vec<(String, String)> = vec![("module".into(), "tb".into())];
        for (i, id) in ids.iter().enumerate() {
            form.push((format!("pre-{id}"), PRE[i].into()));
            form.push((format!("post-{id}"), POST[i].into()));
        }
        let mut too_high = form.clone();
        too_high[2].1 = "6".into();
        let p = submit(&app, &t, &tests, &action, &as_refs(&too_high)).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
        let results = format!("/training/sessions/{session}/results");
        assert!(
            !get(&app, &t, &results).await.html.contains("+20.0"),
            "nothing stored"
        );
        let p = submit(&app, &t, &tests, &action, &as_refs(&form)).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.html);
        assert_eq!(p.path, results);
        // The gain, its 95% CI and p-values as SciPy computed them.
        assert!(
            p.html.contains("<td class=\"gain\">+20.0</td>"),
            "{}",
            p.html
        );
        assert!(p.html.contains("<td class=\"ci\">+10.6 … +29.4</td>"));
        assert!(
            p.html.contains("<td>&#60; 0.001</td><td>0.006</td>"),
            "{}",
            p.html
        );
        assert!(p.html.contains("<svg"));

        // Certificates: eleven attended every day.
        let kek = app.state.key_encryption.clone().unwrap();
        let site = mhis_domain::ids::SiteId(site_id.parse().unwrap());
        mhis_server::certificates::new_site_key(&app.state, &kek, site, 30, "test")
            .await
            .unwrap();
        let issued = submit(&app, &t, &page, &format!("{page}/certificates"), &[]).await;
        assert_eq!(issued.status, StatusCode::OK, "{}", issued.html);
        assert_eq!(issued.html.matches("/certificate.pdf\"").count(), 11);
        assert!(
            !issued.html.contains("/certificates\""),
            "no one left to certify"
        );
        let link = issued
            .html
            .split("href=\"/training/certificates/")
            .nth(1)
            .unwrap();
        let id = link.split('/').next().unwrap();
        let pdf = t
            .get(format!(
                "{}/training/certificates/{id}/certificate.pdf",
                app.address
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(pdf.status(), StatusCode::OK);
        assert_eq!(pdf.headers()["content-type"], "application/pdf");
        assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));

        // The QR text verifies offline as an attendance certificate; a
        // tampered copy does not.
        let sid: mhis_domain::training::SessionId = session.parse().unwrap();
        let stored = app.state.store.attendance_certificates(sid).await.unwrap();
        assert_eq!(stored.len(), 11);
        let qr = stored[0].qr_text.clone();
        let list = mhis_server::certificates::trust_list(&app.state, "test", chrono::Utc::now())
            .await
            .unwrap();
        let verifier = mhis_cert::Verifier::new(list, 3600);
        let v = verifier.verify(&qr, chrono::Utc::now().timestamp());
        assert_eq!(v.verdict, mhis_cert::Verdict::Valid, "{v:?}");
        assert_eq!(v.payload.as_ref().unwrap()["t"], "ta");
        let mut tampered = qr.clone().into_bytes();
        let i = tampered.len() - 10;
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_ne!(
            verifier
                .verify(&tampered, chrono::Utc::now().timestamp())
                .verdict,
            mhis_cert::Verdict::Valid
        );
        // The public verifier page says what kind of certificate it is.
        let page = mhis_testkit::web::page(
            browser()
                .post(format!("{}/verify", app.address))
                .multipart(reqwest::multipart::Form::new().text("text", qr))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(page.html.contains("verdict-valid"), "{}", page.html);
        assert!(page.html.contains("Training attendance"));
        assert!(page.html.contains("TB and MHPSS"));
    }
);

story!(
    trainers_never_reach_health_records_and_others_cannot_manage_training,
    |app: TestApp| async move {
        let site_a = site(&app, "TJ-TRN-02").await;
        site(&app, "TJ-TRN-03").await;
        let assessment = mhis_testkit::assessed_with_suggestions(&app, site_a.as_str()).await;
        // The JSON API refuses a trainer's token on health records.
        let trainer = app.client_for("trainer", &["TJ-TRN-02"]).await;
        trainer
            .get("/api/v1/migrants")
            .await
            .expect_error(403, None);
        trainer
            .get(&format!("/api/v1/assessments/{assessment}"))
            .await
            .expect_error(403, None);
        // And so do the pages.
        account(&app, "trainer-b", "trainer", &["TJ-TRN-02"]).await;
        account(&app, "trainer-c", "trainer", &["TJ-TRN-03"]).await;
        account(&app, "clin-b", "clinician", &["TJ-TRN-02"]).await;
        account(&app, "admin-b", "admin", &[]).await;
        let t = login(&app, "trainer-b").await;
        assert_eq!(
            get(&app, &t, "/migrants").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            get(&app, &t, &format!("/assessments/{assessment}"))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        let home = get(&app, &t, "/training").await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(!home.html.contains("href=\"/migrants\""), "no health menu");

        let today = chrono::Utc::now().date_naive();
        let tomorrow = (today + chrono::Duration::days(1)).to_string();
        let today = today.to_string();
        let created = submit(
            &app,
            &t,
            "/training/sessions/new",
            "/training/sessions",
            &[
                ("site", site_a.as_str()),
                ("title", "PoE SOPs"),
                ("place", "Airport"),
                ("starts_on", today.as_str()),
                ("ends_on", tomorrow.as_str()),
                ("trainers", "A. B"),
                ("modules", "poe_sops"),
            ],
        )
        .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.html);
        let session = created.path.clone();

        // A trainer of another site sees it as missing.
        let other = login(&app, "trainer-c").await;
        assert_eq!(
            get(&app, &other, &session).await.status,
            StatusCode::NOT_FOUND
        );
        assert!(
            !get(&app, &other, "/training")
                .await
                .html
                .contains("PoE SOPs")
        );

        // A clinician has no training pages; an administrator reads but
        // cannot change them.
        let c = login(&app, "clin-b").await;
        assert_eq!(
            get(&app, &c, "/training").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            get(&app, &c, "/training/needs/new").await.status,
            StatusCode::FORBIDDEN
        );
        let a = login(&app, "admin-b").await;
        assert_eq!(get(&app, &a, &session).await.status, StatusCode::OK);
        let refused = submit(
            &app,
            &a,
            &session,
            &format!("{session}/participants"),
            &[
                ("family_name", "X"),
                ("given_names", "Y"),
                ("organisation", "MoI"),
                ("organisation_type", "ministry_of_interior"),
                ("role", "Officer"),
                ("sex", "male"),
            ],
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        // A session that has not ended issues no certificates.
        let early = submit(&app, &t, &session, &format!("{session}/certificates"), &[]).await;
        assert_eq!(early.status, StatusCode::CONFLICT);
    }
);

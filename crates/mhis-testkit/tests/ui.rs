//! Web interface tests at the HTTP level: a cookie-keeping client signs in
//! with a password, as a browser would, and reads the HTML pages of the
//! real server (SQLite).

use mhis_server::auth::{NewAccount, create_account};
use mhis_testkit::web::{Page, browser, csrf, get, page, post};
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

/// Creates a password account.
async fn account(
    app: &TestApp,
    username: &str,
    role: &str,
    sites: &[&str],
    language: Option<&str>,
) {
    create_account(
        &app.state,
        &NewAccount {
            username: username.into(),
            display_name: format!("Test {username}"),
            role: role.into(),
            sites: sites.iter().map(|s| (*s).to_owned()).collect(),
            national: sites.is_empty(),
            password: PASSWORD.into(),
            language: language.map(String::from),
        },
        "test",
    )
    .await
    .expect("create account");
}

/// A browser-like client that sends `Accept-Language`.
fn browser_in(accept_language: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT_LANGUAGE,
        accept_language.parse().unwrap(),
    );
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Fills in and sends the login form.
async fn login_attempt(
    app: &TestApp,
    client: &reqwest::Client,
    username: &str,
    password: &str,
) -> Page {
    let form = get(app, client, "/login").await;
    let token = csrf(&form.html);
    post(
        app,
        client,
        "/login",
        &[
            ("csrf", &token),
            ("username", username),
            ("password", password),
        ],
    )
    .await
}

async fn login(app: &TestApp, client: &reqwest::Client, username: &str) -> Page {
    let p = login_attempt(app, client, username, PASSWORD).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert_eq!(p.path, "/");
    p
}

/// Registers a migrant through the JSON API at `site_id`; returns its id.
async fn migrant(app: &TestApp, site_id: &str) -> String {
    let body = app
        .post(
            "/api/v1/migrants",
            &json!({"site_id": site_id, "family_name": "Рахимов", "given_names": "Шухрат",
                    "sex": "male", "birth_date": "1990-06-01", "nationality": "TJ"}),
        )
        .await
        .expect(201);
    body["migrant"]["id"].as_str().unwrap().to_owned()
}

/// Asserts that the message with id `f-{field}-error` stands in the same
/// field block as the control `f-{field}`, and holds `text`.
#[track_caller]
fn assert_error_next_to(html: &str, field: &str, text: &str) {
    let error_id = format!("id=\"f-{field}-error\"");
    let control_id = format!("id=\"f-{field}\"");
    let e = html
        .find(&error_id)
        .unwrap_or_else(|| panic!("no message for {field}: {html}"));
    let c = html.find(&control_id).expect("the control");
    let (a, b) = if e < c { (e, c) } else { (c, e) };
    assert!(
        !html[a..b].contains("class=\"field"),
        "the message of {field} is not in its field block"
    );
    let block_start = html[..e].rfind("class=\"field").unwrap();
    let block_end = e + html[e..].find("</div>").unwrap();
    assert!(
        html[block_start..block_end].contains(text),
        "message of {field} does not say {text:?}: {}",
        &html[block_start..block_end]
    );
    assert!(html[a..].contains("aria-invalid=\"true\""));
}

#[tokio::test]
async fn login_succeeds_fails_and_logs_out() {
    let app = app().await;
    account(&app, "amina", "registrar", &[], None).await;

    // No session: every page leads to the login form.
    let client = browser();
    let p = get(&app, &client, "/migrants").await;
    assert_eq!(p.path, "/login");
    assert!(p.html.contains("<label for=\"f-username\">"));
    assert!(p.html.contains("<html lang=\"en\">"));

    let p = login_attempt(&app, &client, "amina", "wrong password!").await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.html.contains("The user name or password is wrong."));
    // An unknown user gets the same answer.
    let p = login_attempt(&app, &client, "nobody", PASSWORD).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.html.contains("The user name or password is wrong."));

    // The session cookie's attributes.
    let raw = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = csrf(&get(&app, &raw, "/login").await.html);
    let response = raw
        .post(format!("{}/login", app.address))
        .form(&[
            ("csrf", token.as_str()),
            ("username", "amina"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("mhis_session=mhis_"), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP in tests");

    // The login form carries a token of its own (login CSRF).
    let p = post(
        &app,
        &client,
        "/login",
        &[("username", "amina"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.html.contains("The sign-in form has expired."));

    let home = login(&app, &client, "amina").await;
    assert!(home.html.contains("Test amina"));
    let token = csrf(&home.html);
    let p = post(&app, &client, "/logout", &[("csrf", &token)]).await;
    assert_eq!(p.path, "/login");
    // The session is gone.
    assert_eq!(get(&app, &client, "/").await.path, "/login");
}

#[tokio::test]
async fn five_failures_lock_the_account() {
    let app = app().await;
    account(&app, "bakhrom", "registrar", &[], None).await;
    let client = browser();
    for attempt in 1..=5 {
        let p = login_attempt(&app, &client, "bakhrom", "not the password").await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
        let locked = p.html.contains("The account is locked until");
        assert_eq!(locked, attempt == 5, "attempt {attempt}");
    }
    // Even the right password is refused while locked.
    let p = login_attempt(&app, &client, "bakhrom", PASSWORD).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.html.contains("The account is locked until"));
}

#[tokio::test]
async fn many_attempts_from_one_address_are_slowed_down() {
    let app = app().await;
    account(&app, "chinara", "registrar", &[], None).await;
    let client = browser();
    for _ in 0..mhis_server::auth::RATE_LIMIT {
        let p = login_attempt(&app, &client, "nobody", "not the password").await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    }
    let p = login_attempt(&app, &client, "chinara", PASSWORD).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        p.html
            .contains("Too many sign-in attempts from this computer.")
    );
}

#[tokio::test]
async fn unknown_pages_are_not_found_in_the_page_language() {
    let app = app().await;
    let client = browser_in("fr");
    let p = get(&app, &client, "/no/such/page").await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(p.html.contains("Page introuvable"));
    // The JSON API keeps its own answer.
    let r = client
        .get(format!("{}/api/v1/no-such-route", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("\"not_found\""));
}

#[tokio::test]
async fn posts_without_the_csrf_token_are_refused() {
    let app = app().await;
    let site_id = site(&app, "TJ-DYU-01").await;
    account(&app, "clerk", "registrar", &["TJ-DYU-01"], None).await;
    let client = browser();
    login(&app, &client, "clerk").await;
    let form = [
        ("site_id", site_id.as_str()),
        ("family_name", "Каримова"),
        ("given_names", "Дилноза"),
        ("sex", "female"),
        ("birth_date", "1995-02-03"),
        ("nationality", "TJ"),
    ];
    let p = post(&app, &client, "/migrants/new", &form).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let mut forged = form.to_vec();
    forged.push(("csrf", "mhis_forged"));
    let p = post(&app, &client, "/migrants/new", &forged).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = post(&app, &client, "/logout", &[("csrf", "")]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    // Nothing was registered.
    let found = app.get("/api/v1/migrants?name=Karimova").await.expect(200);
    assert_eq!(found["total"], 0);

    // With the token, the same form registers.
    let token = csrf(&get(&app, &client, "/migrants/new").await.html);
    let mut good = form.to_vec();
    good.push(("csrf", &token));
    let p = post(&app, &client, "/migrants/new", &good).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.path.starts_with("/migrants/"));
    assert!(p.html.contains("Каримова"));
}

#[tokio::test]
async fn records_of_another_site_are_not_found() {
    let app = app().await;
    let a = site(&app, "TJ-DYU-01").await;
    site(&app, "UZ-TAS-01").await;
    let id = migrant(&app, &a).await;
    account(&app, "here", "registrar", &["TJ-DYU-01"], None).await;
    account(&app, "there", "registrar", &["UZ-TAS-01"], None).await;

    let there = browser();
    login(&app, &there, "there").await;
    let p = get(&app, &there, &format!("/migrants/{id}")).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(!p.html.contains("Рахимов"));
    assert!(p.html.contains("Page not found"));
    // The same page as for an id that does not exist at all.
    let missing = get(&app, &there, &format!("/migrants/{}", uuid::Uuid::now_v7())).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.html.contains("Page not found"));
    // Search does not list it either.
    let p = get(&app, &there, "/migrants?name=Rakhimov").await;
    assert!(p.html.contains("Results: 0"));
    assert!(!p.html.contains(&format!("/migrants/{id}")));

    let here = browser();
    login(&app, &here, "here").await;
    let p = get(&app, &here, "/migrants?name=Rakhimov").await;
    assert!(p.html.contains(&format!("/migrants/{id}")));
    let p = get(&app, &here, &format!("/migrants/{id}")).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("Рахимов"));
}

#[tokio::test]
async fn data_managers_never_see_patient_pages() {
    let app = app().await;
    let a = site(&app, "TJ-DYU-01").await;
    let id = migrant(&app, &a).await;
    let assessment = app
        .post(
            "/api/v1/assessments",
            &json!({"migrant_id": id, "site_id": a, "purpose": "labour",
                    "destination": "RU", "protocol": "ru-labour"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    account(&app, "stats", "data_manager", &[], None).await;
    let client = browser();
    let home = login(&app, &client, "stats").await;
    assert!(home.html.contains("Welcome"));
    assert!(!home.html.contains("href=\"/migrants\""));
    for path in [
        "/migrants".to_owned(),
        "/migrants?name=Rakhimov".to_owned(),
        "/migrants/new".to_owned(),
        format!("/migrants/{id}"),
        format!("/assessments/{assessment}"),
        "/admin/audit".to_owned(),
    ] {
        let p = get(&app, &client, &path).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!p.html.contains("Рахимов"), "{path}");
    }
}

#[tokio::test]
async fn the_language_follows_cookie_user_and_browser() {
    let app = app().await;
    account(&app, "dina", "registrar", &[], None).await;
    account(&app, "farid", "registrar", &[], Some("fr")).await;

    // Accept-Language alone.
    let ru = browser_in("ru-RU,ru;q=0.9,en;q=0.5");
    let p = get(&app, &ru, "/login").await;
    assert!(p.html.contains("<html lang=\"ru\">"));
    assert!(p.html.contains("Имя пользователя"));
    assert!(p.html.contains("Пароль"));
    let home = login(&app, &ru, "dina").await;
    assert!(home.html.contains("Найти мигранта"));
    assert!(home.html.contains("Регистратор"));

    // The switcher's cookie wins over Accept-Language, and returns to the page.
    let p = get(&app, &ru, "/lang/fr?next=%2Fmigrants%3Fname%3Dx").await;
    assert_eq!(p.path, "/migrants");
    assert!(p.html.contains("<html lang=\"fr\">"));
    assert!(p.html.contains("Rechercher un migrant"));
    // Only local paths are followed.
    let p = get(&app, &ru, "/lang/en?next=%2F%2Fexample.org").await;
    assert_eq!(p.path, "/");
    assert!(p.html.contains("Find a migrant"));

    // The user's language comes before the browser's.
    let fr_user = browser_in("ru");
    let home = login(&app, &fr_user, "farid").await;
    assert!(home.html.contains("<html lang=\"fr\">"));
    assert!(home.html.contains("Agent d’enregistrement"));
}

#[tokio::test]
async fn validation_messages_stand_next_to_their_field() {
    let app = app().await;
    site(&app, "TJ-DYU-01").await;
    account(&app, "clerk", "registrar", &["TJ-DYU-01"], None).await;
    let client = browser();
    login(&app, &client, "clerk").await;
    let form = get(&app, &client, "/migrants/new").await;
    // Every control has a label.
    for name in [
        "family_name",
        "given_names",
        "birth_date",
        "nationality",
        "sex",
        "site_id",
    ] {
        assert!(
            form.html.contains(&format!("<label for=\"f-{name}\">")),
            "{name} has no label"
        );
    }
    let token = csrf(&form.html);
    let p = post(
        &app,
        &client,
        "/migrants/new",
        &[
            ("csrf", token.as_str()),
            ("family_name", "Рахимов"),
            ("given_names", "Шухрат"),
            ("sex", "male"),
            ("birth_date", "1990-13-01"),
            ("nationality", "TJ"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error_next_to(&p.html, "birth_date", "Enter a real date");
    // What was typed is kept.
    assert!(p.html.contains("value=\"Рахимов\""));

    // In Russian.
    get(&app, &client, "/lang/ru").await;
    let p = post(
        &app,
        &client,
        "/migrants/new",
        &[
            ("csrf", token.as_str()),
            ("family_name", "Рахимов"),
            ("given_names", "Шухрат"),
            ("sex", "male"),
            ("birth_date", "1990-06-01"),
            ("nationality", "Tajikistan"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error_next_to(&p.html, "nationality", "двухбуквенный код страны");
    assert!(p.html.contains("Исправьте, пожалуйста, следующее"));
}

#[tokio::test]
async fn a_clinician_registers_opens_and_records_and_sees_the_decision() {
    let app = app().await;
    site(&app, "TJ-DYU-01").await;
    account(&app, "doctor", "clinician", &["TJ-DYU-01"], None).await;
    account(&app, "labtech", "lab", &["TJ-DYU-01"], None).await;
    let client = browser();
    login(&app, &client, "doctor").await;
    let token = csrf(&get(&app, &client, "/migrants/new").await.html);
    let registered = post(
        &app,
        &client,
        "/migrants/new",
        &[
            ("csrf", token.as_str()),
            ("family_name", "Рахимов"),
            ("given_names", "Шухрат"),
            ("sex", "male"),
            ("birth_date", "1990-06-01"),
            ("nationality", "TJ"),
            ("document_kind", "passport"),
            ("document_number", "400 123456"),
            ("document_country", "TJ"),
        ],
    )
    .await;
    assert_eq!(registered.status, StatusCode::OK);
    assert!(registered.html.contains("Rakhimov"));
    let migrant_path = registered.path.clone();

    // The same document again: registered, with the first as a possible duplicate.
    let again = post(
        &app,
        &client,
        "/migrants/new",
        &[
            ("csrf", token.as_str()),
            ("family_name", "Rakhimov"),
            ("given_names", "Shukhrat"),
            ("sex", "male"),
            ("birth_date", "1990-06-01"),
            ("nationality", "TJ"),
            ("document_kind", "passport"),
            ("document_number", "400123456"),
            ("document_country", "TJ"),
        ],
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert!(again.html.contains("Possible duplicates"));
    assert!(again.html.contains(&format!("href=\"{migrant_path}\"")));

    let opened = post(
        &app,
        &client,
        &format!("{migrant_path}/assessments"),
        &[
            ("csrf", token.as_str()),
            ("purpose", "labour"),
            ("destination", "RU"),
            ("protocol", "ru-labour"),
        ],
    )
    .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.html);
    assert!(opened.path.starts_with("/assessments/"));
    assert!(opened.html.contains("Pending: results still due"));
    assert!(opened.html.contains("Chest X-ray reading"));
    let assessment_path = opened.path.clone();

    // A value out of range: the message stands next to the field.
    let p = post(
        &app,
        &client,
        &assessment_path,
        &[
            ("csrf", token.as_str()),
            ("tst.mm", "500"),
            ("cxr", "normal"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error_next_to(&p.html, "tst.mm", "Enter a whole number from 0 to 100.");
    // Nothing was recorded (all or none).
    assert!(p.html.contains("<option value=\"normal\" selected>"));

    let p = post(
        &app,
        &client,
        &assessment_path,
        &[
            ("csrf", token.as_str()),
            ("cxr", "normal"),
            ("body_weight", "71,5"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("<td class=\"value\">Normal</td>"));
    assert!(p.html.contains("<td class=\"value\">71.5 kg</td>"));
    assert!(
        !p.html.contains("name=\"cxr\""),
        "a recorded result has no input"
    );
    assert!(p.html.contains("ru.due.cxr") || p.html.contains("Reasons"));

    // A laboratory user sees the results but records only laboratory tests.
    let lab = browser();
    login(&app, &lab, "labtech").await;
    let p = get(&app, &lab, &assessment_path).await;
    assert!(p.html.contains("<td class=\"value\">Normal</td>"));
    assert!(p.html.contains("name=\"hbsag\""));
    assert!(!p.html.contains("name=\"body_temperature\""));
    let lab_token = csrf(&p.html);
    let p = post(
        &app,
        &lab,
        &assessment_path,
        &[("csrf", lab_token.as_str()), ("tb.symptoms", "no")],
    )
    .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);

    // Every read of the pages is in the audit trail.
    let trail = app
        .state
        .store
        .list_audit(
            &mhis_store::AuditFilter {
                actor: Some("doctor".into()),
                action_prefix: Some("assessment.read".into()),
                entity_id: None,
            },
            mhis_domain::page::PageRequest::parse(None, None).unwrap(),
        )
        .await
        .unwrap();
    assert!(trail.total >= 2);
}

#[tokio::test]
async fn administrators_manage_sites_users_and_read_the_trail() {
    let app = app().await;
    account(&app, "root", "admin", &[], None).await;
    account(&app, "clerk", "registrar", &[], None).await;
    let client = browser();
    login(&app, &client, "root").await;
    let p = get(&app, &client, "/admin/sites").await;
    let token = csrf(&p.html);
    let p = post(
        &app,
        &client,
        "/admin/sites",
        &[
            ("csrf", token.as_str()),
            ("code", "TJ-KHU-02"),
            ("name", "Khujand centre"),
            ("kind", "assessment_centre"),
            ("country", "TJ"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("Khujand centre"));

    let p = post(
        &app,
        &client,
        "/admin/users",
        &[
            ("csrf", token.as_str()),
            ("username", "nurse.one"),
            ("display_name", "Nurse One"),
            ("role", "clinician"),
            ("sites", "TJ-KHU-02"),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error_next_to(&p.html, "password", "10 to 128 characters");
    let p = post(
        &app,
        &client,
        "/admin/users",
        &[
            ("csrf", token.as_str()),
            ("username", "nurse.one"),
            ("display_name", "Nurse One"),
            ("role", "clinician"),
            ("sites", "TJ-KHU-02"),
            ("password", PASSWORD),
            ("language", "ru"),
        ],
    )
    .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("Nurse One"));
    let nurse = browser();
    let home = login(&app, &nurse, "nurse.one").await;
    assert!(home.html.contains("<html lang=\"ru\">"));

    let p = get(&app, &client, "/admin/audit?action=site.").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.html.contains("site.create"));
    assert!(!p.html.contains("<td>login</td>"));
    let p = get(&app, &client, "/admin/audit?actor=nurse.one").await;
    assert!(p.html.contains("<td>login</td>"));

    let clerk = browser();
    login(&app, &clerk, "clerk").await;
    for path in ["/admin/audit", "/admin/users", "/admin/sites"] {
        assert_eq!(get(&app, &clerk, path).await.status, StatusCode::FORBIDDEN);
    }
}

/// A ru-labour assessment at `site_id` with every result in and all of
/// them normal: ready for sign-off. Returns its id.
async fn complete_assessment(app: &TestApp, site_id: &str) -> String {
    let m = migrant(app, site_id).await;
    let a = app
        .post(
            "/api/v1/assessments",
            &json!({"migrant_id": m, "site_id": site_id,
            "purpose": "labour", "destination": "RU", "protocol": "ru-labour"}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(&format!("/api/v1/assessments/{a}/observations"), &json!({"observations": [
        {"code": "hiv.a1", "value": "non_reactive"}, {"code": "syphilis.screen", "value": "non_reactive"},
        {"code": "cxr", "value": "normal"}, {"code": "leprosy.exam", "value": "no_signs"},
        {"code": "narcology.drug_test", "value": "negative"}]}))
        .await
        .expect(201);
    a
}

/// Issues a certificate for a fresh, finalised, cleared assessment at
/// `code`, through the same functions the API uses; returns its QR text.
async fn issued_certificate(app: &TestApp, code: &str) -> String {
    let site_id = site(app, code).await;
    let a = complete_assessment(app, &site_id).await;
    app.post(
        &format!("/api/v1/assessments/{a}/finalise"),
        &json!({"outcome": "cleared"}),
    )
    .await
    .expect(200);
    // A key sealed with a test key encryption key; the server verifies
    // with the public half from the database.
    let dir = tempfile::tempdir().unwrap();
    let kek =
        mhis_server::certificates::KeyEncryptionKey::load(&dir.path().join("kek"), true).unwrap();
    let mut state = app.state.clone();
    state.key_encryption = Some(std::sync::Arc::new(kek.clone()));
    let site = mhis_domain::ids::SiteId(site_id.parse().unwrap());
    mhis_server::certificates::new_site_key(&state, &kek, site, 30, "test")
        .await
        .unwrap();
    let assessment = state
        .store
        .get_assessment(mhis_domain::ids::AssessmentId(a.parse().unwrap()))
        .await
        .unwrap();
    let user = mhis_server::auth::CurrentUser {
        user: state.store.list_users().await.unwrap().remove(0),
        origin: None,
    };
    mhis_server::certificates::issue(&state, &user, &assessment)
        .await
        .unwrap()
        .qr_text
}

async fn verify_form(
    app: &TestApp,
    client: &reqwest::Client,
    form: reqwest::multipart::Form,
) -> Page {
    page(
        client
            .post(format!("{}/verify", app.address))
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn anyone_can_verify_a_certificate_from_its_text_or_a_photo() {
    let app = app().await;
    let qr = issued_certificate(&app, "TJ-VER-01").await;
    let anonymous = browser();
    let form = get(&app, &anonymous, "/verify").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.html.contains("name=\"photo\""));

    let valid = verify_form(
        &app,
        &anonymous,
        reqwest::multipart::Form::new().text("text", qr.clone()),
    )
    .await;
    assert_eq!(valid.status, StatusCode::OK);
    assert!(
        valid.html.contains("Valid: the certificate is genuine"),
        "{}",
        valid.html
    );
    assert!(valid.html.contains("TJ-VER-01"));
    assert!(
        !valid.html.contains("non_reactive"),
        "no results on a certificate"
    );

    let png = mhis_cert::qr_png(&qr, 4).unwrap();
    let photo = reqwest::multipart::Part::bytes(png)
        .file_name("qr.png")
        .mime_str("image/png")
        .unwrap();
    let from_photo = verify_form(
        &app,
        &anonymous,
        reqwest::multipart::Form::new().part("photo", photo),
    )
    .await;
    assert!(
        from_photo
            .html
            .contains("Valid: the certificate is genuine"),
        "{}",
        from_photo.html
    );

    // One character changed: refused, naming why.
    let i = qr.len() / 2;
    let swapped = if &qr[i..=i] == "A" { "B" } else { "A" };
    let forged = format!("{}{swapped}{}", &qr[..i], &qr[i + 1..]);
    let refused = verify_form(
        &app,
        &anonymous,
        reqwest::multipart::Form::new().text("text", forged),
    )
    .await;
    assert!(
        refused.html.contains("Forged or altered")
            || refused.html.contains("Not a readable certificate"),
        "{}",
        refused.html
    );
    assert!(
        !refused.html.contains("TJ-VER-01"),
        "unverified claims are never shown"
    );

    // Not an image; nothing at all.
    let text_file = reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("qr.txt");
    let wrong = verify_form(
        &app,
        &anonymous,
        reqwest::multipart::Form::new().part("photo", text_file),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.html.contains("Only PNG and JPEG"));
    let empty = verify_form(
        &app,
        &anonymous,
        reqwest::multipart::Form::new().text("text", ""),
    )
    .await;
    assert!(
        empty
            .html
            .contains("Paste the QR code text or choose a photo")
    );

    // In Russian for a Russian-speaking officer.
    let ru = browser_in("ru");
    let valid_ru = verify_form(&app, &ru, reqwest::multipart::Form::new().text("text", qr)).await;
    assert!(valid_ru.html.contains("Действителен"), "{}", valid_ru.html);
}

#[tokio::test]
async fn a_physician_finalises_and_issues_a_certificate_from_the_page() {
    let app = app().await;
    let site_id = site(&app, "TJ-FIN-01").await;
    account(&app, "dr-nazarova", "clinician", &["TJ-FIN-01"], None).await;
    let a = complete_assessment(&app, &site_id).await;
    let kek = app.state.key_encryption.clone().unwrap();
    let site = mhis_domain::ids::SiteId(site_id.parse().unwrap());
    mhis_server::certificates::new_site_key(&app.state, &kek, site, 30, "test")
        .await
        .unwrap();

    let client = browser();
    login(&app, &client, "dr-nazarova").await;
    let path = format!("/assessments/{a}");
    let shown = get(&app, &client, &path).await;
    assert!(shown.html.contains("Physician sign-off"), "{}", shown.html);
    let token = csrf(&shown.html);

    // Raising the outcome without a reason is refused on the page.
    let refused = post(
        &app,
        &client,
        &format!("{path}/finalise"),
        &[("csrf", &token), ("outcome", "not_cleared"), ("reason", "")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.html.contains("Give a reason"), "{}", refused.html);

    let done = post(
        &app,
        &client,
        &format!("{path}/finalise"),
        &[("csrf", &token), ("outcome", "cleared"), ("reason", "")],
    )
    .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.html.contains("Protocol outcome"), "{}", done.html);
    assert!(done.html.contains("Issue certificate"));

    let issued = post(
        &app,
        &client,
        &format!("{path}/certificates"),
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(issued.status, StatusCode::OK);
    let link = issued
        .html
        .split("href=\"/certificates/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a certificate link")
        .to_owned();
    let pdf = client
        .get(format!("{}/certificates/{link}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));

    // Amending needs a reason, then re-opens the assessment.
    let refused = post(
        &app,
        &client,
        &format!("{path}/amend"),
        &[("csrf", &token), ("reason", " ")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reopened = post(
        &app,
        &client,
        &format!("{path}/amend"),
        &[("csrf", &token), ("reason", "late hepatitis result")],
    )
    .await;
    assert!(reopened.html.contains("Finalise"), "{}", reopened.html);
}

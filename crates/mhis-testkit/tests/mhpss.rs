//! Mental health and psychosocial support stories, on SQLite and
//! PostgreSQL: a counsellor screens (in an assessment and stand-alone),
//! sees the score, band and suggested referrals, confirms a referral,
//! records sessions and closes the case; every other role is refused;
//! every read is audited; the safety flag reaches the clinician's
//! assessment page without the answers.

use mhis_testkit::web::{self, browser, csrf};
use mhis_testkit::{Client, TestApp, assessed_with_suggestions, story};
use serde_json::{Value, json};

/// A site with this code; returns its id.
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

/// PHQ-9 answers from nine values.
fn phq9(values: [i64; 9]) -> Value {
    let mut answers = serde_json::Map::new();
    for (i, v) in values.iter().enumerate() {
        answers.insert(format!("phq9_{}", i + 1), json!(v));
    }
    Value::Object(answers)
}

/// The migrant of an assessment.
async fn migrant_of(app: &TestApp, assessment: &str) -> String {
    app.get(&format!("/api/v1/assessments/{assessment}"))
        .await
        .expect(200)["migrant_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Audit entries with this action about this record.
async fn audited(app: &TestApp, action: &str, entity_id: &str) -> usize {
    app.state
        .store
        .audit_chain()
        .await
        .unwrap()
        .iter()
        .filter(|e| e.event.action == action && e.event.entity_id.as_deref() == Some(entity_id))
        .count()
}

story!(
    a_counsellor_screens_refers_follows_up_and_closes,
    |app: TestApp| async move {
        let dyu = site(&app, "TJ-DYU-01").await;
        let other = site(&app, "TJ-KHJ-01").await;
        let assessment = assessed_with_suggestions(&app.clinician, &dyu).await;
        let migrant = migrant_of(&app, &assessment).await;
        let counsellor = app.client_for("counsellor", &["TJ-DYU-01"]).await;

        // The instruments and a form built from their data.
        let list = counsellor.get("/api/v1/instruments").await.expect(200);
        let ids: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["gad7", "phq9", "rhs15", "wgss"]);
        let form = counsellor.get("/api/v1/instruments/phq9").await.expect(200);
        assert_eq!(form["items"].as_array().unwrap().len(), 9);
        assert_eq!(form["items"][8]["options"][3]["code"], "nearly_every_day");
        counsellor
            .get("/api/v1/instruments/phq99")
            .await
            .expect_error(404, None);

        // PHQ-9 in the assessment: total 15 (moderately severe), positive,
        // and item 9 above zero raises the safety flag.
        let screened = counsellor
            .post(
                &format!("/api/v1/migrants/{migrant}/screenings"),
                &json!({"instrument": "phq9", "assessment_id": assessment,
                        "answers": phq9([2, 2, 2, 2, 2, 2, 1, 1, 1])}),
            )
            .await
            .expect(201);
        assert_eq!(screened["context"], "assessment");
        assert_eq!(screened["result"]["complete"], true);
        assert_eq!(screened["result"]["scores"]["total"], 15);
        assert_eq!(screened["result"]["band"]["id"], "moderately_severe");
        assert_eq!(screened["result"]["positive"], true);
        assert_eq!(screened["result"]["flags"][0]["id"], "safety");
        assert_eq!(screened["version"], "2026.1");
        let reasons: Vec<&str> = screened["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons,
            ["urgent_safety_assessment", "mental_health_assessment"]
        );
        assert_eq!(screened["suggestions"][0]["urgency"], "stat");
        let screening = screened["id"].as_str().unwrap().to_owned();
        let case = screened["case_id"].as_str().unwrap().to_owned();

        // The counsellor confirms the referral to specialist care at
        // another site; it carries no answers and no observations.
        let referral = counsellor
            .post(
                &format!("/api/v1/screenings/{screening}/referrals"),
                &json!({"reason": "mental_health_assessment", "to_site_id": other,
                        "note": "Please assess"}),
            )
            .await
            .expect(201);
        assert_eq!(referral["state"], "received");
        assert_eq!(referral["to_site_id"], other.as_str());
        assert_eq!(referral["observations"], json!([]));
        assert_eq!(referral["conditions"], json!([]));
        let detail = counsellor
            .get(&format!("/api/v1/screenings/{screening}"))
            .await
            .expect(200);
        assert_eq!(detail["referrals"][0]["id"], referral["id"]);
        assert_eq!(detail["suggestions"][1]["already_referred"], true);
        assert_eq!(detail["suggestions"][0]["already_referred"], false);
        assert_eq!(detail["answers"]["phq9_9"], 1);
        // A TB reason is not an MHPSS referral; bad input names the field.
        counsellor
            .post(
                &format!("/api/v1/screenings/{screening}/referrals"),
                &json!({"reason": "tb_treatment", "to_site_id": other}),
            )
            .await
            .expect_error(422, Some("reason"));
        counsellor
            .post(
                &format!("/api/v1/screenings/{screening}/referrals"),
                &json!({"reason": "mental_health_assessment"}),
            )
            .await
            .expect_error(422, Some("to_site_id"));
        counsellor
            .post(
                &format!("/api/v1/screenings/{screening}/referrals"),
                &json!({"reason": "mental_health_assessment", "to_site_id": other,
                        "due_date": "2001-01-01"}),
            )
            .await
            .expect_error(422, Some("due_date"));

        // A stand-alone GAD-7 in a protection programme joins the open case.
        let gad = counsellor
            .post(
                &format!("/api/v1/migrants/{migrant}/screenings"),
                &json!({"instrument": "gad7", "context": "protection",
                        "answers": {"gad7_1": 1, "gad7_2": 1, "gad7_3": 1, "gad7_4": 1,
                                    "gad7_5": 1, "gad7_6": 0, "gad7_7": 0}}),
            )
            .await
            .expect(201);
        assert_eq!(gad["context"], "protection");
        assert_eq!(gad["assessment_id"], Value::Null);
        assert_eq!(gad["case_id"], case.as_str());
        assert_eq!(gad["result"]["scores"]["total"], 5);
        assert_eq!(gad["result"]["band"]["id"], "mild");
        assert_eq!(gad["result"]["positive"], false);
        assert_eq!(gad["suggestions"], json!([]));

        // Sessions, then closure with a reason.
        let session = counsellor
            .post(
                &format!("/api/v1/mhpss-cases/{case}/sessions"),
                &json!({"kind": "individual", "notes": "Safety plan agreed.\nSleep hygiene.",
                        "next_step": "See again in a week"}),
            )
            .await
            .expect(201);
        assert_eq!(session["kind"], "individual");
        counsellor
            .post(
                &format!("/api/v1/mhpss-cases/{case}/sessions"),
                &json!({"kind": "phone", "notes": "x"}),
            )
            .await
            .expect_error(422, Some("kind"));
        counsellor
            .post(
                &format!("/api/v1/mhpss-cases/{case}/sessions"),
                &json!({"kind": "family", "notes": "  "}),
            )
            .await
            .expect_error(422, Some("notes"));
        counsellor
            .post(
                &format!("/api/v1/mhpss-cases/{case}/sessions"),
                &json!({"kind": "family", "notes": "x", "date": "2999-01-01"}),
            )
            .await
            .expect_error(422, Some("date"));
        let full = counsellor
            .get(&format!("/api/v1/mhpss-cases/{case}"))
            .await
            .expect(200);
        assert_eq!(full["status"], "open");
        assert_eq!(full["sessions"].as_array().unwrap().len(), 1);
        assert_eq!(full["screenings"].as_array().unwrap().len(), 2);
        counsellor
            .post(
                &format!("/api/v1/mhpss-cases/{case}/close"),
                &json!({"reason": "finished"}),
            )
            .await
            .expect_error(422, Some("reason"));
        let closed = counsellor
            .post(
                &format!("/api/v1/mhpss-cases/{case}/close"),
                &json!({"reason": "referred_on", "note": "Specialist care"}),
            )
            .await
            .expect(200);
        assert_eq!(closed["status"], "closed");
        assert_eq!(closed["closure_reason"], "referred_on");
        // A closed case takes no more sessions and cannot close again.
        counsellor
            .post(
                &format!("/api/v1/mhpss-cases/{case}/sessions"),
                &json!({"kind": "individual", "notes": "late"}),
            )
            .await
            .expect_error(409, Some("case"));
        counsellor
            .post(
                &format!("/api/v1/mhpss-cases/{case}/close"),
                &json!({"reason": "goals_met"}),
            )
            .await
            .expect_error(409, Some("case"));
        // The next screening opens a new case.
        let again = counsellor
            .post(
                &format!("/api/v1/migrants/{migrant}/screenings"),
                &json!({"instrument": "wgss", "answers": {"wgss_seeing": "no_difficulty"}}),
            )
            .await
            .expect(201);
        assert_ne!(again["case_id"], case.as_str());
        let cases = counsellor
            .get(&format!("/api/v1/migrants/{migrant}/mhpss-cases"))
            .await
            .expect(200);
        assert_eq!(cases.as_array().unwrap().len(), 2);

        // Every read of MHPSS data is in the audit trail.
        assert_eq!(audited(&app, "mhpss.screening.read", &screening).await, 1);
        assert_eq!(audited(&app, "mhpss.case.read", &case).await, 1);
        assert_eq!(audited(&app, "mhpss.case.list", &migrant).await, 1);
        assert_eq!(audited(&app, "mhpss.screening.create", &screening).await, 1);
        assert_eq!(audited(&app, "mhpss.case.close", &case).await, 1);
        assert_eq!(audited(&app, "mhpss.session.create", &case).await, 1);
        let trail = app.state.store.audit_chain().await.unwrap();
        assert_eq!(mhis_domain::audit::verify_chain(&trail), Ok(trail.len()));
    }
);

story!(
    missing_answers_make_a_screening_incomplete_never_zero,
    |app: TestApp| async move {
        let dyu = site(&app, "TJ-DYU-01").await;
        let assessment = assessed_with_suggestions(&app.clinician, &dyu).await;
        let migrant = migrant_of(&app, &assessment).await;
        let path = format!("/api/v1/migrants/{migrant}/screenings");
        // Item 5 missing, seven answers of 3 and item 9 at 0: scored as
        // zero it would be 21 (severe); it is incomplete, with no total
        // and no band.
        let mut answers = phq9([3, 3, 3, 3, 3, 3, 3, 3, 0]);
        answers["phq9_5"] = Value::Null;
        answers["phq9_9"] = json!(0);
        let s = app
            .post(&path, &json!({"instrument": "phq9", "answers": answers}))
            .await
            .expect(201);
        assert_eq!(s["result"]["complete"], false);
        assert_eq!(s["result"]["missing"], json!(["phq9_5"]));
        assert_eq!(s["result"]["scores"], json!({}));
        assert_eq!(s["result"]["band"], Value::Null);
        // A positive PHQ-9 needs the total, so the result is undecided.
        assert_eq!(s["result"]["positive"], Value::Null);
        assert_eq!(s["result"]["flags"], json!([]));
        // Stored as given.
        let stored = app
            .get(&format!("/api/v1/screenings/{}", s["id"].as_str().unwrap()))
            .await
            .expect(200);
        assert_eq!(stored["result"]["complete"], false);
        assert!(stored["answers"].get("phq9_5").is_none());

        // The RHS-15 thermometer alone decides a positive screen.
        let rhs = app
            .post(
                &path,
                &json!({"instrument": "rhs15", "answers": {"rhs15_15": 5}}),
            )
            .await
            .expect(201);
        assert_eq!(rhs["result"]["complete"], false);
        assert_eq!(rhs["result"]["positive"], true);

        // Bad input names the field.
        app.post(&path, &json!({"instrument": "phq10", "answers": {}}))
            .await
            .expect_error(422, Some("instrument"));
        app.post(
            &path,
            &json!({"instrument": "phq9", "answers": {"phq9_1": 4}}),
        )
        .await
        .expect_error(422, Some("answers.phq9_1"));
        app.post(
            &path,
            &json!({"instrument": "phq9", "answers": {"phq9_10": 1}}),
        )
        .await
        .expect_error(422, Some("answers.phq9_10"));
        app.post(
            &path,
            &json!({"instrument": "phq9", "answers": {"phq9_1": 1.5}}),
        )
        .await
        .expect_error(422, Some("answers.phq9_1"));
        app.post(&path, &json!({"instrument": "phq9", "answers": [1, 2]}))
            .await
            .expect_error(422, Some("answers"));
        app.post(
            &path,
            &json!({"instrument": "phq9", "answers": {}, "context": "assessment"}),
        )
        .await
        .expect_error(422, Some("assessment_id"));
        app.post(
            &path,
            &json!({"instrument": "phq9", "answers": {}, "context": "clinic"}),
        )
        .await
        .expect_error(422, Some("context"));
        app.post(
            &path,
            &json!({"instrument": "phq9", "answers": {},
                    "assessment_id": "0190d6a8-0000-7000-8000-000000000000"}),
        )
        .await
        .expect_error(422, Some("assessment_id"));
        app.post(&path, &json!({"answers": {}}))
            .await
            .expect_error(422, Some("instrument"));
    }
);

/// What `client` gets on every MHPSS route, as statuses in a fixed order.
async fn statuses(
    client: &Client,
    migrant: &str,
    assessment: &str,
    screening: &str,
    case: &str,
) -> Vec<u16> {
    let mut out = vec![
        client.get("/api/v1/instruments").await.status.as_u16(),
        client
            .get(&format!("/api/v1/migrants/{migrant}/screenings"))
            .await
            .status
            .as_u16(),
        client
            .get(&format!("/api/v1/migrants/{migrant}/mhpss-cases"))
            .await
            .status
            .as_u16(),
        client
            .get(&format!("/api/v1/screenings/{screening}"))
            .await
            .status
            .as_u16(),
        client
            .get(&format!("/api/v1/mhpss-cases/{case}"))
            .await
            .status
            .as_u16(),
        client
            .get(&format!("/api/v1/assessments/{assessment}/mhpss-flags"))
            .await
            .status
            .as_u16(),
    ];
    out.push(
        client
            .post(
                &format!("/api/v1/migrants/{migrant}/screenings"),
                &json!({"instrument": "gad7", "answers": {}}),
            )
            .await
            .status
            .as_u16(),
    );
    out.push(
        client
            .post(
                &format!("/api/v1/mhpss-cases/{case}/sessions"),
                &json!({"kind": "individual", "notes": "x"}),
            )
            .await
            .status
            .as_u16(),
    );
    out
}

story!(
    only_counsellors_and_clinicians_of_the_site_see_mhpss_records,
    |app: TestApp| async move {
        let dyu = site(&app, "TJ-DYU-01").await;
        site(&app, "TJ-KHJ-01").await;
        let assessment = assessed_with_suggestions(&app.clinician, &dyu).await;
        let migrant = migrant_of(&app, &assessment).await;
        let counsellor = app.client_for("counsellor", &["TJ-DYU-01"]).await;
        let s = counsellor
            .post(
                &format!("/api/v1/migrants/{migrant}/screenings"),
                &json!({"instrument": "phq9", "assessment_id": assessment,
                        "answers": phq9([0, 0, 0, 0, 0, 0, 0, 0, 2])}),
            )
            .await
            .expect(201);
        let screening = s["id"].as_str().unwrap().to_owned();
        let case = s["case_id"].as_str().unwrap().to_owned();
        let referral = counsellor
            .post(
                &format!("/api/v1/screenings/{screening}/referrals"),
                &json!({"reason": "urgent_safety_assessment", "to_site_id": dyu}),
            )
            .await
            .expect(201);
        let referral = referral["id"].as_str().unwrap().to_owned();

        // Counsellors and clinicians of the site read and write.
        for role in ["counsellor", "clinician"] {
            let c = app.client_for(role, &["TJ-DYU-01"]).await;
            assert_eq!(
                statuses(&c, &migrant, &assessment, &screening, &case).await,
                [200, 200, 200, 200, 200, 200, 201, 201],
                "{role}"
            );
            c.get(&format!("/api/v1/referrals/{referral}"))
                .await
                .expect(200);
        }
        // Of another site: as if nothing existed.
        for role in ["counsellor", "clinician"] {
            let c = app.client_for(role, &["TJ-KHJ-01"]).await;
            assert_eq!(
                statuses(&c, &migrant, &assessment, &screening, &case).await,
                [200, 404, 404, 404, 404, 404, 404, 404],
                "{role} of another site"
            );
        }
        // Every other role is refused outright, national scope or not,
        // and does not see the MHPSS referral either.
        for role in [
            "registrar",
            "data_manager",
            "lab",
            "radiologist",
            "trainer",
            "verifier",
            "border_officer",
            "admin",
        ] {
            for sites in [&["TJ-DYU-01"][..], &[][..]] {
                let c = app.client_for(role, sites).await;
                assert_eq!(
                    statuses(&c, &migrant, &assessment, &screening, &case).await,
                    [403; 8],
                    "{role} {sites:?}"
                );
                let r = c.get(&format!("/api/v1/referrals/{referral}")).await;
                assert!(
                    matches!(r.status.as_u16(), 403 | 404),
                    "{role} sees the MHPSS referral: {}",
                    r.body
                );
            }
        }
        // A registrar of the site sees the assessment's other referrals
        // but not the MHPSS one, in no list.
        let registrar = app.client_for("registrar", &["TJ-DYU-01"]).await;
        let listed = registrar
            .get(&format!("/api/v1/assessments/{assessment}/referrals"))
            .await
            .expect(200);
        assert!(
            listed
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["id"] != referral.as_str())
        );
        for view in ["inbox", "outbox", "all"] {
            let page = registrar
                .get(&format!("/api/v1/referrals?view={view}"))
                .await
                .expect(200);
            assert!(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["id"] != referral.as_str()),
                "{view}"
            );
            assert_eq!(page["total"], page["items"].as_array().unwrap().len());
        }
        let page = counsellor
            .get("/api/v1/referrals?view=inbox")
            .await
            .expect(200);
        assert!(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["id"] == referral.as_str())
        );
        // Flag reads are audited per assessment.
        assert!(audited(&app, "mhpss.flags.read", &assessment).await >= 2);
    }
);

story!(
    the_safety_flag_reaches_the_clinician_without_the_answers,
    |app: TestApp| async move {
        let dyu = site(&app, "TJ-DYU-01").await;
        let assessment = assessed_with_suggestions(&app.clinician, &dyu).await;
        let migrant = migrant_of(&app, &assessment).await;
        let counsellor = app.client_for("counsellor", &["TJ-DYU-01"]).await;
        let s = counsellor
            .post(
                &format!("/api/v1/migrants/{migrant}/screenings"),
                &json!({"instrument": "phq9", "assessment_id": assessment,
                        "answers": {"phq9_9": "several_days"}}),
            )
            .await
            .expect(201);
        assert_eq!(s["result"]["complete"], false);
        let screening = s["id"].as_str().unwrap().to_owned();

        // The API gives the clinician the flag, never answers or scores.
        let clinician = app.client_for("clinician", &["TJ-DYU-01"]).await;
        let flags = clinician
            .get(&format!("/api/v1/assessments/{assessment}/mhpss-flags"))
            .await
            .expect(200);
        assert_eq!(flags[0]["screening_id"], screening.as_str());
        assert_eq!(flags[0]["flags"][0]["id"], "safety");
        assert_eq!(flags[0]["flags"][0]["immediate"], true);
        let text = flags.to_string();
        assert!(
            !text.contains("answers") && !text.contains("several_days"),
            "{text}"
        );

        // On the assessment page: the clinician sees the flag; the
        // registrar and the lab see no trace of it.
        let (clinician_browser, clinician_page) = login_and_get(
            &app,
            "flagclinician",
            "clinician",
            &format!("/assessments/{assessment}"),
        )
        .await;
        assert_eq!(clinician_page.status, 200);
        assert!(
            clinician_page
                .html
                .contains("thoughts of death or self-harm were reported"),
            "the clinician sees the safety flag"
        );
        assert!(!clinician_page.html.contains("Several days"));
        // The clinician may open the screening itself.
        let opened = web::get(
            &app,
            &clinician_browser,
            &format!("/screenings/{screening}"),
        )
        .await;
        assert_eq!(opened.status, 200);
        assert!(opened.html.contains("Thoughts of death or self-harm"));
        for (user, role) in [("flagregistrar", "registrar"), ("flaglab", "lab")] {
            let (b, page) =
                login_and_get(&app, user, role, &format!("/assessments/{assessment}")).await;
            assert_eq!(page.status, 200, "{role}");
            assert!(!page.html.contains("self-harm"), "{role} sees the flag");
            assert!(!page.html.contains(&screening), "{role} sees the screening");
            let refused = web::get(&app, &b, &format!("/screenings/{screening}")).await;
            assert_eq!(refused.status, 403, "{role}");
            let refused = web::get(&app, &b, &format!("/migrants/{migrant}/mhpss")).await;
            assert_eq!(refused.status, 403, "{role}");
        }
    }
);

/// Logs a new user of `role` at TJ-DYU-01 in, in English, and gets `path`.
async fn login_and_get(
    app: &TestApp,
    username: &str,
    role: &str,
    path: &str,
) -> (reqwest::Client, web::Page) {
    let account = mhis_server::auth::NewAccount {
        username: username.into(),
        display_name: username.into(),
        role: role.into(),
        sites: vec!["TJ-DYU-01".into()],
        national: false,
        password: "a long test password".into(),
        language: Some("en".into()),
    };
    mhis_server::auth::create_account(&app.state, &account, "test")
        .await
        .unwrap();
    let b = browser();
    let login = web::get(app, &b, "/login").await;
    let token = csrf(&login.html);
    web::post(
        app,
        &b,
        "/login",
        &[
            ("csrf", token.as_str()),
            ("username", username),
            ("password", "a long test password"),
        ],
    )
    .await;
    let page = web::get(app, &b, path).await;
    (b, page)
}

story!(
    a_counsellor_screens_and_follows_up_in_the_web_interface,
    |app: TestApp| async move {
        let dyu = site(&app, "TJ-DYU-01").await;
        let assessment = assessed_with_suggestions(&app.clinician, &dyu).await;
        let migrant = migrant_of(&app, &assessment).await;
        let (b, record) = login_and_get(
            &app,
            "webcounsellor",
            "counsellor",
            &format!("/migrants/{migrant}/mhpss"),
        )
        .await;
        assert_eq!(record.status, 200);
        assert!(record.html.contains("PHQ-9"));
        // The form is built from the instrument's data, with our labels.
        let form = web::get(
            &app,
            &b,
            &format!("/migrants/{migrant}/mhpss/screen?instrument=gad7&context=return"),
        )
        .await;
        assert_eq!(form.status, 200);
        assert!(form.html.contains("Nervous or on edge"));
        assert!(form.html.contains("name=\"gad7_1\""));
        let token = csrf(&form.html);
        // One item left blank: incomplete, never zero.
        let mut fields: Vec<(&str, &str)> = vec![
            ("csrf", token.as_str()),
            ("instrument", "gad7"),
            ("assessment_id", ""),
            ("context", "return"),
        ];
        let answers = [
            ("gad7_1", "nearly_every_day"),
            ("gad7_2", "nearly_every_day"),
            ("gad7_3", "nearly_every_day"),
            ("gad7_4", "nearly_every_day"),
            ("gad7_5", "nearly_every_day"),
            ("gad7_6", "not_at_all"),
        ];
        fields.extend(answers);
        let result = web::post(
            &app,
            &b,
            &format!("/migrants/{migrant}/mhpss/screen"),
            &fields,
        )
        .await;
        assert_eq!(result.status, 200);
        assert!(result.path.starts_with("/screenings/"), "{}", result.path);
        assert!(result.html.contains("Incomplete"));
        // Complete now: total 15, severe, positive; confirm the referral.
        fields.push(("gad7_7", "not_at_all"));
        let result = web::post(
            &app,
            &b,
            &format!("/migrants/{migrant}/mhpss/screen"),
            &fields,
        )
        .await;
        assert!(result.html.contains("15"));
        assert!(result.html.contains("Severe"));
        assert!(result.html.contains("Mental health assessment"));
        let screening = result.path.trim_start_matches("/screenings/").to_owned();
        let token = csrf(&result.html);
        let referred = web::post(
            &app,
            &b,
            &format!("/screenings/{screening}/referrals"),
            &[
                ("csrf", token.as_str()),
                ("reason", "mental_health_assessment"),
                ("to_site_id", dyu.as_str()),
                ("urgency", "routine"),
                ("due_date", ""),
                ("note", ""),
            ],
        )
        .await;
        assert_eq!(referred.status, 200);
        assert!(referred.html.contains("already"), "{}", referred.html);
        // The case: a session, a refused empty one, then closure.
        let detail = app
            .get(&format!("/api/v1/screenings/{screening}"))
            .await
            .expect(200);
        let case = detail["case_id"].as_str().unwrap().to_owned();
        let case_path = format!("/mhpss-cases/{case}");
        let page = web::get(&app, &b, &case_path).await;
        let token = csrf(&page.html);
        let refused = web::post(
            &app,
            &b,
            &format!("{case_path}/sessions"),
            &[
                ("csrf", token.as_str()),
                ("kind", "individual"),
                ("notes", " "),
            ],
        )
        .await;
        assert_eq!(refused.status, 422);
        assert!(refused.html.contains("notes"));
        let saved = web::post(
            &app,
            &b,
            &format!("{case_path}/sessions"),
            &[
                ("csrf", token.as_str()),
                ("kind", "group"),
                ("notes", "Group session on coping with stress"),
                ("next_step", "Individual follow-up"),
            ],
        )
        .await;
        assert_eq!(saved.status, 200);
        assert!(saved.html.contains("Group session on coping with stress"));
        let closed = web::post(
            &app,
            &b,
            &format!("{case_path}/close"),
            &[
                ("csrf", token.as_str()),
                ("reason", "goals_met"),
                ("note", ""),
            ],
        )
        .await;
        assert_eq!(closed.status, 200);
        assert!(closed.html.contains("Goals met"));
        // The caseload no longer lists it; translated pages render.
        let caseload = web::get(&app, &b, "/mhpss").await;
        assert_eq!(caseload.status, 200);
        assert!(!caseload.html.contains(&case));
        for lang in ["ru", "fr"] {
            web::get(&app, &b, &format!("/lang/{lang}?next=/mhpss")).await;
            let page = web::get(&app, &b, &case_path).await;
            assert_eq!(page.status, 200);
        }
    }
);

story!(
    the_demo_gives_the_counsellor_screenings_sessions_and_referrals,
    |app: TestApp| async move {
        let state = &app.state;
        mhis_server::demo::load(
            state.store.as_ref(),
            &state.vocabulary,
            &state.protocols,
            60,
            42,
            state.now(),
        )
        .await
        .unwrap();
        mhis_server::demo::create_demo_users(state).await.unwrap();
        let done = mhis_server::mhpss::load_demo(state, 42, 40).await.unwrap();
        assert!(done.screenings > 0, "{done:?}");
        assert!(
            done.positive > 0 && done.sessions == done.positive,
            "{done:?}"
        );
        assert!(done.referrals > 0, "{done:?}");
        // The demo counsellor logs in and finds the caseload.
        let b = browser();
        let login = web::get(&app, &b, "/login").await;
        let token = csrf(&login.html);
        web::post(
            &app,
            &b,
            "/login",
            &[
                ("csrf", token.as_str()),
                ("username", "demo-counsellor"),
                ("password", "demo-counsellor-password"),
            ],
        )
        .await;
        let caseload = web::get(&app, &b, "/mhpss").await;
        assert_eq!(caseload.status, 200);
        assert!(caseload.html.contains("/mhpss-cases/"));
    }
);

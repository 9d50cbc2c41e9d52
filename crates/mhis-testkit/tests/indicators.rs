//! Monitoring indicators on the real server, on SQLite and PostgreSQL:
//! - the stored cube (SQL) equals the reference recount on random fact
//!   rows, replaced and removed at random, under random filters;
//! - what is recorded through the API shows in the indicators at once,
//!   corrections and a person's changed details included, with small cells
//!   suppressed in JSON and CSV;
//! - who may read aggregates, and site scope;
//! - the dashboard page with its charts and CSV downloads.

use chrono::{Days, NaiveDate};
use mhis_domain::indicator::catalogue::Catalogue;
use mhis_domain::indicator::cube::{evaluate_cube, plan};
use mhis_domain::indicator::evaluate::evaluate;
use mhis_domain::indicator::facts::{
    AssessmentInput, ReferralInput, Who, assessment_row, referral_row,
};
use mhis_domain::indicator::{AgeGroup, Dimension, FactKind, FactRow, Filter, PeriodKind};
use mhis_store::DirtyFact;
use mhis_testkit::{TestApp, assessed_with_suggestions, story};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

const SITES: [&str; 3] = ["TJ-DYU-01", "TJ-KHU-01", "UZ-TAS-01"];

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 11, 20).unwrap()
}

fn random_row(c: &Catalogue, rng: &mut ChaCha8Rng, kind: FactKind) -> FactRow {
    let who = Who {
        site: SITES[rng.gen_range(0..3)].into(),
        nationality: ["TJ", "UZ"][rng.gen_range(0..2)].into(),
        destination: ["RU", "US"][rng.gen_range(0..2)].into(),
        sex: ["female", "male"][rng.gen_range(0..2)].into(),
        age: rng.gen_range(0..70),
    };
    let date = start() + Days::new(rng.gen_range(0..150));
    if kind == FactKind::Referral {
        let reported = rng.gen_bool(0.5);
        return referral_row(&ReferralInput {
            who,
            date,
            issued: rng.gen_bool(0.9),
            awaiting_outcome: !reported,
            due_date: date + Days::new(rng.gen_range(0..40)),
            reason: "tb_treatment".into(),
            days_to_outcome: reported.then(|| rng.gen_range(0..40)),
        });
    }
    let mut obs: Vec<(String, String)> = Vec::new();
    if rng.gen_bool(0.8) {
        let v = if rng.gen_bool(0.3) {
            "suggestive_tb"
        } else {
            "normal"
        };
        obs.push(("cxr".into(), v.into()));
    }
    if rng.gen_bool(0.3) {
        let v = if rng.gen_bool(0.3) {
            "mtb_detected"
        } else {
            "mtb_not_detected"
        };
        obs.push(("xpert".into(), v.into()));
    }
    if rng.gen_bool(0.6) {
        let v = if rng.gen_bool(0.2) {
            "reactive"
        } else {
            "non_reactive"
        };
        obs.push(("hbsag".into(), v.into()));
    }
    let finalised = rng.gen_bool(0.6);
    assessment_row(
        c,
        &AssessmentInput {
            who,
            date,
            finalised,
            outcome: Some(
                ["cleared", "cleared_with_follow_up", "not_cleared"][rng.gen_range(0..3)],
            ),
            tb_class: rng.gen_bool(0.5).then_some("class_b1"),
            observations: &obs,
            turnaround_days: finalised.then(|| rng.gen_range(0..20)),
        },
    )
}

/// Waits until the server's refresher has checked the catalogue, so it
/// will not reset the cube under the test.
async fn refresher_ready(app: &TestApp) {
    for _ in 0..200 {
        if app.state.store.cube_fingerprint().await.unwrap().is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the refresher never checked the catalogue");
}

story!(
    stored_cube_equals_the_reference_recount,
    |app: TestApp| async move {
        refresher_ready(&app).await;
        let c = Catalogue {
            suppress_below: 3,
            ..Catalogue::built_in()
        };
        let store = &app.state.store;
        let mut rng = ChaCha8Rng::seed_from_u64(2026);
        let mut rows: Vec<(DirtyFact, Option<FactRow>)> = Vec::new();
        for i in 0..160u128 {
            let kind = if i % 4 == 0 {
                FactKind::Referral
            } else {
                FactKind::Assessment
            };
            let dirty = DirtyFact {
                kind,
                id: uuid::Uuid::from_u128(i + 1),
                generation: 0,
            };
            let row = random_row(&c, &mut rng, kind);
            assert!(store.put_fact(&c, &dirty, Some(&row)).await.unwrap());
            rows.push((dirty, Some(row)));
        }
        // Corrections and amendments rebuild rows; some stop counting.
        for _ in 0..80 {
            let i = rng.gen_range(0..rows.len());
            let (dirty, _) = rows[i];
            let new = rng
                .gen_bool(0.85)
                .then(|| random_row(&c, &mut rng, dirty.kind));
            store.put_fact(&c, &dirty, new.as_ref()).await.unwrap();
            rows[i].1 = new;
        }
        // Writing the same row again changes nothing.
        let (dirty, same) = rows.iter().find(|(_, r)| r.is_some()).cloned().unwrap();
        assert!(!store.put_fact(&c, &dirty, same.as_ref()).await.unwrap());

        let current: Vec<FactRow> = rows.iter().filter_map(|(_, r)| r.clone()).collect();
        let mut stored = store.fact_rows(FactKind::Assessment).await.unwrap();
        stored.extend(store.fact_rows(FactKind::Referral).await.unwrap());
        assert_eq!(
            stored.len(),
            current.len(),
            "one stored row per counted record"
        );

        for case in 0..40 {
            let from = rng
                .gen_bool(0.7)
                .then(|| start() + Days::new(rng.gen_range(0..120)));
            let filter = Filter {
                sites: rng
                    .gen_bool(0.3)
                    .then(|| vec![SITES[rng.gen_range(0..3)].to_owned()]),
                nationality: rng.gen_bool(0.2).then(|| "TJ".to_owned()),
                destination: rng.gen_bool(0.2).then(|| "US".to_owned()),
                sex: rng.gen_bool(0.2).then(|| "female".to_owned()),
                age_group: rng.gen_bool(0.2).then_some(AgeGroup::Adult),
                from,
                to: from.map(|f| f + Days::new(rng.gen_range(0..90))),
                today: Some(start() + Days::new(rng.gen_range(0..200))),
            };
            let by = [
                None,
                Some(Dimension::Site),
                Some(Dimension::Sex),
                Some(Dimension::AgeGroup),
                Some(Dimension::Nationality),
                Some(Dimension::Destination),
                Some(Dimension::Period(PeriodKind::Day)),
                Some(Dimension::Period(PeriodKind::Week)),
                Some(Dimension::Period(PeriodKind::Month)),
                Some(Dimension::Period(PeriodKind::Quarter)),
            ][case % 10];
            for ind in &c.indicators {
                let expected = evaluate(&c, ind, &current, &filter, by);
                let sums = store.cube_sums(&plan(ind, &filter, by)).await.unwrap();
                let got = evaluate_cube(&c, ind, &sums, &filter, by);
                assert_eq!(got, expected, "{} by {by:?} under {filter:?}", ind.id);
            }
        }
    }
);

async fn site_id(app: &TestApp, code: &str) -> String {
    let sites = app.admin.get("/api/v1/sites").await.expect(200);
    let found = sites
        .as_array()
        .and_then(|a| a.iter().find(|s| s["code"] == code))
        .cloned();
    match found {
        Some(s) => s["id"].as_str().unwrap().to_owned(),
        None => app
            .admin
            .post(
                "/api/v1/sites",
                &json!({"code": code, "kind": "assessment_centre", "country": "TJ",
                        "name": format!("Centre {code}")}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    }
}

fn cell<'a>(body: &'a Value, key: &str) -> &'a Value {
    body["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == key)
        .unwrap_or_else(|| panic!("no cell {key} in {body}"))
}

story!(
    recorded_results_show_at_once_with_suppression,
    |app: TestApp| async move {
        let dyu = site_id(&app, "TJ-DYU-01").await;
        let khu = site_id(&app, "TJ-KHU-01").await;
        let manager = app.client_for("data_manager", &[]).await;
        let url = "/api/v1/indicators/cxr_suggestive_rate?by=site";

        // One suggestive X-ray at TJ-DYU-01: withheld, never shown as 1.
        let first = assessed_with_suggestions(&app.clinician, &dyu).await;
        let body = manager.get(url).await.expect(200);
        let c = cell(&body, "TJ-DYU-01");
        assert_eq!(c["suppressed"], true, "{body}");
        assert!(c["numerator"].is_null() && c["denominator"].is_null() && c["value"].is_null());

        // Five: shown, 100 %.
        for _ in 0..4 {
            assessed_with_suggestions(&app.clinician, &dyu).await;
        }
        let body = manager.get(url).await.expect(200);
        let c = cell(&body, "TJ-DYU-01");
        assert_eq!(
            (c["numerator"].as_u64(), c["denominator"].as_u64()),
            (Some(5), Some(5))
        );
        assert_eq!(c["value"].as_f64(), Some(100.0));

        // A correction of the first X-ray to normal: 4 of 5, withheld again.
        let observations = app
            .get(&format!("/api/v1/assessments/{first}/observations"))
            .await
            .expect(200);
        let cxr = observations["items"]
            .as_array()
            .or_else(|| observations["observations"].as_array())
            .unwrap()
            .iter()
            .find(|o| o["code"] == "cxr")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.post(
            &format!("/api/v1/observations/{cxr}/correction"),
            &json!({"value": "normal", "reason": "re-read by a second radiologist"}),
        )
        .await
        .expect(201);
        let body = manager.get(url).await.expect(200);
        let c = cell(&body, "TJ-DYU-01");
        assert_eq!(c["suppressed"], true, "4 of 5 reveals a count of 4: {body}");

        // The same in CSV: the withheld cell has no numbers.
        let csv = manager
            .get_text("/api/v1/indicators/cxr_suggestive_rate?by=site&format=csv")
            .await;
        assert!(
            csv.starts_with("indicator,site,split,numerator,denominator,value,suppressed\n"),
            "{csv}"
        );
        assert!(
            csv.contains("cxr_suggestive_rate,TJ-DYU-01,,,,,true"),
            "{csv}"
        );

        // Counts are not ratios: 5 assessed at TJ-DYU-01 show.
        let body = manager
            .get("/api/v1/indicators/migrants_assessed?by=sex&site=TJ-DYU-01")
            .await
            .expect(200);
        assert_eq!(cell(&body, "male")["numerator"].as_u64(), Some(5));

        // A data manager of TJ-KHU-01 sees only that site (nothing there yet),
        // even when asking for another.
        assessed_with_suggestions(&app.clinician, &khu).await;
        let local = app.client_for("data_manager", &["TJ-KHU-01"]).await;
        let body = local
            .get("/api/v1/indicators/migrants_assessed?by=site")
            .await
            .expect(200);
        let keys: Vec<&str> = body["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["TJ-KHU-01"]);
        let body = local
            .get("/api/v1/indicators/migrants_assessed?site=TJ-DYU-01")
            .await
            .expect(200);
        assert!(body["cells"].as_array().unwrap().is_empty(), "{body}");

        // Aggregates only for those allowed them.
        for role in ["registrar", "lab", "trainer", "verifier"] {
            let c = app.client_for(role, &[]).await;
            c.get(url).await.expect_error(403, None);
        }
        // Bad filters name the field.
        manager
            .get("/api/v1/indicators/migrants_assessed?by=planet")
            .await
            .expect_error(422, Some("by"));
        manager
            .get("/api/v1/indicators/migrants_assessed?period=2026Q5")
            .await
            .expect_error(422, Some("period"));
        manager
            .get("/api/v1/indicators/migrants_assessed?sex=x")
            .await
            .expect_error(422, Some("sex"));
        manager
            .get("/api/v1/indicators/migrants_assessed?site=NOPE")
            .await
            .expect_error(422, Some("site"));
        manager
            .get("/api/v1/indicators/nope")
            .await
            .expect_error(404, None);
    }
);

const PASSWORD: &str = "correct horse battery staple";

/// A signed-in browser of a new password account.
async fn signed_in(app: &TestApp, username: &str, role: &str) -> reqwest::Client {
    use mhis_server::auth::{NewAccount, create_account};
    use mhis_testkit::web::{browser, csrf, get, post};
    create_account(
        &app.state,
        &NewAccount {
            username: username.into(),
            display_name: format!("Test {username}"),
            role: role.into(),
            sites: Vec::new(),
            national: true,
            password: PASSWORD.into(),
            language: None,
        },
        "test",
    )
    .await
    .expect("create account");
    let client = browser();
    let form = get(app, &client, "/login").await;
    let token = csrf(&form.html);
    let page = post(
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
    assert_eq!(page.status, reqwest::StatusCode::OK, "{}", page.html);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_charts_filters_and_csv() {
    use mhis_testkit::web::get;
    let app = mhis_testkit::spawn_app(mhis_testkit::Backend::Sqlite)
        .await
        .unwrap();
    let dyu = site_id(&app, "TJ-DYU-01").await;
    for _ in 0..6 {
        assessed_with_suggestions(&app.clinician, &dyu).await;
    }
    let manager = signed_in(&app, "manager", "data_manager").await;
    let page = get(&app, &manager, "/dashboard").await;
    assert_eq!(page.status, reqwest::StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("Monitoring dashboard"));
    assert!(
        page.html.contains(r#"href="/dashboard""#),
        "the navigation links it"
    );
    // A tile per indicator; six assessed.
    let tile = page
        .html
        .split(r#"id="tile-migrants_assessed""#)
        .nth(1)
        .unwrap();
    assert!(
        tile.contains(r#"<span class="tile-value">6</span>"#),
        "{tile}"
    );
    // Two charts with their tables and CSV links.
    assert_eq!(page.html.matches("<svg").count(), 2);
    assert!(page.html.contains("<th scope=\"row\">TJ-DYU-01</th>"));
    // Filters: by sex for the X-ray rate; women: no rows.
    let page = get(
        &app,
        &manager,
        "/dashboard?indicator=cxr_suggestive_rate&by=sex&series=week",
    )
    .await;
    assert!(
        page.html.contains("<th scope=\"row\">male</th>"),
        "{}",
        page.html
    );
    assert!(page.html.contains("100.0 %"));
    let csv_link = page
        .html
        .split("href=\"/dashboard/csv/")
        .nth(2)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let csv = get(&app, &manager, &format!("/dashboard/csv/{csv_link}")).await;
    assert_eq!(csv.status, reqwest::StatusCode::OK);
    assert!(csv.html.starts_with("indicator,sex,"), "{}", csv.html);
    assert!(
        csv.html
            .contains("cxr_suggestive_rate,male,,6,6,100.00,false"),
        "{}",
        csv.html
    );
    let page = get(&app, &manager, "/dashboard?sex=female").await;
    let tile = page
        .html
        .split(r#"id="tile-migrants_assessed""#)
        .nth(1)
        .unwrap();
    assert!(
        tile.contains(r#"<span class="tile-value">—</span>"#),
        "{tile}"
    );
    // A bad filter is named, and the dashboard still shows.
    let page = get(&app, &manager, "/dashboard?period=2026Q9").await;
    assert_eq!(page.status, reqwest::StatusCode::OK);
    assert!(page.html.contains("period:"), "{}", page.html);
    // Not for a registrar.
    let registrar = signed_in(&app, "registrar", "registrar").await;
    let page = get(&app, &registrar, "/dashboard").await;
    assert_eq!(page.status, reqwest::StatusCode::FORBIDDEN);
}

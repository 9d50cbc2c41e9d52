//! Story tests: what a client of the registry and assessments API relies
//! on, told as stories and run against the real server on SQLite and on
//! PostgreSQL.

use mhis_testkit::{TestApp, story};
use serde_json::{Value, json};

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

fn rakhimov(site_id: &str) -> Value {
    json!({
        "site_id": site_id,
        "family_name": "Рахимов",
        "given_names": "Шухрат",
        "sex": "male",
        "birth_date": "1990-06-01",
        "nationality": "TJ",
        "document": {"kind": "passport", "number": "400 123456", "issuing_country": "TJ"},
        "phone": "+992 93 123 45 67",
        "preferred_language": "tg"
    })
}

async fn register(app: &TestApp, body: &Value) -> Value {
    app.post("/api/v1/migrants", body).await.expect(201)
}

async fn open_assessment(app: &TestApp, migrant: &str, site: &str, protocol: &str) -> String {
    let body = app
        .post(
            "/api/v1/assessments",
            &json!({"migrant_id": migrant, "site_id": site, "purpose": "labour",
                    "destination": "RU", "protocol": protocol}),
        )
        .await
        .expect(201);
    body["id"].as_str().unwrap().to_owned()
}

story!(
    a_clerk_registers_and_finds_a_migrant_in_either_script,
    |app: TestApp| async move {
        let site = site(&app, "TJ-DYU-01").await;
        let created = register(&app, &rakhimov(&site)).await;
        let m = &created["migrant"];
        assert_eq!(m["family_name"], "Рахимов");
        assert_eq!(m["family_name_latin"], "Rakhimov");
        assert_eq!(m["given_names_latin"], "Shukhrat");
        assert_eq!(m["document"]["number"], "400123456");
        assert_eq!(m["registration_number"], "TJ-DYU-01-000001");
        assert_eq!(m["version"], 1);
        assert_eq!(created["possible_duplicates"], json!([]));
        let id = m["id"].as_str().unwrap();

        // Somebody else, to prove searches filter.
        let mut other = rakhimov(&site);
        other["family_name"] = json!("Юсупова");
        other["given_names"] = json!("Малика");
        other["sex"] = json!("female");
        other["birth_date"] = json!("1995");
        other["document"] =
            json!({"kind": "passport", "number": "500111", "issuing_country": "TJ"});
        let other = register(&app, &other).await;
        assert_eq!(other["migrant"]["registration_number"], "TJ-DYU-01-000002");
        assert_eq!(other["migrant"]["family_name_latin"], "Iusupova");

        for query in [
            "Рахимов",
            "rakhimov",
            "RAHIMOV",
            "Rakhimov%20Shukhrat",
            "шухрат",
            "рахим",
        ] {
            let page = app
                .get(&format!("/api/v1/migrants?name={query}"))
                .await
                .expect(200);
            assert_eq!(page["total"], 1, "query {query}: {page}");
            assert_eq!(page["items"][0]["id"], id, "query {query}");
        }
        // An Uzbek-style Latin spelling finds the ICAO one.
        let page = app.get("/api/v1/migrants?name=Yusupova").await.expect(200);
        assert_eq!(page["items"][0]["family_name"], "Юсупова");

        let page = app
            .get("/api/v1/migrants?document_number=400-123456")
            .await
            .expect(200);
        assert_eq!(page["total"], 1);
        // A full birth date matches a year-only record; a year matches both.
        let page = app
            .get("/api/v1/migrants?birth_date=1995-03-04")
            .await
            .expect(200);
        assert_eq!(page["items"][0]["family_name"], "Юсупова");
        let page = app
            .get("/api/v1/migrants?birth_date=1990")
            .await
            .expect(200);
        assert_eq!(page["total"], 1);
        let page = app.get("/api/v1/migrants?name=Smith").await.expect(200);
        assert_eq!(page["total"], 0);

        // Pagination: newest first, totals across pages.
        let page = app
            .get("/api/v1/migrants?per_page=1&page=2")
            .await
            .expect(200);
        assert_eq!(page["total"], 2);
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        assert_eq!(page["items"][0]["id"], id);

        let fetched = app.get(&format!("/api/v1/migrants/{id}")).await.expect(200);
        assert_eq!(&fetched, m);
    }
);

story!(
    a_possible_duplicate_is_reported_but_not_blocked,
    |app: TestApp| async move {
        let site = site(&app, "TJ-KHJ-01").await;
        let first = register(&app, &rakhimov(&site)).await;
        let first_id = first["migrant"]["id"].clone();

        // Same passport, spelt in Latin.
        let mut same_doc = rakhimov(&site);
        same_doc["family_name"] = json!("RAKHIMOV");
        same_doc["given_names"] = json!("SHUKHRAT");
        let second = register(&app, &same_doc).await;
        let dups = second["possible_duplicates"].as_array().unwrap();
        assert_eq!(dups.len(), 1);
        assert_eq!(dups[0]["migrant"]["id"], first_id);
        assert_eq!(
            dups[0]["reasons"],
            json!(["same_document", "same_name_and_birth_date"])
        );

        // No document, but the same names and a compatible partial birth date.
        let mut same_name = rakhimov(&site);
        same_name.as_object_mut().unwrap().remove("document");
        same_name["birth_date"] = json!("1990-06");
        let third = register(&app, &same_name).await;
        let dups = third["possible_duplicates"].as_array().unwrap();
        assert_eq!(dups.len(), 2);
        assert!(
            dups.iter()
                .all(|d| d["reasons"] == json!(["same_name_and_birth_date"]))
        );

        // A different birth year is not a duplicate.
        let mut other = same_name.clone();
        other["birth_date"] = json!("1991-06-01");
        assert_eq!(
            register(&app, &other).await["possible_duplicates"],
            json!([])
        );

        let all = app.get("/api/v1/migrants?name=Rakhimov").await.expect(200);
        assert_eq!(all["total"], 4, "every registration was stored");
    }
);

story!(
    an_update_needs_the_current_version_and_valid_details,
    |app: TestApp| async move {
        let site = site(&app, "UZ-TAS-01").await;
        let created = register(&app, &rakhimov(&site)).await;
        let id = created["migrant"]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/migrants/{id}");

        let mut update = rakhimov(&site);
        update.as_object_mut().unwrap().remove("site_id");
        update["version"] = json!(1);
        update["phone"] = json!("+992 90 000 00 00");
        let updated = app.put(&path, &update).await.expect(200);
        assert_eq!(updated["version"], 2);
        assert_eq!(updated["phone"], "+992900000000");
        assert_eq!(
            updated["registration_number"],
            created["migrant"]["registration_number"]
        );

        // A second writer who read version 1 is refused, and changes nothing.
        update["phone"] = json!("+992 11 111 11 11");
        app.put(&path, &update)
            .await
            .expect_error(409, Some("version"));
        // Invalid details are refused with their field, and change nothing.
        update["version"] = json!(2);
        update["birth_date"] = json!("1990-02-30");
        app.put(&path, &update)
            .await
            .expect_error(422, Some("birth_date"));
        let now = app.get(&path).await.expect(200);
        assert_eq!(now["phone"], "+992900000000");
        assert_eq!(now["birth_date"], "1990-06-01");

        let missing = format!("/api/v1/migrants/{}", uuid::Uuid::now_v7());
        update["birth_date"] = json!("1990");
        app.put(&missing, &update).await.expect_error(404, None);
        app.get(&missing).await.expect_error(404, None);
        app.get("/api/v1/migrants/not-an-id")
            .await
            .expect_error(404, None);
    }
);

story!(
    assessments_are_opened_and_listed,
    |app: TestApp| async move {
        let a = site(&app, "KG-BIS-01").await;
        let b = site(&app, "KG-OSH-01").await;
        let m = register(&app, &rakhimov(&a)).await["migrant"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let first = open_assessment(&app, &m, &a, "ru-labour").await;
        let second = open_assessment(&app, &m, &b, "us-cdc-ti-tb").await;

        let got = app
            .get(&format!("/api/v1/assessments/{first}"))
            .await
            .expect(200);
        assert_eq!(got["status"], "open");
        assert_eq!(got["protocol"], "ru-labour");
        assert_eq!(got["destination"], "RU");

        let by_migrant = app
            .get(&format!("/api/v1/migrants/{m}/assessments"))
            .await
            .expect(200);
        assert_eq!(by_migrant["total"], 2);
        assert_eq!(by_migrant["items"][0]["id"], second, "newest first");
        let by_site = app
            .get(&format!("/api/v1/assessments?site_id={b}"))
            .await
            .expect(200);
        assert_eq!(by_site["total"], 1);
        assert_eq!(by_site["items"][0]["id"], second);
        let open = app.get("/api/v1/assessments?status=open").await.expect(200);
        assert_eq!(open["total"], 2);
        let finalised = app
            .get("/api/v1/assessments?status=finalised")
            .await
            .expect(200);
        assert_eq!(finalised["total"], 0);
        app.get("/api/v1/assessments?status=closed")
            .await
            .expect_error(422, Some("status"));
        app.get("/api/v1/assessments?site_id=x")
            .await
            .expect_error(422, Some("site_id"));

        // Bad input names the field and stores nothing.
        let bad = |field: &str, value: Value| {
            let mut body = json!({"migrant_id": m, "site_id": a, "purpose": "labour",
                              "destination": "RU", "protocol": "ru-labour"});
            body[field] = value;
            body
        };
        for (field, value, expected) in [
            ("protocol", json!("fr-labour"), "protocol"),
            ("purpose", json!("tourism"), "purpose"),
            ("destination", json!("RUS"), "destination"),
            ("assessment_date", json!("2026-13-01"), "assessment_date"),
            (
                "migrant_id",
                json!(uuid::Uuid::now_v7().to_string()),
                "migrant_id",
            ),
            (
                "site_id",
                json!(uuid::Uuid::now_v7().to_string()),
                "site_id",
            ),
        ] {
            app.post("/api/v1/assessments", &bad(field, value))
                .await
                .expect_error(422, Some(expected));
        }
        let mut missing = bad("purpose", json!("labour"));
        missing.as_object_mut().unwrap().remove("destination");
        app.post("/api/v1/assessments", &missing)
            .await
            .expect_error(422, Some("destination"));
        let all = app
            .get(&format!("/api/v1/migrants/{m}/assessments"))
            .await
            .expect(200);
        assert_eq!(all["total"], 2, "no refused assessment was stored");
    }
);

story!(
    results_are_recorded_all_or_nothing_and_corrected_with_history,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-02").await;
        let m = register(&app, &rakhimov(&s)).await["migrant"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let a = open_assessment(&app, &m, &s, "us-cdc-ti-tb").await;
        let path = format!("/api/v1/assessments/{a}/observations");

        // One bad value fails the whole batch, naming the item and field.
        let err = app
            .post(
                &path,
                &json!({"observations": [
                    {"code": "tb.symptoms", "value": false},
                    {"code": "cxr", "value": "cloudy"}
                ]}),
            )
            .await
            .expect_error(422, Some("observations[1].value"));
        assert!(err["message"].as_str().unwrap().contains("suggestive_tb"));
        app.post(
            &path,
            &json!({"observations": [{"code": "tb.sneezes", "value": true}]}),
        )
        .await
        .expect_error(422, Some("observations[0].code"));
        app.post(
            &path,
            &json!({"observations": [{"code": "tst.mm", "value": "12"}]}),
        )
        .await
        .expect_error(422, Some("observations[0].value"));
        app.post(
            &path,
            &json!({"observations": [{"code": "tst.mm", "value": 12, "unit": "cm"}]}),
        )
        .await
        .expect_error(422, Some("observations[0].unit"));
        assert_eq!(app.get(&path).await.expect(200)["observations"], json!([]));

        let stored = app
            .post(
                &path,
                &json!({"observations": [
                    {"code": "tb.symptoms", "value": false},
                    {"code": "tb.contact", "value": false},
                    {"code": "tb.previous", "value": "none"},
                    {"code": "hiv.known_positive", "value": false},
                    {"code": "cxr", "value": "normal"},
                    {"code": "tst.mm", "value": 4},
                    {"code": "body_temperature", "value": 36.6, "unit": "Cel"}
                ]}),
            )
            .await
            .expect(201);
        let stored = stored["observations"].as_array().unwrap();
        assert_eq!(stored.len(), 7);
        assert_eq!(stored[5]["unit"], "mm");
        assert_eq!(stored[6]["value"], 36.6);
        let cxr_id = stored[4]["id"].as_str().unwrap().to_owned();

        // A second value for a recorded code is a conflict: it must be a correction.
        app.post(
            &path,
            &json!({"observations": [
                {"code": "igra", "value": "negative"},
                {"code": "cxr", "value": "suggestive_tb"}
            ]}),
        )
        .await
        .expect_error(409, Some("observations[1].code"));
        assert_eq!(
            app.get(&path).await.expect(200)["observations"]
                .as_array()
                .unwrap()
                .len(),
            7
        );

        // Correct the reading: the new value is current, the old one is history.
        let correction = format!("/api/v1/observations/{cxr_id}/correction");
        app.post(&correction, &json!({"value": "suggestive_tb"}))
            .await
            .expect_error(422, Some("reason"));
        app.post(
            &correction,
            &json!({"value": "blurry", "reason": "re-read"}),
        )
        .await
        .expect_error(422, Some("value"));
        let new = app
            .post(
                &correction,
                &json!({"value": "suggestive_tb", "reason": "second reader"}),
            )
            .await
            .expect(201);
        assert_eq!(new["supersedes"], cxr_id.as_str());
        assert_eq!(new["correction_reason"], "second reader");
        let current = app.get(&path).await.expect(200);
        let cxr: Vec<&Value> = current["observations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["code"] == "cxr")
            .collect();
        assert_eq!(cxr.len(), 1);
        assert_eq!(cxr[0]["value"], "suggestive_tb");
        let history = app.get(&format!("{path}?history=true")).await.expect(200);
        assert_eq!(history["observations"].as_array().unwrap().len(), 8);
        let old = app
            .get(&format!("/api/v1/observations/{cxr_id}"))
            .await
            .expect(200);
        assert_eq!(old["value"], "normal");
        assert_eq!(old["superseded_by"], new["id"]);

        // History cannot be corrected twice.
        app.post(&correction, &json!({"value": "normal", "reason": "again"}))
            .await
            .expect_error(409, Some("id"));
        let unknown = format!("/api/v1/assessments/{}/observations", uuid::Uuid::now_v7());
        app.post(
            &unknown,
            &json!({"observations": [{"code": "cxr", "value": "normal"}]}),
        )
        .await
        .expect_error(404, None);
    }
);

story!(
    bad_requests_get_a_clear_error_and_write_nothing,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-03").await;
        app.post_raw(
            "/api/v1/migrants",
            "application/json",
            b"{\"family_name\": ".to_vec(),
        )
        .await
        .expect_error(400, None);
        app.post_raw("/api/v1/migrants", "text/plain", b"{}".to_vec())
            .await
            .expect_error(415, None);
        let mut body = rakhimov(&s);
        body["family_name"] = json!("Я".repeat(101));
        let e = app
            .post("/api/v1/migrants", &body)
            .await
            .expect_error(422, Some("family_name"));
        assert!(e["message"].as_str().unwrap().contains("at most 100"));
        for (field, value) in [
            ("birth_date", json!("1990-02-30")),
            ("birth_date", json!("2990")),
            ("sex", json!("m")),
            ("nationality", json!("XX")),
            ("phone", json!("12")),
            ("preferred_language", json!("Russian")),
            ("given_names", json!("  ")),
        ] {
            let mut body = rakhimov(&s);
            body[field] = value;
            app.post("/api/v1/migrants", &body)
                .await
                .expect_error(422, Some(field));
        }
        let mut body = rakhimov(&s);
        body["document"]["number"] = json!("AB#1");
        app.post("/api/v1/migrants", &body)
            .await
            .expect_error(422, Some("document.number"));
        let mut body = rakhimov(&s);
        body["birth_date"] = json!(1990);
        app.post("/api/v1/migrants", &body)
            .await
            .expect_error(422, Some("birth_date"));
        let mut body = rakhimov(&s);
        body.as_object_mut().unwrap().remove("sex");
        app.post("/api/v1/migrants", &body)
            .await
            .expect_error(422, Some("sex"));
        let huge = vec![b' '; 2 * 1024 * 1024];
        app.post_raw("/api/v1/migrants", "application/json", huge)
            .await
            .expect_error(413, None);
        app.get("/api/v1/migrants?per_page=1000")
            .await
            .expect_error(422, Some("per_page"));
        app.get("/api/v1/migrants?page=abc")
            .await
            .expect_error(422, Some("page"));
        app.get("/api/v1/nothing-here")
            .await
            .expect_error(404, None);
        // Site codes are unique.
        app.admin
            .post(
                "/api/v1/sites",
                &json!({"code": "TJ-DYU-03", "kind": "laboratory",
                                       "country": "TJ", "name": "Lab"}),
            )
            .await
            .expect_error(409, Some("code"));

        let page = app.get("/api/v1/migrants").await.expect(200);
        assert_eq!(page["total"], 0, "no refused registration was stored");
    }
);

story!(
    the_openapi_document_and_vocabulary_are_served,
    |app: TestApp| async move {
        let doc = app.get("/api/v1/openapi.json").await.expect(200);
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        for path in [
            "/api/v1/migrants",
            "/api/v1/assessments/{id}/observations",
            "/api/v1/observations/{id}/correction",
        ] {
            assert!(doc["paths"][path].is_object(), "missing {path}");
        }
        assert!(doc["components"]["schemas"]["Migrant"].is_object());
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
        let vocabulary = app.get("/api/v1/vocabulary").await.expect(200);
        let codes = vocabulary["codes"].as_array().unwrap();
        let cxr = codes.iter().find(|c| c["code"] == "cxr").unwrap();
        assert_eq!(cxr["type"], "coded");
    }
);

story!(
    the_decision_follows_the_results_as_they_arrive,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-04").await;
        let m = register(&app, &rakhimov(&s)).await["migrant"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let a = open_assessment(&app, &m, &s, "ru-labour").await;
        let decision_path = format!("/api/v1/assessments/{a}/decision");
        let record = |obs: Value| {
            let path = format!("/api/v1/assessments/{a}/observations");
            let app = &app;
            async move {
                app.post(&path, &json!({ "observations": obs }))
                    .await
                    .expect(201)
            }
        };

        let d = app.get(&decision_path).await.expect(200);
        assert_eq!(d["protocol"], "ru-labour");
        assert_eq!(d["outcome"], "pending");
        assert_eq!(
            d["due"],
            json!([
                "hiv.a1",
                "syphilis.screen",
                "cxr",
                "leprosy.exam",
                "narcology.drug_test"
            ])
        );

        record(json!([
            {"code": "hiv.a1", "value": "non_reactive"},
            {"code": "syphilis.screen", "value": "non_reactive"},
            {"code": "cxr", "value": "suggestive_tb"},
            {"code": "leprosy.exam", "value": "no_signs"},
            {"code": "narcology.drug_test", "value": "negative"},
            {"code": "hbsag", "value": "reactive"}
        ]))
        .await;
        let d = app.get(&decision_path).await.expect(200);
        assert_eq!(d["outcome"], "pending");
        assert_eq!(d["due"], json!(["xpert"]));
        assert!(
            d["referrals"]
                .as_array()
                .unwrap()
                .contains(&json!("hepatitis_care"))
        );

        record(json!([{"code": "xpert", "value": "mtb_not_detected"}])).await;
        let d = app.get(&decision_path).await.expect(200);
        assert_eq!(d["outcome"], "cleared_with_follow_up");
        assert_eq!(d["due"], json!([]));
        assert!(
            d["referrals"]
                .as_array()
                .unwrap()
                .contains(&json!("tb_evaluation"))
        );
        assert!(
            d["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["source"].is_string())
        );

        // The API's decision is the engine's decision on the same facts, as
        // `mhis classify` would give it.
        let today = chrono::Utc::now()
            .date_naive()
            .format("%Y-%m-%d")
            .to_string();
        let case = json!({"assessment_date": today, "birth_date": "1990-06-01", "sex": "male",
        "observations": {"hiv.a1": "non_reactive", "syphilis.screen": "non_reactive",
            "cxr": "suggestive_tb", "leprosy.exam": "no_signs", "narcology.drug_test": "negative",
            "hbsag": "reactive", "xpert": "mtb_not_detected"}});
        let engine = mhis_domain::protocol::ProtocolSet::built_in();
        let expected = engine
            .classify_json("ru-labour", &case.to_string())
            .unwrap()
            .to_json();
        assert_eq!(d, expected);

        app.get(&format!(
            "/api/v1/assessments/{}/decision",
            uuid::Uuid::now_v7()
        ))
        .await
        .expect_error(404, None);
    }
);

story!(
    nothing_is_reachable_without_credentials,
    |app: TestApp| async move {
        let anonymous = app.anonymous();
        let id = uuid::Uuid::now_v7();
        for path in [
            "/api/v1/sites".to_owned(),
            "/api/v1/migrants".to_owned(),
            format!("/api/v1/migrants/{id}"),
            "/api/v1/assessments".to_owned(),
            format!("/api/v1/assessments/{id}/decision"),
            format!("/api/v1/observations/{id}"),
            "/api/v1/vocabulary".to_owned(),
        ] {
            anonymous.get(&path).await.expect_error(401, None);
        }
        anonymous
            .post("/api/v1/migrants", &json!({}))
            .await
            .expect_error(401, None);
        let mut forged = app.anonymous();
        forged.token = Some("mhis_0000".into());
        forged.get("/api/v1/sites").await.expect_error(401, None);
        // The API description stays public, as it holds no data.
        anonymous.get("/api/v1/openapi.json").await.expect(200);
    }
);

story!(
    each_role_can_do_its_work_and_nothing_more,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-05").await;
        let registrar = app.client_for("registrar", &["TJ-DYU-05"]).await;
        let lab = app.client_for("lab", &["TJ-DYU-05"]).await;
        let radiologist = app.client_for("radiologist", &["TJ-DYU-05"]).await;
        let clinician = app.client_for("clinician", &["TJ-DYU-05"]).await;
        let data_manager = app.client_for("data_manager", &[]).await;
        let counsellor = app.client_for("counsellor", &["TJ-DYU-05"]).await;
        let trainer = app.client_for("trainer", &[]).await;
        let border_officer = app.client_for("border_officer", &[]).await;
        let verifier = app.client_for("verifier", &[]).await;

        // registrar: registers and opens; may not record results or make sites.
        let m = registrar
            .post("/api/v1/migrants", &rakhimov(&s))
            .await
            .expect(201);
        let m = m["migrant"]["id"].as_str().unwrap().to_owned();
        let a = registrar
            .post(
                "/api/v1/assessments",
                &json!({"migrant_id": m, "site_id": s,
            "purpose": "labour", "destination": "RU", "protocol": "ru-labour"}),
            )
            .await
            .expect(201);
        let a = a["id"].as_str().unwrap().to_owned();
        let obs = format!("/api/v1/assessments/{a}/observations");
        registrar
            .post(
                &obs,
                &json!({"observations": [{"code": "cxr", "value": "normal"}]}),
            )
            .await
            .expect_error(403, None);
        registrar
            .post(
                "/api/v1/sites",
                &json!({"code": "XX-1", "kind": "laboratory", "country": "TJ", "name": "x"}),
            )
            .await
            .expect_error(403, None);

        // lab: laboratory results only.
        lab.post(
            &obs,
            &json!({"observations": [{"code": "hiv.a1", "value": "non_reactive"}]}),
        )
        .await
        .expect(201);
        lab.post(
            &obs,
            &json!({"observations": [{"code": "cxr", "value": "normal"}]}),
        )
        .await
        .expect_error(403, None);
        lab.post("/api/v1/migrants", &rakhimov(&s))
            .await
            .expect_error(403, None);

        // radiologist: radiology only.
        let cxr = radiologist
            .post(
                &obs,
                &json!({"observations": [{"code": "cxr", "value": "normal"}]}),
            )
            .await
            .expect(201);
        radiologist
            .post(
                &obs,
                &json!({"observations": [{"code": "syphilis.screen", "value": "non_reactive"}]}),
            )
            .await
            .expect_error(403, None);
        // A lab user may not correct a radiology reading.
        let cxr_id = cxr["observations"][0]["id"].as_str().unwrap();
        lab.post(
            &format!("/api/v1/observations/{cxr_id}/correction"),
            &json!({"value": "inconclusive", "reason": "x"}),
        )
        .await
        .expect_error(403, None);

        // clinician: history and examination too, and reads the decision.
        clinician
            .post(
                &obs,
                &json!({"observations": [{"code": "leprosy.exam", "value": "no_signs"}]}),
            )
            .await
            .expect(201);
        clinician
            .get(&format!("/api/v1/assessments/{a}/decision"))
            .await
            .expect(200);

        // data manager: aggregates only, never names or results.
        data_manager
            .get("/api/v1/migrants")
            .await
            .expect_error(403, None);
        data_manager
            .get(&format!("/api/v1/migrants/{m}"))
            .await
            .expect_error(403, None);
        data_manager
            .get(&format!("/api/v1/assessments/{a}"))
            .await
            .expect_error(403, None);
        data_manager.get("/api/v1/sites").await.expect(200);

        // counsellor: reads, never writes results here.
        counsellor
            .get(&format!("/api/v1/migrants/{m}"))
            .await
            .expect(200);
        counsellor
            .post(
                &obs,
                &json!({"observations": [{"code": "tb.symptoms", "value": false}]}),
            )
            .await
            .expect_error(403, None);

        // trainer, border officer and verifier never see health records.
        for other in [&trainer, &border_officer, &verifier] {
            other
                .get(&format!("/api/v1/migrants/{m}"))
                .await
                .expect_error(403, None);
            other.get(&obs).await.expect_error(403, None);
            other.get("/api/v1/sites").await.expect(200);
        }

        // admin: manages sites, reads, but records no results.
        app.admin
            .get(&format!("/api/v1/migrants/{m}"))
            .await
            .expect(200);
        app.admin
            .post(
                &obs,
                &json!({"observations": [{"code": "tb.contact", "value": false}]}),
            )
            .await
            .expect_error(403, None);
    }
);

story!(
    records_of_other_sites_are_invisible,
    |app: TestApp| async move {
        let home = site(&app, "TJ-DYU-06").await;
        let _other = site(&app, "UZ-TAS-06").await;
        let here = app.client_for("clinician", &["TJ-DYU-06"]).await;
        let there = app.client_for("clinician", &["UZ-TAS-06"]).await;
        let m = here
            .post("/api/v1/migrants", &rakhimov(&home))
            .await
            .expect(201);
        let m = m["migrant"]["id"].as_str().unwrap().to_owned();
        let a = here
            .post(
                "/api/v1/assessments",
                &json!({"migrant_id": m, "site_id": home,
            "purpose": "labour", "destination": "RU", "protocol": "ru-labour"}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let o = here
            .post(
                &format!("/api/v1/assessments/{a}/observations"),
                &json!({"observations": [{"code": "cxr", "value": "normal"}]}),
            )
            .await
            .expect(201)["observations"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Every read from the other site is a plain 404, as for a missing id.
        let missing = app
            .get(&format!("/api/v1/migrants/{}", uuid::Uuid::now_v7()))
            .await
            .expect(404);
        for path in [
            format!("/api/v1/migrants/{m}"),
            format!("/api/v1/migrants/{m}/assessments"),
            format!("/api/v1/assessments/{a}"),
            format!("/api/v1/assessments/{a}/observations"),
            format!("/api/v1/assessments/{a}/decision"),
            format!("/api/v1/observations/{o}"),
        ] {
            let body = there.get(&path).await.expect(404);
            assert_eq!(body["error"], missing["error"], "{path}");
        }
        // Writes too.
        let mut update = rakhimov(&home);
        update.as_object_mut().unwrap().remove("site_id");
        update["version"] = json!(1);
        there
            .put(&format!("/api/v1/migrants/{m}"), &update)
            .await
            .expect_error(404, None);
        there
            .post(
                &format!("/api/v1/assessments/{a}/observations"),
                &json!({"observations": [{"code": "igra", "value": "negative"}]}),
            )
            .await
            .expect_error(404, None);
        there
            .post(
                &format!("/api/v1/observations/{o}/correction"),
                &json!({"value": "inconclusive", "reason": "x"}),
            )
            .await
            .expect_error(404, None);
        there
            .post(
                "/api/v1/assessments",
                &json!({"migrant_id": m, "site_id": home,
            "purpose": "labour", "destination": "RU", "protocol": "ru-labour"}),
            )
            .await
            .expect_error(422, Some("site_id"));
        // Searches and lists leave them out, and a duplicate at another site
        // is not revealed.
        let found = there
            .get("/api/v1/migrants?name=Rakhimov")
            .await
            .expect(200);
        assert_eq!(found["total"], 0);
        let listed = there.get("/api/v1/assessments").await.expect(200);
        assert_eq!(listed["total"], 0);
        let listed = there
            .get(&format!("/api/v1/assessments?site_id={home}"))
            .await
            .expect(200);
        assert_eq!(listed["total"], 0);
        let other_site = there.get("/api/v1/sites").await.expect(200);
        assert!(
            other_site.as_array().unwrap().len() >= 2,
            "sites themselves are not secret"
        );
        let mine = app.get("/api/v1/migrants?name=Rakhimov").await.expect(200);
        assert_eq!(mine["total"], 1, "national scope sees it");
    }
);

story!(
    writes_and_reads_of_personal_data_are_audited,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-07").await;
        let m = register(&app, &rakhimov(&s)).await["migrant"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.get(&format!("/api/v1/migrants/{m}")).await.expect(200);
        let failed = app.post("/api/v1/migrants", &json!({"site_id": s})).await;
        assert_eq!(failed.status.as_u16(), 422);

        let trail = app.state.store.audit_chain().await.unwrap();
        let actions: Vec<(&str, Option<&str>)> = trail
            .iter()
            .map(|e| (e.event.action.as_str(), e.event.entity_id.as_deref()))
            .collect();
        assert!(
            actions.contains(&("migrant.create", Some(m.as_str()))),
            "{actions:?}"
        );
        assert!(
            actions.contains(&("migrant.read", Some(m.as_str()))),
            "{actions:?}"
        );
        assert!(actions.contains(&("site.create", Some(s.as_str()))));
        let read = trail
            .iter()
            .find(|e| e.event.action == "migrant.read")
            .unwrap();
        assert!(read.event.actor.starts_with("clinician-"));
        assert_eq!(read.event.origin.as_deref(), Some("127.0.0.1"));
        // A refused request wrote nothing, not even an audit entry.
        assert_eq!(
            trail
                .iter()
                .filter(|e| e.event.action == "migrant.create")
                .count(),
            1
        );
        assert_eq!(mhis_domain::audit::verify_chain(&trail), Ok(trail.len()));
    }
);

story!(
    a_physician_finalises_and_amends_with_an_audited_reason,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-08").await;
        let m = register(&app, &rakhimov(&s)).await["migrant"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let a = open_assessment(&app, &m, &s, "ru-labour").await;
        let finalise = format!("/api/v1/assessments/{a}/finalise");
        let amend = format!("/api/v1/assessments/{a}/amend");

        // While results are due, only the most severe outcome may be given.
        app.post(&finalise, &json!({"outcome": "cleared"}))
            .await
            .expect_error(422, Some("outcome"));
        app.post(
            &format!("/api/v1/assessments/{a}/observations"),
            &json!({"observations": [
                {"code": "hiv.a1", "value": "non_reactive"},
                {"code": "syphilis.screen", "value": "non_reactive"},
                {"code": "cxr", "value": "normal"},
                {"code": "leprosy.exam", "value": "no_signs"},
                {"code": "narcology.drug_test", "value": "negative"}
            ]}),
        )
        .await
        .expect(201);
        // The engine says cleared: a registrar may not finalise; raising needs a
        // reason; the outcome is checked.
        let registrar = app.client_for("registrar", &["TJ-DYU-08"]).await;
        registrar
            .post(&finalise, &json!({"outcome": "cleared"}))
            .await
            .expect_error(403, None);
        app.post(&finalise, &json!({"outcome": "not_cleared"}))
            .await
            .expect_error(422, Some("reason"));
        app.post(&finalise, &json!({"outcome": "fit"}))
            .await
            .expect_error(422, Some("outcome"));
        app.post(&amend, &json!({"reason": "x"}))
            .await
            .expect_error(409, Some("status"));

        let done = app
            .post(
                &finalise,
                &json!({"outcome": "cleared_with_follow_up",
                                  "reason": "old fibrotic lesion, review on arrival"}),
            )
            .await
            .expect(200);
        assert_eq!(done["status"], "finalised");
        assert_eq!(done["final_outcome"], "cleared_with_follow_up");
        assert_eq!(done["engine_outcome"], "cleared");
        assert!(
            done["finalised_by"]
                .as_str()
                .unwrap()
                .starts_with("clinician-")
        );

        // Finalised: results are frozen, a second finalisation is refused.
        app.post(
            &format!("/api/v1/assessments/{a}/observations"),
            &json!({"observations": [{"code": "hbsag", "value": "reactive"}]}),
        )
        .await
        .expect_error(409, Some("assessment_id"));
        app.post(&finalise, &json!({"outcome": "not_cleared", "reason": "x"}))
            .await
            .expect_error(409, Some("status"));

        // An amendment needs a reason, re-opens, and is in the audit trail.
        app.post(&amend, &json!({"reason": " "}))
            .await
            .expect_error(422, Some("reason"));
        let reopened = app
            .post(
                &amend,
                &json!({"reason": "hepatitis B result arrived late"}),
            )
            .await
            .expect(200);
        // Re-opened: no longer finalised; every result is in, so it is
        // complete (ready for sign-off again), and it accepts results.
        assert_eq!(reopened["status"], "complete");
        assert_eq!(reopened["final_outcome"], Value::Null);
        app.post(
            &format!("/api/v1/assessments/{a}/observations"),
            &json!({"observations": [{"code": "hbsag", "value": "reactive"}]}),
        )
        .await
        .expect(201);
        let trail = app.state.store.audit_chain().await.unwrap();
        let on_this: Vec<&str> = trail
            .iter()
            .filter(|e| e.event.entity_id.as_deref() == Some(a.as_str()))
            .map(|e| e.event.action.as_str())
            .collect();
        assert!(on_this.contains(&"assessment.finalise"), "{on_this:?}");
        assert!(on_this.contains(&"assessment.amend"), "{on_this:?}");
    }
);

story!(
    a_revoked_token_is_refused_at_once,
    |app: TestApp| async move {
        let registrar = app.client_for("registrar", &[]).await;
        registrar.get("/api/v1/sites").await.expect(200);
        let hash = mhis_server::auth::token_hash(registrar.token.as_deref().unwrap());
        let (token, _) = app.state.store.find_token(&hash).await.unwrap().unwrap();
        let audit =
            mhis_domain::audit::AuditEvent::new("test", "token.revoke", "token", None, None);
        app.state
            .store
            .revoke_token(token.id, chrono::Utc::now(), &audit)
            .await
            .unwrap();
        registrar.get("/api/v1/sites").await.expect_error(401, None);
    }
);

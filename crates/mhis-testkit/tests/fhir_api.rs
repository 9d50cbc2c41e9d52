//! Stories of the FHIR R4 API under `/fhir/R4`, each on SQLite and
//! PostgreSQL.

use mhis_testkit::{Client, Reply, TestApp, story};
use serde_json::{Value, json};

const TESTDATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/fhir-r4"
);

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

fn nationality(code: &str) -> Value {
    json!({"url": "http://hl7.org/fhir/StructureDefinition/patient-nationality",
           "extension": [{"url": "code", "valueCodeableConcept": {
               "coding": [{"system": "urn:iso:std:iso:3166", "code": code}]}}]})
}

fn patient(site: &str, family: &str, passport: &str) -> Value {
    json!({
        "resourceType": "Patient",
        "extension": [nationality("TJ")],
        "identifier": [{"system": "urn:mhis:travel-document:passport:TJ", "value": passport}],
        "name": [{"use": "official", "family": family, "given": ["Shukhrat"]}],
        "gender": "male",
        "birthDate": "1990-06-01",
        "managingOrganization": {"reference": format!("Organization/{site}")}
    })
}

async fn send(
    c: &Client,
    method: reqwest::Method,
    path: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Reply {
    let mut r = reqwest::Client::new()
        .request(method, format!("{}{path}", c.address))
        .header("content-type", "application/fhir+json")
        .body(body.to_string());
    if let Some(t) = &c.token {
        r = r.bearer_auth(t);
    }
    if let Some(v) = if_match {
        r = r.header("if-match", v);
    }
    let response = r.send().await.expect("request");
    let status = response.status();
    let bytes = response.bytes().await.expect("body");
    Reply {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn create_patient(app: &TestApp, body: &Value) -> Value {
    send(app, reqwest::Method::POST, "/fhir/R4/Patient", body, None)
        .await
        .expect(201)
}

fn outcome_names(body: &Value, expression: &str) -> bool {
    body["resourceType"] == "OperationOutcome"
        && body["issue"].as_array().unwrap().iter().any(|i| {
            i["expression"]
                .as_array()
                .is_some_and(|e| e.iter().any(|x| x == expression))
        })
}

async fn open_assessment(app: &TestApp, migrant: &str, site: &str) -> String {
    app.post(
        "/api/v1/assessments",
        &json!({"migrant_id": migrant, "site_id": site, "purpose": "labour",
                "destination": "RU", "protocol": "ru-labour"}),
    )
    .await
    .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn temperature(encounter: &str, value: f64, when: &str) -> Value {
    json!({
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
        "encounter": {"reference": format!("Encounter/{encounter}")},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": "Cel", "unit": "Cel"}
    })
}

story!(
    metadata_is_readable_without_login,
    |app: TestApp| async move {
        let r = reqwest::get(format!("{}/fhir/R4/metadata", app.address))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/fhir+json")
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["resourceType"], "CapabilityStatement");
        assert_eq!(body["fhirVersion"], "4.0.1");
        // Everything else needs a login, and says so as an OperationOutcome.
        let anon = app.anonymous().get("/fhir/R4/Patient").await;
        assert_eq!(anon.status, 401);
        assert_eq!(anon.body["resourceType"], "OperationOutcome");
    }
);

story!(
    patients_are_read_searched_and_paged,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-01").await;
        let mut ids = Vec::new();
        for (i, family) in ["Rakhimov", "Karimov", "Nazarov"].iter().enumerate() {
            let p = create_patient(&app, &patient(&s, family, &format!("40012345{i}"))).await;
            assert_eq!(p["meta"]["versionId"], "1");
            ids.push(p["id"].as_str().unwrap().to_owned());
        }
        let read = app
            .get(&format!("/fhir/R4/Patient/{}", ids[0]))
            .await
            .expect(200);
        assert_eq!(read["name"][0]["family"], "Rakhimov");
        app.get(&format!("/fhir/R4/Patient/{}/_history/1", ids[0]))
            .await
            .expect(200);
        app.get(&format!("/fhir/R4/Patient/{}/_history/2", ids[0]))
            .await
            .expect(404);
        app.get(&format!("/fhir/R4/Patient/{}", uuid::Uuid::now_v7()))
            .await
            .expect(404);

        let found = app
            .get("/fhir/R4/Patient?identifier=urn:mhis:travel-document:passport:TJ|400123451")
            .await
            .expect(200);
        assert_eq!(found["type"], "searchset");
        assert_eq!(found["total"], 1);
        assert_eq!(
            found["entry"][0]["resource"]["name"][0]["family"],
            "Karimov"
        );
        let by_name = app
            .get("/fhir/R4/Patient?name=nazar&birthdate=1990-06")
            .await
            .expect(200);
        assert_eq!(by_name["total"], 1);

        let page1 = app.get("/fhir/R4/Patient?_count=2").await.expect(200);
        assert_eq!(page1["total"], 3);
        assert_eq!(page1["entry"].as_array().unwrap().len(), 2);
        let next = page1["link"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["relation"] == "next")
            .unwrap();
        let next = next["url"].as_str().unwrap();
        let path = &next[next.find("/fhir/R4").unwrap()..];
        let page2 = app.get(path).await.expect(200);
        assert_eq!(page2["entry"].as_array().unwrap().len(), 1);
        assert!(
            !page2["link"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["relation"] == "next")
        );

        let included = app
            .get("/fhir/R4/Patient?_count=1&_include=Patient:organization")
            .await
            .expect(200);
        assert!(
            included["entry"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["search"]["mode"] == "include"
                    && e["resource"]["resourceType"] == "Organization")
        );
        let bad = app.get("/fhir/R4/Patient?gender=male").await.expect(400);
        assert!(outcome_names(&bad, "gender"));
    }
);

story!(
    patient_update_is_version_aware_and_validated,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-01").await;
        let p = create_patient(&app, &patient(&s, "Rakhimov", "400123456")).await;
        let id = p["id"].as_str().unwrap();
        let path = format!("/fhir/R4/Patient/{id}");
        let mut changed = p.clone();
        changed["name"][0]["family"] = json!("Rahimov");
        let ok = send(&app, reqwest::Method::PUT, &path, &changed, Some("W/\"1\""))
            .await
            .expect(200);
        assert_eq!(ok["meta"]["versionId"], "2");
        // A stale If-Match is 412; a stale meta.versionId is 409.
        let stale = send(&app, reqwest::Method::PUT, &path, &changed, Some("W/\"1\""))
            .await
            .expect(412);
        assert_eq!(stale["resourceType"], "OperationOutcome");
        send(&app, reqwest::Method::PUT, &path, &changed, None)
            .await
            .expect(409);
        // Invalid content names the element.
        let mut bad = patient(&s, "Rakhimov", "400999999");
        bad.as_object_mut().unwrap().remove("birthDate");
        let refused = send(&app, reqwest::Method::POST, "/fhir/R4/Patient", &bad, None)
            .await
            .expect(422);
        assert!(outcome_names(&refused, "Patient.birthDate"), "{refused}");
        let wrong = send(
            &app,
            reqwest::Method::POST,
            "/fhir/R4/Patient",
            &json!({"resourceType": "Patient", "gender": 3}),
            None,
        )
        .await;
        assert_eq!(wrong.status, 400);
        assert_eq!(wrong.body["resourceType"], "OperationOutcome");
        // An Immunization without its required elements is refused.
        let imm = send(
            &app,
            reqwest::Method::POST,
            "/fhir/R4/Immunization",
            &json!({"resourceType": "Immunization"}),
            None,
        )
        .await;
        assert!(
            imm.status == 400 || imm.status == 422,
            "{}: {}",
            imm.status,
            imm.body
        );
        assert_eq!(imm.body["resourceType"], "OperationOutcome");
        let none = app
            .get(&format!(
                "/fhir/R4/Immunization?patient={}",
                uuid::Uuid::now_v7()
            ))
            .await
            .expect(200);
        assert_eq!(none["total"], 0);
    }
);

story!(
    observations_are_created_on_an_assessment_and_searched,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-01").await;
        let p = create_patient(&app, &patient(&s, "Rakhimov", "400123456")).await;
        let pid = p["id"].as_str().unwrap();
        let a = open_assessment(&app, pid, &s).await;
        let created = send(
            &app,
            reqwest::Method::POST,
            "/fhir/R4/Observation",
            &temperature(&a, 36.6, "2024-03-01T10:00:00Z"),
            None,
        )
        .await
        .expect(201);
        assert_eq!(created["encounter"]["reference"], format!("Encounter/{a}"));
        assert_eq!(created["subject"]["reference"], format!("Patient/{pid}"));
        let oid = created["id"].as_str().unwrap();
        app.get(&format!("/fhir/R4/Observation/{oid}"))
            .await
            .expect(200);
        app.get(&format!("/fhir/R4/Observation/{oid}/_history/1"))
            .await
            .expect(200);
        app.get(&format!("/fhir/R4/Encounter/{a}"))
            .await
            .expect(200);

        let hit = app.get(&format!("/fhir/R4/Observation?patient=Patient/{pid}&code=http://loinc.org|8310-5&date=ge2024-03")).await.expect(200);
        assert_eq!(hit["total"], 1);
        let miss = app
            .get(&format!(
                "/fhir/R4/Observation?patient={pid}&date=lt2024-01-01"
            ))
            .await
            .expect(200);
        assert_eq!(miss["total"], 0);
        let inc = app
            .get(&format!(
                "/fhir/R4/Observation?subject=Patient/{pid}&_include=Observation:encounter"
            ))
            .await
            .expect(200);
        assert!(
            inc["entry"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["resource"]["resourceType"] == "Encounter")
        );
        let enc = app
            .get(&format!("/fhir/R4/Encounter?patient={pid}"))
            .await
            .expect(200);
        assert_eq!(enc["total"], 1);

        // A second value for the same code is a conflict; a bad value names it.
        send(
            &app,
            reqwest::Method::POST,
            "/fhir/R4/Observation",
            &temperature(&a, 37.0, "2024-03-01T11:00:00Z"),
            None,
        )
        .await
        .expect(409);
        let mut no_enc = temperature(&a, 36.6, "2024-03-01T10:00:00Z");
        no_enc.as_object_mut().unwrap().remove("encounter");
        let r = send(
            &app,
            reqwest::Method::POST,
            "/fhir/R4/Observation",
            &no_enc,
            None,
        )
        .await
        .expect(422);
        assert!(outcome_names(&r, "Observation.encounter"));

        let all = app
            .get(&format!("/fhir/R4/Patient/{pid}/$everything"))
            .await
            .expect(200);
        let types: Vec<&str> = all["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["resource"]["resourceType"].as_str().unwrap())
            .collect();
        for t in ["Patient", "Organization", "Encounter", "Observation"] {
            assert!(
                types.contains(&t),
                "{t} missing from $everything: {types:?}"
            );
        }
    }
);

story!(
    a_transaction_bundle_is_imported_all_or_nothing,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-01").await;
        let mut enc = json!({
            "resourceType": "Encounter",
            "extension": [
                {"url": "urn:mhis:fhir:extension:assessment-destination",
                 "valueCodeableConcept": {"coding": [{"system": "urn:iso:std:iso:3166", "code": "RU"}]}},
                {"url": "urn:mhis:fhir:extension:assessment-protocol", "valueCode": "ru-labour"}],
            "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "type": [{"coding": [{"system": "urn:mhis:assessment-purpose", "code": "labour"}]}],
            "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
            "serviceProvider": {"reference": format!("Organization/{s}")}
        });
        let mut obs = temperature("x", 36.6, "2024-03-01T10:00:00Z");
        obs["encounter"] = json!({"reference": "urn:uuid:22222222-2222-4222-8222-222222222222"});
        let mut bad_obs = obs.clone();
        bad_obs["valueQuantity"]["value"] = json!(99.0);
        let bundle = |observation: &Value| {
            json!({
            "resourceType": "Bundle", "type": "transaction",
            "entry": [
                {"fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
                 "resource": patient(&s, "Rakhimov", "400123456"), "request": {"method": "POST", "url": "Patient"}},
                {"fullUrl": "urn:uuid:22222222-2222-4222-8222-222222222222",
                 "resource": enc.clone(), "request": {"method": "POST", "url": "Encounter"}},
                {"fullUrl": "urn:uuid:33333333-3333-4333-8333-333333333333",
                 "resource": observation, "request": {"method": "POST", "url": "Observation"}}
            ]})
        };
        let refused = send(
            &app,
            reqwest::Method::POST,
            "/fhir/R4",
            &bundle(&bad_obs),
            None,
        )
        .await
        .expect(422);
        assert!(
            refused["issue"][0]["expression"][0]
                .as_str()
                .unwrap()
                .starts_with("Bundle.entry[2].resource"),
            "{refused}"
        );
        let none = app
            .get("/fhir/R4/Patient?identifier=400123456")
            .await
            .expect(200);
        assert_eq!(none["total"], 0, "nothing stored after a refused Bundle");

        let done = send(&app, reqwest::Method::POST, "/fhir/R4", &bundle(&obs), None)
            .await
            .expect(200);
        assert_eq!(done["type"], "transaction-response");
        assert_eq!(done["entry"].as_array().unwrap().len(), 3);
        assert!(
            done["entry"][2]["response"]["status"]
                .as_str()
                .unwrap()
                .starts_with("201")
        );
        let found = app
            .get("/fhir/R4/Patient?identifier=400123456")
            .await
            .expect(200);
        assert_eq!(found["total"], 1);
        // The same Patient again is matched by its passport, not duplicated.
        enc["period"] = json!({"start": "2024-01-01"});
        let again = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
         "resource": patient(&s, "Rakhimov", "400123456"), "request": {"method": "POST", "url": "Patient"}}]});
        let matched = send(&app, reqwest::Method::POST, "/fhir/R4", &again, None)
            .await
            .expect(200);
        assert!(
            matched["entry"][0]["response"]["status"]
                .as_str()
                .unwrap()
                .starts_with("200")
        );
    }
);

story!(
    an_hl7_example_patient_round_trips,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-01").await;
        let text = std::fs::read_to_string(format!("{TESTDATA}/patient-example.json")).unwrap();
        let mut example: Value = serde_json::from_str(&text).unwrap();
        example["extension"] = json!([nationality("AU")]);
        example["managingOrganization"] = json!({"reference": format!("Organization/{s}")});
        let created = create_patient(&app, &example).await;
        let read = app
            .get(&format!(
                "/fhir/R4/Patient/{}",
                created["id"].as_str().unwrap()
            ))
            .await
            .expect(200);
        assert_eq!(read["name"][0]["family"], example["name"][0]["family"]);
        assert_eq!(read["name"][0]["given"], example["name"][0]["given"]);
        assert_eq!(read["gender"], example["gender"]);
        assert_eq!(read["birthDate"], example["birthDate"]);
        assert_eq!(
            read["extension"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"],
            "AU"
        );
        assert_eq!(
            read["managingOrganization"]["reference"],
            format!("Organization/{s}")
        );
    }
);

story!(
    fhir_access_follows_roles_scope_and_audit,
    |app: TestApp| async move {
        let a = site(&app, "TJ-DYU-01").await;
        site(&app, "TJ-KHJ-01").await;
        let p = create_patient(&app, &patient(&a, "Rakhimov", "400123456")).await;
        let path = format!("/fhir/R4/Patient/{}", p["id"].as_str().unwrap());
        let registrar = app.client_for("registrar", &["TJ-DYU-01"]).await;
        registrar.get(&path).await.expect(200);
        let dm = app.client_for("data_manager", &[]).await;
        let forbidden = dm.get(&path).await.expect(403);
        assert_eq!(forbidden["resourceType"], "OperationOutcome");
        let other = app.client_for("clinician", &["TJ-KHJ-01"]).await;
        other.get(&path).await.expect(404);
        use mhis_store::AuditFilter;
        let page = app
            .state
            .store
            .list_audit(
                &AuditFilter {
                    entity_id: Some(p["id"].as_str().unwrap().to_owned()),
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .unwrap();
        assert!(
        page.items
            .iter()
            .any(|e| e.event.action == "migrant.read" && e.event.actor.starts_with("registrar")),
        "the registrar's read is in the audit trail"
    );
    }
);

/// Makes the database refuse any observation written to `assessment`: a
/// failure at write time that no check before the write can see.
async fn refuse_observations_on(app: &TestApp, assessment: &str) {
    use sqlx::Connection;
    let id = uuid::Uuid::parse_str(assessment).unwrap();
    if app.database_url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(&app.database_url)
            .await
            .unwrap();
        for sql in [
            "CREATE FUNCTION refuse_test() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
                .to_owned(),
            format!(
                "CREATE TRIGGER refuse_test BEFORE INSERT ON observations FOR EACH ROW \
                 WHEN (NEW.assessment_id = '{id}') EXECUTE FUNCTION refuse_test()"
            ),
        ] {
            sqlx::query(&sql).execute(&mut c).await.unwrap();
        }
    } else {
        let mut c = sqlx::SqliteConnection::connect(&app.database_url)
            .await
            .unwrap();
        // sqlx stores a UUID in SQLite as its 16 bytes.
        sqlx::query(&format!(
            "CREATE TRIGGER refuse_test BEFORE INSERT ON observations \
             WHEN NEW.assessment_id = X'{}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
            id.simple()
        ))
        .execute(&mut c)
        .await
        .unwrap();
    }
}

async fn drop_refusal(app: &TestApp) {
    use sqlx::Connection;
    if app.database_url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(&app.database_url)
            .await
            .unwrap();
        sqlx::query("DROP TRIGGER refuse_test ON observations")
            .execute(&mut c)
            .await
            .unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(&app.database_url)
            .await
            .unwrap();
        sqlx::query("DROP TRIGGER refuse_test")
            .execute(&mut c)
            .await
            .unwrap();
    }
}

story!(
    a_bundle_failing_at_write_time_stores_nothing,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-01").await;
        // A stored, open assessment the Bundle's last entry writes to.
        let known = create_patient(&app, &patient(&s, "Karimov", "400999001")).await;
        let existing = open_assessment(&app, known["id"].as_str().unwrap(), &s).await;
        let enc = json!({
            "resourceType": "Encounter",
            "extension": [
                {"url": "urn:mhis:fhir:extension:assessment-destination",
                 "valueCodeableConcept": {"coding": [{"system": "urn:iso:std:iso:3166", "code": "RU"}]}},
                {"url": "urn:mhis:fhir:extension:assessment-protocol", "valueCode": "ru-labour"}],
            "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "type": [{"coding": [{"system": "urn:mhis:assessment-purpose", "code": "labour"}]}],
            "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
            "serviceProvider": {"reference": format!("Organization/{s}")}
        });
        let mut on_new = temperature("x", 36.6, "2024-03-01T10:00:00Z");
        on_new["encounter"] = json!({"reference": "urn:uuid:22222222-2222-4222-8222-222222222222"});
        let bundle = json!({
        "resourceType": "Bundle", "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
             "resource": patient(&s, "Rakhimov", "400123456"), "request": {"method": "POST", "url": "Patient"}},
            {"fullUrl": "urn:uuid:22222222-2222-4222-8222-222222222222",
             "resource": enc, "request": {"method": "POST", "url": "Encounter"}},
            {"fullUrl": "urn:uuid:33333333-3333-4333-8333-333333333333",
             "resource": on_new, "request": {"method": "POST", "url": "Observation"}},
            {"fullUrl": "urn:uuid:44444444-4444-4444-8444-444444444444",
             "resource": temperature(&existing, 37.2, "2024-03-01T10:00:00Z"),
             "request": {"method": "POST", "url": "Observation"}}
        ]});
        let audit_before = app.state.store.audit_chain().await.unwrap().len();
        refuse_observations_on(&app, &existing).await;
        let failed = send(&app, reqwest::Method::POST, "/fhir/R4", &bundle, None).await;
        assert_eq!(failed.status, 500, "{}", failed.body);
        assert_eq!(failed.body["resourceType"], "OperationOutcome");
        // Nothing of the Bundle is stored: not the Patient, not the
        // Encounter, not the first Observation, and no audit entry of a
        // write.
        let none = app
            .get("/fhir/R4/Patient?identifier=400123456")
            .await
            .expect(200);
        assert_eq!(none["total"], 0, "{none}");
        let encounters = app
            .get(&format!(
                "/fhir/R4/Encounter?patient={}",
                known["id"].as_str().unwrap()
            ))
            .await
            .expect(200);
        assert_eq!(encounters["total"], 1, "only the stored assessment");
        let results = app
            .get(&format!("/fhir/R4/Observation?encounter={existing}"))
            .await
            .expect(200);
        assert_eq!(results["total"], 0);
        let chain = app.state.store.audit_chain().await.unwrap();
        assert!(
            chain[audit_before..]
                .iter()
                .all(|e| !e.event.action.ends_with(".create")
                    && e.event.action != "observation.record"),
            "no write of the failed Bundle is audited: {:?}",
            chain[audit_before..]
                .iter()
                .map(|e| &e.event.action)
                .collect::<Vec<_>>()
        );

        // Without the fault the same Bundle is stored whole, each write
        // audited.
        drop_refusal(&app).await;
        let done = send(&app, reqwest::Method::POST, "/fhir/R4", &bundle, None)
            .await
            .expect(200);
        let statuses: Vec<&str> = done["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["response"]["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["201 Created"; 4]);
        let found = app
            .get("/fhir/R4/Patient?identifier=400123456")
            .await
            .expect(200);
        assert_eq!(found["total"], 1);
        let results = app
            .get(&format!("/fhir/R4/Observation?encounter={existing}"))
            .await
            .expect(200);
        assert_eq!(results["total"], 1);
        let actions: Vec<String> = app.state.store.audit_chain().await.unwrap()[audit_before..]
            .iter()
            .map(|e| e.event.action.clone())
            .collect();
        for action in ["migrant.create", "assessment.create", "observation.record"] {
            assert!(
                actions.iter().any(|a| a == action),
                "{action} audited: {actions:?}"
            );
        }
    }
);

story!(
    referrals_are_read_as_service_requests_and_tasks,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-01").await;
        let hospital = site(&app, "TJ-DYU-TB").await;
        site(&app, "TJ-KHJ-01").await;
        let assessment = mhis_testkit::assessed_with_suggestions(&app.clinician, &s).await;
        let referral = app
            .post(
                &format!("/api/v1/assessments/{assessment}/referrals"),
                &json!({"reason": "tb_evaluation", "to_site_id": hospital, "urgency": "urgent",
                        "note": "CXR upper-lobe opacity", "send": true}),
            )
            .await
            .expect(201);
        let id = referral["id"].as_str().unwrap();
        let migrant = referral["migrant_id"].as_str().unwrap();

        let sr = app
            .get(&format!("/fhir/R4/ServiceRequest/{id}"))
            .await
            .expect(200);
        assert_eq!(sr["resourceType"], "ServiceRequest");
        assert_eq!(sr["id"], id);
        assert_eq!(sr["status"], "active");
        assert_eq!(sr["intent"], "order");
        assert_eq!(sr["priority"], "urgent");
        assert_eq!(sr["code"]["coding"][0]["code"], "tb_evaluation");
        assert_eq!(sr["subject"]["reference"], format!("Patient/{migrant}"));
        assert_eq!(
            sr["performer"][0]["reference"],
            format!("Organization/{hospital}")
        );
        assert_eq!(sr["note"][0]["text"], "CXR upper-lobe opacity");

        let task = app.get(&format!("/fhir/R4/Task/{id}")).await.expect(200);
        assert_eq!(task["resourceType"], "Task");
        assert_eq!(task["focus"]["reference"], format!("ServiceRequest/{id}"));
        assert_eq!(
            task["businessStatus"]["coding"][0]["code"], referral["state"],
            "the Task carries the referral's state"
        );
        assert_eq!(task["for"]["reference"], format!("Patient/{migrant}"));

        for (path, t) in [
            (
                format!("/fhir/R4/ServiceRequest?patient={migrant}"),
                "ServiceRequest",
            ),
            (format!("/fhir/R4/Task?subject=Patient/{migrant}"), "Task"),
            (
                "/fhir/R4/ServiceRequest?_count=1".to_owned(),
                "ServiceRequest",
            ),
        ] {
            let found = app.get(&path).await.expect(200);
            assert_eq!(found["total"], 1, "{path}: {found}");
            assert_eq!(found["entry"][0]["resource"]["resourceType"], t);
            assert_eq!(found["entry"][0]["resource"]["id"], id);
        }
        let unknown = app
            .get(&format!(
                "/fhir/R4/ServiceRequest?patient={}",
                uuid::Uuid::now_v7()
            ))
            .await
            .expect(200);
        assert_eq!(unknown["total"], 0);
        app.get("/fhir/R4/Task?status=requested").await.expect(400);

        // ReferralRead is needed; other sites see nothing.
        let lab = app.client_for("lab", &["TJ-DYU-01"]).await;
        let refused = lab
            .get(&format!("/fhir/R4/ServiceRequest/{id}"))
            .await
            .expect(403);
        assert_eq!(refused["resourceType"], "OperationOutcome");
        let elsewhere = app.client_for("clinician", &["TJ-KHJ-01"]).await;
        elsewhere
            .get(&format!("/fhir/R4/Task/{id}"))
            .await
            .expect(404);
        let none = elsewhere.get("/fhir/R4/ServiceRequest").await.expect(200);
        assert_eq!(none["total"], 0);
        // The receiving site's users see it.
        let receiver = app.client_for("counsellor", &["TJ-DYU-TB"]).await;
        receiver
            .get(&format!("/fhir/R4/ServiceRequest/{id}"))
            .await
            .expect(200);

        use mhis_store::AuditFilter;
        let audited = app
            .state
            .store
            .list_audit(
                &AuditFilter {
                    entity_id: Some(id.to_owned()),
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .unwrap();
        assert!(
            audited
                .items
                .iter()
                .any(|e| e.event.action == "referral.read"
                    && e.event.actor.starts_with("counsellor")),
            "the receiver's read is audited"
        );
    }
);

fn immunization(patient: &str, encounter: &str, cvx: &str, date: &str) -> Value {
    json!({
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": cvx}]},
        "patient": {"reference": format!("Patient/{patient}")},
        "encounter": {"reference": format!("Encounter/{encounter}")},
        "occurrenceDateTime": date,
        "lotNumber": "AB-1234",
        "protocolApplied": [{"doseNumberPositiveInt": 2}]
    })
}

story!(
    vaccinations_are_recorded_read_searched_and_updated_as_immunizations,
    |app: TestApp| async move {
        let s = site(&app, "TJ-DYU-01").await;
        site(&app, "TJ-KHJ-01").await;
        let p = create_patient(&app, &patient(&s, "Rakhimov", "400123456")).await;
        let pid = p["id"].as_str().unwrap();
        let a = open_assessment(&app, pid, &s).await;

        let created = send(
            &app,
            reqwest::Method::POST,
            "/fhir/R4/Immunization",
            &immunization(pid, &a, "03", "2024-03-01"),
            None,
        )
        .await
        .expect(201);
        let id = created["id"].as_str().unwrap().to_owned();
        assert_eq!(created["meta"]["versionId"], "1");
        assert_eq!(created["vaccineCode"]["coding"][0]["code"], "03");
        assert_eq!(created["lotNumber"], "AB-1234");
        assert_eq!(created["protocolApplied"][0]["doseNumberPositiveInt"], 2);
        assert_eq!(created["encounter"]["reference"], format!("Encounter/{a}"));
        assert_eq!(created["occurrenceDateTime"], "2024-03-01");

        let read = app
            .get(&format!("/fhir/R4/Immunization/{id}"))
            .await
            .expect(200);
        assert_eq!(read["patient"]["reference"], format!("Patient/{pid}"));
        assert_eq!(read["status"], "completed");
        app.get(&format!("/fhir/R4/Immunization/{id}/_history/1"))
            .await
            .expect(200);

        send(
            &app,
            reqwest::Method::POST,
            "/fhir/R4/Immunization",
            &immunization(pid, &a, "115", "2023-05-10"),
            None,
        )
        .await
        .expect(201);
        let all = app
            .get(&format!("/fhir/R4/Immunization?patient={pid}"))
            .await
            .expect(200);
        assert_eq!(all["total"], 2);
        let recent = app
            .get(&format!(
                "/fhir/R4/Immunization?patient={pid}&date=ge2024-01-01"
            ))
            .await
            .expect(200);
        assert_eq!(recent["total"], 1);
        assert_eq!(recent["entry"][0]["resource"]["id"], id.as_str());
        let paged = app
            .get(&format!(
                "/fhir/R4/Immunization?subject=Patient/{pid}&_count=1"
            ))
            .await
            .expect(200);
        assert_eq!(paged["entry"].as_array().unwrap().len(), 1);
        assert!(
            paged["link"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["relation"] == "next"),
            "{paged}"
        );
        app.get("/fhir/R4/Immunization").await.expect(400);

        // Bad content is refused naming the element.
        let mut unknown = immunization(pid, &a, "999", "2024-03-01");
        let r = send(
            &app,
            reqwest::Method::POST,
            "/fhir/R4/Immunization",
            &unknown,
            None,
        )
        .await
        .expect(422);
        assert!(outcome_names(&r, "Immunization.vaccineCode"), "{r}");
        unknown = immunization(pid, &a, "03", "2999-01-01");
        let r = send(
            &app,
            reqwest::Method::POST,
            "/fhir/R4/Immunization",
            &unknown,
            None,
        )
        .await
        .expect(422);
        assert!(outcome_names(&r, "Immunization.occurrenceDateTime"), "{r}");
        unknown = immunization(pid, &a, "03", "2024-03-01");
        unknown["protocolApplied"][0]["doseNumberPositiveInt"] = json!(40);
        let r = send(
            &app,
            reqwest::Method::POST,
            "/fhir/R4/Immunization",
            &unknown,
            None,
        )
        .await
        .expect(422);
        assert!(
            outcome_names(&r, "Immunization.protocolApplied[0].doseNumberPositiveInt"),
            "{r}"
        );
        unknown = immunization(&uuid::Uuid::now_v7().to_string(), &a, "03", "2024-03-01");
        let r = send(
            &app,
            reqwest::Method::POST,
            "/fhir/R4/Immunization",
            &unknown,
            None,
        )
        .await
        .expect(422);
        assert!(outcome_names(&r, "Immunization.patient.reference"), "{r}");

        // Update: the version read is required, and a stale one refused.
        let mut changed = read.clone();
        changed["lotNumber"] = json!("CD-5678");
        let updated = send(
            &app,
            reqwest::Method::PUT,
            &format!("/fhir/R4/Immunization/{id}"),
            &changed,
            Some("W/\"1\""),
        )
        .await
        .expect(200);
        assert_eq!(updated["meta"]["versionId"], "2");
        assert_eq!(updated["lotNumber"], "CD-5678");
        send(
            &app,
            reqwest::Method::PUT,
            &format!("/fhir/R4/Immunization/{id}"),
            &changed,
            Some("W/\"1\""),
        )
        .await
        .expect(412);
        let mut no_version = changed.clone();
        no_version.as_object_mut().unwrap().remove("meta");
        send(
            &app,
            reqwest::Method::PUT,
            &format!("/fhir/R4/Immunization/{id}"),
            &no_version,
            None,
        )
        .await
        .expect(428);

        // Access: recording needs RecordClinical; other sites see nothing;
        // reads are audited.
        let lab = app.client_for("lab", &["TJ-DYU-01"]).await;
        send(
            &lab,
            reqwest::Method::POST,
            "/fhir/R4/Immunization",
            &immunization(pid, &a, "03", "2024-03-01"),
            None,
        )
        .await
        .expect(403);
        lab.get(&format!("/fhir/R4/Immunization/{id}"))
            .await
            .expect(200);
        let elsewhere = app.client_for("clinician", &["TJ-KHJ-01"]).await;
        elsewhere
            .get(&format!("/fhir/R4/Immunization/{id}"))
            .await
            .expect(404);
        let hidden = elsewhere
            .get(&format!("/fhir/R4/Immunization?_id={id}"))
            .await
            .expect(200);
        assert_eq!(hidden["total"], 0);
        use mhis_store::AuditFilter;
        let audited = app
            .state
            .store
            .list_audit(
                &AuditFilter {
                    entity_id: Some(id.clone()),
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .unwrap();
        let actions: Vec<&str> = audited
            .items
            .iter()
            .map(|e| e.event.action.as_str())
            .collect();
        for action in [
            "vaccination.create",
            "vaccination.read",
            "vaccination.update",
        ] {
            assert!(actions.contains(&action), "{action} audited: {actions:?}");
        }
        // $everything carries it.
        let everything = app
            .get(&format!("/fhir/R4/Patient/{pid}/$everything"))
            .await
            .expect(200);
        assert!(
            everything["entry"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["resource"]["resourceType"] == "Immunization"),
            "{everything}"
        );
    }
);

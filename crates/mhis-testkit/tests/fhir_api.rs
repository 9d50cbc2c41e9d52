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
        // Immunization cannot be written.
        let imm = send(
            &app,
            reqwest::Method::POST,
            "/fhir/R4/Immunization",
            &json!({"resourceType": "Immunization"}),
            None,
        )
        .await
        .expect(405);
        assert_eq!(imm["issue"][0]["code"], "not-supported");
        let none = app
            .get("/fhir/R4/Immunization?patient=Patient/x")
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

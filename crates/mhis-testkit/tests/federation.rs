//! Federation stories: two deployments, each a real server with its own
//! database (SQLite with SQLite, and SQLite with PostgreSQL both ways when
//! PostgreSQL is available), exchanging referrals and notifications as
//! signed FHIR messages through their outboxes and inboxes.

use mhis_domain::ids::SiteId;
use mhis_testkit::{Backend, TestApp, spawn_app};
use serde_json::{Value, json};
use std::time::Duration;

/// A deployment with a site and a node identity.
struct Node {
    app: TestApp,
    name: &'static str,
    site_code: &'static str,
    site_id: String,
}

async fn node(
    backend: Backend,
    name: &'static str,
    site_code: &'static str,
    country: &str,
) -> Option<Node> {
    let app = spawn_app(backend).await?;
    let site = app
        .admin
        .post(
            "/api/v1/sites",
            &json!({"code": site_code, "kind": "assessment_centre", "country": country,
                    "name": format!("Clinic {site_code}")}),
        )
        .await
        .expect(201);
    let site_id = site["id"].as_str().unwrap().to_owned();
    mhis_server::federation::init_node(
        &app.state,
        name,
        &app.address,
        SiteId(site_id.parse().unwrap()),
        "test",
    )
    .await
    .expect("node init");
    Some(Node {
        app,
        name,
        site_code,
        site_id,
    })
}

async fn public_key(n: &Node) -> String {
    let node = n.app.state.store.node_identity().await.unwrap().unwrap();
    mhis_cert::node::encode_public_key(&node.public_key)
}

/// Makes `a` and `b` peers of each other; `b` is the health authority of
/// `b_country`.
async fn connect(a: &Node, b: &Node, b_country: &str) {
    mhis_server::federation::add_peer(
        &a.app.state,
        b.name,
        &b.app.address,
        &public_key(b).await,
        Some(b_country),
        "test",
    )
    .await
    .expect("peer b on a");
    mhis_server::federation::add_peer(
        &b.app.state,
        a.name,
        &a.app.address,
        &public_key(a).await,
        None,
        "test",
    )
    .await
    .expect("peer a on b");
}

/// Two connected nodes: a panel clinic in Tajikistan and a health
/// department in Russia.
async fn pair(a: Backend, b: Backend) -> Option<(Node, Node)> {
    let clinic = node(a, "tj-clinic", "TJ-DYU-01", "TJ").await?;
    let authority = node(b, "ru-health", "RU-MOW-01", "RU").await?;
    connect(&clinic, &authority, "RU").await;
    Some((clinic, authority))
}

/// An assessment at `n`'s site with `tb_evaluation` and `hepatitis_care`
/// suggested.
async fn assessed(n: &Node) -> String {
    mhis_testkit::assessed_with_suggestions(&n.app, &n.site_id).await
}

/// Polls `path` on `app` until `done` holds (at most 20 s).
async fn eventually(app: &TestApp, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..200 {
        let reply = app.get(path).await;
        if reply.status.as_u16() == 200 && done(&reply.body) {
            return reply.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not reached; last {}", app.get(path).await.body);
}

fn events(detail: &Value) -> Vec<String> {
    detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["event"].as_str().unwrap(),
                e["state"].as_str().unwrap()
            )
        })
        .collect()
}

async fn round_trip(a: Backend, b: Backend) {
    let Some((clinic, authority)) = pair(a, b).await else {
        eprintln!("skipped: PostgreSQL not configured");
        return;
    };
    let assessment = assessed(&clinic).await;

    // The engine's suggestions are pre-filled from the reason catalogue.
    let suggestions = clinic
        .app
        .get(&format!(
            "/api/v1/assessments/{assessment}/referral-suggestions"
        ))
        .await
        .expect(200);
    let tb = suggestions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["reason"] == "tb_evaluation")
        .expect("tb_evaluation suggested")
        .clone();
    assert_eq!(tb["already_referred"], false);
    assert!(
        tb["summary_codes"]
            .as_array()
            .unwrap()
            .contains(&json!("cxr"))
    );
    assert!(
        !tb["summary_codes"]
            .as_array()
            .unwrap()
            .contains(&json!("hbsag"))
    );

    // The clinician confirms it to the peer and sends it.
    let created = clinic
        .app
        .post(
            &format!("/api/v1/assessments/{assessment}/referrals"),
            &json!({"reason": "tb_evaluation", "to_peer": authority.name,
                    "to_peer_site_code": authority.site_code, "note": "CXR upper-lobe opacity",
                    "send": true}),
        )
        .await
        .expect(201);
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["state"], "sent");

    // It arrives in the peer's inbox, with the person and the summary.
    let inbox = eventually(
        &authority.app,
        "/api/v1/referrals?view=inbox",
        "peer inbox",
        |b| b["total"] == 1,
    )
    .await;
    let received = &inbox["items"][0];
    assert_eq!(received["id"], id.as_str());
    assert_eq!(received["state"], "received");
    assert_eq!(received["from_peer"], clinic.name);
    assert_eq!(received["to_site_id"], authority.site_id.as_str());
    assert_eq!(received["person"]["family_name"], "Rakhimov");
    assert_eq!(received["person"]["birth_date"], "1990-06");
    assert_eq!(received["person"]["document_number"], "400123456");
    assert_eq!(received["note"], "CXR upper-lobe opacity");
    let codes: Vec<&str> = received["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"cxr") && codes.contains(&"xpert"),
        "{codes:?}"
    );
    assert!(
        !codes.contains(&"hbsag"),
        "the summary carries only what the reason needs"
    );

    // The acknowledgement moved the referrer's copy to received.
    let path = format!("/api/v1/referrals/{id}");
    eventually(&clinic.app, &path, "referrer sees receipt", |b| {
        b["state"] == "received"
    })
    .await;

    // The referrer's side cannot accept; the receiver accepts and reports.
    clinic
        .app
        .post(&format!("{path}/accept"), &json!({}))
        .await
        .expect_error(403, None);
    authority
        .app
        .post(&format!("{path}/accept"), &json!({}))
        .await
        .expect(200);
    authority
        .app
        .post(&format!("{path}/outcome"), &json!({"outcome": "cured"}))
        .await
        .expect_error(422, Some("outcome"));
    authority
        .app
        .post(
            &format!("{path}/outcome"),
            &json!({"outcome": "treatment_started", "note": "started on 4-drug regimen"}),
        )
        .await
        .expect(200);

    // The outcome comes back and shows on the original assessment.
    let back = eventually(&clinic.app, &path, "outcome back at referrer", |b| {
        b["state"] == "outcome_reported"
    })
    .await;
    assert_eq!(back["outcome"], "treatment_started");
    assert_eq!(back["outcome_note"], "started on 4-drug regimen");
    assert_eq!(
        events(&back),
        [
            "send:sent",
            "receive:received",
            "accept:accepted",
            "report_outcome:outcome_reported"
        ]
    );
    let on_assessment = clinic
        .app
        .get(&format!("/api/v1/assessments/{assessment}/referrals"))
        .await
        .expect(200);
    assert_eq!(on_assessment[0]["outcome"], "treatment_started");

    // The referrer closes the loop; the receiver's copy closes too.
    clinic
        .app
        .post(&format!("{path}/close"), &json!({}))
        .await
        .expect(200);
    let closed = eventually(&authority.app, &path, "close reaches the receiver", |b| {
        b["state"] == "closed"
    })
    .await;
    assert_eq!(
        events(&closed),
        [
            "send:sent",
            "receive:received",
            "accept:accepted",
            "report_outcome:outcome_reported",
            "close:closed"
        ]
    );
    // Once closed, nothing moves it.
    authority
        .app
        .post(
            &format!("{path}/outcome"),
            &json!({"outcome": "treatment_completed"}),
        )
        .await
        .expect_error(409, Some("state"));
    // Every message was acknowledged exactly once.
    for n in [&clinic, &authority] {
        let pending = n
            .app
            .state
            .store
            .list_outbox(
                true,
                mhis_domain::page::PageRequest::parse(None, None).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(pending.total, 0, "{} outbox", n.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_crosses_between_sqlite_nodes_and_its_outcome_comes_back() {
    round_trip(Backend::Sqlite, Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_crosses_from_sqlite_to_postgres_and_back() {
    round_trip(Backend::Sqlite, Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_referral_crosses_from_postgres_to_sqlite_and_back() {
    round_trip(Backend::Postgres, Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_departure_of_a_person_cleared_with_follow_up_notifies_the_destination() {
    let (clinic, authority) = pair(Backend::Sqlite, Backend::Sqlite).await.unwrap();
    let assessment = assessed(&clinic).await;
    let departure = format!("/api/v1/assessments/{assessment}/departure");
    let today = chrono::Utc::now().date_naive();
    // Not finalised: the departure is recorded, no notification.
    let other = assessed(&clinic).await;
    let plain = clinic
        .app
        .post(
            &format!("/api/v1/assessments/{other}/departure"),
            &json!({"departed_on": today.to_string()}),
        )
        .await
        .expect(201);
    assert!(plain["notification"].is_null());
    assert!(
        plain["note"]
            .as_str()
            .unwrap()
            .contains("not cleared with follow-up")
    );

    clinic
        .app
        .post(
            &format!("/api/v1/assessments/{assessment}/finalise"),
            &json!({"outcome": "cleared_with_follow_up"}),
        )
        .await
        .expect(200);
    clinic
        .app
        .post(&departure, &json!({"departed_on": "tomorrow"}))
        .await
        .expect_error(422, Some("departed_on"));
    let recorded = clinic
        .app
        .post(&departure, &json!({"departed_on": today.to_string()}))
        .await
        .expect(201);
    let notification = &recorded["notification"];
    assert_eq!(notification["kind"], "arrival_notification");
    assert_eq!(notification["to_peer"], authority.name, "the peer for RU");
    assert_eq!(notification["reason"], "tb_evaluation");
    clinic
        .app
        .post(&departure, &json!({"departed_on": today.to_string()}))
        .await
        .expect_error(409, Some("assessment_id"));

    let id = notification["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/referrals/{id}");
    let arrived = eventually(&authority.app, &path, "notification arrives", |b| {
        b["state"] == "received"
    })
    .await;
    assert_eq!(arrived["kind"], "arrival_notification");
    authority
        .app
        .post(&format!("{path}/accept"), &json!({}))
        .await
        .expect(200);
    authority
        .app
        .post(&format!("{path}/outcome"), &json!({"outcome": "not_found"}))
        .await
        .expect(200);
    eventually(
        &clinic.app,
        &format!("/api/v1/assessments/{assessment}/referrals"),
        "outcome on the assessment",
        |b| b[0]["outcome"] == "not_found",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overdue_list_follows_the_clock() {
    let (clinic, authority) = pair(Backend::Sqlite, Backend::Sqlite).await.unwrap();
    let assessment = assessed(&clinic).await;
    let created = clinic
        .app
        .post(
            &format!("/api/v1/assessments/{assessment}/referrals"),
            &json!({"reason": "hepatitis_care", "to_peer": authority.name, "send": true}),
        )
        .await
        .expect(201);
    let id = created["id"].as_str().unwrap().to_owned();
    let due = chrono::NaiveDate::parse_from_str(created["due_date"].as_str().unwrap(), "%Y-%m-%d")
        .unwrap();
    let days = (due - chrono::Utc::now().date_naive()).num_days();
    assert_eq!(days, 60, "hepatitis care is due in 60 days");
    let overdue = "/api/v1/referrals?view=overdue";
    assert_eq!(clinic.app.get(overdue).await.expect(200)["total"], 0);
    eventually(
        &authority.app,
        "/api/v1/referrals?view=inbox",
        "arrives",
        |b| b["total"] == 1,
    )
    .await;

    // On the due date it is not overdue; the day after, on both sides.
    clinic.app.advance_days(days);
    authority.app.advance_days(days);
    assert_eq!(clinic.app.get(overdue).await.expect(200)["total"], 0);
    clinic.app.advance_days(1);
    authority.app.advance_days(1);
    assert_eq!(
        clinic.app.get(overdue).await.expect(200)["items"][0]["id"],
        id.as_str()
    );
    assert_eq!(authority.app.get(overdue).await.expect(200)["total"], 1);
    let detail = clinic
        .app
        .get(&format!("/api/v1/referrals/{id}"))
        .await
        .expect(200);
    assert_eq!(detail["overdue"], true);

    // An outcome takes it off the list.
    let path = format!("/api/v1/referrals/{id}");
    authority
        .app
        .post(&format!("{path}/accept"), &json!({}))
        .await
        .expect(200);
    authority
        .app
        .post(&format!("{path}/outcome"), &json!({"outcome": "declined"}))
        .await
        .expect(200);
    assert_eq!(authority.app.get(overdue).await.expect(200)["total"], 0);
    eventually(&clinic.app, overdue, "off the referrer's list", |b| {
        b["total"] == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_referral_goes_to_another_site_of_the_same_deployment() {
    let (clinic, _authority) = pair(Backend::Sqlite, Backend::Sqlite).await.unwrap();
    let hospital = clinic
        .app
        .admin
        .post(
            "/api/v1/sites",
            &json!({"code": "TJ-DYU-TB", "kind": "assessment_centre", "country": "TJ",
                    "name": "City TB hospital"}),
        )
        .await
        .expect(201);
    let assessment = assessed(&clinic).await;
    let draft = clinic
        .app
        .post(
            &format!("/api/v1/assessments/{assessment}/referrals"),
            &json!({"reason": "tb_evaluation", "to_site_id": hospital["id"], "urgency": "urgent"}),
        )
        .await
        .expect(201);
    assert_eq!(draft["state"], "draft");
    let path = format!("/api/v1/referrals/{}", draft["id"].as_str().unwrap());
    // A draft is not in the receiving site's inbox.
    let hospital_staff = clinic.app.client_for("clinician", &["TJ-DYU-TB"]).await;
    assert_eq!(
        hospital_staff
            .get("/api/v1/referrals?view=inbox")
            .await
            .expect(200)["total"],
        0
    );
    let sent = clinic
        .app
        .post(&format!("{path}/send"), &json!({}))
        .await
        .expect(200);
    assert_eq!(
        sent["state"], "received",
        "delivered at once on the same deployment"
    );
    assert_eq!(
        hospital_staff
            .get("/api/v1/referrals?view=inbox")
            .await
            .expect(200)["total"],
        1
    );
    // The hospital cannot cancel (the referrer's event); the clinic can,
    // before acceptance; after that the machine refuses it.
    hospital_staff
        .post(&format!("{path}/cancel"), &json!({}))
        .await
        .expect_error(403, None);
    hospital_staff
        .post(&format!("{path}/accept"), &json!({}))
        .await
        .expect(200);
    clinic
        .app
        .post(&format!("{path}/cancel"), &json!({"note": "sent twice"}))
        .await
        .expect_error(409, Some("state"));
    // A user of another site does not see it at all.
    clinic
        .app
        .admin
        .post(
            "/api/v1/sites",
            &json!({"code": "TJ-KHU-01", "kind": "assessment_centre", "country": "TJ",
                    "name": "Khujand clinic"}),
        )
        .await
        .expect(201);
    let elsewhere = clinic.app.client_for("clinician", &["TJ-KHU-01"]).await;
    elsewhere.get(&path).await.expect_error(404, None);
    // A registrar reads, never acts.
    let registrar = clinic.app.client_for("registrar", &["TJ-DYU-01"]).await;
    registrar.get(&path).await.expect(200);
    registrar
        .post(&format!("{path}/close"), &json!({}))
        .await
        .expect_error(403, None);
}

/// Posts raw bytes to a node's inbox with the given signature headers.
async fn deliver(
    to: &Node,
    body: Vec<u8>,
    key: Option<&[u8]>,
    signature: Option<Vec<u8>>,
) -> (u16, Value, bool) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut request = reqwest::Client::new()
        .post(format!("{}/federation/v1/inbox", to.app.address))
        .header("content-type", "application/fhir+json")
        .body(body);
    if let Some(key) = key {
        request = request.header("mhis-key", b64.encode(key));
    }
    if let Some(signature) = signature {
        request = request.header("mhis-signature", b64.encode(signature));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let signature = response
        .headers()
        .get("mhis-signature")
        .and_then(|v| b64.decode(v.as_bytes()).ok());
    let bytes = response.bytes().await.unwrap();
    // Every answer of a node's inbox is signed by that node.
    let receiver_key = to
        .app
        .state
        .store
        .node_identity()
        .await
        .unwrap()
        .unwrap()
        .public_key;
    let signed = signature
        .is_some_and(|s| mhis_cert::node::verify_node_signature(&receiver_key, &bytes, &s).is_ok());
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        signed,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_are_refused_and_change_nothing() {
    use mhis_domain::referral::{ReferralEvent, ReferralState};
    let (clinic, authority) = pair(Backend::Sqlite, Backend::Sqlite).await.unwrap();
    let assessment = assessed(&clinic).await;
    // A draft: it stays on the clinic; the test sends its messages by hand.
    let draft = clinic
        .app
        .post(
            &format!("/api/v1/assessments/{assessment}/referrals"),
            &json!({"reason": "tb_evaluation", "to_peer": authority.name}),
        )
        .await
        .expect(201);
    let id: mhis_domain::ids::ReferralId = draft["id"].as_str().unwrap().parse().unwrap();
    let state = &clinic.app.state;
    let mut referral = state.store.get_referral(id).await.unwrap();
    referral.state = ReferralState::Sent;
    let node = state.federation.node(state).await.unwrap();
    let peer = mhis_server::federation::outgoing::peer_named(state, "to_peer", authority.name)
        .await
        .unwrap();
    let message = |r: &mhis_domain::referral::Referral, event| {
        mhis_server::federation::outgoing::message(state, &node, &peer, r, event)
    };
    let send = message(&referral, ReferralEvent::Send);
    let key = node.key.public_key().to_vec();
    let inbox = format!("/api/v1/referrals/{id}");
    let nothing_stored = |what: &'static str| {
        let app = &authority.app;
        let inbox = inbox.clone();
        async move {
            app.get(&inbox).await.expect_error(404, None);
            let page = app.get("/api/v1/referrals?view=inbox").await.expect(200);
            assert_eq!(page["total"], 0, "{what}");
        }
    };

    // Unsigned, unknown sender, bad signature: 401, nothing stored.
    let (status, body, signed) = deliver(&authority, send.body.clone(), None, None).await;
    assert_eq!((status, signed), (401, true), "{body}");
    nothing_stored("unsigned").await;
    let stranger = mhis_cert::node::NodeKey::generate().unwrap();
    let (status, _, _) = deliver(
        &authority,
        send.body.clone(),
        Some(stranger.public_key()),
        Some(stranger.sign(&send.body)),
    )
    .await;
    assert_eq!(status, 401, "unknown peer");
    let (status, _, _) = deliver(
        &authority,
        send.body.clone(),
        Some(&key),
        Some(node.key.sign(b"other bytes")),
    )
    .await;
    assert_eq!(status, 401, "bad signature");
    nothing_stored("bad signatures").await;

    // Signed by a peer but not valid FHIR, or not a message: 422.
    for body in [
        b"not json".to_vec(),
        serde_json::to_vec(&json!({"resourceType": "Bundle", "type": "collection"})).unwrap(),
        serde_json::to_vec(&json!({"resourceType": "Patient"})).unwrap(),
    ] {
        let (status, error, signed) = deliver(
            &authority,
            body.clone(),
            Some(&key),
            Some(node.key.sign(&body)),
        )
        .await;
        assert_eq!((status, signed), (422, true), "{error}");
        assert!(error["field"].is_string(), "{error}");
    }
    nothing_stored("invalid FHIR").await;

    // Oversized: 413 before anything is read.
    let huge = vec![b' '; 2 * 1024 * 1024];
    let (status, _, _) = deliver(
        &authority,
        huge.clone(),
        Some(&key),
        Some(node.key.sign(&huge)),
    )
    .await;
    assert_eq!(status, 413);
    nothing_stored("oversized").await;

    // The referrer cannot send the receiver's events: 404 as for a
    // referral it has no part in; once received, a forbidden transition is
    // 409; neither is stored.
    let accept = message(&referral, ReferralEvent::Accept);
    let (status, _, _) = deliver(
        &authority,
        accept.body.clone(),
        Some(&key),
        Some(accept.signature.clone()),
    )
    .await;
    assert_eq!(status, 404, "not yet received");

    // The real message is applied once; a replay is acknowledged, not
    // re-applied.
    let (status, ack, signed) = deliver(
        &authority,
        send.body.clone(),
        Some(&key),
        Some(send.signature.clone()),
    )
    .await;
    assert_eq!((status, signed), (200, true), "{ack}");
    assert_eq!(ack["status"], "applied");
    assert_eq!(ack["message_id"], send.id.to_string());
    let (status, ack, _) = deliver(
        &authority,
        send.body.clone(),
        Some(&key),
        Some(send.signature.clone()),
    )
    .await;
    assert_eq!((status, ack["status"].as_str()), (200, Some("duplicate")));
    let stored = authority.app.get(&inbox).await.expect(200);
    assert_eq!(
        events(&stored),
        ["send:sent", "receive:received"],
        "applied once"
    );

    let (status, _, _) = deliver(
        &authority,
        accept.body.clone(),
        Some(&key),
        Some(accept.signature.clone()),
    )
    .await;
    assert_eq!(
        status, 404,
        "the referrer's peer cannot accept for the receiver"
    );
    let mut closed = referral.clone();
    closed.state = ReferralState::Closed;
    let close = message(&closed, ReferralEvent::Close);
    let (status, error, signed) = deliver(
        &authority,
        close.body.clone(),
        Some(&key),
        Some(close.signature.clone()),
    )
    .await;
    assert_eq!((status, signed), (409, true), "{error}");
    assert_eq!(error["field"], "state");
    let after = authority.app.get(&inbox).await.expect(200);
    assert_eq!(after["state"], "received");
    assert_eq!(events(&after), ["send:sent", "receive:received"]);
    for m in [&accept, &close] {
        assert!(!authority.app.state.store.inbox_has(m.id).await.unwrap());
    }
}

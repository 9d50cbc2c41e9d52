//! `mhis bench federation`: messages per second between two nodes on
//! loopback, signing and verification included.
//!
//! Two in-process servers on fresh temporary SQLite databases (or the given
//! URLs) are set up as peers. N referrals to the peer are written straight
//! through the store, each with its signed message in the outbox, while the
//! sender's worker is not yet running (the *enqueue* phase: build the FHIR
//! Bundle, sign it, commit it). Then both servers start and the time until
//! the receiver has acknowledged every message is the *delivery* phase:
//! HTTP, signature check, FHIR parsing, the inbox transaction, the signed
//! acknowledgement and its check, and the sender's bookkeeping.

use anyhow::Context;
use mhis_domain::ids::{AssessmentId, MigrantId, ReferralId, SiteId};
use mhis_domain::page::PageRequest;
use mhis_domain::referral::{
    PersonSummary, Referral, ReferralEvent, ReferralKind, ReferralState, SummaryObservation,
    TimelineEntry, Urgency,
};
use mhis_server::AppState;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Flags of `mhis bench federation`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Messages to send.
    #[arg(long, default_value_t = 5_000)]
    messages: usize,
    /// The sender's database (default: a fresh temporary SQLite file).
    #[arg(long)]
    sender_database_url: Option<String>,
    /// The receiver's database (default: a fresh temporary SQLite file).
    #[arg(long)]
    receiver_database_url: Option<String>,
}

struct Side {
    state: AppState,
    listener: Option<tokio::net::TcpListener>,
    url: String,
    site: SiteId,
}

async fn side(dir: &std::path::Path, name: &str, url: Option<String>) -> anyhow::Result<Side> {
    let url =
        url.unwrap_or_else(|| format!("sqlite://{}", dir.join(format!("{name}.db")).display()));
    let vocabulary = super::vocabulary();
    let store = mhis_server::storage::open_migrated(&url, vocabulary.clone())
        .await
        .with_context(|| format!("opening {}", super::redact(&url)))?;
    let mut state = AppState::new(store, vocabulary);
    let kek =
        mhis_server::certificates::KeyEncryptionKey::load(&dir.join(format!("{name}.kek")), true)?;
    state.key_encryption = Some(Arc::new(kek));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let site = mhis_domain::site::NewSite::parse(&mhis_domain::site::SiteInput {
        code: format!("{}-01", name.to_uppercase()),
        kind: "assessment_centre".into(),
        country: "TJ".into(),
        name: name.into(),
    })?;
    let audit = mhis_domain::audit::AuditEvent::new("bench", "site.create", "site", None, None);
    let site = state.store.create_site(&site, &audit).await?;
    mhis_server::federation::init_node(&state, name, &base, site.id, "bench")
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    Ok(Side {
        state,
        listener: Some(listener),
        url: base,
        site: site.id,
    })
}

async fn peer(of: &Side, name: &str, other: &Side) -> anyhow::Result<()> {
    let key = other
        .state
        .store
        .node_identity()
        .await?
        .context("node")?
        .public_key;
    mhis_server::federation::add_peer(
        &of.state,
        name,
        &other.url,
        &mhis_cert::node::encode_public_key(&key),
        Some("RU"),
        "bench",
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    Ok(())
}

fn referral(site: SiteId, now: chrono::DateTime<chrono::Utc>, i: usize) -> Referral {
    Referral {
        id: ReferralId::new(),
        kind: ReferralKind::Referral,
        state: ReferralState::Sent,
        site_id: site,
        to_site_id: None,
        to_peer: Some("receiver".into()),
        to_peer_site_code: None,
        from_peer: None,
        from_label: "Bench clinic".into(),
        assessment_id: None::<AssessmentId>,
        migrant_id: None::<MigrantId>,
        reason: "tb_evaluation".into(),
        urgency: Urgency::Routine,
        due_date: now.date_naive() + chrono::Days::new(30),
        note: Some(format!("bench referral {i}")),
        person: PersonSummary {
            family_name: "Rakhimov".into(),
            given_names: "Shukhrat".into(),
            sex: "male".into(),
            birth_date: "1990-06".into(),
            nationality: "TJ".into(),
            document_number: Some(format!("400{i:06}")),
            document_country: Some("TJ".into()),
            contact: None,
        },
        observations: vec![
            SummaryObservation {
                code: "cxr".into(),
                value: serde_json::json!("suggestive_tb"),
                unit: None,
                observed_at: now,
            },
            SummaryObservation {
                code: "xpert".into(),
                value: serde_json::json!("mtb_not_detected"),
                unit: None,
                observed_at: now,
            },
        ],
        conditions: vec!["tb: suggestive".into()],
        outcome: None,
        outcome_date: None,
        outcome_note: None,
        created_by: "bench".into(),
        created_at: now,
        updated_at: now,
    }
}

/// Runs the benchmark.
pub async fn run(args: Args) -> anyhow::Result<std::process::ExitCode> {
    let dir = tempfile::tempdir()?;
    let mut sender = side(dir.path(), "sender", args.sender_database_url).await?;
    let mut receiver = side(dir.path(), "receiver", args.receiver_database_url).await?;
    peer(&sender, "receiver", &receiver).await?;
    peer(&receiver, "sender", &sender).await?;

    // Enqueue: Bundle, signature and one transaction per message.
    let node = sender
        .state
        .federation
        .node(&sender.state)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let peer = mhis_server::federation::outgoing::peer_named(&sender.state, "to_peer", "receiver")
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let audit =
        mhis_domain::audit::AuditEvent::new("bench", "referral.create", "referral", None, None);
    let started = Instant::now();
    for i in 0..args.messages {
        let now = sender.state.now();
        let r = referral(sender.site, now, i);
        let message = mhis_server::federation::outgoing::message(
            &sender.state,
            &node,
            &peer,
            &r,
            ReferralEvent::Send,
        );
        let history = [TimelineEntry {
            at: now,
            event: ReferralEvent::Send,
            state: ReferralState::Sent,
            actor: "bench".into(),
            detail: None,
        }];
        sender
            .state
            .store
            .create_referral(&r, &history, Some(&message), &audit)
            .await?;
    }
    let enqueue = started.elapsed();

    // Delivery: start both servers and wait for the last acknowledgement.
    let mut stops = Vec::new();
    for side in [&mut sender, &mut receiver] {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let listener = side.listener.take().expect("listener");
        let state = side.state.clone();
        tokio::spawn(async move {
            let _ = mhis_server::serve(listener, state, async {
                let _ = rx.await;
            })
            .await;
        });
        stops.push(tx);
    }
    let started = Instant::now();
    let one = PageRequest::parse(Some(1), Some(1))?;
    loop {
        let left = sender.state.store.list_outbox(true, one).await?.total;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let delivery = started.elapsed();
    let rejected = sender
        .state
        .store
        .list_outbox(false, PageRequest::parse(Some(1), Some(200))?)
        .await?
        .items
        .iter()
        .filter(|m| m.result.as_deref() == Some("rejected"))
        .count();
    for tx in stops {
        let _ = tx.send(());
    }
    let n = args.messages as f64;
    println!(
        "enqueue (FHIR Bundle + Ed25519 signature + outbox transaction): {:.0} messages/s ({:.2} s)",
        n / enqueue.as_secs_f64(),
        enqueue.as_secs_f64()
    );
    println!(
        "delivery (HTTP + signature check + FHIR parse + inbox transaction + signed ack): {:.0} messages/s ({:.2} s)",
        n / delivery.as_secs_f64(),
        delivery.as_secs_f64()
    );
    println!(
        "federation: messages={} msgs_per_s={:.0} end_to_end_msgs_per_s={:.0} rejected={rejected}",
        args.messages,
        n / delivery.as_secs_f64(),
        n / (enqueue + delivery).as_secs_f64()
    );
    Ok(std::process::ExitCode::SUCCESS)
}

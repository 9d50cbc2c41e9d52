//! Keeps the monitoring aggregates current and answers indicator queries.
//!
//! **Freshness.** Database triggers mark every changed assessment and
//! referral in the transaction that changes it. A refresher task beside the
//! server, woken after every write request (and every two seconds for
//! writes from elsewhere: the delivery worker, the CLI), rebuilds each
//! marked record's fact row and moves the cube by the difference. Every
//! indicator read first refreshes whatever is still marked, so an answer
//! always includes every committed write.
//!
//! **The fact row** of an assessment comes from the person (sex, age on the
//! assessment date, nationality), the assessment (site, destination,
//! date, final outcome), the protocol engine's decision over the current
//! observations (provisional outcome, TB class), and the first
//! certificate (turnaround). A referral's comes from its person and its
//! timeline; referrals received from peers count at their sender.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use mhis_domain::assessment::AssessmentStatus;
use mhis_domain::ids::{AssessmentId, ReferralId};
use mhis_domain::indicator::catalogue::{BUILT_IN, Catalogue, Indicator};
use mhis_domain::indicator::cube::{evaluate_cube, plan};
use mhis_domain::indicator::facts::{
    AssessmentInput, ReferralInput, Who, assessment_row, referral_row,
};
use mhis_domain::indicator::{Cell, Dimension, FactKind, FactRow, Filter};
use mhis_domain::referral::ReferralState;
use mhis_store::{DirtyFact, StoreError};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

/// The catalogue and the refresher's wake-up.
pub struct Indicators {
    /// The indicator catalogue.
    pub catalogue: Arc<Catalogue>,
    /// Its fingerprint: a change rebuilds the cube.
    pub fingerprint: String,
    /// Wakes the refresher.
    pub wake: Notify,
    /// One refresh at a time in this process.
    running: Mutex<()>,
}

impl Indicators {
    /// Over a catalogue and the text it was read from.
    pub fn new(catalogue: Catalogue, text: &str) -> Self {
        Self {
            catalogue: Arc::new(catalogue),
            fingerprint: format!("{:x}", Sha256::digest(text.as_bytes())),
            wake: Notify::new(),
            running: Mutex::new(()),
        }
    }
}

impl Default for Indicators {
    fn default() -> Self {
        Self::new(Catalogue::built_in(), BUILT_IN)
    }
}

/// Rebuilds the cube from scratch when the catalogue changed since it was
/// built (the records are marked; the refresher does the work).
pub async fn ensure_catalogue(state: &AppState) -> Result<(), StoreError> {
    let stored = state.store.cube_fingerprint().await?;
    if stored.as_deref() != Some(state.indicators.fingerprint.as_str()) {
        state
            .store
            .reset_cube(&state.indicators.fingerprint)
            .await?;
    }
    Ok(())
}

/// The refresher: runs until aborted.
pub async fn run(state: AppState) {
    if let Err(e) = ensure_catalogue(&state).await {
        tracing::error!(error = %e, "indicator catalogue check failed");
    }
    loop {
        if let Err(e) = refresh(&state).await {
            tracing::warn!(error = %e.message, "indicator refresh failed; retrying");
        }
        let _ =
            tokio::time::timeout(Duration::from_secs(2), state.indicators.wake.notified()).await;
    }
}

/// Refreshes every marked record; returns how many changed the cube. A
/// record that cannot be refreshed stays marked (and is logged) without
/// holding up the others; the next refresh tries it again.
pub async fn refresh(state: &AppState) -> ApiResult<usize> {
    let _one = state.indicators.running.lock().await;
    let mut changed = 0;
    let mut failed = std::collections::HashSet::new();
    loop {
        let batch = state.store.dirty_facts(512 + failed.len() as i64).await?;
        let batch: Vec<_> = batch
            .into_iter()
            .filter(|d| !failed.contains(&(d.kind, d.id)))
            .collect();
        if batch.is_empty() {
            return Ok(changed);
        }
        for dirty in &batch {
            let done = async {
                let row = fact_row(state, dirty).await?;
                Ok::<_, ApiError>(
                    state
                        .store
                        .put_fact(&state.indicators.catalogue, dirty, row.as_ref())
                        .await?,
                )
            }
            .await;
            match done {
                Ok(true) => changed += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(record = %dirty.id, error = %e.message, "indicator fact not refreshed");
                    failed.insert((dirty.kind, dirty.id));
                }
            }
        }
    }
}

/// The fact row a record counts as now (`None`: it counts as nothing).
pub async fn fact_row(state: &AppState, dirty: &DirtyFact) -> ApiResult<Option<FactRow>> {
    match dirty.kind {
        FactKind::Assessment => assessment_fact(state, AssessmentId(dirty.id)).await,
        FactKind::Referral => referral_fact(state, ReferralId(dirty.id)).await,
    }
}

fn missing(e: StoreError) -> ApiResult<Option<FactRow>> {
    match e {
        StoreError::NotFound { .. } => Ok(None),
        e => Err(e.into()),
    }
}

async fn assessment_fact(state: &AppState, id: AssessmentId) -> ApiResult<Option<FactRow>> {
    let assessment = match state.store.get_assessment(id).await {
        Ok(a) => a,
        Err(e) => return missing(e),
    };
    let migrant = state.store.get_migrant(assessment.migrant_id).await?;
    let site = state.store.get_site(assessment.site_id).await?;
    let observations = state.store.list_observations(id, false).await?;
    let case = crate::api::assessments::case_of_parts(&assessment, &migrant, &observations);
    let decision = state
        .protocols
        .classify(assessment.protocol.as_str(), &case)
        .ok();
    let engine_outcome = decision.as_ref().map(|d| d.outcome.as_str().to_owned());
    let tb_class = decision
        .as_ref()
        .and_then(|d| d.classes.get("tb").map(str::to_owned));
    let finalised = assessment.status == AssessmentStatus::Finalised;
    let outcome = if finalised {
        assessment.final_outcome.clone()
    } else {
        engine_outcome
    };
    let first_certificate = state
        .store
        .certificates_of(id)
        .await?
        .into_iter()
        .map(|c| c.issued_at)
        .min();
    let turnaround_days = first_certificate.map(|issued| {
        (issued.date_naive() - assessment.opened_at.date_naive())
            .num_days()
            .max(0) as u32
    });
    let values: Vec<(String, String)> = observations
        .iter()
        .map(|o| (o.code.clone(), value_text(&o.value)))
        .collect();
    let details = &migrant.details;
    Ok(Some(assessment_row(
        &state.indicators.catalogue,
        &AssessmentInput {
            who: Who {
                site: site.code.as_str().to_owned(),
                nationality: details.nationality.as_str().to_owned(),
                destination: assessment.destination.as_str().to_owned(),
                sex: details.sex.as_str().to_owned(),
                age: details
                    .birth_date
                    .age_on(assessment.assessment_date)
                    .unwrap_or(0),
            },
            date: assessment.assessment_date,
            finalised,
            outcome: outcome.as_deref(),
            tb_class: tb_class.as_deref(),
            observations: &values,
            turnaround_days,
        },
    )))
}

async fn referral_fact(state: &AppState, id: ReferralId) -> ApiResult<Option<FactRow>> {
    let referral = match state.store.get_referral(id).await {
        Ok(r) => r,
        Err(e) => return missing(e),
    };
    // Received from a peer: it counts where it was written.
    if referral.is_incoming() {
        return Ok(None);
    }
    let Some(migrant_id) = referral.migrant_id else {
        return Ok(None);
    };
    let migrant = state.store.get_migrant(migrant_id).await?;
    let site = state.store.get_site(referral.site_id).await?;
    let destination = match referral.assessment_id {
        Some(a) => state
            .store
            .get_assessment(a)
            .await?
            .destination
            .as_str()
            .to_owned(),
        None => String::new(),
    };
    let written = referral.created_at.date_naive();
    let issued = !matches!(
        referral.state,
        ReferralState::Draft | ReferralState::Cancelled
    );
    let awaiting = matches!(
        referral.state,
        ReferralState::Sent | ReferralState::Received | ReferralState::Accepted
    );
    let days_to_outcome = referral
        .outcome_date
        .filter(|_| referral.outcome.is_some())
        .map(|d| (d - written).num_days().max(0) as u32);
    let details = &migrant.details;
    Ok(Some(referral_row(&ReferralInput {
        who: Who {
            site: site.code.as_str().to_owned(),
            nationality: details.nationality.as_str().to_owned(),
            destination,
            sex: details.sex.as_str().to_owned(),
            age: details.birth_date.age_on(written).unwrap_or(0),
        },
        date: written,
        issued,
        awaiting_outcome: awaiting,
        due_date: referral.due_date,
        reason: referral.reason.clone(),
        days_to_outcome,
    })))
}

/// An observation's value as indicator flags compare it: a coded value's
/// code, a number or boolean written out.
fn value_text(value: &mhis_domain::observation::ObservationValue) -> String {
    match value.to_json() {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// An indicator's cells under a filter and breakdown, from the cube, after
/// refreshing every marked record (so every committed write counts).
pub async fn evaluate(
    state: &AppState,
    indicator: &Indicator,
    filter: &Filter,
    by: Option<Dimension>,
) -> ApiResult<Vec<Cell>> {
    refresh(state).await?;
    let sums = state.store.cube_sums(&plan(indicator, filter, by)).await?;
    Ok(evaluate_cube(
        &state.indicators.catalogue,
        indicator,
        &sums,
        filter,
        by,
    ))
}

/// The indicator named `id`, or a 404 naming it.
pub fn indicator<'a>(state: &'a AppState, id: &str) -> ApiResult<&'a Indicator> {
    state
        .indicators
        .catalogue
        .get(id)
        .ok_or_else(|| ApiError::not_found("indicator"))
}

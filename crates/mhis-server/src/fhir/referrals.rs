//! Referrals as `ServiceRequest` and `Task`: read and search
//! (`patient`/`subject`, `_id`, `_count`, `_page`) from the referral store,
//! mapped by `mhis_fhir::referral` (the same mapping as federation
//! messages). Both need `ReferralRead`; a referral is visible to the users
//! of the site that holds it and of the local site it is addressed to, like
//! in the JSON API, and every read is audited.

use super::params::Params;
use super::resources::{assessments_of, bundle, missing, paged, searched_patient};
use super::{Base, Fhir, FhirResult, FhirUser};
use crate::api::migrants::scoped_sites;
use crate::api::referrals::{referrals_of, visible_referral};
use crate::auth::CurrentUser;
use crate::state::AppState;
use axum::extract::{Path, State};
use mhis_domain::access::Permission;
use mhis_domain::referral::Referral;
use mhis_fhir::bundle::IntoResource;
use mhis_fhir::model::resources::Resource;
use mhis_fhir::referral::{service_request_of, task_of};
use mhis_store::{ReferralFilter, ReferralView};

/// Which resource a referral is served as.
#[derive(Clone, Copy)]
enum As {
    ServiceRequest,
    Task,
}

impl As {
    fn name(self) -> &'static str {
        match self {
            Self::ServiceRequest => "ServiceRequest",
            Self::Task => "Task",
        }
    }

    fn resource(self, r: &Referral) -> Resource {
        match self {
            Self::ServiceRequest => service_request_of(r).into_resource(),
            Self::Task => task_of(r).into_resource(),
        }
    }
}

async fn read(state: &AppState, user: &CurrentUser, id: &str, kind: As) -> FhirResult {
    user.require(Permission::ReferralRead)?;
    let r = visible_referral(state, user, id)
        .await
        .map_err(missing(kind.name()))?;
    user.audit_read(state, "referral.read", "referral", Some(r.id.to_string()))
        .await?;
    Ok(Fhir::ok(kind.resource(&r)))
}

async fn search(state: &AppState, user: &CurrentUser, base: &Base, kind: As) -> FhirResult {
    let params = Params::parse(base, &["_id", "patient", "subject"])?;
    user.require(Permission::ReferralRead)?;
    let (total, items): (u64, Vec<Referral>) = if let Some(id) = params.get("_id") {
        let found = match visible_referral(state, user, id).await {
            Ok(r) => vec![r],
            Err(e) if e.status == axum::http::StatusCode::NOT_FOUND => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        paged(found, params.page)
    } else if let Some(pid) = params.patient()? {
        let mut all = Vec::new();
        if let Some(m) = searched_patient(state, user, pid).await? {
            for a in assessments_of(state, user, m.id).await? {
                all.extend(referrals_of(state, &a).await?.into_iter().filter(|r| {
                    user.user.scope.covers(r.site_id)
                        || r.to_site_id.is_some_and(|s| user.user.scope.covers(s))
                }));
            }
        }
        paged(all, params.page)
    } else {
        let filter = ReferralFilter {
            view: ReferralView::All,
            sites: scoped_sites(user, None)?,
            assessment_id: None,
            today: state.today(),
            hidden_reasons: crate::api::mhpss::hidden_reasons(state, user),
        };
        let page = state.store.list_referrals(&filter, params.page).await?;
        (page.total, page.items)
    };
    user.audit_read(state, "referral.list", "referral", None)
        .await?;
    let matches = items.iter().map(|r| kind.resource(r)).collect();
    Ok(bundle(base, &params, total, matches, Vec::new()))
}

/// `GET /ServiceRequest/{id}` (the referral id).
pub(super) async fn service_request_read(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    Path(id): Path<String>,
) -> FhirResult {
    read(&state, &user, &id, As::ServiceRequest).await
}

/// `GET /ServiceRequest?…`.
pub(super) async fn service_request_search(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
) -> FhirResult {
    search(&state, &user, &base, As::ServiceRequest).await
}

/// `GET /Task/{id}` (the referral id).
pub(super) async fn task_read(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    Path(id): Path<String>,
) -> FhirResult {
    read(&state, &user, &id, As::Task).await
}

/// `GET /Task?…`.
pub(super) async fn task_search(
    State(state): State<AppState>,
    FhirUser(user): FhirUser,
    base: Base,
) -> FhirResult {
    search(&state, &user, &base, As::Task).await
}

//! Filling a fresh database with the synthetic demo data of `mhis-synth`,
//! through the same store calls the API uses.

use crate::auth::{NewAccount, create_account};
use crate::error::ApiError;
use crate::state::AppState;
use chrono::{DateTime, NaiveDate, Utc};
use mhis_domain::access::Role;
use mhis_domain::assessment::NewAssessment;
use mhis_domain::audit::AuditEvent;
use mhis_domain::ids::SiteId;
use mhis_domain::migrant::{MigrantDetails, NewMigrant};
use mhis_domain::observation::NewObservation;
use mhis_domain::protocol::ProtocolSet;
use mhis_domain::site::NewSite;
use mhis_domain::vocabulary::Vocabulary;
use mhis_store::{Actor, Store, StoreError};
use mhis_synth::Generator;

/// What the demo loader did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    /// Sites created.
    pub sites: usize,
    /// Migrants registered.
    pub migrants: usize,
    /// Observations recorded.
    pub observations: usize,
}

/// Why loading failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Generated data did not parse: a bug in the generator.
    #[error("generated data is invalid: {0}")]
    Invalid(#[from] mhis_domain::FieldError),
}

/// Whether the database holds no sites yet.
pub async fn is_empty(store: &dyn Store) -> Result<bool, StoreError> {
    Ok(store.list_sites().await?.is_empty())
}

/// Loads the demo sites and `migrants` people, each with one assessment
/// and its results, drawn from `seed`.
pub async fn load(
    store: &dyn Store,
    vocabulary: &Vocabulary,
    protocols: &ProtocolSet,
    migrants: usize,
    seed: u64,
    now: DateTime<Utc>,
) -> Result<Loaded, DemoError> {
    let today: NaiveDate = now.date_naive();
    let audit = AuditEvent::new("demo", "demo.load", "site", None, None);
    let mut site_ids: Vec<SiteId> = Vec::new();
    for input in mhis_synth::sites() {
        site_ids.push(
            store
                .create_site(&NewSite::parse(&input)?, &audit)
                .await?
                .id,
        );
    }
    let mut generator = Generator::new(seed, today);
    let actor = Actor("demo".into());
    let mut observations = 0;
    for i in 0..migrants {
        let (input, centre) = generator.migrant();
        let parsed = NewMigrant::parse(&input, today)?;
        let age = parsed.birth_date.age_on(today).unwrap_or(0);
        let details = MigrantDetails::from(parsed);
        let (migrant, _) = store
            .create_migrant(site_ids[centre], &details, now, &audit)
            .await?;
        let mut plan = generator.assessment(&input.sex, age);
        plan.assessment.migrant_id = migrant.id.to_string();
        plan.assessment.site_id = site_ids[centre].to_string();
        let assessment = NewAssessment::parse(&plan.assessment, protocols.ids(), today)?;
        let stored = store.create_assessment(&assessment, now, &audit).await?;
        if !plan.observations.is_empty() {
            let batch = NewObservation::parse_batch(vocabulary, &plan.observations, now)?;
            observations += batch.len();
            store
                .record_observations(stored.id, &batch, &actor, now, &audit)
                .await?;
        }
        // Every other person is vaccinated at the assessment (MMR second
        // dose, a Tdap booster), so that vaccinations and the FHIR
        // Immunization export have data.
        if i % 2 == 0 {
            use mhis_domain::vaccination::{NewVaccination, VaccinationInput, VaccineCatalogue};
            for (k, (vaccine, dose)) in [("mmr", 2), ("tdap", 1)].into_iter().enumerate() {
                let input = VaccinationInput {
                    vaccine: vaccine.into(),
                    date: today.to_string(),
                    status: "completed".into(),
                    lot_number: Some(format!("DEMO-{i:04}-{k}")),
                    dose_number: Some(dose),
                };
                let v = NewVaccination::parse(
                    &input,
                    migrant.id,
                    Some(stored.id),
                    site_ids[centre],
                    VaccineCatalogue::built_in(),
                    today,
                )?;
                store.record_vaccination(&v, "demo", now, &audit).await?;
            }
        }
    }
    Ok(Loaded {
        sites: site_ids.len(),
        migrants,
        observations,
    })
}

/// One demo login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLogin {
    /// Login name (the role's name with `demo-`).
    pub username: String,
    /// Password.
    pub password: String,
    /// Role.
    pub role: &'static str,
    /// Where the user works (`national` or a site code).
    pub scope: &'static str,
}

/// Creates one demo user per role: site roles at the Dushanbe centre (the
/// border officer at the airport), the others national. Passwords are
/// public: this is for a demo database only.
pub async fn create_demo_users(state: &AppState) -> Result<Vec<DemoLogin>, ApiError> {
    let mut logins = Vec::new();
    for role in Role::ALL {
        let scope = match role {
            Role::Registrar
            | Role::Clinician
            | Role::Lab
            | Role::Radiologist
            | Role::Counsellor => "TJ-DYU-01",
            Role::BorderOfficer => "KG-MANAS",
            _ => "national",
        };
        let login = DemoLogin {
            username: format!("demo-{}", role.as_str().replace('_', "-")),
            password: format!("demo-{}-password", role.as_str().replace('_', "-")),
            role: role.as_str(),
            scope,
        };
        let account = NewAccount {
            username: login.username.clone(),
            display_name: format!("Demo {}", role.as_str().replace('_', " ")),
            role: role.as_str().to_owned(),
            sites: if scope == "national" {
                vec![]
            } else {
                vec![scope.to_owned()]
            },
            national: scope == "national",
            password: login.password.clone(),
            language: None,
        };
        create_account(state, &account, "demo").await?;
        logins.push(login);
    }
    Ok(logins)
}

/// What [`finalise_and_certify`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Certified {
    /// Assessments finalised with the protocol's outcome.
    pub finalised: usize,
    /// Certificates issued.
    pub certificates: usize,
}

/// Gives every assessment centre a signing key, finalises three in four
/// demo assessments whose results are all in (with the protocol's outcome) and
/// issues a certificate for the cleared ones, as a demo physician would.
pub async fn finalise_and_certify(
    state: &AppState,
    kek: &crate::certificates::KeyEncryptionKey,
) -> Result<Certified, ApiError> {
    let physician = crate::auth::CurrentUser {
        user: mhis_domain::access::User {
            id: mhis_domain::ids::UserId::new(),
            username: "demo".into(),
            display_name: "Demo physician".into(),
            role: Role::Clinician,
            scope: mhis_domain::access::Scope::National,
            language: None,
        },
        origin: None,
    };
    for site in state.store.list_sites().await? {
        if site.kind == mhis_domain::site::SiteKind::AssessmentCentre {
            crate::certificates::new_site_key(state, kek, site.id, 365, "demo").await?;
        }
    }
    let mut done = Certified::default();
    let mut page = 1;
    loop {
        let request = mhis_domain::page::PageRequest::parse(Some(page), Some(200))?;
        let batch = state
            .store
            .list_assessments(&Default::default(), request)
            .await?;
        // Leave every fourth assessment unsigned, as a clinic's work queue
        // (open while results are due, complete when ready for sign-off).
        for (i, assessment) in batch.items.iter().enumerate() {
            if i % 4 == 0 {
                crate::api::assessments::refresh_progress(state, assessment.id).await;
                continue;
            }
            let decision = crate::api::assessments::decide(state, assessment).await?;
            let Some(engine) = decision["outcome"]
                .as_str()
                .and_then(mhis_domain::protocol::Outcome::parse)
                .filter(|o| *o != mhis_domain::protocol::Outcome::Pending)
            else {
                continue;
            };
            let finalisation = mhis_domain::finalisation::Finalisation {
                engine_outcome: engine,
                final_outcome: engine,
                reason: None,
            };
            let audit = physician.event(
                "assessment.finalise",
                "assessment",
                Some(assessment.id.to_string()),
            );
            let finalised = state
                .store
                .finalise_assessment(assessment.id, &finalisation, "demo", state.now(), &audit)
                .await?;
            done.finalised += 1;
            if engine != mhis_domain::protocol::Outcome::NotCleared {
                match crate::certificates::issue(state, &physician, &finalised).await {
                    Ok(_) => done.certificates += 1,
                    // Older demo assessments would give an already expired
                    // certificate, which the issuer rightly refuses.
                    Err(e) if e.field.as_deref() == Some("valid_until") => {}
                    Err(e) => return Err(e),
                }
            }
        }
        if (page as u64) * 200 >= batch.total {
            break;
        }
        page += 1;
    }
    Ok(done)
}

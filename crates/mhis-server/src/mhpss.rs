//! Loading the screening instruments of a deployment: the built-in files,
//! with the licensed wording files (`<instrument>.<language>.toml`) of a
//! folder the deployment names. A faulty wording file is refused with its
//! name, field and reason, and the server does not start.

use mhis_domain::instrument::{InstrumentSet, LoadError};
use std::path::Path;

/// Why the instruments could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum InstrumentsError {
    /// A file or the folder could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A wording file is not valid for its instrument.
    #[error("instrument wording file {0}")]
    Invalid(#[from] LoadError),
}

/// The built-in instruments, with every `*.toml` wording file of `dir`
/// (a missing folder is an error: the deployment named it).
pub fn load_instruments(dir: Option<&Path>) -> Result<InstrumentSet, InstrumentsError> {
    let mut set = InstrumentSet::built_in();
    let Some(dir) = dir else {
        return Ok(set);
    };
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| InstrumentsError::Io { path, source }
    };
    let mut paths = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io(dir))?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        set.add_wording(&name, &text)?;
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wording_files_of_a_folder_are_loaded_and_a_bad_one_is_refused() {
        let root = std::env::temp_dir().join(format!("mhis-wording-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&root).unwrap();
        let dir = Root(root);
        std::fs::write(
            dir.path().join("phq9.xx.toml"),
            "instrument = \"phq9\"\nlanguage = \"xx\"\nsource = \"test wording\"\n[items]\nphq9_1 = \"Item one, supplied\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let set = load_instruments(Some(dir.path())).unwrap();
        let form = set.form("phq9", Some("xx")).unwrap();
        assert_eq!(form.items[0].text, "Item one, supplied");
        assert!(form.items[0].worded);
        assert!(!form.items[1].worded);

        std::fs::write(
            dir.path().join("gad7.xx.toml"),
            "instrument = \"gad7\"\nlanguage = \"xx\"\nsource = \"s\"\n[items]\ngad7_99 = \"?\"\n",
        )
        .unwrap();
        let e = load_instruments(Some(dir.path())).unwrap_err().to_string();
        assert!(
            e.contains("gad7.xx.toml") && e.contains("items.gad7_99"),
            "{e}"
        );
        assert!(load_instruments(Some(&dir.path().join("missing"))).is_err());
    }

    /// A temporary folder, removed when dropped.
    struct Root(std::path::PathBuf);

    impl Root {
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Root {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// What [`load_demo`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DemoScreened {
    /// Screenings stored.
    pub screenings: usize,
    /// Positive screens among them.
    pub positive: usize,
    /// Counselling sessions recorded.
    pub sessions: usize,
    /// Referrals confirmed from screenings.
    pub referrals: usize,
    /// Cases closed.
    pub closed: usize,
}

/// Screens up to `count` demo assessments of the demo counsellor's site
/// with PHQ-9, GAD-7 and RHS-15 (answers from `mhis-synth`), through the
/// same handlers as the API: each positive screen gets a counselling
/// session, every other one a confirmed referral, and some cases are
/// closed. Does nothing without the `demo-counsellor` login.
pub async fn load_demo(
    state: &crate::AppState,
    seed: u64,
    count: usize,
) -> Result<DemoScreened, crate::error::ApiError> {
    use crate::api::mhpss as api;
    use crate::extract::ApiJson;
    use axum::extract::{Path as P, State};
    use mhis_domain::mhpss::{CloseInput, ScreeningInput, SessionInput};

    let mut done = DemoScreened::default();
    let Some(login) = state.store.find_user_login("demo-counsellor").await? else {
        return Ok(done);
    };
    let counsellor = crate::auth::CurrentUser {
        user: login.user,
        origin: None,
    };
    let sites = match counsellor.user.scope.filter() {
        Some(sites) => sites.to_vec(),
        None => return Ok(done),
    };
    let filter = mhis_store::AssessmentFilter {
        sites: Some(sites.clone()),
        ..Default::default()
    };
    let page = mhis_domain::page::PageRequest::parse(Some(1), Some(200))?;
    let assessments = state.store.list_assessments(&filter, page).await?.items;
    let mut synth = mhis_synth::Generator::new(seed ^ 0x006d_6870_7373, state.today());
    let instruments = ["phq9", "gad7", "rhs15"];
    for (i, a) in assessments.iter().take(count).enumerate() {
        let Some(instrument) = state.instruments.get(instruments[i % instruments.len()]) else {
            continue;
        };
        let input = ScreeningInput {
            instrument: instrument.id.clone(),
            answers: synth.screening_answers(instrument),
            assessment_id: Some(a.id),
            site_id: None,
            context: None,
        };
        let (_, axum::Json(d)) = api::screen(
            State(state.clone()),
            counsellor.clone(),
            P(a.migrant_id.to_string()),
            ApiJson(input),
        )
        .await?;
        done.screenings += 1;
        if d.screening.result.positive != Some(true) && d.screening.result.flags.is_empty() {
            continue;
        }
        done.positive += 1;
        let case = d.screening.case_id.to_string();
        let _ = api::add_session(
            State(state.clone()),
            counsellor.clone(),
            P(case.clone()),
            ApiJson(SessionInput {
                date: None,
                kind: "individual".into(),
                notes: "Demo session: talked through the screening result and current stresses; agreed a plan.".into(),
                next_step: Some("Follow-up session in one week".into()),
            }),
        )
        .await?;
        done.sessions += 1;
        if done.positive % 2 == 1 {
            for s in &d.suggestions {
                let _ = api::refer(
                    State(state.clone()),
                    counsellor.clone(),
                    P(d.screening.id.to_string()),
                    ApiJson(api::ScreeningReferralInput {
                        reason: s.reason.clone(),
                        to_site_id: Some(d.screening.site_id),
                        ..Default::default()
                    }),
                )
                .await?;
                done.referrals += 1;
            }
        } else if done.positive % 4 == 0 {
            let _ = api::close_case(
                State(state.clone()),
                counsellor.clone(),
                P(case),
                ApiJson(CloseInput {
                    reason: "goals_met".into(),
                    note: None,
                }),
            )
            .await?;
            done.closed += 1;
        }
    }
    Ok(done)
}

//! Demo training data: answered needs questionnaires, a finished session
//! scheduled from their priority topics, its participants, attendance,
//! pre/post test scores and attendance certificates. Deterministic, so
//! every demo shows the same figures.

use super::TRAINING;
use super::cert::issue_certificates;
use crate::error::ApiError;
use crate::state::AppState;
use chrono::Duration;
use mhis_domain::audit::AuditEvent;
use mhis_domain::migrant::Sex;
use mhis_domain::training::participant::NewParticipant;
use mhis_domain::training::{NeedsResponseId, ParticipantId, SessionId};
use mhis_store::{AttendanceMark, NeedsResponse, Participant, Phase, TestScore, TrainingSession};

/// What [`load`] created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainingDemo {
    /// Needs questionnaires.
    pub needs: usize,
    /// Participants of the demo session.
    pub participants: usize,
    /// Attendance certificates issued.
    pub certificates: usize,
}

/// Participants: family name, given names, organisation, type, role, sex.
const PEOPLE: &[(&str, &str, &str, &str, &str, Sex)] = &[
    (
        "Каримова",
        "Дилноза",
        "Городской центр здоровья № 3",
        "primary_care",
        "Семейный врач",
        Sex::Female,
    ),
    (
        "Саидов",
        "Фаридун",
        "Городской центр здоровья № 3",
        "primary_care",
        "Фтизиатр",
        Sex::Male,
    ),
    (
        "Рахимова",
        "Мадина",
        "Министерство здравоохранения",
        "ministry_of_health",
        "Специалист",
        Sex::Female,
    ),
    (
        "Назаров",
        "Умед",
        "Пограничный комитет",
        "border_committee",
        "Офицер",
        Sex::Male,
    ),
    (
        "Холова",
        "Зарина",
        "НПО «Шифо»",
        "ngo",
        "Психолог",
        Sex::Female,
    ),
    (
        "Иванов",
        "Пётр",
        "Министерство внутренних дел",
        "ministry_of_interior",
        "Инспектор",
        Sex::Male,
    ),
    (
        "Шарипова",
        "Нигина",
        "Городской центр здоровья № 5",
        "primary_care",
        "Медсестра",
        Sex::Female,
    ),
    (
        "Давлатов",
        "Бахтиёр",
        "Пограничный комитет",
        "border_committee",
        "Врач пункта пропуска",
        Sex::Male,
    ),
    (
        "Юсупова",
        "Гулнора",
        "НПО «Шифо»",
        "ngo",
        "Социальный работник",
        Sex::Female,
    ),
    (
        "Азимов",
        "Рустам",
        "Городской центр здоровья № 5",
        "primary_care",
        "Семейный врач",
        Sex::Male,
    ),
    (
        "Мирзоева",
        "Сабина",
        "Министерство здравоохранения",
        "ministry_of_health",
        "Эпидемиолог",
        Sex::Female,
    ),
    (
        "Курбонов",
        "Шерзод",
        "Министерство внутренних дел",
        "ministry_of_interior",
        "Инспектор",
        Sex::Male,
    ),
    (
        "Олимова",
        "Фируза",
        "Городской центр здоровья № 3",
        "primary_care",
        "Медсестра",
        Sex::Female,
    ),
    (
        "Рашидов",
        "Алишер",
        "Пограничный комитет",
        "border_committee",
        "Офицер",
        Sex::Male,
    ),
    (
        "Ходжаева",
        "Малика",
        "НПО «Шифо»",
        "ngo",
        "Консультант",
        Sex::Female,
    ),
    (
        "Неъматов",
        "Сухроб",
        "Городской центр здоровья № 5",
        "primary_care",
        "Фельдшер",
        Sex::Male,
    ),
];

/// Needs questionnaires: organisation, type, and ratings of the six
/// topics in questionnaire order.
const NEEDS: &[(&str, &str, [u32; 6])] = &[
    (
        "Министерство здравоохранения",
        "ministry_of_health",
        [3, 5, 4, 2, 4, 2],
    ),
    (
        "Министерство внутренних дел",
        "ministry_of_interior",
        [4, 3, 2, 2, 4, 5],
    ),
    (
        "Пограничный комитет",
        "border_committee",
        [4, 4, 2, 3, 3, 5],
    ),
    ("НПО «Шифо»", "ngo", [2, 4, 5, 1, 5, 1]),
    (
        "Городской центр здоровья № 3",
        "primary_care",
        [3, 5, 4, 2, 5, 1],
    ),
    (
        "Городской центр здоровья № 5",
        "primary_care",
        [3, 4, 3, 2, 4, 1],
    ),
];

/// Loads the demo training data at the demo site (TJ-DYU-01, or the
/// first site): a session that ended yesterday, with certificates when
/// the site has a signing key.
pub async fn load(state: &AppState) -> Result<TrainingDemo, ApiError> {
    let sites = state.store.list_sites().await?;
    let site = sites
        .iter()
        .find(|s| s.code.as_str() == "TJ-DYU-01")
        .or(sites.first())
        .ok_or_else(|| ApiError::invalid("site", "the demo has no site"))?;
    let now = state.now();
    let event = |action: &str, entity: &str| AuditEvent::new("demo", action, entity, None, None);
    let q = &TRAINING.questionnaire;
    let need_questions: Vec<&str> = q
        .questions
        .iter()
        .filter(|x| x.kind == mhis_domain::training::needs::QuestionKind::Need)
        .map(|x| x.id.as_str())
        .collect();
    for (i, (org, org_type, ratings)) in NEEDS.iter().enumerate() {
        let mut form: Vec<(String, String)> = vec![
            ("organisation".into(), (*org).into()),
            ("organisation_type".into(), (*org_type).into()),
            ("respondent".into(), format!("Респондент {}", i + 1)),
            ("staff_to_train".into(), (10 + 5 * i).to_string()),
            ("preferred_format".into(), "in_person".into()),
        ];
        for (qid, r) in need_questions.iter().zip(ratings) {
            form.push(((*qid).into(), r.to_string()));
        }
        let answers = q
            .parse_answers(&form)
            .map_err(|e| ApiError::invalid(e[0].field.clone(), e[0].message.clone()))?;
        let response = NeedsResponse {
            id: NeedsResponseId::new(),
            site_id: site.id,
            organisation: answers.organisation,
            organisation_type: answers.organisation_type,
            respondent: answers.respondent,
            answers: answers.answers,
            questionnaire_version: q.version.clone(),
            created_by: "demo".into(),
            created_at: now - Duration::days(30),
        };
        state
            .store
            .add_needs_response(
                &response,
                &event("training_needs.create", "training_needs_response"),
            )
            .await?;
    }
    let today = now.date_naive();
    let session = TrainingSession {
        id: SessionId::new(),
        site_id: site.id,
        title: "Туберкулёз и психосоциальная поддержка мигрантов".into(),
        place: "Душанбе".into(),
        starts_on: today - Duration::days(3),
        ends_on: today - Duration::days(1),
        trainers: vec!["Н. Саидова".into(), "M. Petrova".into()],
        modules: vec!["tb".into(), "mhpss".into()],
        organisations: NEEDS.iter().map(|(o, _, _)| (*o).to_owned()).collect(),
        created_by: "demo".into(),
        created_at: now - Duration::days(20),
    };
    state
        .store
        .add_training_session(
            &session,
            &event("training_session.create", "training_session"),
        )
        .await?;
    let people: Vec<Participant> = PEOPLE
        .iter()
        .enumerate()
        .map(
            |(i, (family, given, org, org_type, role, sex))| Participant {
                id: ParticipantId::new(),
                session_id: session.id,
                details: NewParticipant {
                    family_name: (*family).into(),
                    given_names: (*given).into(),
                    organisation: (*org).into(),
                    organisation_type: (*org_type).into(),
                    role: (*role).into(),
                    sex: *sex,
                    contact: Some(format!("+992 900 00 {:02} {:02}", i / 10, i)),
                },
                created_at: now - Duration::days(5),
            },
        )
        .collect();
    state
        .store
        .add_participants(
            &people,
            &event("training_participant.import", "training_session"),
        )
        .await?;
    // Everyone present every day, except two absent on the second day.
    let days = session.days();
    for (d, day) in days.iter().enumerate() {
        let marks: Vec<AttendanceMark> = people
            .iter()
            .enumerate()
            .map(|(i, p)| AttendanceMark {
                participant_id: p.id,
                day: *day,
                present: !(d == 1 && (i == 3 || i == 11)),
            })
            .collect();
        state
            .store
            .record_attendance(
                session.id,
                &marks,
                &event("training_attendance.record", "training_session"),
            )
            .await?;
    }
    // Pre and post scores out of the bank's questions: most improve, a
    // few do not.
    for (m, module) in session.modules.iter().enumerate() {
        let max = TRAINING.bank_of(module).map_or(5, |b| b.max_score());
        let mut scores = Vec::new();
        for (i, p) in people.iter().enumerate() {
            let pre = ((i * 7 + m * 3) % 4) as u32;
            let post = (pre + ((i + m) % 3) as u32).min(max);
            for (phase, score) in [(Phase::Pre, pre), (Phase::Post, post)] {
                scores.push(TestScore {
                    participant_id: p.id,
                    module: module.clone(),
                    phase,
                    score,
                    max_score: max,
                });
            }
        }
        state
            .store
            .record_scores(
                session.id,
                &scores,
                &event("training_scores.record", "training_session"),
            )
            .await?;
    }
    let certificates = if state.key_encryption.is_some() {
        issue_certificates(
            state,
            &session,
            &event("training_certificate.issue", "attendance_certificate"),
        )
        .await?
    } else {
        0
    };
    Ok(TrainingDemo {
        needs: NEEDS.len(),
        participants: people.len(),
        certificates,
    })
}

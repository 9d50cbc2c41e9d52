//! Synthetic data for the demo and the benchmarks: Central Asian labour
//! migrants (Tajikistan, Uzbekistan, Kyrgyzstan) with names in Cyrillic,
//! assessed at centres in their home countries for Russia, Kazakhstan, the
//! United States and the United Kingdom.
//!
//! Everything is drawn from a ChaCha generator seeded by the caller, so a
//! seed always gives the same people and results (ChaCha's output is fixed
//! by its specification, unlike `StdRng`'s). Nobody here is real: names are
//! common first names and surnames combined at random.
//!
//! The results follow each protocol's panel of tests with plausible rates
//! (mostly negative, a few percent abnormal) so that every branch of the
//! rules appears in a demo of a few hundred people.

use chrono::{Datelike, Duration, NaiveDate};
use mhis_domain::assessment::AssessmentInput;
use mhis_domain::instrument::{Instrument, ScaleKind};
use mhis_domain::migrant::{DocumentInput, MigrantInput};
use mhis_domain::observation::ObservationInput;
use mhis_domain::site::SiteInput;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// A country of origin with its naming stock.
struct Origin {
    country: &'static str,
    phone_prefix: &'static str,
    language: &'static str,
    male: &'static [&'static str],
    female: &'static [&'static str],
    /// Surname stems; `-ов`/`-ова` (or `-ев`/`-ева`) endings are added by sex.
    surnames: &'static [&'static str],
    /// Patronymic stems for the given-names line (`Шухрат Алиевич`).
    fathers: &'static [&'static str],
}

const ORIGINS: [Origin; 3] = [
    Origin {
        country: "TJ",
        phone_prefix: "+992",
        language: "tg",
        male: &[
            "Шухрат",
            "Фаррух",
            "Далер",
            "Бахтиёр",
            "Сухроб",
            "Рустам",
            "Хуршед",
            "Ҷамшед",
            "Фирдавс",
            "Умед",
            "Парвиз",
            "Исмоил",
        ],
        female: &[
            "Малика",
            "Нигина",
            "Мадина",
            "Зарина",
            "Гулнора",
            "Шаҳло",
            "Мехринисо",
            "Парвина",
            "Тахмина",
            "Фотима",
        ],
        surnames: &[
            "Рахимов",
            "Саидов",
            "Назаров",
            "Каримов",
            "Шарипов",
            "Ҷураев",
            "Қодиров",
            "Ғафуров",
            "Давлатов",
            "Раҳмонов",
            "Бобоев",
            "Мирзоев",
        ],
        fathers: &["Али", "Саид", "Карим", "Наҷмиддин", "Раҳим", "Шариф"],
    },
    Origin {
        country: "UZ",
        phone_prefix: "+998",
        language: "uz",
        male: &[
            "Жасур",
            "Дилшод",
            "Бекзод",
            "Шерзод",
            "Улугбек",
            "Азиз",
            "Отабек",
            "Санжар",
            "Тимур",
            "Абдулла",
            "Сардор",
        ],
        female: &[
            "Дилноза",
            "Гулнара",
            "Нилуфар",
            "Шахноза",
            "Феруза",
            "Юлдуз",
            "Мохира",
            "Севара",
            "Лола",
        ],
        surnames: &[
            "Юсупов",
            "Исмоилов",
            "Тошматов",
            "Усмонов",
            "Холматов",
            "Эргашев",
            "Абдуллаев",
            "Хасанов",
            "Турсунов",
            "Алимов",
        ],
        fathers: &["Бахтиёр", "Рустам", "Ильхом", "Фаррух", "Шавкат"],
    },
    Origin {
        country: "KG",
        phone_prefix: "+996",
        language: "ky",
        male: &[
            "Нурлан",
            "Азамат",
            "Бакыт",
            "Эрлан",
            "Улан",
            "Мирлан",
            "Талант",
            "Айбек",
            "Эрмек",
        ],
        female: &[
            "Айгуль",
            "Айжан",
            "Назгуль",
            "Гульмира",
            "Жылдыз",
            "Чолпон",
            "Бермет",
            "Айпери",
            "Нуриза",
        ],
        surnames: &[
            "Асанов",
            "Токтогулов",
            "Бекмуратов",
            "Осмонов",
            "Джумабаев",
            "Абдыкадыров",
            "Султанов",
            "Кадыров",
            "Мамытов",
            "Садыков",
        ],
        fathers: &["Асан", "Токтосун", "Бакыт", "Эркин", "Мурат"],
    },
];

/// A deterministic generator of synthetic people, sites and results.
pub struct Generator {
    rng: ChaCha8Rng,
    today: NaiveDate,
    document_counter: u64,
}

/// One person's planned assessment: where, for where, and the results.
#[derive(Debug, Clone)]
pub struct PlannedAssessment {
    /// The assessment (migrant and site ids are filled in by the caller).
    pub assessment: AssessmentInput,
    /// The results, in the order a clinic records them.
    pub observations: Vec<ObservationInput>,
}

/// The sites of the demo: assessment centres in each origin, plus the
/// laboratories, health authorities and a point of entry that later
/// features use.
pub fn sites() -> Vec<SiteInput> {
    let site = |code: &str, kind: &str, country: &str, name: &str| SiteInput {
        code: code.into(),
        kind: kind.into(),
        country: country.into(),
        name: name.into(),
    };
    vec![
        site(
            "TJ-DYU-01",
            "assessment_centre",
            "TJ",
            "Dushanbe Migration Health Assessment Centre",
        ),
        site(
            "TJ-KHU-01",
            "assessment_centre",
            "TJ",
            "Khujand Migration Health Assessment Centre",
        ),
        site(
            "UZ-TAS-01",
            "assessment_centre",
            "UZ",
            "Tashkent Migration Health Assessment Centre",
        ),
        site(
            "UZ-SAM-01",
            "assessment_centre",
            "UZ",
            "Samarkand Migration Health Assessment Centre",
        ),
        site(
            "KG-BIS-01",
            "assessment_centre",
            "KG",
            "Bishkek Migration Health Assessment Centre",
        ),
        site(
            "KG-OSH-01",
            "assessment_centre",
            "KG",
            "Osh Migration Health Assessment Centre",
        ),
        site(
            "TJ-DYU-LAB",
            "laboratory",
            "TJ",
            "Dushanbe Reference Laboratory",
        ),
        site(
            "RU-MOW-HA",
            "health_authority",
            "RU",
            "Moscow Migration Health Authority",
        ),
        site(
            "KG-MANAS",
            "point_of_entry",
            "KG",
            "Manas International Airport",
        ),
    ]
}

impl Generator {
    /// A generator for `seed`, dating assessments up to `today`.
    pub fn new(seed: u64, today: NaiveDate) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            today,
            document_counter: 0,
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.gen_range(0..items.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    /// The index into [`sites`] of an assessment centre in `country`.
    fn centre_for(&mut self, country: &str) -> usize {
        let centres: Vec<usize> = sites()
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == "assessment_centre" && s.country == country)
            .map(|(i, _)| i)
            .collect();
        self.pick(&centres)
    }

    /// A synthetic migrant, and the index into [`sites`] of the centre
    /// that registers them.
    pub fn migrant(&mut self) -> (MigrantInput, usize) {
        let origin_index = self.rng.gen_range(0..ORIGINS.len());
        let origin = &ORIGINS[origin_index];
        let female = self.chance(0.3);
        let given = if female {
            self.pick(origin.female)
        } else {
            self.pick(origin.male)
        };
        let stem = self.pick(origin.surnames);
        let family = if female {
            format!("{stem}а")
        } else {
            stem.to_owned()
        };
        let father = self.pick(origin.fathers);
        // Russian-style patronymic: -евич/-евна after a vowel, else -ович/-овна.
        let soft = father.ends_with(['и', 'й']);
        let patronymic = match (female, soft) {
            (false, true) => format!("{father}евич"),
            (true, true) => format!("{father}евна"),
            (false, false) => format!("{father}ович"),
            (true, false) => format!("{father}овна"),
        };
        // Labour migrants are mostly 18–50; a few families with children.
        let age = if self.chance(0.05) {
            self.rng.gen_range(1..15)
        } else {
            self.rng.gen_range(18..56)
        };
        let birth_year = self.today.year() - age;
        let birth_date = match self.rng.gen_range(0..20) {
            // Some documents carry only the year (common for older people).
            0 => format!("{birth_year}"),
            _ => {
                let month = self.rng.gen_range(1..=12);
                let day = self.rng.gen_range(1..=28);
                format!("{birth_year}-{month:02}-{day:02}")
            }
        };
        self.document_counter += 1;
        let number = format!(
            "{}{:07}",
            match origin.country {
                "TJ" => "400",
                "UZ" => "FA",
                _ => "AC",
            },
            self.rng.gen_range(0..10_000_000u64) ^ self.document_counter
        );
        let phone = format!(
            "{} {} {:03} {:04}",
            origin.phone_prefix,
            self.rng.gen_range(50..100),
            self.rng.gen_range(0..1000),
            self.rng.gen_range(0..10000)
        );
        let language = if self.chance(0.3) {
            "ru"
        } else {
            origin.language
        };
        let centre = self.centre_for(origin.country);
        let input = MigrantInput {
            family_name: family,
            given_names: format!("{given} {patronymic}"),
            family_name_latin: None,
            given_names_latin: None,
            sex: if female { "female" } else { "male" }.into(),
            birth_date,
            nationality: origin.country.into(),
            document: Some(DocumentInput {
                kind: "passport".into(),
                number,
                issuing_country: origin.country.into(),
            }),
            phone: Some(phone),
            preferred_language: Some(language.into()),
        };
        (input, centre)
    }

    /// A planned assessment for a person of `age`, within the last 180
    /// days, with results drawn per the destination's protocol.
    pub fn assessment(&mut self, sex: &str, age: u32) -> PlannedAssessment {
        let (destination, protocol, purpose) = match self.rng.gen_range(0..100) {
            0..=59 => ("RU", "ru-labour", "labour"),
            // No Kazakh protocol file exists yet; the demo applies the
            // Russian foreign-worker panel, which tests the same conditions.
            60..=74 => ("KZ", "ru-labour", "labour"),
            75..=89 => ("US", "us-cdc-ti-tb", "immigrant_visa"),
            _ => (
                "GB",
                "uk-pre-entry-tb",
                if self.chance(0.5) {
                    "student"
                } else {
                    "labour"
                },
            ),
        };
        let date = self.today - Duration::days(self.rng.gen_range(0..180));
        let observations = match protocol {
            "ru-labour" => self.ru_labour(),
            "us-cdc-ti-tb" => self.us_tb(age),
            _ => self.uk_tb(sex, age),
        };
        PlannedAssessment {
            assessment: AssessmentInput {
                migrant_id: String::new(),
                site_id: String::new(),
                purpose: purpose.into(),
                destination: destination.into(),
                protocol: protocol.into(),
                assessment_date: Some(date.format("%Y-%m-%d").to_string()),
            },
            observations,
        }
    }

    fn reactive(&mut self, p: f64) -> &'static str {
        if self.chance(p) {
            "reactive"
        } else {
            "non_reactive"
        }
    }

    fn cxr(&mut self) -> &'static str {
        match self.rng.gen_range(0..1000) {
            0..=19 => "suggestive_tb",
            20..=49 => "abnormal_not_tb",
            50..=54 => "inconclusive",
            _ => "normal",
        }
    }

    fn hepatitis(&mut self, out: &mut Vec<(String, Value)>) {
        let b = self.reactive(0.04);
        let c = self.reactive(0.02);
        out.push(("hbsag".into(), json!(b)));
        out.push(("anti_hcv".into(), json!(c)));
    }

    fn ru_labour(&mut self) -> Vec<ObservationInput> {
        let mut out: Vec<(String, Value)> = Vec::new();
        let a1 = self.reactive(0.006);
        out.push(("hiv.a1".into(), json!(a1)));
        if a1 == "reactive" {
            let a2 = self.reactive(0.8);
            out.push(("hiv.a2".into(), json!(a2)));
            if a2 == "reactive" {
                out.push(("hiv.a3".into(), json!(self.reactive(0.9))));
            }
        }
        let screen = self.reactive(0.015);
        out.push(("syphilis.screen".into(), json!(screen)));
        if screen == "reactive" {
            let confirm = self.reactive(0.6);
            out.push(("syphilis.confirm".into(), json!(confirm)));
            if confirm == "reactive" {
                out.push(("syphilis.treated".into(), json!(self.chance(0.3))));
            }
        }
        let cxr = self.cxr();
        out.push(("cxr".into(), json!(cxr)));
        if cxr == "suggestive_tb" {
            let detected = if self.chance(0.3) {
                "mtb_detected"
            } else {
                "mtb_not_detected"
            };
            out.push(("xpert".into(), json!(detected)));
        }
        let suspected = self.chance(0.002);
        out.push((
            "leprosy.exam".into(),
            json!(if suspected { "suspected" } else { "no_signs" }),
        ));
        if suspected {
            out.push(("leprosy.confirmed".into(), json!(self.chance(0.2))));
        }
        let drugs = if self.chance(0.01) {
            "positive"
        } else {
            "negative"
        };
        out.push(("narcology.drug_test".into(), json!(drugs)));
        self.hepatitis(&mut out);
        self.vitals(&mut out);
        self.maybe_unfinished(out)
    }

    fn tb_history(&mut self, out: &mut Vec<(String, Value)>) -> (bool, bool, &'static str) {
        let symptoms = self.chance(0.03);
        let contact = self.chance(0.04);
        let previous = match self.rng.gen_range(0..100) {
            0 => "on_treatment",
            1..=2 => "treated_completed",
            _ => "none",
        };
        out.push(("tb.symptoms".into(), json!(symptoms)));
        out.push(("tb.contact".into(), json!(contact)));
        out.push(("tb.previous".into(), json!(previous)));
        (symptoms, contact, previous)
    }

    fn sputum(&mut self, out: &mut Vec<(String, Value)>, smears: bool) {
        let disease = self.chance(0.15);
        for i in 1..=3 {
            if smears {
                let smear = if disease && self.chance(0.5) {
                    "positive"
                } else {
                    "negative"
                };
                out.push((format!("sputum.smear.{i}"), json!(smear)));
            }
            let culture = if disease {
                "mtb_positive"
            } else {
                match self.rng.gen_range(0..100) {
                    0..=2 => "ntm",
                    3..=5 => "contaminated",
                    _ => "negative",
                }
            };
            out.push((format!("sputum.culture.{i}"), json!(culture)));
        }
    }

    fn us_tb(&mut self, age: u32) -> Vec<ObservationInput> {
        let mut out = Vec::new();
        let (symptoms, contact, _) = self.tb_history(&mut out);
        let hiv = self.chance(0.004);
        out.push(("hiv.known_positive".into(), json!(hiv)));
        out.push((
            "context.tb_incidence_per_100k".into(),
            json!(self.rng.gen_range(40..120)),
        ));
        let mut cxr_due = age >= 15 || symptoms || hiv;
        if (2..15).contains(&age) {
            let igra = match self.rng.gen_range(0..100) {
                0..=7 => "positive",
                8 => "indeterminate",
                _ => "negative",
            };
            out.push(("igra".into(), json!(igra)));
            cxr_due |= igra == "positive";
        }
        if cxr_due {
            let cxr = self.cxr();
            out.push(("cxr".into(), json!(cxr)));
            if matches!(cxr, "suggestive_tb" | "inconclusive") || symptoms || hiv {
                self.sputum(&mut out, true);
            }
        }
        let _ = contact;
        self.hepatitis(&mut out);
        self.vitals(&mut out);
        self.maybe_unfinished(out)
    }

    fn uk_tb(&mut self, sex: &str, age: u32) -> Vec<ObservationInput> {
        let mut out = Vec::new();
        let (symptoms, contact, previous) = self.tb_history(&mut out);
        if sex == "female" && age >= 11 {
            out.push(("pregnant".into(), json!(self.chance(0.05))));
        }
        if age >= 11 || symptoms || contact || previous != "none" {
            let cxr = self.cxr();
            out.push(("cxr".into(), json!(cxr)));
            if matches!(cxr, "suggestive_tb" | "inconclusive") || symptoms {
                self.sputum(&mut out, false);
            }
        }
        self.vitals(&mut out);
        self.maybe_unfinished(out)
    }

    fn vitals(&mut self, out: &mut Vec<(String, Value)>) {
        let t = 36.0 + f64::from(self.rng.gen_range(0..15)) / 10.0;
        out.push(("body_temperature".into(), json!(t)));
        out.push(("bp.systolic".into(), json!(self.rng.gen_range(100..150))));
        out.push(("bp.diastolic".into(), json!(self.rng.gen_range(60..95))));
    }

    /// About one assessment in eight is still in progress: its last
    /// results are not in yet.
    fn maybe_unfinished(&mut self, mut out: Vec<(String, Value)>) -> Vec<ObservationInput> {
        if self.chance(0.125) && out.len() > 3 {
            let keep = self.rng.gen_range(1..out.len() - 1);
            out.truncate(keep);
        }
        out.into_iter()
            .map(|(code, value)| ObservationInput {
                code,
                value,
                unit: None,
                observed_at: None,
            })
            .collect()
    }

    /// Exactly `n` observations for a benchmark assessment: the
    /// ru-labour panel padded with vitals, all valid.
    pub fn benchmark_observations(&mut self, n: usize) -> Vec<ObservationInput> {
        let mut all: Vec<(String, Value)> = vec![
            ("hiv.a1".into(), json!(self.reactive(0.006))),
            ("syphilis.screen".into(), json!(self.reactive(0.015))),
            ("cxr".into(), json!(self.cxr())),
            ("leprosy.exam".into(), json!("no_signs")),
            ("narcology.drug_test".into(), json!("negative")),
            ("hbsag".into(), json!(self.reactive(0.04))),
            ("anti_hcv".into(), json!(self.reactive(0.02))),
        ];
        self.vitals(&mut all);
        all.push(("body_height".into(), json!(self.rng.gen_range(150..195))));
        all.push(("body_weight".into(), json!(self.rng.gen_range(45..110))));
        all.truncate(n);
        all.into_iter()
            .map(|(code, value)| ObservationInput {
                code,
                value,
                unit: None,
                observed_at: None,
            })
            .collect()
    }
}

impl Generator {
    /// Answers to a screening instrument, as whole numbers by item id:
    /// about six people in ten report little distress, one in four some
    /// and one in eight much; about one form in fifteen leaves an item
    /// unanswered (which the engine never scores as zero).
    pub fn screening_answers(&mut self, instrument: &Instrument) -> Value {
        let level = match self.rng.gen_range(0..100) {
            0..=62 => 0.1,
            63..=87 => 0.45,
            _ => 0.85,
        };
        let skip = if self.chance(1.0 / 15.0) {
            Some(self.rng.gen_range(0..instrument.items.len().max(1)))
        } else {
            None
        };
        let mut answers = serde_json::Map::new();
        for (i, item) in instrument.items.iter().enumerate() {
            if skip == Some(i) {
                continue;
            }
            let values: Vec<i64> = match instrument.scale(&item.scale).map(|s| &s.kind) {
                Some(ScaleKind::Options(options)) => options.iter().map(|o| o.value).collect(),
                Some(ScaleKind::Range { min, max }) => (*min..=*max).collect(),
                None => continue,
            };
            let (Some(&low), Some(&high)) = (values.iter().min(), values.iter().max()) else {
                continue;
            };
            let target = low as f64 + level * (high - low) as f64 + self.rng.gen_range(-1.0..=1.0);
            let nearest = values
                .iter()
                .copied()
                .min_by(|a, b| {
                    (*a as f64 - target)
                        .abs()
                        .total_cmp(&(*b as f64 - target).abs())
                })
                .unwrap_or(low);
            answers.insert(item.id.clone(), json!(nearest));
        }
        Value::Object(answers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mhis_domain::migrant::NewMigrant;
    use mhis_domain::observation::NewObservation;
    use mhis_domain::site::NewSite;
    use mhis_domain::vocabulary::Vocabulary;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn same_seed_same_people() {
        let mut a = Generator::new(7, today());
        let mut b = Generator::new(7, today());
        let mut c = Generator::new(8, today());
        let (ma, _) = a.migrant();
        let (mb, _) = b.migrant();
        let (mc, _) = c.migrant();
        assert_eq!(ma.family_name, mb.family_name);
        assert_eq!(
            ma.document.as_ref().unwrap().number,
            mb.document.as_ref().unwrap().number
        );
        assert_ne!(
            (ma.family_name, ma.document.unwrap().number),
            (mc.family_name, mc.document.unwrap().number)
        );
    }

    #[test]
    fn everything_generated_is_valid() {
        let vocabulary = Vocabulary::built_in();
        for s in sites() {
            NewSite::parse(&s).unwrap();
        }
        let mut g = Generator::new(1, today());
        let now = chrono::Utc::now();
        let mut protocols = std::collections::HashSet::new();
        for _ in 0..2000 {
            let (m, centre) = g.migrant();
            assert_eq!(sites()[centre].kind, "assessment_centre");
            let parsed = NewMigrant::parse(&m, today()).unwrap();
            let age = parsed.birth_date.age_on(today()).unwrap();
            let plan = g.assessment(&m.sex, age);
            protocols.insert(plan.assessment.protocol.clone());
            NewObservation::parse_batch(&vocabulary, &plan.observations, now).unwrap();
        }
        assert_eq!(protocols.len(), 3);
        let bench = g.benchmark_observations(10);
        assert_eq!(bench.len(), 10);
        NewObservation::parse_batch(&vocabulary, &bench, now).unwrap();
    }

    #[test]
    fn screening_answers_score_and_vary() {
        let set = mhis_domain::instrument::InstrumentSet::built_in();
        let mut g = Generator::new(7, today());
        let mut positive = 0;
        let mut incomplete = 0;
        for _ in 0..300 {
            for instrument in set.iter() {
                let answers = mhis_domain::instrument::Answer::map_from_json(
                    &g.screening_answers(instrument),
                )
                .unwrap();
                let scored = instrument.score(&answers).unwrap();
                positive += usize::from(scored.positive == Some(true));
                incomplete += usize::from(!scored.complete);
            }
        }
        assert!(positive > 50 && positive < 900, "{positive} positive");
        assert!(
            incomplete > 10 && incomplete < 200,
            "{incomplete} incomplete"
        );
    }
}

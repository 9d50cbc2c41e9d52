//! The engine: a loaded [`Protocol`] in compiled form, and
//! [`Protocol::decide`], which evaluates it over a case's [`Facts`] into a
//! [`Decision`].
//!
//! One decision runs in fixed steps, each reading only what the earlier
//! ones produced:
//! 1. every included sub-algorithm (first matching rule gives its result);
//! 2. the due entries, history first, in file order: an entry that applies
//!    lists each of its codes not yet recorded (or recorded with a value it
//!    calls pending);
//! 3. each classification group, first match wins; while something is due,
//!    only a rule marked `while_pending` may decide;
//! 4. the independent rules, every one that matches (referral-only rules
//!    fire even while something is due);
//! 5. the outcome: the most severe decided one, `pending` when something is
//!    due and nothing decided, `cleared` otherwise;
//! 6. the certificate validity, once nothing is due and the outcome earns a
//!    certificate, from the assessment date in calendar months.

use super::Outcome;
use super::expr::{Cond, Env, Read};
use super::facts::{CodeTable, Fact, Facts};
use crate::country::CountryCode;
use chrono::{Months, NaiveDate};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::sync::Arc;

/// A compiled sub-algorithm, as included in one protocol.
#[derive(Debug, Clone)]
pub(crate) struct Algorithm {
    pub name: String,
    pub results: Vec<String>,
    pub otherwise: u8,
    pub rules: Vec<AlgorithmRule>,
}

#[derive(Debug, Clone)]
pub(crate) struct AlgorithmRule {
    pub id: String,
    pub source: String,
    pub cond: Cond,
    pub result: u8,
}

/// What a due entry asks for.
#[derive(Debug, Clone)]
pub(crate) enum DueWhat {
    /// Codes to record, each with the mask of its values that still count
    /// as not done (a culture `pending`).
    Codes(Vec<(u16, u64)>),
    /// An action that is not itself an observation (`hiv.retest`).
    Action(String),
}

#[derive(Debug, Clone)]
pub(crate) struct DueEntry {
    pub id: String,
    pub source: String,
    pub cond: Cond,
    pub what: DueWhat,
    /// Codes any one of which, recorded, satisfies the whole entry.
    pub satisfied_by: Vec<u16>,
    /// A test rather than a history question: a test's recorded results
    /// are the facts of a protocol's fallback rule.
    pub test: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub key: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub id: String,
    pub source: String,
    /// `None` for the fallback rule of a group.
    pub cond: Option<Cond>,
    pub class: Option<String>,
    pub outcome: Option<Outcome>,
    pub referrals: Vec<String>,
    pub while_pending: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct CertificateRule {
    pub id: String,
    pub source: String,
    pub cond: Cond,
    pub months: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Certificate {
    pub id: String,
    pub source: String,
    pub months: Option<u32>,
    pub outcomes: Vec<Outcome>,
    pub rules: Vec<CertificateRule>,
}

/// One destination protocol, compiled: every code is an index, every
/// condition a compiled tree, every name checked.
#[derive(Debug, Clone)]
pub struct Protocol {
    pub(crate) id: String,
    pub(crate) version: String,
    pub(crate) destination: CountryCode,
    pub(crate) title: String,
    pub(crate) file_name: String,
    pub(crate) codes: Arc<CodeTable>,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) dues: Vec<DueEntry>,
    pub(crate) groups: Vec<Group>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) certificate: Certificate,
}

/// Why a decision is what it is: one rule that fired, the facts it read
/// (codes recorded on the case, and `age` or `sex`), and the published
/// source of the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason<'p> {
    /// The rule id, as in the protocol file.
    pub rule: &'p str,
    /// The facts the rule read.
    pub facts: Vec<&'p str>,
    /// The source the rule cites.
    pub source: &'p str,
}

/// The classes a decision assigns, by key (`tb` → `B1_pulmonary`), in the
/// order the protocol declares its classifications. Serialised as a JSON
/// object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Classes<'p>(pub Vec<(&'p str, &'p str)>);

impl<'p> Classes<'p> {
    /// The class of `key`, when decided.
    pub fn get(&self, key: &str) -> Option<&'p str> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// Whether no class is decided.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Classes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// The engine's answer for one case under one protocol: the output of
/// `mhis classify` (`protocols.md` §7). Serialising it gives the exact JSON
/// of the contract, keys in contract order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision<'p> {
    /// The protocol id.
    pub protocol: &'p str,
    /// The provisional outcome.
    pub outcome: Outcome,
    /// Classes decided (`{"tb": "B1_pulmonary"}`); empty while undecided.
    pub classes: Classes<'p>,
    /// Codes still required (history and tests) and actions (`hiv.retest`).
    pub due: Vec<&'p str>,
    /// Referrals triggered, each once, in the order their rules fired.
    pub referrals: Vec<&'p str>,
    /// Last day of validity of the certificate, when the protocol states a
    /// validity and the outcome allows a certificate.
    pub certificate_valid_until: Option<NaiveDate>,
    /// The rules that fired.
    pub reasons: Vec<Reason<'p>>,
}

impl Decision<'_> {
    /// The decision as a JSON value (the API's body).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

fn push_unique<'p>(list: &mut Vec<&'p str>, item: &'p str) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn months_later(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    // chrono clamps to the last day of a shorter month (31 August plus six
    // months is 28 February, or 29 in a leap year).
    date.checked_add_months(Months::new(months))
}

impl Protocol {
    /// The protocol id (`us-cdc-ti-tb`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The version label of the protocol file.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The destination country.
    pub fn destination(&self) -> CountryCode {
        self.destination
    }

    /// The protocol's title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The file the protocol was read from.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// Every referral code a rule of the protocol can suggest.
    pub fn referral_codes(&self) -> impl Iterator<Item = &str> {
        let grouped = self.groups.iter().flat_map(|g| g.rules.iter());
        grouped
            .chain(self.rules.iter())
            .flat_map(|r| r.referrals.iter().map(String::as_str))
    }

    /// The facts behind a condition that holds: recorded codes, `age`,
    /// `sex`, and through a sub-algorithm the facts of its fired rule.
    fn reason<'p>(
        &'p self,
        rule: &'p str,
        source: &'p str,
        cond: &Cond,
        env: &Env<'_>,
        fired: &[Option<usize>],
    ) -> Reason<'p> {
        let mut reads = Vec::new();
        cond.support(env, &mut reads);
        let mut list = Vec::new();
        for read in reads {
            match read {
                Read::Code(c) => {
                    if env.facts.get(c).is_some() {
                        push_unique(&mut list, self.codes.name(c));
                    }
                }
                Read::Age => push_unique(&mut list, "age"),
                Read::Sex => push_unique(&mut list, "sex"),
                Read::Algorithm(a) => {
                    let a = usize::from(a);
                    let inner = match (fired.get(a), self.algorithms.get(a)) {
                        (Some(Some(r)), Some(alg)) => alg.rules.get(*r),
                        _ => None,
                    };
                    if let Some(inner) = inner {
                        let sub = self.reason(rule, source, &inner.cond, env, &[]);
                        for f in sub.facts {
                            push_unique(&mut list, f);
                        }
                    }
                }
            }
        }
        Reason {
            rule,
            facts: list,
            source,
        }
    }

    /// Decides the case. Pure and total: the same facts always give the
    /// same decision, and no input makes it fail.
    ///
    /// `facts` must come from the [`ProtocolSet`](super::ProtocolSet) that
    /// loaded this protocol (codes are numbered per set).
    pub fn decide<'p>(&'p self, facts: &Facts) -> Decision<'p> {
        let mut reasons = Vec::new();

        // 1. Sub-algorithms.
        let mut results = Vec::with_capacity(self.algorithms.len());
        let mut fired = Vec::with_capacity(self.algorithms.len());
        for alg in &self.algorithms {
            let env = Env {
                facts,
                algorithms: &results,
                required: &[],
            };
            match alg.rules.iter().position(|r| r.cond.eval(&env)) {
                Some(i) => {
                    let rule = &alg.rules[i];
                    reasons.push(self.reason(&rule.id, &rule.source, &rule.cond, &env, &[]));
                    results.push(rule.result);
                    fired.push(Some(i));
                }
                None => {
                    results.push(alg.otherwise);
                    fired.push(None);
                }
            }
        }

        // 2. Due entries.
        let mut required = vec![false; self.dues.len()];
        let mut due: Vec<&str> = Vec::new();
        for (i, entry) in self.dues.iter().enumerate() {
            let env = Env {
                facts,
                algorithms: &results,
                required: &required,
            };
            let applies = entry.cond.eval(&env);
            required[i] = applies;
            if !applies {
                continue;
            }
            let before = due.len();
            match &entry.what {
                DueWhat::Action(name) => push_unique(&mut due, name),
                DueWhat::Codes(codes) => {
                    let satisfied = entry.satisfied_by.iter().any(|c| facts.get(*c).is_some());
                    if !satisfied {
                        for (code, pending) in codes {
                            let missing = match facts.get(*code) {
                                None => true,
                                Some(Fact::Coded(v)) => v < 64 && pending & (1u64 << v) != 0,
                                Some(_) => false,
                            };
                            if missing {
                                push_unique(&mut due, self.codes.name(*code));
                            }
                        }
                    }
                }
            }
            if due.len() > before {
                let env = Env {
                    facts,
                    algorithms: &results,
                    required: &required,
                };
                reasons.push(self.reason(&entry.id, &entry.source, &entry.cond, &env, &fired));
            }
        }
        let pending = !due.is_empty();

        let env = Env {
            facts,
            algorithms: &results,
            required: &required,
        };
        let mut decided: Option<Outcome> = None;
        let mut classes = Vec::with_capacity(self.groups.len());
        let mut referrals: Vec<&str> = Vec::new();
        let mut fire = |rule: &'p Rule,
                        reason: Reason<'p>,
                        reasons: &mut Vec<Reason<'p>>,
                        referrals: &mut Vec<&'p str>| {
            if let Some(o) = rule.outcome {
                decided = Some(decided.map_or(o, |d| d.most_severe(o)));
            }
            for r in &rule.referrals {
                push_unique(referrals, r);
            }
            reasons.push(reason);
        };

        // 3. Classification groups: first match wins.
        for group in &self.groups {
            let Some(rule) = group
                .rules
                .iter()
                .find(|r| r.cond.as_ref().is_none_or(|c| c.eval(&env)))
            else {
                continue;
            };
            if pending && !rule.while_pending {
                continue;
            }
            let reason = match &rule.cond {
                Some(cond) => self.reason(&rule.id, &rule.source, cond, &env, &fired),
                None => self.fallback_reason(rule, facts, &required),
            };
            if let Some(class) = &rule.class {
                classes.push((group.key.as_str(), class.as_str()));
            }
            fire(rule, reason, &mut reasons, &mut referrals);
        }

        // 4. Independent rules: every one that matches.
        for rule in &self.rules {
            if pending && !rule.while_pending && rule.outcome.is_some() {
                continue;
            }
            // Independent rules always have a condition (checked at load).
            if let Some(cond) = rule.cond.as_ref().filter(|c| c.eval(&env)) {
                let reason = self.reason(&rule.id, &rule.source, cond, &env, &fired);
                fire(rule, reason, &mut reasons, &mut referrals);
            }
        }

        // 5. Outcome.
        let outcome = match decided {
            Some(o) => o,
            None if pending => Outcome::Pending,
            None => Outcome::Cleared,
        };

        // 6. Certificate validity: never while something is still due.
        let mut valid_until = None;
        let cert = &self.certificate;
        if !pending && cert.outcomes.contains(&outcome) {
            let rule = cert.rules.iter().find(|r| r.cond.eval(&env));
            let months = rule.map(|r| r.months).or(cert.months);
            if let Some(m) = months {
                valid_until = months_later(facts.assessment_date, m);
                reasons.push(match rule {
                    Some(r) => self.reason(&r.id, &r.source, &r.cond, &env, &fired),
                    None => Reason {
                        rule: &cert.id,
                        facts: Vec::new(),
                        source: &cert.source,
                    },
                });
            }
        }

        Decision {
            protocol: &self.id,
            outcome,
            classes: Classes(classes),
            due,
            referrals,
            certificate_valid_until: valid_until,
            reasons,
        }
    }

    /// The reason of a fallback rule: it read the recorded results of every
    /// test that was due.
    fn fallback_reason<'p>(
        &'p self,
        rule: &'p Rule,
        facts: &Facts,
        required: &[bool],
    ) -> Reason<'p> {
        let mut list = Vec::new();
        for (entry, applies) in self.dues.iter().zip(required) {
            if !*applies || !entry.test {
                continue;
            }
            if let DueWhat::Codes(codes) = &entry.what {
                for c in codes.iter().map(|(c, _)| c).chain(&entry.satisfied_by) {
                    if facts.get(*c).is_some() {
                        push_unique(&mut list, self.codes.name(*c));
                    }
                }
            }
        }
        Reason {
            rule: &rule.id,
            facts: list,
            source: &rule.source,
        }
    }
}

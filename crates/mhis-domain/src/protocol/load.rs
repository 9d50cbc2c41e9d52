//! Linking parsed files into compiled protocols: every name a file uses is
//! checked here (codes against the vocabulary, values against their code,
//! sub-algorithms against the included ones, rule ids for duplicates) and
//! every condition is compiled. A refusal names the file and the line.

use super::engine::{
    Algorithm, AlgorithmRule, Certificate, CertificateRule, DueEntry, DueWhat, Group, Protocol,
    Rule,
};
use super::expr::{Cond, Scope};
use super::facts::{CodeKind, CodeTable};
use super::file::{AlgorithmToml, Body, DueToml, ProtocolFile, ProtocolToml, RuleToml, S};
use super::{LoadError, Outcome};
use crate::country::CountryCode;
use std::collections::HashMap;
use std::sync::Arc;

/// Whether `name` is a plain identifier: letters, digits, `_`, `.`, `-`.
fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn check_name(file: &ProtocolFile, name: &S, what: &str) -> Result<(), LoadError> {
    if is_name(name.get_ref()) {
        Ok(())
    } else {
        Err(file.error(
            name,
            format!(
                "{what} '{}' must be letters, digits, '_', '.' or '-'",
                name.get_ref()
            ),
        ))
    }
}

fn check_source(file: &ProtocolFile, source: &S) -> Result<(), LoadError> {
    if source.get_ref().trim().is_empty() {
        Err(file.error(source, "the source must not be empty"))
    } else {
        Ok(())
    }
}

/// Rule ids seen so far in one protocol (its own and its sub-algorithms').
#[derive(Default)]
struct Ids(HashMap<String, (String, usize)>);

impl Ids {
    fn add(&mut self, file: &ProtocolFile, id: &S) -> Result<(), LoadError> {
        check_name(file, id, "rule id")?;
        let here = (file.name.clone(), file.line(id.span().start));
        if let Some((f, l)) = self.0.insert(id.get_ref().clone(), here) {
            return Err(file.error(
                id,
                format!("rule id '{}' is already used ({f}, line {l})", id.get_ref()),
            ));
        }
        Ok(())
    }
}

fn outcome(file: &ProtocolFile, raw: &S) -> Result<Outcome, LoadError> {
    match Outcome::parse(raw.get_ref()) {
        Some(Outcome::Pending) | None => Err(file.error(
            raw,
            format!(
                "outcome '{}' is not one of cleared, cleared_with_follow_up, not_cleared",
                raw.get_ref()
            ),
        )),
        Some(o) => Ok(o),
    }
}

fn code(file: &ProtocolFile, codes: &CodeTable, raw: &S) -> Result<u16, LoadError> {
    codes.index(raw.get_ref()).ok_or_else(|| {
        file.error(
            raw,
            format!("'{}' is not a code of the vocabulary", raw.get_ref()),
        )
    })
}

fn compile(file: &ProtocolFile, scope: &Scope<'_>, when: Option<&S>) -> Result<Cond, LoadError> {
    let Some(when) = when else {
        return Ok(Cond::Const(true));
    };
    let ast = file.condition(when)?;
    scope.compile(&ast).map_err(|e| file.expr_error(when, e))
}

/// Checks a sub-algorithm's own shape and compiles its rules.
pub(crate) fn algorithm(
    file: &ProtocolFile,
    a: &AlgorithmToml,
    codes: &CodeTable,
) -> Result<Algorithm, LoadError> {
    check_name(file, &a.id, "sub-algorithm id")?;
    check_name(file, &a.name, "sub-algorithm name")?;
    if a.name.get_ref() == "age"
        || a.name.get_ref() == "sex"
        || codes.index(a.name.get_ref()).is_some()
    {
        return Err(file.error(
            &a.name,
            format!(
                "sub-algorithm name '{}' is already a fact name",
                a.name.get_ref()
            ),
        ));
    }
    let mut results = Vec::new();
    for r in &a.results {
        check_name(file, r, "result")?;
        if results.contains(r.get_ref()) {
            return Err(file.error(r, format!("result '{}' is listed twice", r.get_ref())));
        }
        results.push(r.get_ref().clone());
    }
    if results.len() > 64 {
        return Err(file.error(&a.name, "a sub-algorithm has at most 64 results"));
    }
    let result = |raw: &S| -> Result<u8, LoadError> {
        results
            .iter()
            .position(|v| v == raw.get_ref())
            .and_then(|i| u8::try_from(i).ok())
            .ok_or_else(|| {
                file.error(
                    raw,
                    format!(
                        "'{}' is not a result of '{}'; expected one of: {}",
                        raw.get_ref(),
                        a.name.get_ref(),
                        results.join(", ")
                    ),
                )
            })
    };
    let otherwise = result(&a.otherwise)?;
    let scope = Scope {
        codes,
        algorithms: &[],
        dues: &[],
    };
    let mut ids = Ids::default();
    let mut rules = Vec::new();
    for r in &a.rule {
        ids.add(file, &r.id)?;
        check_source(file, &r.source)?;
        let cond = compile(file, &scope, Some(&r.when))?;
        rules.push(AlgorithmRule {
            id: r.id.get_ref().clone(),
            source: r.source.get_ref().clone(),
            cond,
            result: result(&r.result)?,
        });
    }
    // The due entries read the sub-algorithm's own result; check them
    // here too, so that a fault shows even when no protocol includes it.
    let me = [(a.name.get_ref().as_str(), results.as_slice())];
    let mut due_ids: Vec<String> = Vec::new();
    for d in &a.due {
        if let Some(alg) = &d.algorithm {
            return Err(file.error(
                alg,
                "a sub-algorithm cannot include another one's due entries",
            ));
        }
        let mut out = Vec::new();
        due_entry(file, d, codes, &me, &mut due_ids, &mut ids, true, &mut out)?;
    }
    Ok(Algorithm {
        name: a.name.get_ref().clone(),
        results,
        otherwise,
        rules,
    })
}

/// Compiles one due entry (not an `algorithm = …` placeholder) into `out`.
#[allow(clippy::too_many_arguments)]
fn due_entry(
    file: &ProtocolFile,
    d: &DueToml,
    codes: &CodeTable,
    algorithms: &[(&str, &[String])],
    due_ids: &mut Vec<String>,
    ids: &mut Ids,
    test: bool,
    out: &mut Vec<DueEntry>,
) -> Result<(), LoadError> {
    let anchor =
        d.id.as_ref()
            .or(d.codes.first())
            .or(d.action.as_ref())
            .or(d.when.as_ref());
    let err = |reason: &str| match anchor {
        Some(a) => file.error(a, reason),
        None => file.error_at(0, reason),
    };
    let Some(id) = &d.id else {
        return Err(err("a due entry needs an id"));
    };
    ids.add(file, id)?;
    let Some(source) = &d.source else {
        return Err(file.error(id, format!("due entry '{}' needs a source", id.get_ref())));
    };
    check_source(file, source)?;
    let dues: Vec<&str> = due_ids.iter().map(String::as_str).collect();
    let scope = Scope {
        codes,
        algorithms,
        dues: &dues,
    };
    let cond = compile(file, &scope, d.when.as_ref())?;
    let what = match (&d.action, d.codes.is_empty()) {
        (Some(action), true) => {
            check_name(file, action, "action")?;
            if !d.pending_values.is_empty() || !d.satisfied_by.is_empty() {
                return Err(file.error(
                    action,
                    "an action takes neither pending_values nor satisfied_by",
                ));
            }
            DueWhat::Action(action.get_ref().clone())
        }
        (Some(action), false) => {
            return Err(file.error(
                action,
                "a due entry has either codes or an action, not both",
            ));
        }
        (None, true) => {
            return Err(file.error(id, "a due entry needs codes, an action or an algorithm"));
        }
        (None, false) => {
            let mut list = Vec::new();
            for raw in &d.codes {
                list.push((code(file, codes, raw)?, 0u64));
            }
            for value in &d.pending_values {
                let mut known = false;
                for (c, mask) in &mut list {
                    let CodeKind::Coded(values) = codes.kind(*c) else {
                        continue;
                    };
                    if let Some(p) = values.iter().position(|v| v == value.get_ref()) {
                        known = true;
                        if p < 64 {
                            *mask |= 1 << p;
                        }
                    }
                }
                if !known {
                    return Err(file.error(
                        value,
                        format!(
                            "pending value '{}' is not a value of any code of this entry",
                            value.get_ref()
                        ),
                    ));
                }
            }
            DueWhat::Codes(list)
        }
    };
    let mut satisfied_by = Vec::new();
    for raw in &d.satisfied_by {
        satisfied_by.push(code(file, codes, raw)?);
    }
    due_ids.push(id.get_ref().clone());
    out.push(DueEntry {
        id: id.get_ref().clone(),
        source: source.get_ref().clone(),
        cond,
        what,
        satisfied_by,
        test,
    });
    Ok(())
}

/// Links a protocol file with the sub-algorithms it includes.
pub(crate) fn protocol(
    file: &ProtocolFile,
    p: &ProtocolToml,
    codes: &Arc<CodeTable>,
    algorithms: &HashMap<String, (&ProtocolFile, &AlgorithmToml)>,
) -> Result<Protocol, LoadError> {
    check_name(file, &p.id, "protocol id")?;
    if p.version.get_ref().trim().is_empty() {
        return Err(file.error(&p.version, "the version must not be empty"));
    }
    let destination = CountryCode::parse("destination", p.destination.get_ref())
        .map_err(|e| file.error(&p.destination, e.message))?;

    // Included sub-algorithms, compiled in this protocol.
    let mut ids = Ids::default();
    let mut included: Vec<(&ProtocolFile, &AlgorithmToml, Algorithm)> = Vec::new();
    for inc in &p.include {
        let Some((afile, a)) = algorithms.get(inc.get_ref()) else {
            let mut known: Vec<&str> = algorithms.keys().map(String::as_str).collect();
            known.sort_unstable();
            return Err(file.error(
                inc,
                format!(
                    "unknown sub-algorithm '{}'; known: {}",
                    inc.get_ref(),
                    known.join(", ")
                ),
            ));
        };
        if included
            .iter()
            .any(|(_, x, _)| x.id.get_ref() == inc.get_ref())
        {
            return Err(file.error(inc, format!("'{}' is included twice", inc.get_ref())));
        }
        if let Some((_, other, _)) = included
            .iter()
            .find(|(_, x, _)| x.name.get_ref() == a.name.get_ref())
        {
            return Err(file.error(
                inc,
                format!(
                    "'{}' and '{}' both name their result '{}'",
                    other.id.get_ref(),
                    inc.get_ref(),
                    a.name.get_ref()
                ),
            ));
        }
        let compiled = algorithm(afile, a, codes)?;
        for r in &a.rule {
            ids.add(afile, &r.id)?;
        }
        included.push((afile, a, compiled));
    }
    let sigs: Vec<(&str, &[String])> = included
        .iter()
        .map(|(_, _, c)| (c.name.as_str(), c.results.as_slice()))
        .collect();

    // Due entries: history first, then tests; an `algorithm = …` entry
    // places that sub-algorithm's due entries.
    let mut dues = Vec::new();
    let mut due_ids = Vec::new();
    for d in &p.history {
        if let Some(alg) = &d.algorithm {
            return Err(file.error(alg, "history entries cannot include a sub-algorithm"));
        }
        due_entry(
            file,
            d,
            codes,
            &sigs,
            &mut due_ids,
            &mut ids,
            false,
            &mut dues,
        )?;
    }
    for d in &p.due {
        let Some(alg) = &d.algorithm else {
            due_entry(
                file,
                d,
                codes,
                &sigs,
                &mut due_ids,
                &mut ids,
                true,
                &mut dues,
            )?;
            continue;
        };
        if d.id.is_some() || !d.codes.is_empty() || d.action.is_some() || d.when.is_some() {
            return Err(file.error(
                alg,
                "an `algorithm = …` due entry takes no other key: it places that sub-algorithm's own due entries",
            ));
        }
        let Some((afile, a, _)) = included
            .iter()
            .find(|(_, a, _)| a.id.get_ref() == alg.get_ref())
        else {
            return Err(file.error(
                alg,
                format!(
                    "unknown sub-algorithm '{}': include it first (include = [...])",
                    alg.get_ref()
                ),
            ));
        };
        for ad in &a.due {
            due_entry(
                afile,
                ad,
                codes,
                &sigs,
                &mut due_ids,
                &mut ids,
                true,
                &mut dues,
            )?;
        }
    }
    if dues.len() > usize::from(u16::MAX) {
        return Err(file.error(&p.id, "too many due entries"));
    }
    let dues_names: Vec<&str> = due_ids.iter().map(String::as_str).collect();
    let scope = Scope {
        codes,
        algorithms: &sigs,
        dues: &dues_names,
    };

    let rule = |r: &RuleToml, ids: &mut Ids| -> Result<Rule, LoadError> {
        ids.add(file, &r.id)?;
        check_source(file, &r.source)?;
        for referral in &r.referrals {
            check_name(file, referral, "referral")?;
        }
        if let Some(class) = &r.class {
            check_name(file, class, "class")?;
        }
        let cond = match &r.when {
            Some(w) => Some(compile(file, &scope, Some(w))?),
            None => None,
        };
        Ok(Rule {
            id: r.id.get_ref().clone(),
            source: r.source.get_ref().clone(),
            cond,
            class: r.class.as_ref().map(|c| c.get_ref().clone()),
            outcome: r.outcome.as_ref().map(|o| outcome(file, o)).transpose()?,
            referrals: r.referrals.iter().map(|x| x.get_ref().clone()).collect(),
            while_pending: r.while_pending,
        })
    };

    let mut groups: Vec<Group> = Vec::new();
    for g in &p.classification {
        check_name(file, &g.key, "classification key")?;
        if groups.iter().any(|x| &x.key == g.key.get_ref()) {
            return Err(file.error(
                &g.key,
                format!("classification '{}' is declared twice", g.key.get_ref()),
            ));
        }
        let mut rules = Vec::new();
        for (i, r) in g.rule.iter().enumerate() {
            if r.class.is_none() {
                return Err(file.error(&r.id, format!("rule '{}' needs a class", r.id.get_ref())));
            }
            if r.outcome.is_none() {
                return Err(
                    file.error(&r.id, format!("rule '{}' needs an outcome", r.id.get_ref()))
                );
            }
            if r.when.is_none() && i + 1 < g.rule.len() {
                return Err(file.error(
                    &r.id,
                    format!(
                        "rule '{}' has no condition, so the rules after it could never apply",
                        r.id.get_ref()
                    ),
                ));
            }
            rules.push(rule(r, &mut ids)?);
        }
        groups.push(Group {
            key: g.key.get_ref().clone(),
            rules,
        });
    }

    let mut rules = Vec::new();
    for r in &p.rule {
        if let Some(class) = &r.class {
            return Err(file.error(class, "only rules of a classification assign a class"));
        }
        if r.when.is_none() {
            return Err(file.error(
                &r.id,
                format!("rule '{}' needs a condition (when = …)", r.id.get_ref()),
            ));
        }
        if r.outcome.is_none() && r.referrals.is_empty() {
            return Err(file.error(
                &r.id,
                format!("rule '{}' needs an outcome or referrals", r.id.get_ref()),
            ));
        }
        rules.push(rule(r, &mut ids)?);
    }

    let c = &p.certificate;
    ids.add(file, &c.id)?;
    check_source(file, &c.source)?;
    if let Some(m) = c.months.as_ref().filter(|m| *m.get_ref() == 0) {
        return Err(file.error(m, "months must be at least 1"));
    }
    let outcomes = match &c.outcomes {
        Some(list) => list
            .iter()
            .map(|o| outcome(file, o))
            .collect::<Result<_, _>>()?,
        None => vec![Outcome::Cleared, Outcome::ClearedWithFollowUp],
    };
    let mut cert_rules = Vec::new();
    for r in &c.rule {
        ids.add(file, &r.id)?;
        check_source(file, &r.source)?;
        if r.months == 0 {
            return Err(file.error(&r.id, "months must be at least 1"));
        }
        let cond = compile(file, &scope, Some(&r.when))?;
        cert_rules.push(CertificateRule {
            id: r.id.get_ref().clone(),
            source: r.source.get_ref().clone(),
            cond,
            months: r.months,
        });
    }

    Ok(Protocol {
        id: p.id.get_ref().clone(),
        version: p.version.get_ref().clone(),
        destination,
        title: p.title.clone(),
        file_name: file.name.clone(),
        codes: Arc::clone(codes),
        algorithms: included.into_iter().map(|(_, _, c)| c).collect(),
        dues,
        groups,
        rules,
        certificate: Certificate {
            id: c.id.get_ref().clone(),
            source: c.source.get_ref().clone(),
            months: c.months.as_ref().map(|m| *m.get_ref()),
            outcomes,
            rules: cert_rules,
        },
    })
}

/// Links every parsed file into compiled protocols, sorted by id.
pub(crate) fn link(
    codes: &Arc<CodeTable>,
    files: &[ProtocolFile],
) -> Result<Vec<Protocol>, LoadError> {
    let mut algorithms: HashMap<String, (&ProtocolFile, &AlgorithmToml)> = HashMap::new();
    for f in files {
        if let Body::Algorithm(a) = &f.body {
            // Check each sub-algorithm on its own, even when unused.
            algorithm(f, a, codes)?;
            if let Some((other, _)) = algorithms.insert(a.id.get_ref().clone(), (f, a)) {
                return Err(f.error(
                    &a.id,
                    format!(
                        "sub-algorithm '{}' is also defined in {}",
                        a.id.get_ref(),
                        other.name
                    ),
                ));
            }
        }
    }
    let mut protocols: Vec<Protocol> = Vec::new();
    for f in files {
        if let Body::Protocol(p) = &f.body {
            if let Some(other) = protocols.iter().find(|x| x.id == *p.id.get_ref()) {
                return Err(f.error(
                    &p.id,
                    format!(
                        "protocol '{}' is also defined in {}",
                        p.id.get_ref(),
                        other.file_name
                    ),
                ));
            }
            protocols.push(protocol(f, p, codes, &algorithms)?);
        }
    }
    protocols.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(protocols)
}

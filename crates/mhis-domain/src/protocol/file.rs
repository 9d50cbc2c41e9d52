//! The shape of protocol and sub-algorithm files (TOML), and [`parse`],
//! which reads one file's text into a [`ProtocolFile`] without looking at
//! any other file. Names (codes, sub-algorithms) are checked later, when a
//! [`ProtocolSet`](super::ProtocolSet) links the files together.
//!
//! Every string a check may refuse is kept with its byte span, so that a
//! refusal names the file and the line.

use super::LoadError;
use super::expr::{self, Ast};
use serde::Deserialize;
use toml::Spanned;

/// A string with its byte span in the file.
pub(crate) type S = Spanned<String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProtocolToml {
    #[allow(dead_code)]
    pub kind: S,
    pub id: S,
    pub version: S,
    pub destination: S,
    pub title: String,
    #[serde(default)]
    pub include: Vec<S>,
    #[serde(default)]
    pub history: Vec<DueToml>,
    #[serde(default)]
    pub due: Vec<DueToml>,
    #[serde(default)]
    pub classification: Vec<GroupToml>,
    #[serde(default)]
    pub rule: Vec<RuleToml>,
    pub certificate: CertificateToml,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlgorithmToml {
    #[allow(dead_code)]
    pub kind: S,
    pub id: S,
    pub name: S,
    pub version: S,
    #[allow(dead_code)]
    pub title: String,
    pub results: Vec<S>,
    pub otherwise: S,
    #[serde(default)]
    pub rule: Vec<AlgorithmRuleToml>,
    #[serde(default)]
    pub due: Vec<DueToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DueToml {
    pub id: Option<S>,
    #[serde(default)]
    pub codes: Vec<S>,
    pub action: Option<S>,
    pub algorithm: Option<S>,
    pub when: Option<S>,
    #[serde(default)]
    pub satisfied_by: Vec<S>,
    #[serde(default)]
    pub pending_values: Vec<S>,
    pub source: Option<S>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupToml {
    pub key: S,
    pub rule: Vec<RuleToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleToml {
    pub id: S,
    pub when: Option<S>,
    pub class: Option<S>,
    pub outcome: Option<S>,
    #[serde(default)]
    pub referrals: Vec<S>,
    #[serde(default)]
    pub while_pending: bool,
    pub source: S,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlgorithmRuleToml {
    pub id: S,
    pub when: S,
    pub result: S,
    pub source: S,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CertificateToml {
    pub id: S,
    pub months: Option<Spanned<u32>>,
    pub outcomes: Option<Vec<S>>,
    #[serde(default)]
    pub rule: Vec<CertificateRuleToml>,
    pub source: S,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CertificateRuleToml {
    pub id: S,
    pub when: S,
    pub months: u32,
    pub source: S,
}

/// What a file holds.
#[derive(Debug)]
pub(crate) enum Body {
    Protocol(Box<ProtocolToml>),
    Algorithm(Box<AlgorithmToml>),
}

/// One protocol or sub-algorithm file, read and checked on its own: its
/// TOML is well formed, it has every required key and no unknown one, and
/// every condition parses. Made by [`parse`]; linked into a
/// [`ProtocolSet`](super::ProtocolSet) by
/// [`ProtocolSet::from_parsed`](super::ProtocolSet::from_parsed).
#[derive(Debug)]
pub struct ProtocolFile {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) body: Body,
}

impl ProtocolFile {
    /// The file name it was read from.
    pub fn file_name(&self) -> &str {
        &self.name
    }

    /// The protocol or sub-algorithm id.
    pub fn id(&self) -> &str {
        match &self.body {
            Body::Protocol(p) => p.id.get_ref(),
            Body::Algorithm(a) => a.id.get_ref(),
        }
    }

    /// The file's version label.
    pub fn version(&self) -> &str {
        match &self.body {
            Body::Protocol(p) => p.version.get_ref(),
            Body::Algorithm(a) => a.version.get_ref(),
        }
    }

    /// Whether the file is a protocol (otherwise a shared sub-algorithm).
    pub fn is_protocol(&self) -> bool {
        matches!(self.body, Body::Protocol(_))
    }

    /// The 1-based line of a byte offset.
    pub(crate) fn line(&self, offset: usize) -> usize {
        line_of(&self.text, offset)
    }

    /// An error at a byte offset of this file.
    pub(crate) fn error_at(&self, offset: usize, reason: impl Into<String>) -> LoadError {
        LoadError {
            file: self.name.clone(),
            line: self.line(offset),
            reason: reason.into(),
        }
    }

    /// An error about a spanned value of this file.
    pub(crate) fn error<T>(&self, at: &Spanned<T>, reason: impl Into<String>) -> LoadError {
        self.error_at(at.span().start, reason)
    }

    /// Parses a condition, locating a fault at its line in the file.
    pub(crate) fn condition(&self, when: &S) -> Result<Ast, LoadError> {
        expr::parse(when.get_ref()).map_err(|e| self.expr_error(when, e))
    }

    /// Locates a fault of the condition `when` at its line in the file.
    pub(crate) fn expr_error(&self, when: &S, e: expr::ExprError) -> LoadError {
        let start = when.span().start;
        let raw = self.text.get(when.span()).unwrap_or("");
        // A multi-line string drops the newline right after its opening
        // quotes, so its text starts one line below the quotes.
        let skipped = usize::from(
            (raw.starts_with("\"\"\"") || raw.starts_with("'''"))
                && raw[3..].starts_with(['\n', '\r']),
        );
        let before = when.get_ref().get(..e.at).unwrap_or("");
        let line = self.line(start) + skipped + before.matches('\n').count();
        LoadError {
            file: self.name.clone(),
            line,
            reason: format!("condition `{}`: {}", when.get_ref().trim(), e.message),
        }
    }
}

/// The 1-based line of a byte offset of `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[derive(Deserialize)]
struct Head {
    kind: Option<S>,
}

/// Reads one protocol or sub-algorithm file. Pure: the caller supplies the
/// file's name (used in errors) and text. The file's `kind` key says which
/// it is: `"protocol"` or `"algorithm"`.
pub fn parse(file_name: &str, text: &str) -> Result<ProtocolFile, LoadError> {
    let toml_error = |e: toml::de::Error| LoadError {
        file: file_name.to_owned(),
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        reason: e.message().trim().to_owned(),
    };
    // Read only `kind` first; other keys are checked by the full shape.
    let head: Head = toml::from_str(text).map_err(toml_error)?;
    let body = match head.kind.as_ref().map(|k| k.get_ref().as_str()) {
        Some("protocol") => Body::Protocol(Box::new(toml::from_str(text).map_err(toml_error)?)),
        Some("algorithm") => Body::Algorithm(Box::new(toml::from_str(text).map_err(toml_error)?)),
        Some(other) => {
            return Err(LoadError {
                file: file_name.to_owned(),
                line: head
                    .kind
                    .as_ref()
                    .map_or(1, |k| line_of(text, k.span().start)),
                reason: format!("kind '{other}' is neither 'protocol' nor 'algorithm'"),
            });
        }
        None => {
            return Err(LoadError {
                file: file_name.to_owned(),
                line: 1,
                reason: "missing key 'kind' (\"protocol\" or \"algorithm\")".into(),
            });
        }
    };
    let file = ProtocolFile {
        name: file_name.to_owned(),
        text: text.to_owned(),
        body,
    };
    // Every condition must parse; names are checked when linking.
    for when in file.conditions() {
        file.condition(when)?;
    }
    Ok(file)
}

impl ProtocolFile {
    fn conditions(&self) -> Vec<&S> {
        fn dues(d: &[DueToml]) -> Vec<&S> {
            d.iter().filter_map(|d| d.when.as_ref()).collect()
        }
        match &self.body {
            Body::Protocol(p) => {
                let mut out = dues(&p.history);
                out.extend(dues(&p.due));
                for g in &p.classification {
                    out.extend(g.rule.iter().filter_map(|r| r.when.as_ref()));
                }
                out.extend(p.rule.iter().filter_map(|r| r.when.as_ref()));
                out.extend(p.certificate.rule.iter().map(|r| &r.when));
                out
            }
            Body::Algorithm(a) => {
                let mut out: Vec<&S> = a.rule.iter().map(|r| &r.when).collect();
                out.extend(dues(&a.due));
                out
            }
        }
    }
}

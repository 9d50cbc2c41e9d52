//! Licensed wording and translations, supplied by a deployment.
//!
//! mhis ships only short descriptive labels of its own. The validated
//! wording of an instrument, and its translations, are licensed content: a
//! deployment that holds the rights supplies them in
//! `instruments/wording/<instrument>.<language>.toml`, and the
//! [`Form`] of that language shows them in place of our labels.

use super::LoadError;
use super::file::{Instrument, ScaleKind};
use super::read::{self, Node};
use serde::Serialize;

/// The wording of one instrument in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Wording {
    /// The instrument id it words.
    pub instrument: String,
    /// The language tag (`en`, `ar`, `fr-CA`).
    pub language: String,
    /// Whose wording it is and under what licence.
    pub source: String,
    /// The title in this language, if given.
    pub title: Option<String>,
    /// The instructions read before the items, if given.
    pub instructions: Option<String>,
    /// Item text by item id.
    pub items: Vec<(String, String)>,
    /// Option text by scale id, then option code.
    pub options: Vec<(String, Vec<(String, String)>)>,
}

impl Wording {
    /// Reads a wording file. The instrument, items, scales and options it
    /// names are checked when it is added to an instrument
    /// ([`InstrumentSet::add_wording`](super::InstrumentSet::add_wording)).
    pub fn parse(file_name: &str, text: &str) -> Result<Wording, LoadError> {
        let table = read::table(file_name, text)?;
        let root = Node {
            file: file_name,
            path: "",
            table: &table,
        };
        root.only(&[
            "instrument",
            "language",
            "source",
            "title",
            "instructions",
            "items",
            "options",
        ])?;
        let mut options = Vec::new();
        if let Some(t) = root.opt_table("options")? {
            let node = Node {
                file: file_name,
                path: "options",
                table: t,
            };
            for scale in t.keys() {
                options.push((scale.clone(), node.string_map(scale)?));
            }
        }
        Ok(Wording {
            instrument: root.name("instrument")?,
            language: root.name("language")?,
            source: root.str("source")?,
            title: root.opt_str("title")?,
            instructions: root.opt_str("instructions")?,
            items: root.string_map("items")?,
            options,
        })
    }
}

/// An instrument as a form shows it: in one language when the deployment
/// supplied that wording, otherwise with our own labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Form {
    /// The instrument id.
    pub instrument: String,
    /// The instrument file's version.
    pub version: String,
    /// The language of the wording shown; `None` for our own labels.
    pub language: Option<String>,
    /// Whose wording is shown; `None` for our own labels.
    pub wording_source: Option<String>,
    /// The title.
    pub title: String,
    /// Instructions, when the wording gives them.
    pub instructions: Option<String>,
    /// The items, in the order they are asked.
    pub items: Vec<FormItem>,
}

/// One item of a [`Form`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormItem {
    /// The item id, the key of its answer.
    pub id: String,
    /// The text shown: the supplied wording, or our label.
    pub text: String,
    /// Whether `text` is the supplied wording.
    pub worded: bool,
    /// The answer options; empty for a numeric scale.
    pub options: Vec<FormOption>,
    /// The lowest numeric answer, for a numeric scale.
    pub min: Option<i64>,
    /// The highest numeric answer, for a numeric scale.
    pub max: Option<i64>,
}

/// One answer option of a [`FormItem`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormOption {
    /// The code to answer with.
    pub code: String,
    /// The text shown.
    pub text: String,
    /// What the option counts for.
    pub value: i64,
}

impl Instrument {
    /// Checks a wording against this instrument: the same instrument id,
    /// and only items, scales and options it has.
    pub fn check_wording(&self, file_name: &str, w: &Wording) -> Result<(), LoadError> {
        let err = |field: String, reason: String| LoadError {
            file: file_name.to_owned(),
            field,
            reason,
        };
        if w.instrument != self.id {
            return Err(err(
                "instrument".into(),
                format!("'{}' is not the instrument '{}'", w.instrument, self.id),
            ));
        }
        for (id, _) in &w.items {
            if self.item(id).is_none() {
                return Err(err(
                    format!("items.{id}"),
                    format!("'{id}' is not an item of {}", self.id),
                ));
            }
        }
        for (scale, options) in &w.options {
            let Some(s) = self.scale(scale) else {
                return Err(err(
                    format!("options.{scale}"),
                    format!("'{scale}' is not a scale of {}", self.id),
                ));
            };
            let ScaleKind::Options(known) = &s.kind else {
                return Err(err(
                    format!("options.{scale}"),
                    format!("scale '{scale}' is numeric and has no options"),
                ));
            };
            for (code, _) in options {
                if !known.iter().any(|o| &o.code == code) {
                    return Err(err(
                        format!("options.{scale}.{code}"),
                        format!("'{code}' is not an option of scale '{scale}'"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The form in `wording`'s language, or with our own labels when
    /// `wording` is `None`. Text the wording leaves out falls back to our
    /// label (and `worded` says which is which).
    pub fn form(&self, wording: Option<&Wording>) -> Form {
        let item_text = |id: &str| {
            wording.and_then(|w| {
                w.items
                    .iter()
                    .find(|(i, _)| i == id)
                    .map(|(_, t)| t.clone())
            })
        };
        let option_text = |scale: &str, code: &str| {
            wording.and_then(|w| {
                w.options
                    .iter()
                    .find(|(s, _)| s == scale)
                    .and_then(|(_, o)| o.iter().find(|(c, _)| c == code))
                    .map(|(_, t)| t.clone())
            })
        };
        let items = self
            .items
            .iter()
            .map(|item| {
                let worded = item_text(&item.id);
                let (options, min, max) = match self.scale(&item.scale).map(|s| &s.kind) {
                    Some(ScaleKind::Options(options)) => (
                        options
                            .iter()
                            .map(|o| FormOption {
                                code: o.code.clone(),
                                text: option_text(&item.scale, &o.code)
                                    .unwrap_or_else(|| o.label.clone()),
                                value: o.value,
                            })
                            .collect(),
                        None,
                        None,
                    ),
                    Some(ScaleKind::Range { min, max }) => (Vec::new(), Some(*min), Some(*max)),
                    None => (Vec::new(), None, None),
                };
                FormItem {
                    id: item.id.clone(),
                    worded: worded.is_some(),
                    text: worded.unwrap_or_else(|| item.label.clone()),
                    options,
                    min,
                    max,
                }
            })
            .collect();
        Form {
            instrument: self.id.clone(),
            version: self.version.clone(),
            language: wording.map(|w| w.language.clone()),
            wording_source: wording.map(|w| w.source.clone()),
            title: wording
                .and_then(|w| w.title.clone())
                .unwrap_or_else(|| self.title.clone()),
            instructions: wording.and_then(|w| w.instructions.clone()),
            items,
        }
    }
}

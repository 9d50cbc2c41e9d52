//! The shape of an instrument file, and [`parse`], which reads and checks
//! one file: every name it uses (scales, items, scores, thresholds,
//! referrals) is resolved, every band and cut-off is checked against the
//! range its score or item can take, and every rule carries its source.

use super::LoadError;
use super::read::{self, MAX_ITEMS, Node};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// A screening instrument, read from `instruments/<id>.toml`.
///
/// Made only by [`parse`] (or [`InstrumentSet`](super::InstrumentSet)),
/// so every name in it resolves and every cut-off is in range.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Instrument {
    /// The instrument id (`phq9`).
    pub id: String,
    /// The version of this file's reading of the instrument.
    pub version: String,
    /// The instrument's name.
    pub title: String,
    /// The publication the instrument and its scoring come from.
    pub source: String,
    /// Who holds the rights to the validated wording, and how to obtain it.
    pub wording_rights: Option<String>,
    /// The response scales, by id.
    pub scales: Vec<Scale>,
    /// The items, in the order they are asked.
    pub items: Vec<Item>,
    /// Scores: sums of item values.
    pub scores: Vec<Score>,
    /// Severity bands over one score.
    pub bands: Option<Bands>,
    /// Cut-offs, each suggesting referrals when met.
    pub thresholds: Vec<Threshold>,
    /// How thresholds combine into a positive or negative result.
    pub result: Option<ResultRule>,
    /// Flags raised by an answer whatever the rest of the form says.
    pub flags: Vec<FlagRule>,
    /// The referrals this instrument may suggest: id → label.
    pub referrals: BTreeMap<String, String>,
}

/// A response scale: named options, or a range of whole numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Scale {
    /// The scale id (`frequency`).
    pub id: String,
    /// Its answers.
    #[serde(flatten)]
    pub kind: ScaleKind,
}

/// The answers a scale accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleKind {
    /// Named options, each worth a number.
    Options(Vec<ScaleOption>),
    /// Any whole number from `min` to `max` inclusive.
    Range {
        /// The lowest answer.
        min: i64,
        /// The highest answer.
        max: i64,
    },
}

/// One answer option of a scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ScaleOption {
    /// The code an answer gives (`several_days`).
    pub code: String,
    /// Our short label.
    pub label: String,
    /// What the option counts for.
    pub value: i64,
}

impl Scale {
    /// The lowest and highest value an answer on this scale can have.
    pub fn bounds(&self) -> (i64, i64) {
        match &self.kind {
            ScaleKind::Options(options) => {
                let values = options.iter().map(|o| o.value);
                (values.clone().min().unwrap_or(0), values.max().unwrap_or(0))
            }
            ScaleKind::Range { min, max } => (*min, *max),
        }
    }
}

/// One item (question) of an instrument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Item {
    /// The item id (`phq9_9`), the key of its answer.
    pub id: String,
    /// Our short descriptive label, not the validated wording.
    pub label: String,
    /// The id of the scale it is answered on.
    pub scale: String,
}

/// A score: the sum of the values of some items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Score {
    /// The score id (`total`).
    pub id: String,
    /// What it is called.
    pub label: String,
    /// The items summed.
    pub items: Vec<String>,
    /// The lowest possible score.
    pub min: i64,
    /// The highest possible score.
    pub max: i64,
    /// Where the scoring is published.
    pub source: String,
}

/// Severity bands over one score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Bands {
    /// The id of the score banded.
    pub score: String,
    /// Where the bands are published.
    pub source: String,
    /// The bands, by ascending lower bound; the first starts at the
    /// score's minimum.
    pub bands: Vec<Band>,
}

/// One severity band: scores from `from` to `to`, both inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Band {
    /// The band id (`moderate`).
    pub id: String,
    /// What it is called.
    pub label: String,
    /// The lowest score in the band (inclusive).
    pub from: i64,
    /// The highest score in the band (inclusive): the next band's `from`
    /// less one, or the score's maximum.
    pub to: i64,
}

/// A condition over the answers, compared with `at_least` (inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Condition {
    /// A score is at least `at_least`. Unknown until the form is complete.
    Score {
        /// The score id.
        score: String,
        /// The inclusive cut-off.
        at_least: i64,
    },
    /// One item's value is at least `at_least`. Unknown while unanswered.
    Item {
        /// The item id.
        item: String,
        /// The inclusive cut-off.
        at_least: i64,
    },
    /// Any of the items has a value of at least `at_least`: true as soon as
    /// one answered item does, false only when all are answered and none
    /// does.
    AnyItem {
        /// The item ids.
        items: Vec<String>,
        /// The inclusive cut-off.
        at_least: i64,
    },
}

/// A cut-off that suggests referrals when met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Threshold {
    /// The threshold id (`phq9.total_10`).
    pub id: String,
    /// What meeting it means.
    pub label: String,
    /// When it is met.
    pub when: Condition,
    /// Referral ids it suggests.
    pub refer: Vec<String>,
    /// Where the cut-off is published.
    pub source: String,
}

/// The positive/negative result: positive when any listed threshold is
/// met, negative when none is or can be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ResultRule {
    /// Threshold ids combined with OR.
    pub positive_when_any: Vec<String>,
    /// What a positive result is called.
    pub positive: String,
    /// What a negative result is called.
    pub negative: String,
    /// Where the rule is published.
    pub source: String,
}

/// A flag raised by the answers, even on an incomplete form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FlagRule {
    /// The flag id (`safety`).
    pub id: String,
    /// What the counsellor must do.
    pub message: String,
    /// Whether it calls for action before the person leaves.
    pub immediate: bool,
    /// When it is raised.
    pub when: Condition,
    /// Referral ids it suggests.
    pub refer: Vec<String>,
    /// Where the rule comes from.
    pub source: String,
}

impl Instrument {
    /// The item `id`.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The scale `id`.
    pub fn scale(&self, id: &str) -> Option<&Scale> {
        self.scales.iter().find(|s| s.id == id)
    }

    /// The score `id`.
    pub fn score_rule(&self, id: &str) -> Option<&Score> {
        self.scores.iter().find(|s| s.id == id)
    }

    /// The threshold `id`.
    pub fn threshold(&self, id: &str) -> Option<&Threshold> {
        self.thresholds.iter().find(|t| t.id == id)
    }
}

/// Refuses a second use of an id within one list.
fn unique(
    node: &Node<'_>,
    seen: &mut HashSet<String>,
    id: &str,
    what: &str,
) -> Result<(), LoadError> {
    if seen.insert(id.to_owned()) {
        Ok(())
    } else {
        Err(node.error("id", format!("{what} '{id}' is listed twice")))
    }
}

fn scale(node: Node<'_>) -> Result<Scale, LoadError> {
    node.only(&["id", "options", "min", "max"])?;
    let id = node.name("id")?;
    let options = node.tables("options")?;
    let (min, max) = (node.opt_int("min")?, node.opt_int("max")?);
    let kind = match (options.is_empty(), min, max) {
        (false, None, None) => {
            let mut codes = HashSet::new();
            let mut values = HashSet::new();
            let mut out = Vec::new();
            for (path, t) in &options {
                let o = Node {
                    file: node.file,
                    path,
                    table: t,
                };
                o.only(&["code", "label", "value"])?;
                let code = o.name("code")?;
                let value = o.int("value")?;
                if !codes.insert(code.clone()) {
                    return Err(o.error("code", format!("option '{code}' is listed twice")));
                }
                if !values.insert(value) {
                    return Err(o.error(
                        "value",
                        format!("value {value} is already another option's"),
                    ));
                }
                out.push(ScaleOption {
                    code,
                    label: o.str("label")?,
                    value,
                });
            }
            ScaleKind::Options(out)
        }
        (true, Some(min), Some(max)) if min <= max => ScaleKind::Range { min, max },
        (true, Some(min), Some(max)) => {
            return Err(node.error("max", format!("{max} is below min {min}")));
        }
        _ => {
            return Err(node.error("", "a scale has either `options` or both `min` and `max`"));
        }
    };
    Ok(Scale { id, kind })
}

/// Reads a condition table (`{ score = "total", at_least = 10 }`).
fn condition(inst: &Instrument, node: Node<'_>) -> Result<Condition, LoadError> {
    node.only(&["score", "item", "any_item", "at_least"])?;
    let at_least = node.int("at_least")?;
    let in_range = |what: &str, (lo, hi): (i64, i64)| {
        if at_least <= lo || at_least > hi {
            Err(node.error(
                "at_least",
                format!(
                    "{at_least} cannot separate answers: {what} ranges from {lo} to {hi}, so the \
                     cut-off must be above {lo} and at most {hi}"
                ),
            ))
        } else {
            Ok(())
        }
    };
    let item_bounds = |id: &str, key: &str| -> Result<(i64, i64), LoadError> {
        let item = inst
            .item(id)
            .ok_or_else(|| node.error(key, format!("'{id}' is not an item of this instrument")))?;
        Ok(inst.scale(&item.scale).map_or((0, 0), Scale::bounds))
    };
    let score = node.opt_str("score")?;
    let item = node.opt_str("item")?;
    let any = node.names("any_item")?;
    match (score, item, any.is_empty()) {
        (Some(score), None, true) => {
            let s = inst.score_rule(&score).ok_or_else(|| {
                node.error(
                    "score",
                    format!("'{score}' is not a score of this instrument"),
                )
            })?;
            in_range(&format!("score '{score}'"), (s.min, s.max))?;
            Ok(Condition::Score { score, at_least })
        }
        (None, Some(item), true) => {
            in_range(&format!("item '{item}'"), item_bounds(&item, "item")?)?;
            Ok(Condition::Item { item, at_least })
        }
        (None, None, false) => {
            let mut lo = i64::MAX;
            let mut hi = i64::MIN;
            for (i, id) in any.iter().enumerate() {
                let (l, h) = item_bounds(id, &format!("any_item[{i}]"))?;
                lo = lo.min(l);
                hi = hi.max(h);
            }
            in_range("the items", (lo, hi))?;
            Ok(Condition::AnyItem {
                items: any,
                at_least,
            })
        }
        _ => Err(node.error(
            "",
            "a condition has exactly one of `score`, `item` or `any_item`",
        )),
    }
}

fn refer(inst: &Instrument, node: &Node<'_>) -> Result<Vec<String>, LoadError> {
    let refer = node.names("refer")?;
    for (i, r) in refer.iter().enumerate() {
        if !inst.referrals.contains_key(r) {
            return Err(node.error(
                &format!("refer[{i}]"),
                format!("'{r}' is not listed under [referrals]"),
            ));
        }
    }
    Ok(refer)
}

/// Reads and checks one instrument file. Pure: the caller supplies the
/// file's name (used in errors) and text.
pub fn parse(file_name: &str, text: &str) -> Result<Instrument, LoadError> {
    let table = read::table(file_name, text)?;
    let root = Node {
        file: file_name,
        path: "",
        table: &table,
    };
    root.only(&[
        "id",
        "version",
        "title",
        "source",
        "wording_rights",
        "scale",
        "item",
        "score",
        "bands",
        "threshold",
        "result",
        "flag",
        "referrals",
    ])?;
    let mut inst = Instrument {
        id: root.name("id")?,
        version: root.str("version")?,
        title: root.str("title")?,
        source: root.str("source")?,
        wording_rights: root.opt_str("wording_rights")?,
        scales: Vec::new(),
        items: Vec::new(),
        scores: Vec::new(),
        bands: None,
        thresholds: Vec::new(),
        result: None,
        flags: Vec::new(),
        referrals: BTreeMap::new(),
    };

    let mut seen = HashSet::new();
    for (path, t) in root.tables("scale")? {
        let node = Node {
            file: file_name,
            path: &path,
            table: t,
        };
        let s = scale(node)?;
        unique(&node, &mut seen, &s.id, "scale")?;
        inst.scales.push(s);
    }

    let items = root.tables("item")?;
    if items.is_empty() {
        return Err(root.error("item", "an instrument has at least one [[item]]"));
    }
    if items.len() > MAX_ITEMS {
        return Err(root.error(
            "item",
            format!("an instrument has at most {MAX_ITEMS} items"),
        ));
    }
    let mut seen = HashSet::new();
    for (path, t) in &items {
        let node = Node {
            file: file_name,
            path,
            table: t,
        };
        node.only(&["id", "label", "scale"])?;
        let id = node.name("id")?;
        unique(&node, &mut seen, &id, "item")?;
        let scale = node.name("scale")?;
        if inst.scale(&scale).is_none() {
            return Err(node.error(
                "scale",
                format!("'{scale}' is not a [[scale]] of this file"),
            ));
        }
        inst.items.push(Item {
            id,
            label: node.str("label")?,
            scale,
        });
    }

    let mut seen = HashSet::new();
    for (path, t) in root.tables("score")? {
        let node = Node {
            file: file_name,
            path: &path,
            table: t,
        };
        node.only(&["id", "label", "items", "source"])?;
        let id = node.name("id")?;
        unique(&node, &mut seen, &id, "score")?;
        let items = node.names("items")?;
        if items.is_empty() {
            return Err(node.error("items", "a score sums at least one item"));
        }
        let (mut min, mut max) = (0, 0);
        let mut in_score = HashSet::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("items[{i}]");
            let Some(it) = inst.item(item) else {
                return Err(node.error(&at, format!("'{item}' is not an item of this instrument")));
            };
            if !in_score.insert(item.as_str()) {
                return Err(node.error(&at, format!("'{item}' is summed twice")));
            }
            let (lo, hi) = inst.scale(&it.scale).map_or((0, 0), Scale::bounds);
            min += lo;
            max += hi;
        }
        inst.scores.push(Score {
            id,
            label: node.str("label")?,
            items,
            min,
            max,
            source: node.str("source")?,
        });
    }

    if let Some(t) = root.opt_table("bands")? {
        let node = Node {
            file: file_name,
            path: "bands",
            table: t,
        };
        node.only(&["score", "source", "band"])?;
        let score = node.name("score")?;
        let Some(s) = inst.score_rule(&score) else {
            return Err(node.error(
                "score",
                format!("'{score}' is not a [[score]] of this file"),
            ));
        };
        let (min, max) = (s.min, s.max);
        let source = node.str("source")?;
        let list = node.tables("band")?;
        if list.is_empty() {
            return Err(node.error("band", "bands need at least one [[bands.band]]"));
        }
        let mut bands: Vec<Band> = Vec::new();
        let mut seen = HashSet::new();
        for (path, t) in &list {
            let b = Node {
                file: file_name,
                path,
                table: t,
            };
            b.only(&["id", "label", "from"])?;
            let id = b.name("id")?;
            unique(&b, &mut seen, &id, "band")?;
            let from = b.int("from")?;
            match bands.last_mut() {
                None if from != min => {
                    return Err(b.error(
                        "from",
                        format!("the first band starts at the score's minimum, {min}, not {from}"),
                    ));
                }
                Some(prev) if from <= prev.from => {
                    return Err(b.error(
                        "from",
                        format!(
                            "{from} is not above the previous band's lower bound {}",
                            prev.from
                        ),
                    ));
                }
                Some(prev) => prev.to = from - 1,
                None => {}
            }
            if from > max {
                return Err(b.error(
                    "from",
                    format!("{from} is above the score's maximum, {max}"),
                ));
            }
            bands.push(Band {
                id,
                label: b.str("label")?,
                from,
                to: max,
            });
        }
        inst.bands = Some(Bands {
            score,
            source,
            bands,
        });
    }

    if let Some(t) = root.opt_table("referrals")? {
        let node = Node {
            file: file_name,
            path: "referrals",
            table: t,
        };
        for (id, label) in root.string_map("referrals")? {
            if !read::is_name(&id) {
                return Err(node.error(&id, "a referral id is letters, digits, '_', '.' or '-'"));
            }
            inst.referrals.insert(id, label);
        }
    }

    let mut seen = HashSet::new();
    for (path, t) in root.tables("threshold")? {
        let node = Node {
            file: file_name,
            path: &path,
            table: t,
        };
        node.only(&["id", "label", "when", "refer", "source"])?;
        let id = node.name("id")?;
        unique(&node, &mut seen, &id, "threshold")?;
        let when_path = node.field("when");
        let when = condition(
            &inst,
            Node {
                file: file_name,
                path: &when_path,
                table: node.sub_table("when")?,
            },
        )?;
        let threshold = Threshold {
            id,
            label: node.str("label")?,
            when,
            refer: refer(&inst, &node)?,
            source: node.str("source")?,
        };
        inst.thresholds.push(threshold);
    }

    if let Some(t) = root.opt_table("result")? {
        let node = Node {
            file: file_name,
            path: "result",
            table: t,
        };
        node.only(&["positive_when_any", "positive", "negative", "source"])?;
        let ids = node.names("positive_when_any")?;
        if ids.is_empty() {
            return Err(node.error("positive_when_any", "is missing or empty"));
        }
        for (i, id) in ids.iter().enumerate() {
            if inst.threshold(id).is_none() {
                return Err(node.error(
                    &format!("positive_when_any[{i}]"),
                    format!("'{id}' is not a [[threshold]] of this file"),
                ));
            }
        }
        inst.result = Some(ResultRule {
            positive_when_any: ids,
            positive: node.str("positive")?,
            negative: node.str("negative")?,
            source: node.str("source")?,
        });
    }

    let mut seen = HashSet::new();
    for (path, t) in root.tables("flag")? {
        let node = Node {
            file: file_name,
            path: &path,
            table: t,
        };
        node.only(&["id", "message", "immediate", "when", "refer", "source"])?;
        let id = node.name("id")?;
        unique(&node, &mut seen, &id, "flag")?;
        let when_path = node.field("when");
        let when = condition(
            &inst,
            Node {
                file: file_name,
                path: &when_path,
                table: node.sub_table("when")?,
            },
        )?;
        let flag = FlagRule {
            id,
            message: node.str("message")?,
            immediate: node.bool_or("immediate", false)?,
            when,
            refer: refer(&inst, &node)?,
            source: node.str("source")?,
        };
        inst.flags.push(flag);
    }

    // A scale no item uses is a typo waiting to happen.
    for (i, s) in inst.scales.iter().enumerate() {
        if !inst.items.iter().any(|it| it.scale == s.id) {
            return Err(root.error(
                &format!("scale[{i}].id"),
                format!("scale '{}' is used by no item", s.id),
            ));
        }
    }
    Ok(inst)
}

//! The interface languages: English, Russian and French, every string of
//! the web interface coming from the Fluent files under `locales/`.
//!
//! The language of a request is, in order: the `lang` cookie set by the
//! switcher on every page, the user's own `language`, the browser's
//! `Accept-Language`, and English.

use chrono::{DateTime, NaiveDate, Utc};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::LazyLock;

/// An interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English.
    En,
    /// Russian.
    Ru,
    /// French.
    Fr,
}

impl Lang {
    /// Every language, in the order the switcher lists them.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ru, Lang::Fr];

    /// The BCP 47 tag (`en`).
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ru => "ru",
            Self::Fr => "fr",
        }
    }

    /// The language's name in itself, for the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Ru => "Русский",
            Self::Fr => "Français",
        }
    }

    /// The language of a tag (`ru`, `ru-RU`, `FR`), if it is one of ours.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Self::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The best of our languages for an `Accept-Language` header, honouring
    /// quality values (RFC 9110 §12.5.4).
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    fn source(self) -> &'static str {
        match self {
            Self::En => concat!(
                include_str!("../../../../locales/en/ui.ftl"),
                "\n",
                include_str!("../../../../locales/en/vocabulary.ftl"),
                "\n",
                include_str!("../../../../locales/en/training.ftl")
            ),
            Self::Ru => concat!(
                include_str!("../../../../locales/ru/ui.ftl"),
                "\n",
                include_str!("../../../../locales/ru/vocabulary.ftl"),
                "\n",
                include_str!("../../../../locales/ru/training.ftl")
            ),
            Self::Fr => concat!(
                include_str!("../../../../locales/fr/ui.ftl"),
                "\n",
                include_str!("../../../../locales/fr/vocabulary.ftl"),
                "\n",
                include_str!("../../../../locales/fr/training.ftl")
            ),
        }
    }
}

fn bundle(lang: Lang) -> FluentBundle<FluentResource> {
    let id = lang.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Unicode isolation marks are for mixed-direction text; all three
    // languages are left-to-right, and the marks would only clutter the HTML.
    bundle.set_use_isolating(false);
    let resource =
        FluentResource::try_new(lang.source().to_owned()).unwrap_or_else(|(resource, errors)| {
            tracing::error!(lang = lang.code(), ?errors, "locale file has errors");
            resource
        });
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(
            lang = lang.code(),
            ?errors,
            "locale file defines a message twice"
        );
    }
    bundle
}

static BUNDLES: LazyLock<[FluentBundle<FluentResource>; 3]> =
    LazyLock::new(|| [bundle(Lang::En), bundle(Lang::Ru), bundle(Lang::Fr)]);

/// The translator of one request: formats messages of its language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    /// The language.
    pub lang: Lang,
}

impl Tr {
    /// A translator for `lang`.
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    fn bundle(&self) -> &'static FluentBundle<FluentResource> {
        &BUNDLES[match self.lang {
            Lang::En => 0,
            Lang::Ru => 1,
            Lang::Fr => 2,
        }]
    }

    /// Whether the language has message `id`.
    pub fn has(&self, id: &str) -> bool {
        self.bundle().has_message(id)
    }

    fn format(&self, id: &str, args: Option<&FluentArgs>) -> String {
        let bundle = self.bundle();
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            // A missing message shows its id: visible in review, and the
            // completeness test keeps it from shipping.
            return id.to_owned();
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }

    /// Message `id`.
    pub fn t(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// Message `id` with one argument.
    pub fn t1(&self, id: &str, name: &str, value: &str) -> String {
        let mut args = FluentArgs::new();
        args.set(name, FluentValue::from(value.to_owned()));
        self.format(id, Some(&args))
    }

    /// Message `id` with two arguments.
    pub fn t2(&self, id: &str, a: (&str, &str), b: (&str, &str)) -> String {
        let mut args = FluentArgs::new();
        args.set(a.0, FluentValue::from(a.1.to_owned()));
        args.set(b.0, FluentValue::from(b.1.to_owned()));
        self.format(id, Some(&args))
    }

    /// `prefix-key` when the language has it, else `key` itself (for open
    /// lists such as referrals and actions that protocols may extend).
    pub fn label_or_raw(&self, prefix: &str, key: &str) -> String {
        let id = message_id(prefix, key);
        if self.has(&id) {
            self.t(&id)
        } else {
            key.to_owned()
        }
    }

    /// The label of a vocabulary code (`cxr` → `code-cxr`).
    pub fn code_label(&self, code: &str) -> String {
        self.label_or_raw("code", code)
    }

    /// The label of a coded value (`suggestive_tb` → `value-suggestive_tb`).
    pub fn value_label(&self, value: &str) -> String {
        self.label_or_raw("value", value)
    }

    /// A date in the language's usual form: `22 Nov 2026`, `22.11.2026`,
    /// `22/11/2026`.
    pub fn date(&self, date: NaiveDate) -> String {
        match self.lang {
            Lang::En => date.format("%-d %b %Y").to_string(),
            Lang::Ru => date.format("%d.%m.%Y").to_string(),
            Lang::Fr => date.format("%d/%m/%Y").to_string(),
        }
    }

    /// A birth date that may be partial: a full date as [`Tr::date`], a
    /// month and year (`06.1990`), or a year.
    pub fn partial_date(&self, date: mhis_domain::migrant::PartialDate) -> String {
        use mhis_domain::migrant::PartialDate;
        match date {
            PartialDate::Full(d) => self.date(d),
            PartialDate::YearMonth(y, m) => match self.lang {
                Lang::En => NaiveDate::from_ymd_opt(y, m, 1)
                    .map(|d| d.format("%b %Y").to_string())
                    .unwrap_or_else(|| format!("{y}-{m:02}")),
                Lang::Ru => format!("{m:02}.{y}"),
                Lang::Fr => format!("{m:02}/{y}"),
            },
            PartialDate::Year(y) => y.to_string(),
        }
    }

    /// A time stamp: the date as [`Tr::date`], and the UTC time.
    pub fn date_time(&self, at: DateTime<Utc>) -> String {
        format!("{} {} UTC", self.date(at.date_naive()), at.format("%H:%M"))
    }
}

/// The Fluent id for `prefix` and a key that may hold dots
/// (`code`, `tb.symptoms` → `code-tb-symptoms`); Fluent ids allow only
/// letters, digits, `-` and `_`.
pub fn message_id(prefix: &str, key: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + key.len() + 1);
    id.push_str(prefix);
    id.push('-');
    id.extend(key.chars().map(|c| if c == '.' { '-' } else { c }));
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use mhis_domain::vocabulary::{ValueType, Vocabulary};
    use std::collections::BTreeSet;

    fn ids(lang: Lang) -> BTreeSet<String> {
        if let Err((_, e)) = FluentResource::try_new(lang.source().to_owned()) {
            panic!("{lang:?} does not parse: {e:?}");
        }
        lang.source()
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()))
            .filter_map(|l| l.split_once(" ="))
            .map(|(id, _)| id.trim().to_owned())
            .collect()
    }

    #[test]
    fn every_language_has_every_message() {
        let en = ids(Lang::En);
        assert!(en.len() > 100);
        for lang in [Lang::Ru, Lang::Fr] {
            let other = ids(lang);
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
            assert!(extra.is_empty(), "{lang:?} has unknown {extra:?}");
        }
    }

    #[test]
    fn every_code_and_value_of_the_vocabulary_has_a_label() {
        let vocabulary = Vocabulary::built_in();
        for lang in Lang::ALL {
            let tr = Tr::new(lang);
            for def in vocabulary.iter() {
                assert!(
                    tr.has(&message_id("code", &def.code)),
                    "{lang:?} {}",
                    def.code
                );
                if let ValueType::Coded { values } = &def.value_type {
                    for v in values {
                        assert!(tr.has(&message_id("value", v)), "{lang:?} {v}");
                    }
                }
            }
        }
    }

    #[test]
    fn languages_negotiate() {
        assert_eq!(
            Lang::from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"),
            Some(Lang::Ru)
        );
        assert_eq!(
            Lang::from_accept_language("de, fr;q=0.5, en;q=0.7"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("de"), None);
        assert_eq!(Lang::parse("FR-ca"), Some(Lang::Fr));
    }

    #[test]
    fn dates_follow_the_language() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(Tr::new(Lang::En).date(d), "22 Nov 2026");
        assert_eq!(Tr::new(Lang::Ru).date(d), "22.11.2026");
        assert_eq!(Tr::new(Lang::Fr).date(d), "22/11/2026");
    }
}

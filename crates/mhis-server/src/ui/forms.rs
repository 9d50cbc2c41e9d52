//! Form models shared by every page: a [`Field`] renders as one labelled
//! control with its hint and its validation message, grouped in a
//! [`Group`] (a `<fieldset>`).
//!
//! Accessibility (WCAG 2.2): every control has a `<label>` (1.3.1 Info and
//! Relationships, 3.3.2 Labels or Instructions); a field in error is marked
//! `aria-invalid` and its message, in text next to it, is tied to it with
//! `aria-describedby` (3.3.1 Error Identification, 3.3.3 Error Suggestion).

use crate::ui::i18n::Tr;

/// One option of a select or a checkbox list.
#[derive(Debug, Clone)]
pub struct Opt {
    /// The submitted value.
    pub value: String,
    /// What the user reads.
    pub label: String,
    /// Whether it is selected.
    pub selected: bool,
}

impl Opt {
    /// An option, selected when `value` is `current`.
    pub fn new(value: impl Into<String>, label: impl Into<String>, current: &str) -> Self {
        let value = value.into();
        let selected = value == current;
        Self {
            value,
            label: label.into(),
            selected,
        }
    }
}

/// One form control.
#[derive(Debug, Clone)]
pub struct Field {
    /// Form name; the element id is `f-` and the name.
    pub name: String,
    /// The label.
    pub label: String,
    /// `text`, `date`, `password`, `decimal`, `integer`, `select`,
    /// `textarea`, `checkbox` or `checkboxes`.
    pub kind: &'static str,
    /// The current value (`on` for a ticked checkbox).
    pub value: String,
    /// Options of a select or checkbox list.
    pub options: Vec<Opt>,
    /// A hint under the label.
    pub hint: Option<String>,
    /// The validation message.
    pub error: Option<String>,
    /// The "required" marker, when required.
    pub required: Option<String>,
    /// The browser's autocomplete token (WCAG 1.3.5 Identify Input Purpose).
    pub autocomplete: &'static str,
}

impl Field {
    /// A text field.
    pub fn new(name: &str, label: String, kind: &'static str, value: &str) -> Self {
        Self {
            name: name.to_owned(),
            label,
            kind,
            value: value.to_owned(),
            options: Vec::new(),
            hint: None,
            error: None,
            required: None,
            autocomplete: "off",
        }
    }

    /// A select over `options`, with an empty first choice labelled `empty`
    /// when given.
    pub fn select(name: &str, label: String, mut options: Vec<Opt>, empty: Option<String>) -> Self {
        let value = options
            .iter()
            .find(|o| o.selected)
            .map(|o| o.value.clone())
            .unwrap_or_default();
        if let Some(empty) = empty {
            options.insert(0, Opt::new("", empty, &value));
        }
        Self {
            options,
            value,
            ..Self::new(name, label, "select", "")
        }
    }

    /// Marks the field required, with the marker text of `t`.
    pub fn required(mut self, t: &Tr) -> Self {
        self.required = Some(t.t("field-required"));
        self
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: String) -> Self {
        self.hint = Some(hint);
        self
    }

    /// Sets the autocomplete token.
    pub fn autocomplete(mut self, token: &'static str) -> Self {
        self.autocomplete = token;
        self
    }

    /// Attaches the message of `errors` for this field, if any.
    pub fn errors(mut self, errors: &Errors) -> Self {
        self.error = errors.get(&self.name).map(str::to_owned);
        self
    }

    /// The element id.
    pub fn id(&self) -> String {
        format!("f-{}", self.name)
    }

    /// The ids of the hint and message, for `aria-describedby`.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("f-{}-hint", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("f-{}-error", self.name));
        }
        ids.join(" ")
    }

    /// The `inputmode` for numbers.
    pub fn inputmode(&self) -> &'static str {
        match self.kind {
            "integer" => "numeric",
            "decimal" => "decimal",
            _ => "text",
        }
    }
}

/// A `<fieldset>` of fields.
#[derive(Debug, Clone)]
pub struct Group {
    /// The legend.
    pub legend: String,
    /// The fields.
    pub fields: Vec<Field>,
}

/// Validation messages by field name, in form order.
#[derive(Debug, Clone, Default)]
pub struct Errors(pub Vec<(String, String)>);

impl Errors {
    /// The message of `field`.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Adds a message.
    pub fn add(&mut self, field: impl Into<String>, message: String) {
        self.0.push((field.into(), message));
    }

    /// Every (field, message) pair.
    pub fn list(&self) -> &[(String, String)] {
        &self.0
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The first value of `name` in a decoded form.
pub fn value<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Every value of `name` in a decoded form (checkbox lists).
pub fn values<'a>(form: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    form.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

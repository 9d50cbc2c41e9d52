//! A small reader over a parsed TOML table that names the field of every
//! fault by its dotted path (`item[3].scale`, `bands.band[0].from`).
//!
//! Files are read through [`toml::Table`] rather than derived serde shapes
//! so that a missing key, a key of the wrong type or an unknown key is
//! refused with the exact path a reviewer looks for in the file.

use super::LoadError;
use toml::{Table, Value};

/// The 1-based line of a byte offset of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Parses a file's text into a table; a syntax error names its line.
pub(crate) fn table(file: &str, text: &str) -> Result<Table, LoadError> {
    text.parse::<Table>().map_err(|e| LoadError {
        file: file.to_owned(),
        field: String::new(),
        reason: format!(
            "line {}: {}",
            e.span().map_or(1, |s| line_of(text, s.start)),
            e.message().trim()
        ),
    })
}

/// Whether `name` is a plain identifier: letters, digits, `_`, `.`, `-`.
pub(crate) fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The largest magnitude of a number in a file (option values, bounds,
/// cut-offs), so that no sum over at most [`MAX_ITEMS`] items overflows.
pub(crate) const MAX_VALUE: i64 = 1_000_000;

/// The most items an instrument may have.
pub(crate) const MAX_ITEMS: usize = 1_000;

/// One table of a file, with its dotted path.
#[derive(Clone, Copy)]
pub(crate) struct Node<'a> {
    pub file: &'a str,
    pub path: &'a str,
    pub table: &'a Table,
}

impl<'a> Node<'a> {
    /// The dotted path of `key` in this table.
    pub fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else if key.is_empty() {
            self.path.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// An error about `key` of this table.
    pub fn error(&self, key: &str, reason: impl Into<String>) -> LoadError {
        LoadError {
            file: self.file.to_owned(),
            field: self.field(key),
            reason: reason.into(),
        }
    }

    /// Refuses any key not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), LoadError> {
        match self.table.keys().find(|k| !allowed.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) => Err(self.error(
                k,
                format!("unknown key '{k}'; expected one of: {}", allowed.join(", ")),
            )),
        }
    }

    fn typed<T>(
        &self,
        key: &str,
        what: &str,
        get: impl Fn(&'a Value) -> Option<T>,
    ) -> Result<Option<T>, LoadError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(v) => get(v)
                .map(Some)
                .ok_or_else(|| self.error(key, format!("must be {what}, not {}", v.type_str()))),
        }
    }

    /// An optional string; present means not blank.
    pub fn opt_str(&self, key: &str) -> Result<Option<String>, LoadError> {
        let Some(s) = self.typed(key, "a string", Value::as_str)? else {
            return Ok(None);
        };
        if s.trim().is_empty() {
            return Err(self.error(key, "must not be empty"));
        }
        Ok(Some(s.trim().to_owned()))
    }

    /// A required, non-blank string.
    pub fn str(&self, key: &str) -> Result<String, LoadError> {
        self.opt_str(key)?
            .ok_or_else(|| self.error(key, "is missing"))
    }

    /// A required identifier (letters, digits, `_`, `.`, `-`).
    pub fn name(&self, key: &str) -> Result<String, LoadError> {
        let s = self.str(key)?;
        if is_name(&s) {
            Ok(s)
        } else {
            Err(self.error(
                key,
                format!("'{s}' must be letters, digits, '_', '.' or '-'"),
            ))
        }
    }

    /// An optional whole number within ±[`MAX_VALUE`].
    pub fn opt_int(&self, key: &str) -> Result<Option<i64>, LoadError> {
        let n = self.typed(key, "a whole number", Value::as_integer)?;
        match n {
            Some(n) if n.abs() > MAX_VALUE => Err(self.error(
                key,
                format!("{n} is out of range (at most {MAX_VALUE} either side of 0)"),
            )),
            other => Ok(other),
        }
    }

    /// A required whole number.
    pub fn int(&self, key: &str) -> Result<i64, LoadError> {
        self.opt_int(key)?
            .ok_or_else(|| self.error(key, "is missing"))
    }

    /// An optional boolean, `default` when absent.
    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool, LoadError> {
        Ok(self
            .typed(key, "true or false", Value::as_bool)?
            .unwrap_or(default))
    }

    /// An array of identifiers; absent gives an empty list.
    pub fn names(&self, key: &str) -> Result<Vec<String>, LoadError> {
        let Some(array) = self.typed(key, "an array of strings", Value::as_array)? else {
            return Ok(Vec::new());
        };
        array
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let at = format!("{key}[{i}]");
                match v.as_str() {
                    Some(s) if is_name(s) => Ok(s.to_owned()),
                    Some(s) => Err(self.error(
                        &at,
                        format!("'{s}' must be letters, digits, '_', '.' or '-'"),
                    )),
                    None => Err(self.error(&at, format!("must be a string, not {}", v.type_str()))),
                }
            })
            .collect()
    }

    /// An optional sub-table.
    pub fn opt_table(&self, key: &str) -> Result<Option<&'a Table>, LoadError> {
        self.typed(key, "a table", Value::as_table)
    }

    /// A required sub-table.
    pub fn sub_table(&self, key: &str) -> Result<&'a Table, LoadError> {
        self.opt_table(key)?
            .ok_or_else(|| self.error(key, "is missing"))
    }

    /// An array of tables (`[[key]]` or an array of inline tables), with
    /// the path of each (`key[0]`); absent gives an empty list.
    pub fn tables(&self, key: &str) -> Result<Vec<(String, &'a Table)>, LoadError> {
        let Some(array) = self.typed(key, "an array of tables", Value::as_array)? else {
            return Ok(Vec::new());
        };
        array
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let at = self.field(&format!("{key}[{i}]"));
                match v.as_table() {
                    Some(t) => Ok((at, t)),
                    None => Err(LoadError {
                        file: self.file.to_owned(),
                        field: at,
                        reason: format!("must be a table, not {}", v.type_str()),
                    }),
                }
            })
            .collect()
    }

    /// A string-valued table (`[items] a = "…"`), in key order.
    pub fn string_map(&self, key: &str) -> Result<Vec<(String, String)>, LoadError> {
        let Some(t) = self.opt_table(key)? else {
            return Ok(Vec::new());
        };
        let path = self.field(key);
        let node = Node {
            file: self.file,
            path: &path,
            table: t,
        };
        t.keys().map(|k| Ok((k.clone(), node.str(k)?))).collect()
    }
}

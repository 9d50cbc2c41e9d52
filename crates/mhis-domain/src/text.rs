//! Bounded, trimmed text: the base of every free-text field.

use crate::error::FieldError;

/// Parses `raw` as required text of at most `max_chars` characters,
/// trimmed of surrounding white space, with no control characters.
pub fn required(field: &str, raw: &str, max_chars: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    bounded(field, value, max_chars)
}

/// Like [`required`], but an absent or blank value gives `None`.
pub fn optional(
    field: &str,
    raw: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => bounded(field, value, max_chars).map(Some),
    }
}

fn bounded(field: &str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    let count = value.chars().count();
    if count > max_chars {
        return Err(FieldError::new(
            field,
            format!("is {count} characters long; at most {max_chars} are allowed"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(FieldError::new(field, "contains control characters"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(required("f", "  ab ", 2).unwrap(), "ab");
        assert_eq!(
            required("f", "abc", 2).unwrap_err().message,
            "is 3 characters long; at most 2 are allowed"
        );
        assert_eq!(required("f", "   ", 2).unwrap_err().message, "is required");
        assert_eq!(optional("f", Some(" "), 2).unwrap(), None);
        assert!(required("f", "a\u{0}b", 5).is_err());
    }

    #[test]
    fn counts_characters_not_bytes() {
        // Six Cyrillic letters are twelve bytes in UTF-8.
        assert_eq!(required("f", "Рахимов", 7).unwrap(), "Рахимов");
    }
}

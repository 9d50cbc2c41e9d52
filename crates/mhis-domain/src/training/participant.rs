//! Participants of a training session, and their import from CSV with an
//! error for every bad row.
//!
//! An import is all or nothing: a file with any bad row is refused whole,
//! with every row's errors listed, so a coordinator fixes the spreadsheet
//! and imports it again without creating duplicates of the good rows.

use super::needs::{Questionnaire, short_text};
use crate::FieldError;
use crate::migrant::Sex;
use serde::Serialize;

/// The CSV header, in this order (the first row of an import).
pub const CSV_COLUMNS: [&str; 7] = [
    "family_name",
    "given_names",
    "organisation",
    "organisation_type",
    "role",
    "sex",
    "contact",
];

/// The most rows one import takes.
pub const MAX_CSV_ROWS: usize = 2000;

/// A participant's details, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewParticipant {
    /// Family name.
    pub family_name: String,
    /// Given names.
    pub given_names: String,
    /// Organisation.
    pub organisation: String,
    /// Organisation type (one of the questionnaire's).
    pub organisation_type: String,
    /// Role or position.
    pub role: String,
    /// Sex.
    pub sex: Sex,
    /// Telephone or e-mail, optional.
    pub contact: Option<String>,
}

impl NewParticipant {
    /// Parses the seven fields (in [`CSV_COLUMNS`] order), returning every
    /// error, each naming its column.
    pub fn parse(q: &Questionnaire, fields: [&str; 7]) -> Result<Self, Vec<FieldError>> {
        let [family, given, org, org_type, role, sex, contact] = fields;
        let mut errors = Vec::new();
        let mut keep = |r: Result<String, FieldError>| match r {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                String::new()
            }
        };
        let family_name = keep(short_text("family_name", family, 100));
        let given_names = keep(short_text("given_names", given, 100));
        let organisation = keep(short_text("organisation", org, 200));
        let organisation_type = keep(q.parse_organisation_type("organisation_type", org_type));
        let role = keep(short_text("role", role, 100));
        let contact = contact.trim();
        let contact = if contact.is_empty() {
            None
        } else {
            Some(keep(short_text("contact", contact, 200)))
        };
        let sex = Sex::parse("sex", sex.trim().to_lowercase().as_str());
        let sex = match sex {
            Ok(s) => Some(s),
            Err(_) => {
                errors.push(FieldError::new(
                    "sex",
                    "must be one of: female, male, other",
                ));
                None
            }
        };
        match sex {
            Some(sex) if errors.is_empty() => Ok(Self {
                family_name,
                given_names,
                organisation,
                organisation_type,
                role,
                sex,
                contact,
            }),
            _ => Err(errors),
        }
    }
}

/// An error of one row of an imported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Line of the file, from 1 (the header is line 1).
    pub line: usize,
    /// The column, or `row` for the row as a whole.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// Parses a participants CSV file (UTF-8, comma-separated, a header row of
/// [`CSV_COLUMNS`]): every participant, or every error of every row.
pub fn parse_csv(q: &Questionnaire, bytes: &[u8]) -> Result<Vec<NewParticipant>, Vec<RowError>> {
    let row_error = |line: usize, field: &str, message: String| RowError {
        line,
        field: field.to_owned(),
        message,
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Err(e) => return Err(vec![row_error(1, "row", e.to_string())]),
    };
    if header != CSV_COLUMNS {
        return Err(vec![row_error(
            1,
            "row",
            format!("the header must be: {}", CSV_COLUMNS.join(",")),
        )]);
    }
    let mut people = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i + 2, |p| p.line() as usize);
        if i >= MAX_CSV_ROWS {
            errors.push(row_error(
                line,
                "row",
                format!("a file may hold at most {MAX_CSV_ROWS} participants"),
            ));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(row_error(line, "row", e.to_string()));
                continue;
            }
        };
        if record.len() != CSV_COLUMNS.len() {
            errors.push(row_error(
                line,
                "row",
                format!(
                    "has {} columns; expected {}",
                    record.len(),
                    CSV_COLUMNS.len()
                ),
            ));
            continue;
        }
        let fields: [&str; 7] = std::array::from_fn(|c| record.get(c).unwrap_or(""));
        match NewParticipant::parse(q, fields) {
            Ok(p) => people.push(p),
            Err(es) => errors.extend(es.into_iter().map(|e| row_error(line, &e.field, e.message))),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if people.is_empty() {
        return Err(vec![row_error(
            1,
            "row",
            "the file holds no participants".into(),
        )]);
    }
    Ok(people)
}

#[cfg(test)]
mod tests {
    use super::super::Training;
    use super::*;

    const HEADER: &str =
        "family_name,given_names,organisation,organisation_type,role,sex,contact\n";

    #[test]
    fn a_good_file_imports_every_row() {
        let q = Training::built_in().questionnaire;
        let text = format!(
            "{HEADER}Karimova,Dilnoza,Dushanbe PHC 3,primary_care,Family doctor,female,+992 900 000 001\n\"Ivanov, Jr\",Petr,Border committee,border_committee,Officer,MALE,\n"
        );
        let people = parse_csv(&q, text.as_bytes()).unwrap();
        assert_eq!(people.len(), 2);
        assert_eq!(people[1].family_name, "Ivanov, Jr");
        assert_eq!(people[1].sex, Sex::Male);
        assert_eq!(people[1].contact, None);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line_and_column() {
        let q = Training::built_in().questionnaire;
        let text = format!(
            "{HEADER}Karimova,Dilnoza,PHC 3,primary_care,Doctor,female,\n,Ali,PHC 4,clinic,Nurse,female,\nRahimov,Umed,MoH,ministry_of_health,Adviser,unknown,\nshort,row\n"
        );
        let errors = parse_csv(&q, text.as_bytes()).unwrap_err();
        let got: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            got,
            [
                (3, "family_name"),
                (3, "organisation_type"),
                (4, "sex"),
                (5, "row")
            ]
        );
    }

    #[test]
    fn a_wrong_header_or_an_empty_file_is_refused() {
        let q = Training::built_in().questionnaire;
        let e = parse_csv(&q, b"name,org\nA,B\n").unwrap_err();
        assert_eq!((e[0].line, e[0].field.as_str()), (1, "row"));
        assert!(parse_csv(&q, HEADER.as_bytes()).is_err());
    }
}

//! Printable health clearance certificate: a one-page A4 PDF with the QR
//! code and the certificate fields in words.
//!
//! The page carries what the signed QR code carries and nothing more: no
//! diagnoses and no results (see `shared/design/certificates.md`). The
//! QR code is authoritative; the printed text is there for people to read.
//! Text is in English, followed by the holder's preferred language when
//! it is one of [`LANGUAGES`] (others: English only). Labels live in a
//! small table in this module, one [`Labels`] per language; Tajik, Uzbek
//! or Kyrgyz labels would be one more entry each.
//!
//! Names as in the travel document are often Cyrillic, so the text is set
//! in a Unicode TrueType font embedded (as a subset) in the PDF. The
//! caller passes the font bytes ([`CertificateFonts::from_bytes`]), or
//! [`CertificateFonts::dejavu`] reads DejaVu Sans from Debian's
//! `fonts-dejavu-core` package. Characters are laid out one glyph each,
//! left to right, without shaping: Latin, Cyrillic and Greek render;
//! scripts that need shaping (Arabic, Indic) are not supported, and a
//! character the font lacks is an error rather than a blank box.
//!
//! The QR code is drawn as vector squares ([`QR_SIDE_MM`] wide, quiet zone
//! kept clear), with the same encoding as [`crate::qr::qr_png`].

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;

use crate::error::{CertError, Result};
use crate::payload::{HealthClearance, MhcPayload, Outcome, TrainingAttendance};
use crate::qr::qr_code;

/// A4 page width, in millimetres (ISO 216).
pub const A4_WIDTH_MM: f32 = 210.0;
/// A4 page height, in millimetres (ISO 216).
pub const A4_HEIGHT_MM: f32 = 297.0;
/// Side of the printed QR symbol, quiet zone excluded, in millimetres.
pub const QR_SIDE_MM: f32 = 64.0;
/// Where Debian's `fonts-dejavu-core` installs DejaVu Sans.
pub const DEJAVU_SANS_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
/// Where Debian's `fonts-dejavu-core` installs DejaVu Sans Bold.
pub const DEJAVU_SANS_BOLD_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

/// Languages the certificate text is printed in, besides English (which
/// is always printed).
pub const LANGUAGES: &[&str] = &["en", "ru", "fr"];

/// Page margin, in millimetres.
const MARGIN_MM: f32 = 18.0;
/// Width of the label column, in millimetres.
const LABEL_COLUMN_MM: f32 = 66.0;
/// Clear space kept around the QR symbol (at least the 4-module quiet
/// zone of ISO/IEC 18004 for any symbol up to version 40 at this size).
const QR_CLEAR_MM: f32 = 6.0;

/// Points per millimetre (1 pt = 1/72 in).
fn mm(v: f32) -> f32 {
    v * 72.0 / 25.4
}

/// Label texts of the certificate in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Labels {
    /// ISO 639-1 code of the language.
    pub language: &'static str,
    /// Document title.
    pub title: &'static str,
    /// Name as written in the travel document.
    pub name_in_document: &'static str,
    /// Name in Latin letters (ICAO 9303 transliteration).
    pub name_latin: &'static str,
    /// Date of birth.
    pub date_of_birth: &'static str,
    /// Certificate identifier.
    pub certificate_id: &'static str,
    /// Date of the health assessment.
    pub assessment_date: &'static str,
    /// Destination country.
    pub destination: &'static str,
    /// Assessment protocol and version.
    pub protocol: &'static str,
    /// Outcome of the assessment.
    pub outcome: &'static str,
    /// Last day of validity.
    pub valid_until: &'static str,
    /// Issuing site.
    pub issuing_site: &'static str,
    /// [`Outcome::Cleared`] in words.
    pub cleared: &'static str,
    /// [`Outcome::ClearedWithFollowUp`] in words.
    pub cleared_with_follow_up: &'static str,
    /// How to verify the certificate.
    pub verify: &'static str,
    /// Statement that the certificate carries no health data.
    pub no_health_data: &'static str,
}

impl Labels {
    /// The outcome in words.
    pub fn outcome_text(&self, outcome: Outcome) -> &'static str {
        match outcome {
            Outcome::Cleared => self.cleared,
            Outcome::ClearedWithFollowUp => self.cleared_with_follow_up,
        }
    }
}

const EN: Labels = Labels {
    language: "en",
    title: "Migration Health Clearance Certificate",
    name_in_document: "Name (as in travel document)",
    name_latin: "Name (Latin letters)",
    date_of_birth: "Date of birth",
    certificate_id: "Certificate ID",
    assessment_date: "Health assessment date",
    destination: "Destination country",
    protocol: "Assessment protocol",
    outcome: "Outcome",
    valid_until: "Valid until (inclusive)",
    issuing_site: "Issuing site",
    cleared: "Cleared for travel",
    cleared_with_follow_up: "Cleared for travel, with follow-up arranged at destination",
    verify: "To verify: scan the QR code with an mhis verifier, or run “mhis verify” on its \
             text. Verification works offline with the issuer's trust list. The signed QR code \
             is authoritative; the printed text is for reading only.",
    no_health_data: "This certificate contains no diagnoses and no test results.",
};

const RU: Labels = Labels {
    language: "ru",
    title: "Сертификат медицинского допуска мигранта",
    name_in_document: "Фамилия, имя (как в проездном документе)",
    name_latin: "Фамилия, имя (латиницей)",
    date_of_birth: "Дата рождения",
    certificate_id: "Номер сертификата",
    assessment_date: "Дата медицинского освидетельствования",
    destination: "Страна назначения",
    protocol: "Протокол освидетельствования",
    outcome: "Заключение",
    valid_until: "Действителен по (включительно)",
    issuing_site: "Место выдачи",
    cleared: "Допущен(а) к поездке",
    cleared_with_follow_up: "Допущен(а) к поездке; наблюдение в стране назначения организовано",
    verify: "Проверка: отсканируйте QR-код программой проверки mhis или выполните «mhis verify» \
             с его текстом. Проверка работает без интернета по списку доверенных ключей \
             издателя. Юридическую силу имеет подписанный QR-код; напечатанный текст приведён \
             только для чтения.",
    no_health_data: "Сертификат не содержит диагнозов и результатов обследований.",
};

const FR: Labels = Labels {
    language: "fr",
    title: "Certificat d'aptitude médicale à la migration",
    name_in_document: "Nom (comme sur le document de voyage)",
    name_latin: "Nom (en caractères latins)",
    date_of_birth: "Date de naissance",
    certificate_id: "Identifiant du certificat",
    assessment_date: "Date de l'évaluation médicale",
    destination: "Pays de destination",
    protocol: "Protocole d'évaluation",
    outcome: "Conclusion",
    valid_until: "Valable jusqu'au (inclus)",
    issuing_site: "Site émetteur",
    cleared: "Autorisé(e) à voyager",
    cleared_with_follow_up: "Autorisé(e) à voyager\u{a0}; suivi organisé dans le pays de destination",
    verify: "Vérification\u{a0}: scannez le code QR avec un vérificateur mhis, ou exécutez \
             «\u{a0}mhis verify\u{a0}» sur son texte. La vérification fonctionne hors ligne avec la liste \
             de confiance de l'émetteur. Le code QR signé fait foi\u{a0}; le texte imprimé n'est \
             donné qu'à titre de lecture.",
    no_health_data: "Ce certificat ne contient aucun diagnostic ni aucun résultat d'examen.",
};

const ALL_LABELS: &[&Labels] = &[&EN, &RU, &FR];

/// The labels for a language tag (`"ru"`, `"ru-RU"`, `"FR_ca"`: the
/// primary subtag counts), if the certificate is printed in it.
pub fn labels(language: &str) -> Option<&'static Labels> {
    let primary = language
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    ALL_LABELS.iter().copied().find(|l| l.language == primary)
}

/// The regular and bold TrueType fonts the certificate is set in; both
/// must cover every character printed (labels and names).
#[derive(Clone)]
pub struct CertificateFonts {
    regular: Vec<u8>,
    bold: Vec<u8>,
}

impl std::fmt::Debug for CertificateFonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateFonts")
            .field("regular_bytes", &self.regular.len())
            .field("bold_bytes", &self.bold.len())
            .finish()
    }
}

impl CertificateFonts {
    /// Fonts from TrueType (`glyf`) font files' bytes; fails if either is
    /// not a parseable font.
    pub fn from_bytes(regular: Vec<u8>, bold: Vec<u8>) -> Result<Self> {
        for (what, data) in [("regular", &regular), ("bold", &bold)] {
            ttf_parser::Face::parse(data, 0)
                .map_err(|e| CertError::Encoding(format!("PDF: {what} font: {e}")))?;
        }
        Ok(Self { regular, bold })
    }

    /// Reads the fonts from two font files.
    pub fn load(regular: &Path, bold: &Path) -> Result<Self> {
        let read = |p: &Path| {
            std::fs::read(p)
                .map_err(|e| CertError::Encoding(format!("PDF: font {}: {e}", p.display())))
        };
        Self::from_bytes(read(regular)?, read(bold)?)
    }

    /// DejaVu Sans and DejaVu Sans Bold as installed by Debian's
    /// `fonts-dejavu-core` package ([`DEJAVU_SANS_PATH`],
    /// [`DEJAVU_SANS_BOLD_PATH`]); the error says which package to install
    /// when they are missing.
    pub fn dejavu() -> Result<Self> {
        let (regular, bold) = (
            Path::new(DEJAVU_SANS_PATH),
            Path::new(DEJAVU_SANS_BOLD_PATH),
        );
        for p in [regular, bold] {
            if !p.is_file() {
                return Err(CertError::Encoding(format!(
                    "PDF: font {} not found; install the Debian package fonts-dejavu-core \
                     or pass fonts with CertificateFonts::from_bytes",
                    p.display()
                )));
            }
        }
        Self::load(regular, bold)
    }
}

/// Renders a health clearance certificate as a one-page A4 PDF, in
/// English and in `language` when it is one of [`LANGUAGES`], with fonts
/// from [`CertificateFonts::dejavu`]. `qr_text` is the issued certificate
/// text (`MHC1:…`).
pub fn certificate_pdf(
    payload: &HealthClearance,
    qr_text: &str,
    language: &str,
) -> Result<Vec<u8>> {
    certificate_pdf_with_fonts(payload, qr_text, language, &CertificateFonts::dejavu()?)
}

/// Like [`certificate_pdf`], with the given fonts. No I/O.
pub fn certificate_pdf_with_fonts(
    payload: &HealthClearance,
    qr_text: &str,
    language: &str,
    fonts: &CertificateFonts,
) -> Result<Vec<u8>> {
    MhcPayload::HealthClearance(payload.clone()).validate()?;
    let code = qr_code(qr_text)?;
    let second = labels(language).filter(|l| l.language != EN.language);

    let mut page = PageWriter {
        content: Content::new(),
        regular: FontUse::new(&fonts.regular, b"F1")?,
        bold: FontUse::new(&fonts.bold, b"F2")?,
    };
    let page_w = mm(A4_WIDTH_MM);
    let left = mm(MARGIN_MM);
    let right = page_w - mm(MARGIN_MM);
    let text_w = right - left;
    let mut y = mm(A4_HEIGHT_MM) - mm(MARGIN_MM);

    // Title.
    y -= 18.0;
    page.centred(Style::Bold, 18.0, BLACK, page_w / 2.0, y, EN.title)?;
    if let Some(l) = second {
        y -= 19.0;
        page.centred(Style::Bold, 13.0, GREY, page_w / 2.0, y, l.title)?;
    }

    // QR code, centred, with its quiet zone clear.
    y -= mm(QR_CLEAR_MM) + 6.0;
    let side = mm(QR_SIDE_MM);
    page.qr(&code, (page_w - side) / 2.0, y - side, side);
    y -= side + mm(QR_CLEAR_MM);

    // Fields.
    page.rule(left, right, y);
    y -= 4.0;
    let name_doc = display_name(
        payload.name.family_name.as_deref(),
        payload.name.given_name.as_deref(),
    );
    let name_latin = display_name(
        Some(&mrz_to_text(&payload.name.family_name_mrz)),
        payload
            .name
            .given_name_mrz
            .as_deref()
            .map(mrz_to_text)
            .as_deref(),
    );
    let protocol = format!("{} v{}", payload.protocol_id, payload.protocol_version);
    let mut outcome = vec![EN.outcome_text(payload.outcome)];
    outcome.extend(second.map(|l| l.outcome_text(payload.outcome)));
    let rows: [(LabelOf, Vec<&str>); 10] = [
        (|l| l.name_in_document, vec![name_doc.as_str()]),
        (|l| l.name_latin, vec![name_latin.as_str()]),
        (|l| l.date_of_birth, vec![&payload.date_of_birth]),
        (|l| l.certificate_id, vec![&payload.certificate_id]),
        (|l| l.assessment_date, vec![&payload.assessment_date]),
        (|l| l.destination, vec![&payload.destination_country]),
        (|l| l.protocol, vec![&protocol]),
        (|l| l.outcome, outcome),
        (|l| l.valid_until, vec![&payload.valid_until]),
        (|l| l.issuing_site, vec![&payload.issuing_site]),
    ];
    let value_x = left + mm(LABEL_COLUMN_MM);
    let value_w = right - value_x;
    let label_w = mm(LABEL_COLUMN_MM) - 6.0;
    for (label, values) in rows {
        let top = y;
        let mut ly = top;
        for line in page.bold.wrap(label(&EN), 9.0, label_w) {
            ly -= 11.0;
            page.text(Style::Bold, 9.0, BLACK, left, ly, &line)?;
        }
        if let Some(l) = second {
            for line in page.regular.wrap(label(l), 8.5, label_w) {
                ly -= 10.5;
                page.text(Style::Regular, 8.5, GREY, left, ly, &line)?;
            }
        }
        let mut vy = top;
        for (i, value) in values.into_iter().enumerate() {
            // A translated value (the outcome) follows the English one.
            let grey = if i == 0 { BLACK } else { GREY };
            for line in page.regular.wrap(value, 11.0, value_w) {
                vy -= 13.0;
                page.text(Style::Regular, 11.0, grey, value_x, vy, &line)?;
            }
        }
        y = ly.min(vy) - 5.0;
        page.rule(left, right, y);
        y -= 1.0;
    }

    // How to verify; what the certificate does not carry.
    y -= 6.0;
    for l in std::iter::once(&EN).chain(second) {
        for (style, text) in [(Style::Regular, l.verify), (Style::Bold, l.no_health_data)] {
            for line in page.font(style).wrap(text, 8.5, text_w) {
                y -= 11.0;
                page.text(style, 8.5, BLACK, left, y, &line)?;
            }
        }
        y -= 6.0;
    }
    if y < mm(MARGIN_MM) / 2.0 {
        return Err(CertError::Encoding(
            "PDF: certificate text does not fit on one page".into(),
        ));
    }

    let title = format!("{} {}", EN.title, payload.certificate_id);
    page.finish(&title, second.map_or(EN.language, |l| l.language))
}

/// Label texts of a training attendance certificate in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttendanceLabels {
    /// ISO 639-1 code of the language.
    pub language: &'static str,
    /// Document title.
    pub title: &'static str,
    /// Participant's name.
    pub name: &'static str,
    /// Certificate identifier.
    pub certificate_id: &'static str,
    /// The training attended.
    pub training: &'static str,
    /// Modules taught.
    pub modules: &'static str,
    /// Date the training was completed.
    pub completed: &'static str,
    /// Last day of validity.
    pub valid_until: &'static str,
    /// Issuing site.
    pub issuing_site: &'static str,
    /// How to verify the certificate.
    pub verify: &'static str,
}

const ATTENDANCE_EN: AttendanceLabels = AttendanceLabels {
    language: "en",
    title: "Training Attendance Certificate",
    name: "Participant",
    certificate_id: "Certificate ID",
    training: "Training",
    modules: "Modules",
    completed: "Completed on",
    valid_until: "Valid until (inclusive)",
    issuing_site: "Issuing site",
    verify: "To verify: scan the QR code with an mhis verifier, or run “mhis verify” on its \
             text. Verification works offline with the issuer's trust list. The signed QR code \
             is authoritative; the printed text is for reading only.",
};

const ATTENDANCE_RU: AttendanceLabels = AttendanceLabels {
    language: "ru",
    title: "Сертификат об участии в обучении",
    name: "Участник",
    certificate_id: "Номер сертификата",
    training: "Обучение",
    modules: "Модули",
    completed: "Дата окончания",
    valid_until: "Действителен по (включительно)",
    issuing_site: "Место выдачи",
    verify: "Проверка: отсканируйте QR-код программой проверки mhis или выполните «mhis verify» \
             с его текстом. Проверка работает без интернета по списку доверенных ключей \
             издателя.",
};

const ATTENDANCE_FR: AttendanceLabels = AttendanceLabels {
    language: "fr",
    title: "Certificat de participation à une formation",
    name: "Participant(e)",
    certificate_id: "Identifiant du certificat",
    training: "Formation",
    modules: "Modules",
    completed: "Terminée le",
    valid_until: "Valable jusqu'au (inclus)",
    issuing_site: "Site émetteur",
    verify: "Vérification\u{a0}: scannez le code QR avec un vérificateur mhis, ou exécutez \
             «\u{a0}mhis verify\u{a0}» sur son texte. La vérification fonctionne hors ligne avec la \
             liste de confiance de l'émetteur.",
};

/// Renders a training attendance certificate as a one-page A4 PDF, in
/// English and in `language` when it is Russian or French. `modules` are
/// the modules' titles as printed (the QR code carries their ids).
pub fn attendance_pdf_with_fonts(
    payload: &TrainingAttendance,
    modules: &[String],
    qr_text: &str,
    language: &str,
    fonts: &CertificateFonts,
) -> Result<Vec<u8>> {
    MhcPayload::TrainingAttendance(payload.clone()).validate()?;
    let code = qr_code(qr_text)?;
    let second = labels(language).and_then(|l| match l.language {
        "ru" => Some(&ATTENDANCE_RU),
        "fr" => Some(&ATTENDANCE_FR),
        _ => None,
    });
    let en = &ATTENDANCE_EN;
    let mut page = PageWriter {
        content: Content::new(),
        regular: FontUse::new(&fonts.regular, b"F1")?,
        bold: FontUse::new(&fonts.bold, b"F2")?,
    };
    let page_w = mm(A4_WIDTH_MM);
    let left = mm(MARGIN_MM);
    let right = page_w - mm(MARGIN_MM);
    let text_w = right - left;
    let mut y = mm(A4_HEIGHT_MM) - mm(MARGIN_MM);
    y -= 18.0;
    page.centred(Style::Bold, 18.0, BLACK, page_w / 2.0, y, en.title)?;
    if let Some(l) = second {
        y -= 19.0;
        page.centred(Style::Bold, 13.0, GREY, page_w / 2.0, y, l.title)?;
    }
    y -= mm(QR_CLEAR_MM) + 6.0;
    let side = mm(QR_SIDE_MM);
    page.qr(&code, (page_w - side) / 2.0, y - side, side);
    y -= side + mm(QR_CLEAR_MM);
    page.rule(left, right, y);
    y -= 4.0;
    let name = display_name(
        payload.name.family_name.as_deref(),
        payload.name.given_name.as_deref(),
    );
    let training = payload
        .title
        .clone()
        .unwrap_or_else(|| payload.course_id.clone());
    let module_list = modules.join("; ");
    type AttendanceLabelOf = fn(&AttendanceLabels) -> &'static str;
    let rows: [(AttendanceLabelOf, &str); 7] = [
        (|l| l.name, name.as_str()),
        (|l| l.certificate_id, &payload.certificate_id),
        (|l| l.training, &training),
        (|l| l.modules, &module_list),
        (|l| l.completed, &payload.completion_date),
        (|l| l.valid_until, &payload.valid_until),
        (|l| l.issuing_site, &payload.issuing_site),
    ];
    let value_x = left + mm(LABEL_COLUMN_MM);
    let value_w = right - value_x;
    let label_w = mm(LABEL_COLUMN_MM) - 6.0;
    for (label, value) in rows {
        let top = y;
        let mut ly = top;
        for line in page.bold.wrap(label(en), 9.0, label_w) {
            ly -= 11.0;
            page.text(Style::Bold, 9.0, BLACK, left, ly, &line)?;
        }
        if let Some(l) = second {
            for line in page.regular.wrap(label(l), 8.5, label_w) {
                ly -= 10.5;
                page.text(Style::Regular, 8.5, GREY, left, ly, &line)?;
            }
        }
        let mut vy = top;
        for line in page.regular.wrap(value, 11.0, value_w) {
            vy -= 13.0;
            page.text(Style::Regular, 11.0, BLACK, value_x, vy, &line)?;
        }
        y = ly.min(vy) - 5.0;
        page.rule(left, right, y);
        y -= 1.0;
    }
    y -= 6.0;
    for l in std::iter::once(en).chain(second) {
        for line in page.regular.wrap(l.verify, 8.5, text_w) {
            y -= 11.0;
            page.text(Style::Regular, 8.5, BLACK, left, y, &line)?;
        }
        y -= 6.0;
    }
    if y < mm(MARGIN_MM) / 2.0 {
        return Err(CertError::Encoding(
            "PDF: certificate text does not fit on one page".into(),
        ));
    }
    let title = format!("{} {}", en.title, payload.certificate_id);
    page.finish(&title, second.map_or(en.language, |l| l.language))
}

/// Name for display: `Family, Given`, or whichever part is present.
fn display_name(family: Option<&str>, given: Option<&str>) -> String {
    let parts: Vec<&str> = [family, given]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join(", ")
    }
}

/// ICAO 9303 MRZ filler `<` between name parts printed as a space.
fn mrz_to_text(s: &str) -> String {
    s.split('<')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Picks one label out of a language's [`Labels`].
type LabelOf = fn(&Labels) -> &'static str;

const BLACK: f32 = 0.0;
const GREY: f32 = 0.35;

#[derive(Clone, Copy)]
enum Style {
    Regular,
    Bold,
}

/// One embedded font: glyphs used so far (remapped to the subset's glyph
/// IDs) and the characters they stand for.
struct FontUse<'a> {
    data: &'a [u8],
    face: ttf_parser::Face<'a>,
    resource: &'static [u8],
    remapper: GlyphRemapper,
    to_unicode: BTreeMap<u16, char>,
}

impl<'a> FontUse<'a> {
    fn new(data: &'a [u8], resource: &'static [u8]) -> Result<Self> {
        let face = ttf_parser::Face::parse(data, 0)
            .map_err(|e| CertError::Encoding(format!("PDF: font: {e}")))?;
        Ok(Self {
            data,
            face,
            resource,
            remapper: GlyphRemapper::new(),
            to_unicode: BTreeMap::new(),
        })
    }

    fn units_per_em(&self) -> f32 {
        f32::from(self.face.units_per_em())
    }

    /// Text width in points at `size`; characters without a glyph count 0.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .filter_map(|c| self.face.glyph_index(c))
            .map(|g| u32::from(self.face.glyph_hor_advance(g).unwrap_or(0)))
            .sum();
        units as f32 * size / self.units_per_em()
    }

    /// Greedy word wrap to `max` points; a word wider than a line is cut.
    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut cur = String::new();
        // Only U+0020 breaks a line: no-break spaces (French punctuation)
        // stay inside their word.
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let candidate = if cur.is_empty() {
                word.to_owned()
            } else {
                format!("{cur} {word}")
            };
            if self.width(&candidate, size) <= max {
                cur = candidate;
                continue;
            }
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            for c in word.chars() {
                cur.push(c);
                if self.width(&cur, size) > max && cur.chars().count() > 1 {
                    cur.pop();
                    lines.push(std::mem::replace(&mut cur, c.to_string()));
                }
            }
        }
        if !cur.is_empty() || lines.is_empty() {
            lines.push(cur);
        }
        lines
    }

    /// The text as 2-byte CIDs (the subset's glyph IDs, Identity-H).
    fn encode(&mut self, text: &str) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let gid = self.face.glyph_index(c).ok_or_else(|| {
                CertError::Encoding(format!(
                    "PDF: the font has no glyph for {c:?} (U+{:04X})",
                    u32::from(c)
                ))
            })?;
            let cid = self.remapper.remap(gid.0);
            self.to_unicode.entry(cid).or_insert(c);
            out.extend_from_slice(&cid.to_be_bytes());
        }
        Ok(out)
    }

    /// Writes the font (Type0 / CIDFontType2, subset, ToUnicode map) with
    /// `font_id` as its Type0 dictionary.
    fn write(&self, pdf: &mut Pdf, font_id: Ref, next: &mut Ref) -> Result<()> {
        let cid_id = next.bump();
        let descriptor_id = next.bump();
        let cmap_id = next.bump();
        let file_id = next.bump();

        let subset = subsetter::subset(self.data, 0, &self.remapper)
            .map_err(|e| CertError::Encoding(format!("PDF: font subset: {e}")))?;
        let family = self
            .face
            .names()
            .into_iter()
            .find(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME && n.is_unicode())
            .and_then(|n| n.to_string())
            .unwrap_or_else(|| "Font".into())
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "");
        let base_font = format!("{}+{family}", self.subset_tag());
        let system_info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        let scale = 1000.0 / self.units_per_em();

        pdf.type0_font(font_id)
            .base_font(Name(base_font.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_id)
            .to_unicode(cmap_id);

        let widths: Vec<f32> = self
            .remapper
            .remapped_gids()
            .map(|g| {
                f32::from(
                    self.face
                        .glyph_hor_advance(ttf_parser::GlyphId(g))
                        .unwrap_or(0),
                ) * scale
            })
            .collect();
        let mut cid = pdf.cid_font(cid_id);
        cid.subtype(CidFontType::Type2)
            .base_font(Name(base_font.as_bytes()))
            .system_info(system_info)
            .font_descriptor(descriptor_id)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, widths);
        cid.finish();

        let bbox = self.face.global_bounding_box();
        let mut flags = FontFlags::SYMBOLIC;
        if self.face.is_monospaced() {
            flags |= FontFlags::FIXED_PITCH;
        }
        pdf.font_descriptor(descriptor_id)
            .name(Name(base_font.as_bytes()))
            .flags(flags)
            .bbox(Rect::new(
                f32::from(bbox.x_min) * scale,
                f32::from(bbox.y_min) * scale,
                f32::from(bbox.x_max) * scale,
                f32::from(bbox.y_max) * scale,
            ))
            .italic_angle(self.face.italic_angle())
            .ascent(f32::from(self.face.ascender()) * scale)
            .descent(f32::from(self.face.descender()) * scale)
            .cap_height(
                f32::from(self.face.capital_height().unwrap_or(self.face.ascender())) * scale,
            )
            .stem_v(if self.face.is_bold() { 140.0 } else { 80.0 })
            .font_file2(file_id);

        let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
        for (&g, &c) in &self.to_unicode {
            cmap.pair(g, c);
        }
        let cmap = cmap.finish();
        pdf.cmap(cmap_id, &cmap);

        let compressed = deflate(&subset)?;
        pdf.stream(file_id, &compressed)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), subset.len() as i32);
        Ok(())
    }

    /// Six capital letters naming the subset (ISO 32000-1 §9.6.4).
    fn subset_tag(&self) -> String {
        let mut h = Sha256::new();
        for g in self.remapper.remapped_gids() {
            h.update(g.to_be_bytes());
        }
        h.finalize()
            .iter()
            .take(6)
            .map(|b| char::from(b'A' + b % 26))
            .collect()
    }
}

/// The page being drawn: its content stream and the fonts used.
struct PageWriter<'a> {
    content: Content,
    regular: FontUse<'a>,
    bold: FontUse<'a>,
}

impl PageWriter<'_> {
    fn font(&self, style: Style) -> &FontUse<'_> {
        match style {
            Style::Regular => &self.regular,
            Style::Bold => &self.bold,
        }
    }

    /// Draws one line of text with its baseline starting at `(x, y)`.
    fn text(&mut self, style: Style, size: f32, grey: f32, x: f32, y: f32, s: &str) -> Result<()> {
        let font = match style {
            Style::Regular => &mut self.regular,
            Style::Bold => &mut self.bold,
        };
        let bytes = font.encode(s)?;
        self.content
            .begin_text()
            .set_fill_gray(grey)
            .set_font(Name(font.resource), size)
            .set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y])
            .show(Str(&bytes))
            .end_text();
        Ok(())
    }

    /// Draws one line of text centred on `cx`.
    fn centred(
        &mut self,
        style: Style,
        size: f32,
        grey: f32,
        cx: f32,
        y: f32,
        s: &str,
    ) -> Result<()> {
        let w = self.font(style).width(s, size);
        self.text(style, size, grey, cx - w / 2.0, y, s)
    }

    /// A thin horizontal rule.
    fn rule(&mut self, x0: f32, x1: f32, y: f32) {
        self.content
            .set_stroke_gray(0.7)
            .set_line_width(0.5)
            .move_to(x0, y)
            .line_to(x1, y)
            .stroke();
    }

    /// Draws the QR symbol with its lower-left corner at `(x, y)`, `side`
    /// points wide: dark modules as one path of row runs, so that
    /// renderers leave no seams between modules.
    fn qr(&mut self, code: &qrcode::QrCode, x: f32, y: f32, side: f32) {
        let n = code.width();
        let colors = code.to_colors();
        let module = side / n as f32;
        self.content.set_fill_gray(0.0);
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if colors[row * n + col] != qrcode::Color::Dark {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < n && colors[row * n + col] == qrcode::Color::Dark {
                    col += 1;
                }
                self.content.rect(
                    x + start as f32 * module,
                    y + side - (row + 1) as f32 * module,
                    (col - start) as f32 * module,
                    module,
                );
            }
        }
        self.content.fill_nonzero();
    }

    /// Assembles the document.
    fn finish(self, title: &str, language: &str) -> Result<Vec<u8>> {
        let mut next = Ref::new(1);
        let catalog_id = next.bump();
        let tree_id = next.bump();
        let page_id = next.bump();
        let content_id = next.bump();
        let info_id = next.bump();
        let regular_id = next.bump();
        let bold_id = next.bump();

        let mut pdf = Pdf::new();
        pdf.catalog(catalog_id)
            .pages(tree_id)
            .lang(TextStr(language));
        pdf.pages(tree_id).kids([page_id]).count(1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, mm(A4_WIDTH_MM), mm(A4_HEIGHT_MM)))
            .parent(tree_id)
            .contents(content_id);
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        fonts.pair(Name(self.regular.resource), regular_id);
        fonts.pair(Name(self.bold.resource), bold_id);
        fonts.finish();
        resources.finish();
        page.finish();

        let content = deflate(&self.content.finish())?;
        pdf.stream(content_id, &content).filter(Filter::FlateDecode);

        pdf.document_info(info_id)
            .title(TextStr(title))
            .producer(TextStr("mhis"));

        self.regular.write(&mut pdf, regular_id, &mut next)?;
        self.bold.write(&mut pdf, bold_id, &mut next)?;
        Ok(pdf.finish())
    }
}

/// zlib (FlateDecode) compression of a stream.
fn deflate(data: &[u8]) -> Result<Vec<u8>> {
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::best());
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .map_err(|e| CertError::Encoding(format!("PDF: deflate: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags() {
        assert_eq!(labels("ru").unwrap().language, "ru");
        assert_eq!(labels("ru-RU").unwrap().language, "ru");
        assert_eq!(labels("FR_ca").unwrap().language, "fr");
        assert_eq!(labels("en").unwrap().language, "en");
        assert!(labels("tg").is_none());
        assert!(labels("").is_none());
        for l in ALL_LABELS {
            assert!(LANGUAGES.contains(&l.language));
        }
    }

    #[test]
    fn names() {
        assert_eq!(mrz_to_text("MUELLER<<LUKASIEWICZ"), "MUELLER LUKASIEWICZ");
        assert_eq!(display_name(Some("Иванова"), Some("Анна")), "Иванова, Анна");
        assert_eq!(display_name(None, Some(" ")), "—");
    }
}

//! Printable certificate and SVG QR code, tested by rendering: the PDF is
//! parsed back and, with Debian's poppler-utils, rasterised and read as a
//! person's scanner and eyes would; the SVG is rasterised and its QR code
//! decoded.
//!
//! Without `pdftoppm`/`pdftotext` the rendering tests fail when `CI=true`
//! and are skipped (with a message) otherwise. Set `MHIS_CERT_SAMPLE_PNG`
//! to a path to also save the rendered sample page there.

use std::path::{Path, PathBuf};
use std::process::Command;

use lopdf::{Document, Object};
use mhis_cert::pdf::{CertificateFonts, QR_SIDE_MM, certificate_pdf, certificate_pdf_with_fonts};
use mhis_cert::svg::qr_svg;
use mhis_cert::{
    HealthClearance, Issuer, MhcPayload, Outcome, PersonName, SigningKey, decode_qr_image,
};

/// 2026-05-28T20:26:40Z.
const NOW: i64 = 1_780_000_000;

/// A synthetic person (not a real one).
fn clearance() -> HealthClearance {
    HealthClearance {
        name: PersonName {
            family_name: Some("Каримова".into()),
            family_name_mrz: "KARIMOVA".into(),
            given_name: Some("Дилноза Рустамовна".into()),
            given_name_mrz: Some("DILNOZA<RUSTAMOVNA".into()),
        },
        date_of_birth: "1994-07-12".into(),
        certificate_id: "MHC-TJ-000042".into(),
        assessment_date: "2026-05-20".into(),
        destination_country: "RU".into(),
        protocol_id: "mhis-tb-screening".into(),
        protocol_version: "2.1".into(),
        outcome: Outcome::ClearedWithFollowUp,
        valid_until: "2026-11-30".into(),
        issuing_site: "TJ-DYU-01".into(),
    }
}

fn issue(c: &HealthClearance) -> String {
    let key = SigningKey::from_secret_bytes(&[0x11; 32]).unwrap();
    Issuer::new(key, "TJ")
        .issue(&MhcPayload::HealthClearance(c.clone()), NOW)
        .unwrap()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether the poppler-utils tools are on PATH; under CI their absence is
/// a failure, locally a skip.
fn poppler_present(test: &str) -> bool {
    let ok = ["pdftoppm", "pdftotext"].iter().all(|tool| {
        Command::new(tool)
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success() || !o.stderr.is_empty())
    });
    if !ok {
        assert!(
            !in_ci(),
            "{test}: pdftoppm/pdftotext not found; CI must install the Debian package poppler-utils"
        );
        eprintln!("{test}: skipped, pdftoppm/pdftotext not found (apt-get install poppler-utils)");
    }
    ok
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("certificate_print");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Page 1 of a PDF as a greyscale PNG at `dpi`.
fn render_page(pdf: &Path, dpi: u32) -> Vec<u8> {
    let prefix = pdf.with_extension("");
    run(Command::new("pdftoppm")
        .args(["-png", "-gray", "-singlefile", "-f", "1", "-l", "1", "-r"])
        .arg(dpi.to_string())
        .arg(pdf)
        .arg(&prefix));
    std::fs::read(prefix.with_extension("png")).unwrap()
}

fn pdf_text(pdf: &Path) -> String {
    let txt = pdf.with_extension("txt");
    run(Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-layout"])
        .arg(pdf)
        .arg(&txt));
    std::fs::read_to_string(txt).unwrap()
}

fn number(o: &Object) -> f32 {
    match o {
        Object::Integer(i) => *i as f32,
        Object::Real(r) => *r,
        other => panic!("not a number: {other:?}"),
    }
}

#[test]
fn pdf_is_one_a4_page_with_an_embedded_font() {
    let c = clearance();
    let pdf = certificate_pdf(&c, &issue(&c), "ru").unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.len() < 150_000, "PDF is {} bytes", pdf.len());

    let doc = Document::load_mem(&pdf).unwrap();
    let pages = doc.get_pages();
    assert_eq!(pages.len(), 1);
    let page = doc.get_dictionary(pages[&1]).unwrap();
    let media: Vec<f32> = page
        .get(b"MediaBox")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(number)
        .collect();
    let (w_mm, h_mm) = (
        (media[2] - media[0]) * 25.4 / 72.0,
        (media[3] - media[1]) * 25.4 / 72.0,
    );
    assert!(
        (w_mm - 210.0).abs() < 0.5 && (h_mm - 297.0).abs() < 0.5,
        "{media:?}"
    );

    let fonts = doc.get_page_fonts(pages[&1]).unwrap();
    assert_eq!(fonts.len(), 2);
    let mut embedded = 0;
    for font in fonts.values() {
        assert_eq!(font.get(b"Subtype").unwrap().as_name().unwrap(), b"Type0");
        let base = font.get(b"BaseFont").unwrap().as_name().unwrap();
        assert!(String::from_utf8_lossy(base).contains("DejaVuSans"));
        assert!(font.has(b"ToUnicode"));
        let descendants = font.get(b"DescendantFonts").unwrap().as_array().unwrap();
        let cid = doc
            .get_dictionary(descendants[0].as_reference().unwrap())
            .unwrap();
        let descriptor = doc
            .get_dictionary(cid.get(b"FontDescriptor").unwrap().as_reference().unwrap())
            .unwrap();
        let file = doc
            .get_object(
                descriptor
                    .get(b"FontFile2")
                    .unwrap()
                    .as_reference()
                    .unwrap(),
            )
            .unwrap()
            .as_stream()
            .unwrap();
        let program = file.decompressed_content().unwrap();
        assert!(ttf_ok(&program), "embedded font program does not parse");
        embedded += 1;
    }
    assert_eq!(embedded, 2);
}

/// The embedded subset starts like a TrueType font file.
fn ttf_ok(program: &[u8]) -> bool {
    program.len() > 12 && (program.starts_with(&[0, 1, 0, 0]) || program.starts_with(b"true"))
}

#[test]
fn pdf_renders_scannable_qr_and_readable_text() {
    if !poppler_present("pdf_renders_scannable_qr_and_readable_text") {
        return;
    }
    let c = clearance();
    let text = issue(&c);
    let pdf = certificate_pdf(&c, &text, "ru-RU").unwrap();
    let path = scratch("clearance-ru.pdf");
    std::fs::write(&path, &pdf).unwrap();

    let png = render_page(&path, 150);
    assert_eq!(decode_qr_image(&png).unwrap(), text);
    if let Some(sample) = std::env::var_os("MHIS_CERT_SAMPLE_PNG") {
        std::fs::write(&sample, &png).unwrap();
        eprintln!("sample page written to {}", Path::new(&sample).display());
    }

    let words = pdf_text(&path);
    for expected in [
        "KARIMOVA, DILNOZA RUSTAMOVNA",
        "Каримова, Дилноза Рустамовна",
        "MHC-TJ-000042",
        "1994-07-12",
        "2026-11-30",
        "TJ-DYU-01",
        "mhis-tb-screening v2.1",
        "Cleared for travel, with follow-up",
        "Допущен(а) к поездке",
        "Дата рождения",
        "mhis verify",
        "trust list",
    ] {
        assert!(words.contains(expected), "{expected:?} not in:\n{words}");
    }
}

#[test]
fn qr_is_at_least_50_mm_when_printed() {
    if !poppler_present("qr_is_at_least_50_mm_when_printed") {
        return;
    }
    let c = clearance();
    let pdf = certificate_pdf(&c, &issue(&c), "en").unwrap();
    let path = scratch("clearance-en.pdf");
    std::fs::write(&path, &pdf).unwrap();
    // At 254 dpi one pixel is 0.1 mm: measure the widest run of dark
    // pixels' extent on the row through the middle of the QR symbol's
    // finder patterns (the first dark row from the top is the title; the
    // symbol is the tallest dark block).
    let png = render_page(&path, 254);
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let (w, h) = img.dimensions();
    // Columns/rows that contain dark pixels inside the symbol: find the
    // bounding box of dark pixels between 40 % and 60 % of the width,
    // in the top half of the page.
    let dark = |x: u32, y: u32| img.get_pixel(x, y)[0] < 128;
    let mut rows = (0..h / 2).filter(|&y| (w * 2 / 5..w * 3 / 5).any(|x| dark(x, y)));
    let first = rows.next().unwrap();
    // Skip the title lines: find the longest stretch of consecutive rows
    // with dark pixels.
    let mut best = (0, 0);
    let (mut start, mut prev) = (first, first);
    for y in rows {
        if y > prev + 12 {
            start = y;
        }
        prev = y;
        if prev - start > best.1 - best.0 {
            best = (start, prev);
        }
    }
    let height_mm = (best.1 - best.0 + 1) as f32 / 10.0;
    assert!(
        height_mm >= 50.0 && (height_mm - QR_SIDE_MM).abs() < 1.5,
        "QR symbol measured {height_mm} mm"
    );
}

#[test]
fn languages_on_the_page() {
    if !poppler_present("languages_on_the_page") {
        return;
    }
    let c = clearance();
    let text = issue(&c);
    for (lang, present, absent) in [
        (
            "fr",
            &["Date de naissance", "Autorisé(e) à voyager"][..],
            &["Дата рождения"][..],
        ),
        (
            "en",
            &["Date of birth"][..],
            &["Date de naissance", "Дата рождения"][..],
        ),
        // Tajik: not (yet) in the table, English only.
        (
            "tg",
            &["Date of birth"][..],
            &["Date de naissance", "Дата рождения"][..],
        ),
    ] {
        let path = scratch(&format!("clearance-{lang}.pdf"));
        std::fs::write(&path, certificate_pdf(&c, &text, lang).unwrap()).unwrap();
        let words = pdf_text(&path);
        for p in present {
            assert!(words.contains(p), "{lang}: {p:?} missing:\n{words}");
        }
        for a in absent {
            assert!(!words.contains(a), "{lang}: {a:?} present:\n{words}");
        }
        assert!(words.contains("Каримова"), "{lang}: name missing");
    }
}

#[test]
fn unprintable_input_is_an_error() {
    let fonts = CertificateFonts::dejavu().unwrap();
    let mut c = clearance();
    let text = issue(&c);
    // Not QR alphanumeric.
    assert!(certificate_pdf_with_fonts(&c, "mhc1:abc", "en", &fonts).is_err());
    // A character DejaVu Sans lacks.
    c.name.given_name = Some("山田".into());
    let err = certificate_pdf_with_fonts(&c, &text, "en", &fonts).unwrap_err();
    assert!(err.to_string().contains("U+5C71"), "{err}");
    // Malformed payload.
    let mut c = clearance();
    c.valid_until = "30.11.2026".into();
    assert!(certificate_pdf_with_fonts(&c, &text, "en", &fonts).is_err());
    // Not a font.
    assert!(CertificateFonts::from_bytes(vec![0; 64], vec![0; 64]).is_err());
}

#[test]
fn svg_is_a_standalone_document_that_scans() {
    let c = clearance();
    let text = issue(&c);
    let svg = qr_svg(&text).unwrap();
    assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"));
    assert!(svg.contains("<svg") && svg.contains("viewBox=\"0 0 "));
    assert!(svg.trim_end().ends_with("</svg>"));

    let tree = resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default()).unwrap();
    let size = tree.size();
    let scale = 6.0;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    )
    .unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let png = pixmap.encode_png().unwrap();
    assert_eq!(decode_qr_image(&png).unwrap(), text);
}

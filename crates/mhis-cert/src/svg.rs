//! QR code as a standalone SVG document, for web pages and print layouts
//! that scale it freely.
//!
//! Same encoding as [`crate::qr::qr_png`] (one alphanumeric segment, error
//! correction level Q, hcert spec v1.0.8 §4.5), with the 4-module quiet
//! zone, one user unit per module and `shape-rendering="crispEdges"`.

use qrcode::render::svg;

use crate::error::Result;
use crate::qr::qr_code;

/// Renders a certificate text as an SVG QR code: a standalone document
/// (`<?xml …?><svg …>`) whose `viewBox` is the symbol plus its quiet zone,
/// one unit per module, black on white. Fails like [`crate::qr::qr_code`].
pub fn qr_svg(text: &str) -> Result<String> {
    let code = qr_code(text)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .module_dimensions(1, 1)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standalone_document() {
        let s = qr_svg("MHC1:ABC").unwrap();
        assert!(s.starts_with("<?xml"));
        assert!(s.contains("viewBox=\"0 0 29 29\""), "{s}");
        assert!(s.trim_end().ends_with("</svg>"));
        assert!(qr_svg("MHC1:abc").is_err());
    }
}

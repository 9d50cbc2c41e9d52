//! QR code rendering and reading (hcert spec v1.0.8 §4.5: alphanumeric
//! mode, error correction level Q).
//!
//! The Base45 alphabet (RFC 9285 §4) is exactly the QR alphanumeric
//! character set (ISO/IEC 18004 §7.4.4), and so are the `MHC1:`/`HC1:`
//! prefixes, so the whole text goes in one alphanumeric segment, in the
//! smallest QR version that holds it.

use std::io::Cursor;

use image::{ImageFormat, Luma};
use qrcode::bits::Bits;
use qrcode::{EcLevel, QrCode, Version};

use crate::error::{CertError, Result};

/// The QR alphanumeric character set (ISO/IEC 18004 §7.4.4), equal to the
/// Base45 alphabet (RFC 9285 §4).
pub const QR_ALPHANUMERIC: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Largest image side accepted when reading a QR code, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 8192;

/// Builds the QR code (one alphanumeric segment, EC level Q) for a
/// certificate text; fails if the text has characters outside the QR
/// alphanumeric set or is too long for version 40.
pub fn qr_code(text: &str) -> Result<QrCode> {
    if let Some(c) = text.chars().find(|c| !QR_ALPHANUMERIC.contains(*c)) {
        return Err(CertError::Encoding(format!(
            "QR: {c:?} is not a QR alphanumeric character"
        )));
    }
    for v in 1..=40 {
        let mut bits = Bits::new(Version::Normal(v));
        if bits.push_alphanumeric_data(text.as_bytes()).is_ok()
            && bits.push_terminator(EcLevel::Q).is_ok()
        {
            return QrCode::with_bits(bits, EcLevel::Q)
                .map_err(|e| CertError::Encoding(format!("QR: {e}")));
        }
    }
    Err(CertError::Encoding("QR: text too long".into()))
}

/// Renders a certificate text as a PNG QR code; `module_px` pixels per
/// module (4 is a good print size), with the standard quiet zone.
pub fn qr_png(text: &str, module_px: u32) -> Result<Vec<u8>> {
    let code = qr_code(text)?;
    let img = code
        .render::<Luma<u8>>()
        .module_dimensions(module_px.max(1), module_px.max(1))
        .build();
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(|e| CertError::Encoding(format!("PNG: {e}")))?;
    Ok(out.into_inner())
}

/// Reads the first decodable QR code of a PNG or JPEG image.
pub fn decode_qr_image(bytes: &[u8]) -> Result<String> {
    let mut reader = image::ImageReader::new(Cursor::new(bytes));
    reader = reader
        .with_guessed_format()
        .map_err(|e| CertError::QrDecode(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| CertError::QrDecode(format!("image: {e}")))?
        .to_luma8();
    let (w, h) = img.dimensions();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
            img.get_pixel(x as u32, y as u32)[0]
        });
    let grids = prepared.detect_grids();
    let mut last_err = String::from("no QR code found");
    for grid in grids {
        match grid.decode() {
            Ok((_, content)) => return Ok(content),
            Err(e) => last_err = e.to_string(),
        }
    }
    Err(CertError::QrDecode(last_err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphanumeric_only() {
        assert!(qr_code("MHC1:ABC $%*+-./:").is_ok());
        assert!(qr_code("MHC1:abc").is_err());
        assert!(qr_code(&"A".repeat(5000)).is_err());
        let png = qr_png(
            &format!("MHC1:{}", "6BF+70790T9WJWG.FKY*4GO0".repeat(20)),
            2,
        )
        .unwrap();
        assert!(decode_qr_image(&png).is_ok());
    }
}

//! The public certificate verifier at `/verify`: no login, paste the QR
//! text or upload a photo of the QR code, see the verdict and the minimal
//! claims. Works on a phone: the file input opens the camera.
//!
//! Nothing submitted is stored; the page changes no state, so it needs no
//! CSRF token.

use crate::state::AppState;
use crate::ui::i18n::Tr;
use crate::ui::session::{Layout, render, request_lang};
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// Largest photo accepted, in bytes.
pub const MAX_PHOTO_BYTES: usize = 8 * 1024 * 1024;

/// The verdict, as shown.
pub struct ResultView {
    /// The verdict's wire name, for styling.
    pub key: String,
    /// The verdict in words.
    pub text: String,
    /// The failed stage, for malformed input.
    pub stage: Option<String>,
    /// The claims, labelled, once the signature verified.
    pub fields: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    l: Layout,
    message: Option<String>,
    result: Option<ResultView>,
}

fn page(l: Layout, message: Option<String>, result: Option<ResultView>) -> Response {
    let status = if message.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(status, &VerifyPage { l, message, result })
}

/// `GET /verify`.
pub async fn form(headers: HeaderMap) -> Response {
    page(
        Layout::new(request_lang(&headers, None), "/verify", None),
        None,
        None,
    )
}

fn view(t: &Tr, v: &mhis_cert::Verification) -> ResultView {
    let key = serde_json::to_value(v.verdict)
        .ok()
        .and_then(|k| k.as_str().map(String::from))
        .unwrap_or_default();
    let stage = v.stage.and_then(|s| {
        serde_json::to_value(s)
            .ok()
            .and_then(|s| s.as_str().map(|s| t.t1("verify-stage", "stage", s)))
    });
    let mut fields = Vec::new();
    if let Some(p) = &v.payload {
        let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        let name = &p["nam"];
        let join = |a: &serde_json::Value, b: &serde_json::Value| {
            [s(a), s(b)]
                .into_iter()
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let attendance = p["t"].as_str() == Some("ta");
        if attendance {
            fields.push((t.t("cert-type"), t.t("cert-type-ta")));
        }
        let written = join(&name["fn"], &name["gn"]);
        if !written.is_empty() {
            fields.push((t.t("cert-name"), written));
        }
        fields.push((
            t.t("cert-name-latin"),
            join(&name["fnt"], &name["gnt"]).replace('<', " "),
        ));
        if attendance {
            if let Some(title) = p["ti"].as_str() {
                fields.push((t.t("cert-training"), title.to_owned()));
            }
            if let Some(modules) = p["m"].as_array() {
                let list: Vec<&str> = modules.iter().filter_map(|m| m.as_str()).collect();
                fields.push((t.t("cert-modules"), list.join(", ")));
            }
            if let Some(done) = p["ad"].as_str() {
                fields.push((t.t("cert-completed"), done.to_owned()));
            }
        }
        for (label, field) in [
            ("cert-dob", "dob"),
            ("cert-id", "ci"),
            ("cert-assessed", if attendance { "" } else { "ad" }),
            ("cert-destination", "dc"),
            ("cert-valid-until", "vu"),
            ("cert-site", "is"),
        ] {
            if let Some(value) = p[field].as_str() {
                fields.push((t.t(label), value.to_owned()));
            }
        }
        if let Some(outcome) = p["o"].as_str() {
            fields.push((t.t("cert-outcome"), t.t(&format!("outcome-{outcome}"))));
        }
    }
    ResultView {
        text: t.t(&format!("verdict-{key}")),
        key,
        stage,
        fields,
    }
}

/// `POST /verify` (multipart: `text` and/or `photo`).
pub async fn verify(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let lang = request_lang(&headers, None);
    let t = Tr::new(lang);
    let l = || Layout::new(lang, "/verify", None);
    let mut text = String::new();
    let mut photo: Option<Vec<u8>> = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        match field.name() {
            Some("text") => text = field.text().await.unwrap_or_default(),
            Some("photo") if field.file_name().is_some_and(|n| !n.is_empty()) => {
                // Reading fails only when the upload passes the size limit.
                let Ok(bytes) = field.bytes().await else {
                    return page(l(), Some(t.t("verify-photo-too-large")), None);
                };
                if !bytes.is_empty() {
                    photo = Some(bytes.to_vec());
                }
            }
            _ => {}
        }
    }
    let text = text.trim();
    let qr = if !text.is_empty() {
        text.to_owned()
    } else if let Some(bytes) = photo {
        let is_png = bytes.starts_with(b"\x89PNG");
        let is_jpeg = bytes.starts_with(&[0xFF, 0xD8, 0xFF]);
        if !is_png && !is_jpeg {
            return page(l(), Some(t.t("verify-photo-type")), None);
        }
        match mhis_cert::decode_qr_image(&bytes) {
            Ok(text) => text,
            Err(_) => return page(l(), Some(t.t("verify-photo-unreadable")), None),
        }
    } else {
        return page(l(), Some(t.t("verify-no-input")), None);
    };
    match crate::certificates::verify_text(&state, &qr).await {
        Ok(verification) => page(l(), None, Some(view(&t, &verification))),
        Err(e) => axum::response::IntoResponse::into_response(e),
    }
}

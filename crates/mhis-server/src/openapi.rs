//! The OpenAPI document, generated from the handlers' annotations and the
//! wire types, served at `/api/v1/openapi.json`.

use utoipa::OpenApi;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "mhis API", description = "Migration Health Information System: registry and assessments."),
    paths(
        crate::api::sites::list, crate::api::sites::create, crate::api::sites::get,
        crate::api::migrants::create, crate::api::migrants::get, crate::api::migrants::update,
        crate::api::migrants::search,
        crate::api::assessments::create, crate::api::assessments::get,
        crate::api::assessments::list, crate::api::assessments::list_for_migrant,
        crate::api::assessments::decision, crate::api::assessments::finalise,
        crate::api::assessments::amend,
        crate::api::certificates::issue, crate::api::certificates::get,
        crate::api::certificates::qr_png, crate::api::certificates::list,
        crate::api::certificates::qr_svg, crate::api::certificates::pdf,
        crate::api::observations::record, crate::api::observations::list,
        crate::api::observations::get, crate::api::observations::correct,
        crate::api::vocabulary::list,
        crate::api::indicators::list, crate::api::indicators::values,
        crate::api::mhpss::instruments, crate::api::mhpss::form, crate::api::mhpss::screen,
        crate::api::mhpss::get_screening, crate::api::mhpss::list_screenings,
        crate::api::mhpss::list_cases, crate::api::mhpss::get_case,
        crate::api::mhpss::add_session, crate::api::mhpss::close_case,
        crate::api::mhpss::refer, crate::api::mhpss::assessment_flags,
    ),
    tags((name = "sites"), (name = "migrants"), (name = "assessments"), (name = "observations"),
         (name = "vocabulary"), (name = "certificates"), (name = "indicators"),
         (name = "mhpss"))
)]
pub struct ApiDoc;

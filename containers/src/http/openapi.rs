//! The OpenAPI document, generated from the handlers and the types (the
//! core's output schema included), served at `/openapi.json`.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The API's OpenAPI 3.1 document.
#[derive(OpenApi)]
#[openapi(
    info(title = "edgemine", description = "Entities, key phrases and subject–relation–object triples with exact offsets."),
    paths(super::extract::extract, crate::probes::healthz, crate::probes::readyz, crate::probes::metrics),
    modifiers(&BearerAuth),
    tags((name = "extract", description = "Extraction"), (name = "probes", description = "Kubernetes probes and Prometheus metrics"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

//! The JSON API's OpenAPI 3.1 description, served at `GET /openapi.json`. Each resource's router
//! is a `utoipa_axum` router built from its handlers' `#[utoipa::path]` attributes, so the paths
//! and methods described are the ones routed: one cannot change without the other.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kindly",
        description = "Support triage: helpdesks send tickets, Kindly answers the routine ones from the \
                       knowledge base and hands the rest to people with full context. Every error is \
                       JSON with a stable code and a sentence (`Error`)."
    ),
    modifiers(&ApiToken),
    security(("api_token" = [])),
    // Types only query parameters name are not collected from the routes.
    components(schemas(crate::error::ErrorBody, kindly_core::ShadowFilter)),
    tags(
        (name = "tickets", description = "Intake, the ticket list and a ticket's whole story"),
        (name = "handoffs", description = "The human queue"),
        (name = "knowledge", description = "The knowledge base's articles"),
        (name = "trust", description = "Shadow mode's scoreboard and the intent model's versions"),
        (name = "integrations", description = "Helpdesk webhooks and what Kindly owes helpdesks"),
        (name = "operations", description = "Probes and metrics"),
    )
)]
pub(crate) struct ApiDoc;

/// The bearer API token every `/v1` path but the webhooks needs (a browser's session cookie works
/// too).
struct ApiToken;

impl Modify for ApiToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some(
            "An API token, `kdl_…`: printed at the first start, or made with `kindly tokens create`.".into(),
        );
        components.add_security_scheme("api_token", SecurityScheme::Http(scheme));
    }
}

/// Completes the description once every route's paths are in: each operation that needs the
/// token also answers `401` without it (the middleware's answer, not the handler's).
pub(crate) fn finish(description: &mut utoipa::openapi::OpenApi) {
    let unauthorised = ResponseBuilder::new()
        .description("No valid API token or session")
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Error"))).build(),
        )
        .build();
    for item in description.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            // `None` inherits the document's token; public operations say `security(())`.
            if operation.security.is_none() {
                operation.responses.responses.insert("401".into(), unauthorised.clone().into());
            }
        }
    }
}

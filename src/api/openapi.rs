//! `/openapi.json` (generated from the handlers' annotations) and `/docs`, a plain HTML
//! reference rendered from it on the server: no JavaScript, no CDN.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{alerts, callbacks, citizens, events, health, letters, policies, settings, webhooks};
use crate::app::AppState;
use crate::i18n::{I18N, t};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Budbringer authority API",
        version = "1",
        description = "Send letters to citizens, follow their delivery, opening and escalation, and receive events.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2")
    ),
    paths(
        letters::create_letter, letters::list_letters, letters::get_letter, letters::cancel_letter,
        events::list_events,
        citizens::put_profile, citizens::lookup_citizen, citizens::get_profile,
        callbacks::list_callbacks, callbacks::log_call,
        alerts::list_alerts, alerts::close_alert,
        policies::list_policies, policies::put_policy,
        settings::get_settings, settings::put_office_hours, settings::put_closing_days,
        letters::record_evidence,
        webhooks::create_webhook, webhooks::list_webhooks, webhooks::delete_webhook, webhooks::rotate_webhook_secret,
        health::healthz, health::readyz, health::metrics,
    ),
    modifiers(&BearerAuth, &CommonProblems),
    tags(
        (name = "letters", description = "Letters to citizens"),
        (name = "settings", description = "The authority's own settings"),
        (name = "policies", description = "Escalation ladders per kind of letter"),
        (name = "alerts", description = "What caseworkers must act on"),
        (name = "callbacks", description = "Calls caseworkers owe citizens, and their outcomes"),
        (name = "citizens", description = "Contact profiles registered on a citizen's behalf"),
        (name = "events", description = "The status feed"),
        (name = "webhooks", description = "Events pushed to the authority, signed per Standard Webhooks"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("API key").build()),
        );
    }
}

/// The problem answers every authority operation can give, whatever its own annotations
/// list: a bad or missing key, the rate limit, an unavailable store, invalid query
/// parameters; with a body also malformed JSON, a body too large and a wrong content type;
/// with an id in the path also "not found".
struct CommonProblems;

impl Modify for CommonProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ProblemDoc"))).build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/v1/") {
                continue;
            }
            let operations =
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten();
            for operation in operations {
                let mut common = vec![
                    ("401", "No or unknown API key"),
                    ("422", "Invalid fields or query parameters"),
                    ("429", "Rate limit; see Retry-After"),
                    ("503", "Store unavailable; try again after Retry-After"),
                ];
                if operation.request_body.is_some() {
                    common.extend([("400", "Malformed JSON"), ("413", "Body too large"), ("415", "Not JSON")]);
                }
                if path.contains('{') {
                    common.push(("404", "Not found (another authority's is answered the same)"));
                }
                for (status, description) in common {
                    if !operation.responses.responses.contains_key(status) {
                        operation.responses.responses.insert(status.to_owned(), problem(description).into());
                    }
                }
            }
        }
    }
}

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs))
        .route("/docs/style.css", get(stylesheet))
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn stylesheet() -> Response {
    let mut response = include_str!("docs.css").into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    response
}

async fn docs(request: Request) -> Html<String> {
    let accept = request.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    let language = I18N.negotiate(accept);
    let spec = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    Html(render_docs(&spec, language))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn schema_name(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if let Some(items) = schema.get("items") {
        return format!("[{}]", schema_name(items));
    }
    if let Some(one_of) = schema.get("oneOf").and_then(Value::as_array) {
        return one_of.iter().map(schema_name).collect::<Vec<_>>().join(" | ");
    }
    match schema.get("type") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | "),
        _ => "object".to_owned(),
    }
}

/// The reference page: each operation with its parameters, body and answers, then the schemas
/// and the problem types that `type` in an error answer points to.
pub fn render_docs(spec: &Value, language: &str) -> String {
    let tr = |id: &str| esc(&t(language, id, &[]));
    let mut html = String::new();
    html.push_str(&format!(
        "<!doctype html>\n<html lang=\"{language}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/docs/style.css\"></head><body>\
         <header><h1>{title}</h1><p>{intro}</p><p>{auth}</p><p><a href=\"/openapi.json\">{spec_link}</a></p></header><main>",
        title = tr("docs-title"),
        intro = tr("docs-intro"),
        auth = tr("docs-auth"),
        spec_link = tr("docs-openapi-link"),
    ));
    html.push_str(&format!("<h2>{}</h2>", tr("docs-operations")));
    if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else { continue };
            for (method, op) in item {
                let anchor = format!("{}-{}", method, path.replace(['/', '{', '}'], "_"));
                html.push_str(&format!(
                    "<section class=\"op\" aria-labelledby=\"{anchor}\"><h3 id=\"{anchor}\"><code>{} {}</code></h3>",
                    esc(&method.to_uppercase()),
                    esc(path)
                ));
                for key in ["summary", "description"] {
                    if let Some(text) = op.get(key).and_then(Value::as_str) {
                        html.push_str(&format!("<p>{}</p>", esc(text)));
                    }
                }
                if let Some(params) = op.get("parameters").and_then(Value::as_array) {
                    html.push_str(&format!(
                        "<table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
                        tr("docs-parameters"), tr("docs-name"), tr("docs-in"), tr("docs-description")
                    ));
                    for p in params {
                        html.push_str(&format!(
                            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                            esc(p.get("name").and_then(Value::as_str).unwrap_or("")),
                            esc(p.get("in").and_then(Value::as_str).unwrap_or("")),
                            esc(p.get("description").and_then(Value::as_str).unwrap_or("")),
                        ));
                    }
                    html.push_str("</tbody></table>");
                }
                if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
                    let name = schema_name(schema);
                    html.push_str(&format!(
                        "<p>{}: <a href=\"#schema-{n}\"><code>{n}</code></a></p>",
                        tr("docs-request"),
                        n = esc(&name)
                    ));
                }
                if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                    html.push_str(&format!("<p>{}:</p><ul>", tr("docs-responses")));
                    for (status, r) in responses {
                        let description = r.get("description").and_then(Value::as_str).unwrap_or("");
                        let body = r
                            .get("content")
                            .and_then(Value::as_object)
                            .and_then(|c| c.values().next())
                            .and_then(|m| m.get("schema"))
                            .map(|s| format!(" — <code>{}</code>", esc(&schema_name(s))))
                            .unwrap_or_default();
                        html.push_str(&format!(
                            "<li><strong>{}</strong> {}{}</li>",
                            esc(status),
                            esc(description),
                            body
                        ));
                    }
                    html.push_str("</ul>");
                }
                html.push_str("</section>");
            }
        }
    }
    html.push_str(&format!("<h2>{}</h2>", tr("docs-schemas")));
    if let Some(schemas) = spec.pointer("/components/schemas").and_then(Value::as_object) {
        for (name, schema) in schemas {
            html.push_str(&format!(
                "<section class=\"schema\"><h3 id=\"schema-{n}\"><code>{n}</code></h3>",
                n = esc(name)
            ));
            if let Some(text) = schema.get("description").and_then(Value::as_str) {
                html.push_str(&format!("<p>{}</p>", esc(text)));
            }
            if let Some(values) = schema.get("enum").and_then(Value::as_array) {
                let list: Vec<String> =
                    values.iter().filter_map(Value::as_str).map(|v| format!("<code>{}</code>", esc(v))).collect();
                html.push_str(&format!("<p>{}</p>", list.join(", ")));
            }
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                let required: Vec<&str> = schema
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                html.push_str(&format!(
                    "<table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
                    tr("docs-field"), tr("docs-type"), tr("docs-description")
                ));
                for (field, p) in props {
                    let mark = if required.contains(&field.as_str()) {
                        format!(" ({})", tr("docs-required"))
                    } else {
                        String::new()
                    };
                    html.push_str(&format!(
                        "<tr><td><code>{}</code>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                        esc(field),
                        mark,
                        esc(&schema_name(p)),
                        esc(p.get("description").and_then(Value::as_str).unwrap_or("")),
                    ));
                }
                html.push_str("</tbody></table>");
            }
            html.push_str("</section>");
        }
    }
    html.push_str(&format!("<h2 id=\"problems\">{}</h2><p>{}</p><dl>", tr("docs-problems"), tr("docs-problems-intro")));
    for (kind, status) in PROBLEM_KINDS {
        let slug = kind.trim_start_matches("problem-");
        html.push_str(&format!(
            "<dt id=\"problem-{slug}\"><code>{status}</code> {}</dt><dd><code>/docs#problem-{slug}</code></dd>",
            tr(kind)
        ));
    }
    html.push_str("</dl></main></body></html>\n");
    html
}

/// Every problem type the API answers with, and its HTTP status.
const PROBLEM_KINDS: &[(&str, u16)] = &[
    ("problem-bad-request", 400),
    ("problem-unauthorized", 401),
    ("problem-not-found", 404),
    ("problem-method-not-allowed", 405),
    ("problem-conflict", 409),
    ("problem-gone", 410),
    ("problem-too-large", 413),
    ("problem-unsupported-media-type", 415),
    ("problem-invalid", 422),
    ("problem-rate-limited", 429),
    ("problem-internal", 500),
    ("problem-unavailable", 503),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_lists_every_operation_with_security() {
        let spec = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for (path, method) in [
            ("/v1/letters", "post"),
            ("/v1/letters", "get"),
            ("/v1/letters/{id}", "get"),
            ("/v1/letters/{id}/cancel", "post"),
            ("/v1/events", "get"),
            ("/v1/webhooks", "post"),
            ("/v1/webhooks", "get"),
            ("/v1/webhooks/{id}", "delete"),
            ("/healthz", "get"),
            ("/readyz", "get"),
            ("/metrics", "get"),
        ] {
            assert!(spec["paths"][path][method].is_object(), "{method} {path} missing");
        }
        assert!(spec["components"]["schemas"]["CreateLetterRequest"].is_object());
        assert!(spec["components"]["schemas"]["PostalAddress"].is_object());
        assert!(spec["components"]["securitySchemes"]["api_key"].is_object());
    }

    #[test]
    fn docs_page_names_every_operation_and_escapes_text() {
        let spec = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let html = render_docs(&spec, "en");
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("POST /v1/letters"));
        assert!(html.contains("id=\"problem-invalid\""));
        assert!(!html.contains("<script"));
        assert_eq!(esc("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
    }
}

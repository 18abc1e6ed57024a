//! The OpenAPI document of the admin API, served at `/api/v1/openapi.json`.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::admin::{
    apps, bundles, channels, devices, keys, release_log, session, stats, tokens, users,
};
use crate::icp;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // A signed-in user's cookie; every method but GET/HEAD/OPTIONS also needs `X-CSRF-Token`.
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("landfall_session"))),
        );
    }
}

/// Operation ids from the method and path (`get_apps_by_app_bundles`), unique by construction:
/// utoipa would use the handler's name, and `list`, `get` or `create` repeat across modules, which
/// breaks client generators.
struct OperationIds;

impl Modify for OperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let stem = operation_stem(path);
            let ops = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("delete", &mut item.delete),
                ("patch", &mut item.patch),
                ("head", &mut item.head),
                ("options", &mut item.options),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                op.operation_id = Some(format!("{method}_{stem}"));
            }
        }
    }
}

/// `/api/v1/apps/{app}/bundles/{version}` → `apps_by_app_bundles_by_version`.
fn operation_stem(path: &str) -> String {
    path.trim_start_matches("/api/v1/")
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(param) => format!("by_{param}"),
                None => s.replace('-', "_"),
            },
        )
        .collect::<Vec<_>>()
        .join("_")
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Landfall admin API", description = "Apps, bundles, channels, devices, tokens, users, sessions and the release log. Authenticate with `Authorization: Bearer lf_…` or the `landfall_session` cookie of `POST /api/v1/session` (then send `X-CSRF-Token` with every method but GET/HEAD/OPTIONS). Every error is {\"error\": code, \"message\": text}."),
    paths(
        apps::create, apps::list, apps::get, apps::update,
        bundles::upload, bundles::external, bundles::list, bundles::get, bundles::delete,
        channels::create, channels::list, channels::get, channels::update, channels::rollback, channels::history,
        devices::list, devices::explain, devices::set_override, devices::clear_override, devices::audit,
        keys::add, keys::list, keys::remove,
        stats::report, stats::live,
        tokens::create, tokens::list, tokens::revoke, tokens::limits,
        release_log::list, release_log::verify, release_log::export, release_log::public_key,
        session::sign_in, session::get, session::sign_out, session::sign_out_everywhere, session::change_password,
        users::list, users::create, users::update, users::set_password,
        icp::filing::get, icp::filing::record, icp::filing::transition, icp::filing::changes, icp::filing::timeline,
        icp::filing::hosting, icp::filing::ip_check, icp::filing::check_number,
        icp::documents::list, icp::documents::upload, icp::documents::get, icp::documents::patch,
        icp::documents::delete, icp::documents::content, icp::documents::readiness,
        icp::calendar::info, icp::calendar::load_year, icp::calendar::day, icp::calendar::working_days,
        icp::compliance::get_settings, icp::compliance::put_settings, icp::compliance::calendar,
        icp::compliance::prefill, icp::compliance::complete, icp::compliance::evidence,
        icp::incidents::get_emergency, icp::incidents::put_emergency, icp::incidents::create, icp::incidents::list,
        icp::incidents::get, icp::incidents::update, icp::incidents::kill_switch,
        icp::records::export, icp::records::report, icp::records::backup,
    ),
    modifiers(&BearerAuth, &OperationIds),
    security(("bearer" = []), ("session" = [])),
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_unique_identifiers() {
        let doc = ApiDoc::openapi();
        let mut seen = std::collections::HashSet::new();
        for item in doc.paths.paths.values() {
            for op in [
                &item.get,
                &item.put,
                &item.post,
                &item.delete,
                &item.patch,
                &item.head,
                &item.options,
            ]
            .into_iter()
            .flatten()
            {
                let id = op.operation_id.clone().expect("every operation has an id");
                assert!(
                    id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{id} is not an identifier"
                );
                assert!(seen.insert(id.clone()), "operation id {id} repeats");
            }
        }
        assert!(seen.len() > 60, "{} operations", seen.len());
        assert_eq!(
            operation_stem("/api/v1/apps/{app}/bundles/{version}"),
            "apps_by_app_bundles_by_version"
        );
    }
}

//! The OpenAPI document keeps up with the router: no route without its documentation,
//! no documentation without its route.
//!
//! axum cannot list a router's routes, so the proof has two halves that need none:
//! - **Every route is documented or named.** API routes are registered only through
//!   `utoipa_axum::routes!`, which takes each route's method and path from the
//!   handler's `#[utoipa::path]` (a handler without one does not compile there), so
//!   they are documented by construction. Any other way to add a route is one of
//!   axum's `.route(…)`, `.route_service(…)`, `.nest(…)` or `.nest_service(…)`;
//!   [`every_route_outside_routes_macro_is_named`] reads every source file of the
//!   server (outside `#[cfg(test)]` code) and requires each such call to name a
//!   literal path from `trickle::http::UNDOCUMENTED_ROUTES`. A new route added any
//!   other way than `routes!` — a console page, a debug endpoint — fails it until it is
//!   documented or deliberately named there.
//! - **Every documented operation and every named route is served.** Each is called
//!   on the real router: none may answer the fallback's `route_not_found` or 405.

use crate::common::{Backend, TestApp};
use reqwest::Method;
use serde_json::Value;
use std::path::{Path, PathBuf};
use trickle::http::UNDOCUMENTED_ROUTES;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file that is built into the server: up to its `#[cfg(test)]` module.
/// Files under a `tests/` folder are test support, not routes; files under `console/`
/// are the console's pages, mounted under `/console` (named in `UNDOCUMENTED_ROUTES`)
/// and not part of the API.
fn server_code(path: &Path) -> Option<String> {
    if path
        .components()
        .any(|c| c.as_os_str() == "tests" || c.as_os_str() == "console")
    {
        return None;
    }
    let text = std::fs::read_to_string(path).unwrap();
    Some(match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_owned(),
        None => text,
    })
}

#[test]
fn every_route_outside_routes_macro_is_named() {
    let call = regex::Regex::new(r"\.(route|route_service|nest|nest_service)\(\s*([^\s])").unwrap();
    let literal = regex::Regex::new(r#"^\s*"([^"]*)""#).unwrap();
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut found = Vec::new();
    let mut unnamed = Vec::new();
    for file in &files {
        let Some(code) = server_code(file) else {
            continue;
        };
        for hit in call.captures_iter(&code) {
            let args = &code[hit.get(2).unwrap().start()..];
            let place = format!("{}: .{}(…)", file.display(), &hit[1]);
            match literal.captures(args) {
                Some(path) if UNDOCUMENTED_ROUTES.contains(&&path[1]) => {
                    found.push(path[1].to_owned());
                }
                Some(path) => unnamed.push(format!("{place} adds {:?}", &path[1])),
                None => unnamed.push(format!("{place} adds a path that is not a literal")),
            }
        }
    }
    assert!(
        unnamed.is_empty(),
        "routes outside the OpenAPI document: register them with utoipa_axum's routes! \
         (documented), or, for a route that is not part of the API, name it in \
         UNDOCUMENTED_ROUTES (api/src/http/openapi.rs):\n{}",
        unnamed.join("\n")
    );
    for named in UNDOCUMENTED_ROUTES {
        assert!(
            found.iter().any(|f| f == named),
            "UNDOCUMENTED_ROUTES names {named}, which no code adds: drop it"
        );
    }
}

/// A concrete path for a documented template.
fn concrete(template: &str) -> String {
    template
        .replace("{id}", "u_1")
        .replace("{slug}", "onboarding")
        .replace("{version}", "1")
        .replace("{file}", "renderer-x.js")
}

async fn every_documented_operation_and_named_route_is_served(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc: Value = app
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut calls: Vec<(Method, String)> = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                calls.push((method, template.clone()));
            }
        }
    }
    assert!(calls.len() >= 20, "{calls:?}");
    // `/demo` is served by `trickle demo`'s own router, not the service's.
    for named in UNDOCUMENTED_ROUTES
        .iter()
        .filter(|r| !r.starts_with("/demo"))
    {
        calls.push((Method::GET, (*named).to_owned()));
    }
    for (method, template) in calls {
        let response = app
            .request(method.clone(), &concrete(&template))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_ne!(
            status, 405,
            "{method} {template} is documented but not served"
        );
        assert_ne!(
            body["error"]["code"], "route_not_found",
            "{method} {template} is documented (or named) but not served"
        );
    }
}

/// Every operation names itself, is tagged, and documents its errors with the error
/// body; every parameter is in the query, path or a header, never a body in disguise.
async fn every_operation_is_named_tagged_and_its_errors_shaped(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc: Value = app
        .get("/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let id = operation["operationId"].as_str().unwrap().to_owned();
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{id}"
            );
            assert!(!operation["tags"].as_array().unwrap().is_empty(), "{id}");
            for (status, response) in operation["responses"].as_object().unwrap() {
                assert!(
                    !response["description"].as_str().unwrap().is_empty(),
                    "{id} {status}"
                );
                if status.starts_with('4') || status == "500" {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{id} {status}"
                    );
                }
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                match parameter["in"].as_str().unwrap() {
                    "path" => assert!(template.contains(&format!("{{{name}}}")), "{id} {name}"),
                    "query" | "header" => {}
                    other => panic!("{id}: {name} in {other}"),
                }
            }
            ids.push(id);
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids are unique: {ids:?}");
    for id in [
        "record_login",
        "list_users",
        "get_user",
        "save_question_set_draft",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
    }
}

on_both_databases!(
    every_documented_operation_and_named_route_is_served,
    every_operation_is_named_tagged_and_its_errors_shaped,
);

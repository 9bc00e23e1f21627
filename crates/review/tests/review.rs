//! The review API's contract: the OpenAPI document and the router agree, and nothing but
//! the documented public routes answers without a reviewer. (Decisions, roles and the UI
//! run end to end against Postgres, the broker and SMTP in `crates/app/tests/pipeline`.)

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use deskhand_core::memory::MemorySettings;
use deskhand_core::review::{ReviewPolicy, SlaTargets};
use deskhand_db::{DatabaseSettings, Store};
use deskhand_review::{
    router, ReviewSettings, ReviewState, SignInLimits, API_ROUTES, OPENAPI_JSON,
};
use deskhand_service::decide::{DecideSettings, Decisions};
use std::collections::BTreeSet;
use std::time::Duration;
use tower::ServiceExt;

/// The review API's routes in the document (the `/api/v1/` intake routes are the intake
/// crate's, checked with the whole service in the pipeline tests).
fn documented() -> BTreeSet<(String, String)> {
    let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).expect("openapi.json parses");
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        if path.starts_with("/api/v1/") {
            continue;
        }
        for method in item.as_object().expect("path item").keys() {
            routes.insert((method.clone(), path.clone()));
        }
    }
    routes
}

/// A router whose database is never reached (nothing here gets past authentication).
fn app() -> axum::Router {
    let store = Store::connect_lazy(&DatabaseSettings {
        url: "postgres://nobody@127.0.0.1:1/none".into(),
        max_connections: 1,
        acquire_timeout: Duration::from_millis(100),
    })
    .unwrap();
    let decisions = Decisions::new(
        store.clone(),
        DecideSettings {
            policy: ReviewPolicy {
                reviewer_max_action_cents: 2500,
                coupon_value_cents: 1000,
            },
            delivery_policy: Default::default(),
            memory: MemorySettings::default(),
            mail_domain: "shop.example".into(),
            decided_topic: "decided".into(),
            inbound_topic: "inbound".into(),
            today: None,
        },
        Default::default(),
    );
    router(ReviewState::new(
        store,
        ReviewSettings {
            sla: SlaTargets::default(),
            session_ttl: Duration::from_secs(60),
            secure_cookies: false,
            sign_in: SignInLimits {
                attempts: 10,
                window: Duration::from_secs(60),
            },
            client_address_header: None,
        },
        decisions,
    ))
}

async fn status(method: &str, path: &str) -> StatusCode {
    let path = path.replace("{id}", "7f1c1c3e-5d7a-4b59-9a53-0c6f2f4c9a11");
    let request = Request::builder()
        .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    app().oneshot(request).await.unwrap().status()
}

#[test]
fn the_openapi_document_lists_exactly_the_routes_the_api_serves() {
    let code: BTreeSet<(String, String)> = API_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented(), code);
}

#[tokio::test]
async fn every_documented_route_exists_and_all_but_sign_in_and_the_spec_need_a_reviewer() {
    for (method, path) in documented() {
        let got = status(&method, &path).await;
        let expected = match (method.as_str(), path.as_str()) {
            ("get", "/api/openapi.json") => StatusCode::OK,
            // Signing in needs a token in the body; `{}` lacks it.
            ("post", "/api/session") => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::UNAUTHORIZED,
        };
        assert_eq!(got, expected, "{method} {path}");
    }
}

#[tokio::test]
async fn methods_the_document_does_not_list_are_refused() {
    for (_, path) in documented() {
        assert_eq!(
            status("put", &path).await,
            StatusCode::METHOD_NOT_ALLOWED,
            "PUT {path}"
        );
    }
    assert_eq!(status("get", "/api/unknown").await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_web_ui_is_served_with_a_content_security_policy() {
    for path in ["/", "/app.js", "/app.css"] {
        let response = app()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
    }
}

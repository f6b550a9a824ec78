//! The router as a whole, driven with `oneshot`: pages render, server functions round-trip into
//! the session with the `zportal_session` cookie README describes, and cross-site writes are
//! refused.

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use leptos::prelude::get_configuration;
use server::config::Config;
use tower::ServiceExt;

struct TestApp {
    router: Router,
    _dir: tempfile::TempDir,
}

async fn app_with(vars: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().to_string_lossy().into_owned();
    let mut all: Vec<(String, String)> = vec![
        ("ZPORTAL_DATA_DIR".into(), data_dir),
        ("ZOHO_EMULATOR".into(), "1".into()),
    ];
    all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_lookup(|k| all.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
        .expect("test config is valid");
    let options = get_configuration(None)
        .expect("leptos options")
        .leptos_options;
    let state = server::AppState::new(config, options).await.expect("state");
    TestApp {
        router: server::build_router(state),
        _dir: dir,
    }
}

async fn app() -> TestApp {
    app_with(&[]).await
}

async fn body_text(res: http::Response<Body>) -> String {
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A POST to the `choose_data_center` server function (its body names the data center).
fn choose_dc() -> http::request::Builder {
    Request::post("/api/auth/data-center")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
}

#[test]
fn home_page_renders_sign_in_without_creating_a_session() {
    testkit::block_on(async {
        let t = app().await;
        let res = t
            .router
            .oneshot(Request::get("/").body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers().get(header::SET_COOKIE).is_none(),
            "an anonymous page view must not create a session"
        );
        let html = body_text(res).await;
        assert!(html.contains("Sign in with Zoho"), "{html}");
        assert!(html.contains(">Data center<"));
        assert!(html.contains("United States") && html.contains("United Kingdom"));
        assert!(
            html.contains("/pkg/zportal.wasm") || html.contains("/pkg/zportal.js"),
            "hydration scripts point at the right bundle"
        );
    })
}

#[test]
fn the_theme_cookie_picks_the_first_paint_and_signed_out_pages_vary_by_cookie() {
    testkit::block_on(async {
        let t = app().await;
        for (cookie, expected) in [
            (Some("zportal_theme=dark"), Some("dark")),
            (Some("other=1; zportal_theme=light"), Some("light")),
            (Some("zportal_theme=sepia"), None),
            (None, None),
        ] {
            let mut req = Request::get("/");
            if let Some(c) = cookie {
                req = req.header(header::COOKIE, c);
            }
            let res = t
                .router
                .clone()
                .oneshot(req.body(Body::empty()).expect("request"))
                .await
                .expect("response");
            let vary: Vec<_> = res.headers().get_all(header::VARY).iter().collect();
            assert!(
                vary.iter()
                    .any(|v| v.to_str().unwrap_or("").contains("Cookie")),
                "{cookie:?}: {vary:?}"
            );
            let html = body_text(res).await;
            match expected {
                Some(theme) => assert!(
                    html.contains(&format!(r#"<html lang="en" data-theme="{theme}""#)),
                    "{cookie:?}"
                ),
                None => assert!(html.contains(r#"<html lang="en">"#), "{cookie:?}"),
            }
            assert!(html.contains(r#"<meta name="description""#), "{cookie:?}");
            // The sign-in form is whole in the HTML, with no script needed to show it.
            assert!(html.contains(r#"action="/auth/zoho/start""#));
            assert!(html.contains(r#"<select id="dc" name="dc""#), "{cookie:?}");
        }
    });
}

#[test]
fn only_enabled_data_centers_are_offered() {
    testkit::block_on(async {
        let t = app_with(&[("ZOHO_DCS", "eu,in")]).await;
        let res = t
            .router
            .oneshot(Request::get("/").body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let html = body_text(res).await;
        assert!(html.contains("Europe") && html.contains("India"));
        assert!(!html.contains("United States"));
    })
}

#[test]
fn choosing_a_data_center_sets_the_session_cookie() {
    testkit::block_on(async {
        let t = app().await;
        let res = t
            .router
            .clone()
            .oneshot(
                choose_dc()
                    .body(Body::from("location=eu"))
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = res
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .expect("a session cookie");
        assert!(cookie.starts_with("zportal_session="), "{cookie}");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(cookie.contains("Path=/"), "{cookie}");
        assert!(
            !cookie.contains("Secure"),
            "plain http must not mark the cookie Secure: {cookie}"
        );
        let body = body_text(res).await;
        assert!(body.contains("Europe"), "{body}");

        // The session now preselects Europe when the page is rendered.
        let session = cookie.split(';').next().expect("name=value").to_owned();
        let res = t
            .router
            .oneshot(
                Request::get("/")
                    .header(header::COOKIE, session)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        let html = body_text(res).await;
        assert!(html.contains(r#"<option value="eu" selected"#), "{html}");
    })
}

#[test]
fn https_public_url_gives_a_secure_host_prefixed_cookie() {
    testkit::block_on(async {
        // The embedded emulator refuses an https origin; a separate one (never called) does not.
        let t = app_with(&[
            ("ZPORTAL_PUBLIC_URL", "https://crm.example.com"),
            ("ZOHO_EMULATOR_URL", "http://127.0.0.1:9"),
        ])
        .await;
        let res = t
            .router
            .oneshot(
                choose_dc()
                    .body(Body::from("location=us"))
                    .expect("request"),
            )
            .await
            .expect("response");
        let cookie = res
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .expect("a session cookie");
        assert!(cookie.starts_with("__Host-zportal_session="), "{cookie}");
        assert!(cookie.contains("Secure"), "{cookie}");
        assert!(!cookie.contains("Domain="), "{cookie}");
    })
}

#[test]
fn a_disabled_or_unknown_data_center_is_refused_in_words() {
    testkit::block_on(async {
        let t = app_with(&[("ZOHO_DCS", "us")]).await;
        for (location, words) in [
            ("eu", "Europe is not enabled"),
            ("mars", "not one Zoho has"),
        ] {
            let res = t
                .router
                .clone()
                .oneshot(
                    choose_dc()
                        .body(Body::from(format!("location={location}")))
                        .expect("request"),
                )
                .await
                .expect("response");
            assert!(
                res.status().is_client_error() || res.status().is_server_error(),
                "{}",
                res.status()
            );
            assert!(
                res.headers().get(header::SET_COOKIE).is_none(),
                "nothing stored for a refused choice"
            );
            let body = body_text(res).await;
            assert!(body.contains(words), "{body}");
        }
    })
}

#[test]
fn cross_site_posts_are_refused_and_same_origin_ones_pass() {
    testkit::block_on(async {
        let t = app().await;
        let forged = [
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
            vec![("origin", "https://evil.test")],
        ];
        for headers in forged {
            let mut req = choose_dc();
            for (k, v) in &headers {
                req = req.header(*k, *v);
            }
            let res = t
                .router
                .clone()
                .oneshot(req.body(Body::from("location=eu")).expect("request"))
                .await
                .expect("response");
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{headers:?}");
            assert!(res.headers().get(header::SET_COOKIE).is_none());
        }
        let res = t
            .router
            .oneshot(
                choose_dc()
                    .header("sec-fetch-site", "same-origin")
                    .header("origin", "http://127.0.0.1:3000")
                    .body(Body::from("location=eu"))
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::OK);
    })
}

#[test]
fn sign_in_start_refuses_an_unknown_data_center_in_words() {
    testkit::block_on(async {
        let t = app().await;
        let res = t
            .router
            .clone()
            .oneshot(
                Request::get("/auth/zoho/start?dc=mars")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            res.headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some("/auth/error?reason=unknown_dc")
        );
        assert!(
            res.headers().get(header::SET_COOKIE).is_none(),
            "nothing stored for a refused start"
        );
        let res = t
            .router
            .oneshot(
                Request::get("/auth/error?reason=unknown_dc")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        let html = body_text(res).await;
        assert!(html.contains("not enabled on this zportal"), "{html}");
    })
}

#[test]
fn server_functions_without_a_session_answer_unauthenticated() {
    testkit::block_on(async {
        let t = app().await;
        let res = t
            .router
            .oneshot(
                Request::get("/api/connection/health")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert!(res.status().is_server_error() || res.status().is_client_error());
        assert_eq!(body_text(res).await, r#""Unauthenticated""#);
    })
}

#[test]
fn health_answers() {
    testkit::block_on(async {
        let t = app().await;
        let res = t
            .router
            .oneshot(
                Request::get("/healthz")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::OK);
    })
}

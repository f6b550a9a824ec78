//! Zoho Accounts as the emulator plays it, over real HTTP on 127.0.0.1: the sign-in page and POST,
//! the token endpoint's grants, errors and limits, PKCE, data-center isolation, revoke, and the
//! identity endpoints.

use crate::support::*;
use serde_json::{Value, json};

#[tokio::test]
async fn sign_in_page_shows_the_form_with_the_query_carried() {
    let emu = Emu::start().await;
    let res = emu
        .http
        .get(format!("{}/oauth/v2/auth", emu.accounts("us")))
        .query(&[
            ("client_id", DEV_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", SCOPES),
            ("state", "st<ate>"),
        ])
        .send()
        .await
        .expect("GET auth");
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().get("set-cookie").is_none(),
        "the emulator sets no cookies"
    );
    let html = res.text().await.expect("html");
    assert!(html.contains(r#"<label for="email">Email</label>"#));
    assert!(html.contains(r#"name="email""#));
    assert!(html.contains(r#"name="decision" value="accept">Accept<"#));
    assert!(html.contains(r#"name="decision" value="reject" formnovalidate>Reject<"#));
    assert!(
        html.contains(r#"name="state" value="st&lt;ate&gt;""#),
        "state is carried, escaped"
    );
}

#[tokio::test]
async fn sign_in_page_refuses_bad_clients_and_redirects_without_redirecting() {
    let emu = Emu::start().await;
    let cases: [(&str, &str, &str); 3] = [
        ("1000.NOPE", REDIRECT, "Invalid client"),
        (
            DEV_ID,
            "https://evil.test/auth/zoho/callback",
            "Invalid redirect URI",
        ),
        (
            "1000.USONLY",
            "http://127.0.0.1:3000/auth/zoho/callback",
            "not enabled",
        ),
    ];
    for (client, redirect, words) in cases {
        let dc = if client == "1000.USONLY" { "eu" } else { "us" };
        let res = emu
            .http
            .get(format!("{}/oauth/v2/auth", emu.accounts(dc)))
            .query(&[
                ("client_id", client),
                ("response_type", "code"),
                ("redirect_uri", redirect),
                ("scope", SCOPES),
            ])
            .send()
            .await
            .expect("GET auth");
        assert_eq!(res.status(), 400, "{client}");
        assert!(res.headers().get("location").is_none());
        assert!(res.text().await.expect("html").contains(words), "{client}");
    }
}

#[tokio::test]
async fn accept_comes_back_from_the_home_dc_with_code_location_and_state() {
    let emu = Emu::start().await;
    // eva lives in the EU; her sign-in starts at the US accounts server, as Multi-DC clients do.
    let q = emu
        .sign_in("eva@eu.zportal.test", &[("state", "xyz")])
        .await;
    assert_eq!(q["location"], "eu");
    assert_eq!(q["accounts-server"], emu.accounts("eu"));
    assert_eq!(q["state"], "xyz");
    assert!(q["code"].starts_with("1000."));
    let tokens = emu.exchange(&q).await;
    assert_eq!(s(&tokens["api_domain"]), emu.api("eu"));
    assert_eq!(s(&tokens["token_type"]), "Bearer");
    assert_eq!(tokens["expires_in"], json!(3600));
}

#[tokio::test]
async fn reject_and_unknown_email() {
    let emu = Emu::start().await;
    let q = emu
        .authorize(
            "us",
            &[
                ("client_id", DEV_ID),
                ("response_type", "code"),
                ("redirect_uri", REDIRECT),
                ("scope", SCOPES),
                ("state", "s1"),
                ("decision", "reject"),
            ],
        )
        .await;
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "s1");
    assert!(!q.contains_key("code"));

    let res = emu
        .http
        .post(format!("{}/oauth/v2/auth", emu.accounts("us")))
        .form(&[
            ("client_id", DEV_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", SCOPES),
            ("email", "nobody@nowhere.test"),
            ("decision", "accept"),
        ])
        .send()
        .await
        .expect("POST auth");
    assert_eq!(res.status(), 200, "the form again, not a redirect");
    let html = res.text().await.expect("html");
    assert!(html.contains("No Zoho account has that email address."));
    assert!(html.contains(r#"name="email""#));
}

#[tokio::test]
async fn token_errors_are_http_200_with_zoho_bodies() {
    let emu = Emu::start().await;
    let q = emu.sign_in("ada@us.zportal.test", &[]).await;
    let code = q["code"].as_str();
    let cases: Vec<(Vec<(&str, &str)>, Value)> = vec![
        (
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", "1000.NOPE"),
                ("client_secret", "x"),
                ("code", code),
                ("redirect_uri", REDIRECT),
            ],
            json!({"error": "invalid_client"}),
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", DEV_ID),
                ("client_secret", "wrong"),
                ("code", code),
                ("redirect_uri", REDIRECT),
            ],
            json!({"error": "invalid_client_secret"}),
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", DEV_ID),
                ("client_secret", DEV_SECRET),
                ("code", code),
                ("redirect_uri", "http://127.0.0.1:9/auth/zoho/callback"),
            ],
            json!({"error": "invalid_redirect_uri"}),
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", DEV_ID),
                ("client_secret", DEV_SECRET),
                ("code", "1000.bogus"),
                ("redirect_uri", REDIRECT),
            ],
            json!({"error": "invalid_code"}),
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", DEV_ID),
                ("client_secret", DEV_SECRET),
            ],
            json!({"error": "unsupported_grant_type"}),
        ),
    ];
    for (fields, expected) in cases {
        let (status, body) = emu.token("us", &fields).await;
        assert_eq!(status, 200, "{fields:?}");
        assert_eq!(body, expected, "{fields:?}");
    }
    // None of those used the code up.
    let tokens = emu.exchange(&q).await;
    assert!(tokens["refresh_token"].is_string());
    // A code is single-use.
    let (_, again) = emu
        .token(
            "us",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", DEV_ID),
                ("client_secret", DEV_SECRET),
                ("code", code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
    assert_eq!(again, json!({"error": "invalid_code"}));
}

#[tokio::test]
async fn token_parameters_arrive_by_query_form_or_basic() {
    let emu = Emu::start().await;
    let t = emu.tokens_for("ada@us.zportal.test").await;
    let rt = s(&t["refresh_token"]).to_owned();
    let url = format!("{}/oauth/v2/token", emu.accounts("us"));

    let by_query = emu
        .http
        .post(&url)
        .query(&[
            ("grant_type", "refresh_token"),
            ("client_id", DEV_ID),
            ("client_secret", DEV_SECRET),
            ("refresh_token", &rt),
        ])
        .send()
        .await
        .expect("query");
    let body: Value = by_query.json().await.expect("json");
    assert!(body["access_token"].is_string(), "{body}");

    let by_basic = emu
        .http
        .post(&url)
        .basic_auth(DEV_ID, Some(DEV_SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt.as_str()),
        ])
        .send()
        .await
        .expect("basic");
    let body: Value = by_basic.json().await.expect("json");
    assert!(body["access_token"].is_string(), "{body}");
    assert!(
        body.get("refresh_token").is_none(),
        "Zoho does not rotate refresh tokens"
    );
}

#[tokio::test]
async fn pkce_is_checked_when_a_challenge_was_sent() {
    let emu = Emu::start().await;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let pkce = [
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    for (sent, ok) in [
        (None, false),
        (Some("wrong-verifier-wrong-verifier-wrong-verif"), false),
        (Some(verifier), true),
    ] {
        let q = emu.sign_in("ada@us.zportal.test", &pkce).await;
        let mut fields = vec![
            ("grant_type", "authorization_code"),
            ("client_id", DEV_ID),
            ("client_secret", DEV_SECRET),
            ("redirect_uri", REDIRECT),
            ("code", q["code"].as_str()),
        ];
        if let Some(v) = sent {
            fields.push(("code_verifier", v));
        }
        let (_, body) = emu.token("us", &fields).await;
        assert_eq!(body["access_token"].is_string(), ok, "{sent:?}: {body}");
        if !ok {
            assert_eq!(body, json!({"error": "invalid_code"}));
        }
    }
}

#[tokio::test]
async fn codes_and_tokens_are_unknown_in_every_other_dc() {
    let emu = Emu::start().await;
    let q = emu
        .sign_in("eva@eu.zportal.test", &[("prompt", "consent")])
        .await;
    let exchange = |dc: &'static str| {
        let code = q["code"].clone();
        let emu = &emu;
        async move {
            emu.token(
                dc,
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", DEV_ID),
                    ("client_secret", DEV_SECRET),
                    ("redirect_uri", REDIRECT),
                    ("code", &code),
                ],
            )
            .await
            .1
        }
    };
    assert_eq!(exchange("us").await, json!({"error": "invalid_code"}));
    let tokens = exchange("eu").await;
    let at = s(&tokens["access_token"]);
    let rt = s(&tokens["refresh_token"]);
    assert_eq!(
        emu.refresh("us", rt).await,
        json!({"error": "invalid_code"})
    );
    assert!(emu.refresh("eu", rt).await["access_token"].is_string());
    let (status, body) = emu.api_get("us", "users?type=CurrentUser", at).await;
    assert_eq!((status, s(&body["code"])), (401, "INVALID_TOKEN"));
    let (status, body) = emu.api_get("eu", "users?type=CurrentUser", at).await;
    assert_eq!(status, 200);
    assert_eq!(s(&body["users"][0]["email"]), "eva@eu.zportal.test");
}

#[tokio::test]
async fn a_dc_not_enabled_for_the_client_answers_invalid_client() {
    let emu = Emu::start().await;
    // The US-only client signs in an EU user: Zoho sends her home, where the client is unknown.
    let q = emu
        .authorize(
            "us",
            &[
                ("client_id", "1000.USONLY"),
                ("response_type", "code"),
                ("redirect_uri", "http://127.0.0.1:3000/auth/zoho/callback"),
                ("scope", SCOPES),
                ("access_type", "offline"),
                ("email", "eva@eu.zportal.test"),
                ("decision", "accept"),
            ],
        )
        .await;
    assert_eq!(q["location"], "eu");
    let (status, body) = emu
        .token(
            "eu",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "1000.USONLY"),
                ("client_secret", "us-only-secret"),
                ("redirect_uri", "http://127.0.0.1:3000/auth/zoho/callback"),
                ("code", &q["code"]),
            ],
        )
        .await;
    assert_eq!((status, body), (200, json!({"error": "invalid_client"})));
}

#[tokio::test]
async fn refresh_tokens_only_offline_and_for_a_returning_user_only_with_consent() {
    let emu = Emu::start().await;
    let online = emu
        .sign_in("ada@us.zportal.test", &[("access_type", "online")])
        .await;
    // `access_type` given twice: the later (online) wins, as a form's last value does.
    let t = emu.exchange(&online).await;
    assert!(
        t.get("refresh_token").is_none(),
        "online: no refresh token: {t}"
    );

    let first = emu
        .exchange(&emu.sign_in("ada@us.zportal.test", &[]).await)
        .await;
    assert!(
        first["refresh_token"].is_string(),
        "first offline consent gives one"
    );
    let again = emu
        .exchange(&emu.sign_in("ada@us.zportal.test", &[]).await)
        .await;
    assert!(
        again.get("refresh_token").is_none(),
        "a returning user gets none without consent"
    );
    assert!(again["access_token"].is_string());
    let forced = emu
        .exchange(
            &emu.sign_in("ada@us.zportal.test", &[("prompt", "consent")])
                .await,
        )
        .await;
    assert!(
        forced["refresh_token"].is_string(),
        "prompt=consent gives another"
    );
}

#[tokio::test]
async fn ten_refreshes_per_window_then_access_denied_or_unlimited_when_off() {
    let emu = Emu::start().await;
    let t = emu.tokens_for("ada@us.zportal.test").await;
    let rt = s(&t["refresh_token"]).to_owned();
    for i in 0..10 {
        assert!(
            emu.refresh("us", &rt).await["access_token"].is_string(),
            "refresh {i}"
        );
    }
    let denied = emu.refresh("us", &rt).await;
    assert_eq!(s(&denied["error"]), "Access Denied");
    assert_eq!(s(&denied["status"]), "failure");
    // The window slides: ten minutes later it works again.
    emu.post("clock/advance", json!({"seconds": 601})).await;
    assert!(emu.refresh("us", &rt).await["access_token"].is_string());

    emu.post("config", json!({"limits": {"refresh_window": false}}))
        .await;
    for _ in 0..15 {
        assert!(emu.refresh("us", &rt).await["access_token"].is_string());
    }
    let stats = emu.get("stats").await;
    assert_eq!(stats["total"]["refreshes_denied"], json!(1));
    assert_eq!(stats["total"]["refreshes"], json!(26));
}

#[tokio::test]
async fn at_most_fifteen_live_access_tokens_per_refresh_token() {
    let emu = Emu::start().await;
    emu.post("config", json!({"limits": {"refresh_window": false}}))
        .await;
    let t = emu.tokens_for("ada@us.zportal.test").await;
    let rt = s(&t["refresh_token"]).to_owned();
    let mut minted = vec![s(&t["access_token"]).to_owned()];
    for _ in 0..15 {
        minted.push(s(&emu.refresh("us", &rt).await["access_token"]).to_owned());
    }
    // Sixteen minted: the first was evicted, the other fifteen work.
    let (status, body) = emu.api_get("us", "org", &minted[0]).await;
    assert_eq!((status, s(&body["code"])), (401, "INVALID_TOKEN"));
    for at in &minted[1..] {
        assert_eq!(emu.api_get("us", "org", at).await.0, 200);
    }
    // Switched off, nothing more is evicted.
    emu.post("config", json!({"limits": {"live_access_tokens": false}}))
        .await;
    let extra = s(&emu.refresh("us", &rt).await["access_token"]).to_owned();
    assert_eq!(emu.api_get("us", "org", &minted[1]).await.0, 200);
    assert_eq!(emu.api_get("us", "org", &extra).await.0, 200);
}

#[tokio::test]
async fn at_most_twenty_refresh_tokens_per_user_oldest_deleted_with_its_access_tokens() {
    let emu = Emu::start().await;
    emu.post("config", json!({"limits": {"codes_per_client": false}}))
        .await;
    let first = emu.tokens_for("ben@us.zportal.test").await;
    for _ in 0..19 {
        emu.tokens_for("ben@us.zportal.test").await;
    }
    assert!(emu.refresh("us", s(&first["refresh_token"])).await["access_token"].is_string());
    emu.tokens_for("ben@us.zportal.test").await; // the 21st
    assert_eq!(
        emu.refresh("us", s(&first["refresh_token"])).await,
        json!({"error": "invalid_code"})
    );
    assert_eq!(
        emu.api_get("us", "org", s(&first["access_token"])).await.0,
        401
    );

    emu.post(
        "config",
        json!({"limits": {"refresh_tokens_per_user": false}}),
    )
    .await;
    let second_oldest = emu.tokens_for("ben@us.zportal.test").await;
    for _ in 0..21 {
        emu.tokens_for("ben@us.zportal.test").await;
    }
    assert!(
        emu.refresh("us", s(&second_oldest["refresh_token"])).await["access_token"].is_string()
    );
}

#[tokio::test]
async fn ten_codes_per_client_per_window() {
    let emu = Emu::start().await;
    for i in 0..10 {
        let q = emu.sign_in("ada@us.zportal.test", &[]).await;
        assert!(q.contains_key("code"), "code {i}");
    }
    let q = emu.sign_in("ada@us.zportal.test", &[("state", "s")]).await;
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "s");
    emu.post("config", json!({"limits": {"codes_per_client": false}}))
        .await;
    assert!(
        emu.sign_in("ada@us.zportal.test", &[])
            .await
            .contains_key("code")
    );
}

#[tokio::test]
async fn codes_expire_with_the_clock() {
    let emu = Emu::start().await;
    let q = emu.sign_in("ada@us.zportal.test", &[]).await;
    let now = emu.post("clock/advance", json!({"seconds": 121})).await;
    assert!(now["now"].as_i64().is_some());
    let (_, body) = emu
        .token(
            "us",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", DEV_ID),
                ("client_secret", DEV_SECRET),
                ("redirect_uri", REDIRECT),
                ("code", &q["code"]),
            ],
        )
        .await;
    assert_eq!(body, json!({"error": "invalid_code"}));
}

#[tokio::test]
async fn access_tokens_expire_with_the_clock_and_config() {
    let emu = Emu::start().await;
    let cfg = emu.post("config", json!({"access_token_ttl": 60})).await;
    assert_eq!(cfg["access_token_ttl"], json!(60));
    let t = emu.tokens_for("ada@us.zportal.test").await;
    assert_eq!(t["expires_in"], json!(60));
    let at = s(&t["access_token"]);
    assert_eq!(emu.api_get("us", "org", at).await.0, 200);
    emu.post("clock/advance", json!({"seconds": 61})).await;
    let (status, body) = emu.api_get("us", "org", at).await;
    assert_eq!((status, s(&body["code"])), (401, "INVALID_TOKEN"));
}

#[tokio::test]
async fn revoke_on_either_endpoint_kills_the_access_tokens() {
    let emu = Emu::start().await;
    for newer in [false, true] {
        let t = emu.tokens_for("ada@us.zportal.test").await;
        let (rt, at) = (s(&t["refresh_token"]), s(&t["access_token"]));
        let res = if newer {
            emu.http
                .post(format!("{}/oauth/v2/revoke/token", emu.accounts("us")))
                .basic_auth(DEV_ID, Some(DEV_SECRET))
                .query(&[("token", rt), ("token_type", "refresh_token")])
                .send()
                .await
        } else {
            emu.http
                .post(format!("{}/oauth/v2/token/revoke", emu.accounts("us")))
                .form(&[("token", rt)])
                .send()
                .await
        }
        .expect("revoke");
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.json::<Value>().await.expect("json"),
            json!({"status": "success"})
        );
        assert_eq!(emu.api_get("us", "org", at).await.0, 401, "newer={newer}");
        assert_eq!(
            emu.refresh("us", rt).await,
            json!({"error": "invalid_code"})
        );
    }
    let res = emu
        .http
        .post(format!("{}/oauth/v2/token/revoke", emu.accounts("us")))
        .form(&[("token", "1000.unknown")])
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 400);
    let stats = emu.get("stats").await;
    assert_eq!(stats["total"]["revocations"], json!(2));
}

#[tokio::test]
async fn identity_endpoints_check_header_and_scopes() {
    let emu = Emu::start().await;
    let t = emu.tokens_for("ada@us.zportal.test").await;
    let at = s(&t["access_token"]);
    let (status, body) = emu.api_get("us", "users?type=CurrentUser", at).await;
    assert_eq!(status, 200);
    let user = &body["users"][0];
    assert_eq!(s(&user["email"]), "ada@us.zportal.test");
    assert!(user["zuid"].is_string() && user["id"].is_string());
    assert_eq!(body["info"]["count"], json!(1));
    let (status, body) = emu.api_get("us", "org", at).await;
    assert_eq!(status, 200);
    assert_eq!(s(&body["org"][0]["zgid"]), "70001");
    assert_eq!(s(&body["org"][0]["company_name"]), "Acme Corp");

    // No header, or another scheme.
    let res = emu
        .http
        .get(format!("{}/crm/v8/org", emu.api("us")))
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), 401);
    assert_eq!(
        s(&res.json::<Value>().await.expect("json")["code"]),
        "AUTHENTICATION_FAILURE"
    );

    // A token without ZohoCRM.org.READ.
    let q = emu
        .sign_in("ben@us.zportal.test", &[("scope", "ZohoCRM.users.READ")])
        .await;
    let narrow = emu.exchange(&q).await;
    let (status, body) = emu.api_get("us", "org", s(&narrow["access_token"])).await;
    assert_eq!((status, s(&body["code"])), (401, "OAUTH_SCOPE_MISMATCH"));
    assert_eq!(
        emu.api_get("us", "users?type=CurrentUser", s(&narrow["access_token"]))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn serverinfo_and_dcs_advertise_the_emulator_urls() {
    let emu = Emu::start().await;
    let info: Value = emu
        .http
        .get(format!("{}/oauth/serverinfo", emu.accounts("us")))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(s(&info["result"]), "success");
    assert_eq!(s(&info["locations"]["ca"]), emu.accounts("ca"));
    let dcs = emu.get("dcs").await;
    let list = dcs["dcs"].as_array().expect("list");
    assert_eq!(list.len(), 9);
    assert_eq!(s(&list[0]["location"]), "us");
    assert_eq!(
        s(&list[0]["accounts_server"]),
        format!("{}/us/accounts", emu.base)
    );
    assert_eq!(s(&list[0]["api_domain"]), format!("{}/us/api", emu.base));
}

#[tokio::test]
async fn user_info_needs_the_profile_scope() {
    let emu = Emu::start().await;
    let q = emu
        .sign_in(
            "cleo@ca.zportal.test",
            &[("scope", "AaaServer.profile.READ,ZohoCRM.org.READ")],
        )
        .await;
    let t = emu.exchange(&q).await;
    let info: Value = emu
        .http
        .get(format!("{}/oauth/user/info", emu.accounts("ca")))
        .header(
            "Authorization",
            format!("Zoho-oauthtoken {}", s(&t["access_token"])),
        )
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(s(&info["Email"]), "cleo@ca.zportal.test");
    assert_eq!(s(&info["Display_Name"]), "Cleo Tremblay");
    assert!(info["ZUID"].as_u64().is_some());

    let narrow = emu.tokens_for("cleo@ca.zportal.test").await;
    let res = emu
        .http
        .get(format!("{}/oauth/user/info", emu.accounts("ca")))
        .header(
            "Authorization",
            format!("Bearer {}", s(&narrow["access_token"])),
        )
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), 401);
    assert_eq!(
        s(&res.json::<Value>().await.expect("json")["code"]),
        "OAUTH_SCOPE_MISMATCH"
    );
}

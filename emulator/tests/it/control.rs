//! The emulator's control API, faults, request log, snapshots and behaviour under concurrency,
//! and an unmodified `oauth2` crate completing a code exchange and a refresh against it.

use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::{Value, json};

#[tokio::test]
async fn users_can_be_added_to_new_and_existing_orgs() {
    let emu = Emu::start().await;
    let users = emu.get("users").await;
    // Ada and Ben, one user in each of the eight other orgs, and Acme's four more (README).
    assert_eq!(users["users"].as_array().map(Vec::len), Some(14));
    let ada = &users["users"][0];
    assert_eq!(s(&ada["email"]), "ada@us.zportal.test");
    assert_eq!(ada["org"], json!({"zgid": "70001", "name": "Acme Corp"}));

    let new = emu
        .post(
            "users",
            json!({"email": "zoe@eu.zportal.test", "dc": "eu", "org_zgid": "70002"}),
        )
        .await;
    assert_eq!(s(&new["org"]["name"]), "Euro GmbH");
    let fresh = emu
        .post(
            "users",
            json!({"email": "max@jp.zportal.test", "dc": "jp", "org_name": "Fuji Works"}),
        )
        .await;
    assert_eq!(s(&fresh["org"]["name"]), "Fuji Works");
    assert_ne!(s(&fresh["org"]["zgid"]), "70005");

    // The new user signs in like a seeded one and sees their own org.
    let t = emu.tokens_for("max@jp.zportal.test").await;
    let (status, body) = emu.api_get("jp", "org", s(&t["access_token"])).await;
    assert_eq!(status, 200);
    assert_eq!(s(&body["org"][0]["company_name"]), "Fuji Works");

    // Bad input is refused in words, and nothing is added.
    for bad in [
        json!({"email": "not-an-email", "dc": "us"}),
        json!({"email": "x@y.test", "dc": "mars"}),
        json!({"email": "y@z.test", "dc": "us", "org_zgid": "70002"}),
    ] {
        let res = emu
            .http
            .post(format!("{}/__emulator/users", emu.base))
            .json(&bad)
            .send()
            .await
            .expect("POST");
        assert_eq!(res.status(), 400, "{bad}");
        assert!(res.json::<Value>().await.expect("json")["error"].is_string());
    }
    assert_eq!(
        emu.get("users").await["users"].as_array().map(Vec::len),
        Some(16)
    );
}

#[tokio::test]
async fn clients_can_be_registered_and_replaced() {
    let emu = Emu::start().await;
    let client = json!({
        "client_id": "1000.MINE", "client_secret": "mine",
        "redirect_uris": ["http://127.0.0.1:4000/cb"], "dcs": ["us", "eu"]
    });
    emu.post("clients", client).await;
    let q = emu
        .authorize(
            "us",
            &[
                ("client_id", "1000.MINE"),
                ("response_type", "code"),
                ("redirect_uri", "http://127.0.0.1:4000/cb"),
                ("scope", "ZohoCRM.org.READ"),
                ("email", "ada@us.zportal.test"),
                ("decision", "accept"),
            ],
        )
        .await;
    assert!(q.contains_key("code"));
    emu.post(
        "clients",
        json!({"client_id": "1000.MINE", "client_secret": "changed", "redirect_uris": ["http://127.0.0.1:4000/cb"], "dcs": ["us"]}),
    )
    .await;
    let (_, body) = emu
        .token(
            "us",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "1000.MINE"),
                ("client_secret", "mine"),
                ("redirect_uri", "http://127.0.0.1:4000/cb"),
                ("code", &q["code"]),
            ],
        )
        .await;
    assert_eq!(body, json!({"error": "invalid_client_secret"}));
    let listed = emu.get("clients").await;
    assert!(listed["clients"].as_array().is_some_and(|c| c.len() == 3));
    assert!(
        !listed.to_string().contains("changed"),
        "secrets are not listed"
    );
}

#[tokio::test]
async fn self_client_codes_exchange_without_a_redirect_uri() {
    let emu = Emu::start().await;
    let grant = emu
        .post(
            "self-client",
            json!({"client_id": DEV_ID, "email": "uma@uk.zportal.test", "scope": SCOPES}),
        )
        .await;
    assert_eq!(s(&grant["accounts_server"]), emu.accounts("uk"));
    assert_eq!(grant["expires_in"], json!(120));
    let (_, t) = emu
        .token(
            "uk",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", DEV_ID),
                ("client_secret", DEV_SECRET),
                ("code", s(&grant["code"])),
            ],
        )
        .await;
    assert!(t["refresh_token"].is_string(), "{t}");
    assert_eq!(s(&t["api_domain"]), emu.api("uk"));
}

#[tokio::test]
async fn tokens_revoke_and_expire_by_email_or_token() {
    let emu = Emu::start().await;
    let a = emu.tokens_for("ada@us.zportal.test").await;
    let b = emu.tokens_for("ben@us.zportal.test").await;
    let expired = emu
        .post("tokens/expire", json!({"email": "ada@us.zportal.test"}))
        .await;
    assert_eq!(expired["count"], json!(1));
    assert_eq!(emu.api_get("us", "org", s(&a["access_token"])).await.0, 401);
    assert_eq!(emu.api_get("us", "org", s(&b["access_token"])).await.0, 200);
    // Expiry is not revocation: the refresh token still works.
    assert!(emu.refresh("us", s(&a["refresh_token"])).await["access_token"].is_string());

    let revoked = emu
        .post("tokens/revoke", json!({"token": s(&b["refresh_token"])}))
        .await;
    assert_eq!(
        revoked["count"],
        json!(2),
        "the refresh token and its access token"
    );
    assert_eq!(emu.api_get("us", "org", s(&b["access_token"])).await.0, 401);
    assert_eq!(
        emu.refresh("us", s(&b["refresh_token"])).await,
        json!({"error": "invalid_code"})
    );

    let by_email = emu
        .post("tokens/revoke", json!({"email": "ada@us.zportal.test"}))
        .await;
    assert!(by_email["count"].as_u64().is_some_and(|n| n >= 2));
    assert_eq!(
        emu.refresh("us", s(&a["refresh_token"])).await,
        json!({"error": "invalid_code"})
    );
}

async fn fault(emu: &Emu, body: Value) {
    let res = emu.post("faults", body).await;
    assert!(res["id"].as_u64().is_some());
}

#[tokio::test]
async fn each_fault_kind_fires_once_per_count() {
    let emu = Emu::start().await;
    let t = emu.tokens_for("ada@us.zportal.test").await;
    let rt = s(&t["refresh_token"]).to_owned();
    let at = s(&t["access_token"]).to_owned();

    fault(
        &emu,
        json!({"kind": "http_500", "endpoint": "refresh", "count": 1}),
    )
    .await;
    let res = emu
        .http
        .post(format!("{}/oauth/v2/token", emu.accounts("us")))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", DEV_ID),
            ("client_secret", DEV_SECRET),
            ("refresh_token", rt.as_str()),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 500);
    assert!(
        emu.refresh("us", &rt).await["access_token"].is_string(),
        "count 1: once only"
    );

    fault(
        &emu,
        json!({"kind": "http_503", "endpoint": "org", "count": 2}),
    )
    .await;
    assert_eq!(emu.api_get("us", "org", &at).await.0, 503);
    assert_eq!(emu.api_get("us", "org", &at).await.0, 503);
    assert_eq!(emu.api_get("us", "org", &at).await.0, 200);

    fault(
        &emu,
        json!({"kind": "access_denied", "endpoint": "refresh", "count": 1}),
    )
    .await;
    assert_eq!(s(&emu.refresh("us", &rt).await["error"]), "Access Denied");
    fault(
        &emu,
        json!({"kind": "access_denied", "endpoint": "users", "count": 1}),
    )
    .await;
    assert_eq!(
        emu.api_get("us", "users?type=CurrentUser", &at).await.0,
        429
    );

    fault(
        &emu,
        json!({"kind": "invalid_token", "endpoint": "users", "count": 1}),
    )
    .await;
    let (status, body) = emu.api_get("us", "users?type=CurrentUser", &at).await;
    assert_eq!((status, s(&body["code"])), (401, "INVALID_TOKEN"));

    fault(
        &emu,
        json!({"kind": "invalid_code", "endpoint": "refresh", "count": 1}),
    )
    .await;
    assert_eq!(
        emu.refresh("us", &rt).await,
        json!({"error": "invalid_code"})
    );
    assert!(
        emu.refresh("us", &rt).await["access_token"].is_string(),
        "a fault, not a revocation"
    );

    fault(
        &emu,
        json!({"kind": "legacy_shape", "endpoint": "refresh", "count": 1}),
    )
    .await;
    let legacy = emu.refresh("us", &rt).await;
    assert_eq!(legacy["expires_in_sec"], json!(3600));
    assert_eq!(legacy["expires_in"], json!(3_600_000));

    fault(
        &emu,
        json!({"kind": "redirect", "endpoint": "exchange", "count": 1}),
    )
    .await;
    let q = emu.sign_in("ada@us.zportal.test", &[]).await;
    let res = emu
        .http
        .post(format!("{}/oauth/v2/token", emu.accounts("us")))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", DEV_ID),
            ("client_secret", DEV_SECRET),
            ("redirect_uri", REDIRECT),
            ("code", q["code"].as_str()),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 302);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap_or("")
            .ends_with("/__emulator/redirected")
    );

    fault(
        &emu,
        json!({"kind": "delay", "endpoint": "org", "count": 1, "delay_ms": 300}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(emu.api_get("us", "org", &at).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    // A fault limited to one data center leaves the others alone; DELETE clears what is left.
    fault(
        &emu,
        json!({"kind": "http_500", "endpoint": "any", "dc": "eu", "count": 5}),
    )
    .await;
    assert_eq!(emu.api_get("us", "org", &at).await.0, 200);
    let armed = emu.get("faults").await;
    assert_eq!(armed["faults"][0]["dc"], "eu");
    assert_eq!(armed["faults"][0]["count"], 5, "shots left: none fired");
    let cleared = emu
        .control(reqwest::Method::DELETE, "faults", json!({}))
        .await;
    assert_eq!(cleared["count"], json!(1));

    let bad = emu
        .http
        .post(format!("{}/__emulator/faults", emu.base))
        .json(&json!({"kind": "meteor", "endpoint": "org", "count": 1}))
        .send()
        .await
        .expect("POST");
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn the_request_log_records_paths_and_whether_a_secret_was_sent() {
    let emu = Emu::start().await;
    let before = emu.get("requests").await["requests"]
        .as_array()
        .and_then(|r| r.last())
        .and_then(|r| r["seq"].as_u64())
        .unwrap_or(0);
    let t = emu.tokens_for("ada@us.zportal.test").await;
    emu.api_get("us", "org", s(&t["access_token"])).await;
    let log = emu.get(&format!("requests?since={before}")).await;
    let list = log["requests"].as_array().expect("list");
    let endpoints: Vec<&str> = list.iter().map(|r| s(&r["endpoint"])).collect();
    assert_eq!(endpoints, vec!["auth", "exchange", "org"]);
    assert_eq!(list[1]["secret_present"], json!(true));
    assert_eq!(s(&list[1]["client_id"]), DEV_ID);
    assert_eq!(list[0]["secret_present"], json!(false));
    assert_eq!(s(&list[2]["path"]), "/us/api/crm/v8/org");
    assert_eq!(list[2]["status"], json!(200));
    assert!(
        !log.to_string().contains(DEV_SECRET),
        "the log never holds a secret"
    );
    assert!(
        !log.to_string().contains(s(&t["access_token"])),
        "nor a token"
    );
    let since_last = emu.get(&format!("requests?since={}", list[2]["seq"])).await;
    assert_eq!(since_last["requests"], json!([]));
}

#[tokio::test]
async fn reset_returns_to_the_seed() {
    let emu = Emu::start().await;
    let t = emu.tokens_for("ada@us.zportal.test").await;
    emu.post("users", json!({"email": "tmp@us.zportal.test", "dc": "us"}))
        .await;
    emu.post("config", json!({"access_token_ttl": 5})).await;
    emu.post("reset", json!({})).await;
    assert_eq!(
        emu.get("users").await["users"].as_array().map(Vec::len),
        Some(14)
    );
    assert_eq!(emu.get("config").await["access_token_ttl"], json!(3600));
    assert_eq!(emu.api_get("us", "org", s(&t["access_token"])).await.0, 401);
    assert_eq!(emu.get("stats").await["total"]["exchanges"], json!(0));
}

#[tokio::test]
async fn config_refuses_bad_values_and_changes_nothing() {
    let emu = Emu::start().await;
    for bad in [
        json!({"access_token_ttl": -1}),
        json!({"limits": {"refresh_window": "lots"}}),
        json!({"limits": {"made_up": 3}}),
        json!({"nonsense": true}),
    ] {
        let res = emu
            .http
            .post(format!("{}/__emulator/config", emu.base))
            .json(&bad)
            .send()
            .await
            .expect("POST");
        assert_eq!(res.status(), 400, "{bad}");
    }
    let cfg = emu.get("config").await;
    assert_eq!(cfg["access_token_ttl"], json!(3600));
    assert_eq!(cfg["limits"]["refresh_window"], json!(10));
    assert_eq!(cfg["limits"]["live_access_tokens"], json!(15));
}

#[tokio::test]
async fn state_survives_a_restart_through_the_snapshot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("emulator.json");
    let emu = Emu::start_with(Some(file.clone())).await;
    let t = emu.tokens_for("ada@us.zportal.test").await;
    emu.post(
        "users",
        json!({"email": "kept@us.zportal.test", "dc": "us"}),
    )
    .await;
    emu.post("clock/advance", json!({"seconds": 30})).await;
    emu.running.stop().await;
    assert!(file.exists());

    let again = Emu::start_with(Some(file)).await;
    assert_eq!(
        again.api_get("us", "org", s(&t["access_token"])).await.0,
        200
    );
    assert!(again.refresh("us", s(&t["refresh_token"])).await["access_token"].is_string());
    assert_eq!(
        again.get("users").await["users"].as_array().map(Vec::len),
        Some(15)
    );
    assert_eq!(again.get("stats").await["total"]["exchanges"], json!(1));
}

#[tokio::test]
async fn five_hundred_concurrent_token_and_identity_requests_all_answer_and_add_up() {
    let emu = Emu::start().await;
    emu.post(
        "config",
        json!({"limits": {"refresh_window": false, "live_access_tokens": false}}),
    )
    .await;
    let t = emu.tokens_for("ada@us.zportal.test").await;
    let rt = s(&t["refresh_token"]).to_owned();
    let at = s(&t["access_token"]).to_owned();
    let before = emu.get("stats").await["total"].clone();

    let calls = (0..500).map(|i| {
        let (emu, rt, at) = (&emu, rt.clone(), at.clone());
        async move {
            match i % 3 {
                0 => emu.refresh("us", &rt).await["access_token"].is_string(),
                1 => emu.api_get("us", "org", &at).await.0 == 200,
                _ => emu.api_get("us", "users?type=CurrentUser", &at).await.0 == 200,
            }
        }
    });
    let results = futures::future::join_all(calls).await;
    assert!(
        results.iter().all(|ok| *ok),
        "every request answered successfully"
    );

    let after = emu.get("stats").await;
    let refreshes = (0..500).filter(|i| i % 3 == 0).count() as u64;
    let api = 500 - refreshes;
    let delta = |k: &str| after["total"][k].as_u64().unwrap_or(0) - before[k].as_u64().unwrap_or(0);
    assert_eq!(delta("refreshes"), refreshes);
    assert_eq!(delta("api_calls"), api);
    assert_eq!(delta("unauthorized"), 0);
    assert_eq!(
        after["by_dc"]["us"]["refreshes"],
        after["total"]["refreshes"]
    );
    let by_rt: u64 = after["by_refresh_token"]
        .as_object()
        .map(|m| {
            m.values()
                .map(|c| c["refreshes"].as_u64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0);
    assert_eq!(by_rt, refreshes);
    assert_eq!(
        after["by_user"]["ada@us.zportal.test"]["api_calls"].as_u64(),
        Some(api)
    );
}

#[tokio::test]
async fn the_oauth2_crate_completes_an_exchange_and_a_refresh() {
    use oauth2::basic::BasicClient;
    use oauth2::{
        AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
        RedirectUrl, Scope, TokenResponse, TokenUrl,
    };

    let emu = Emu::start().await;
    let client = BasicClient::new(ClientId::new(DEV_ID.into()))
        .set_client_secret(ClientSecret::new(DEV_SECRET.into()))
        .set_auth_uri(AuthUrl::new(format!("{}/oauth/v2/auth", emu.accounts("us"))).expect("url"))
        .set_token_uri(
            TokenUrl::new(format!("{}/oauth/v2/token", emu.accounts("us"))).expect("url"),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).expect("url"));
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("ZohoCRM.users.READ".into()))
        .add_scope(Scope::new("ZohoCRM.org.READ".into()))
        .add_extra_param("access_type", "offline")
        .set_pkce_challenge(challenge)
        .url();

    // The person at the sign-in page: the form carries the authorization URL's query.
    let mut fields: Vec<(String, String)> = auth_url.query_pairs().into_owned().collect();
    fields.push(("email".into(), "ada@us.zportal.test".into()));
    fields.push(("decision".into(), "accept".into()));
    let res = emu
        .http
        .post(auth_url.as_str().split('?').next().unwrap_or_default())
        .form(&fields)
        .send()
        .await
        .expect("POST auth");
    let location =
        url::Url::parse(res.headers()["location"].to_str().expect("ascii")).expect("url");
    let q: std::collections::HashMap<String, String> =
        location.query_pairs().into_owned().collect();
    assert_eq!(q["state"], *csrf.secret());

    let http = oauth2::reqwest::ClientBuilder::new()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let token = client
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("exchange");
    assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)));
    let refresh = token
        .refresh_token()
        .expect("offline gives a refresh token");
    let (status, _) = emu
        .api_get("us", "org", token.access_token().secret())
        .await;
    assert_eq!(status, 200);

    let refreshed = client
        .exchange_refresh_token(refresh)
        .request_async(&http)
        .await
        .expect("refresh");
    assert_ne!(
        refreshed.access_token().secret(),
        token.access_token().secret()
    );
    assert_eq!(
        emu.api_get("us", "org", refreshed.access_token().secret())
            .await
            .0,
        200
    );
}

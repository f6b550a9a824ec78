//! The signed-out side of the app: choosing a data center, the "Sign in with Zoho" button, and the
//! page a failed sign-in lands on.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::wire::Json;

/// One data center the user may sign in at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcOption {
    pub location: String,
    pub name: String,
}

/// The data centers this zportal has enabled, and the one to preselect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcChoices {
    pub options: Vec<DcOption>,
    pub selected: String,
}

/// The data center this browser chose, and where its sign-in page lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcChosen {
    pub location: String,
    pub name: String,
    pub accounts_server: String,
}

/// Lists the enabled data centers, preselecting the one this browser chose before.
#[server(endpoint = "auth/data-centers", input = GetUrl, output = Json)]
pub async fn data_centers() -> Result<DcChoices, AppError> {
    ssr::data_centers().await
}

/// Remembers this browser's data center in its session, so the next visit starts there.
#[server(endpoint = "auth/data-center", output = Json)]
pub async fn choose_data_center(location: String) -> Result<DcChosen, AppError> {
    ssr::choose_data_center(location).await
}

/// The "Data center" select and the "Sign in with Zoho" button.
#[component]
pub fn SignInPanel() -> impl IntoView {
    let choices = Resource::new(|| (), |_| data_centers());
    let choose = ServerAction::<ChooseDataCenter>::new();
    let on_change = move |ev: leptos::ev::Event| {
        choose.dispatch(ChooseDataCenter {
            location: event_target_value(&ev),
        });
    };
    let chosen = move || {
        choose.value().get().map(|result| match result {
            Ok(c) => format!(
                "You will sign in at Zoho {} ({}).",
                c.name, c.accounts_server
            ),
            Err(e) => e.to_string(),
        })
    };

    view! {
        <form class="sign-in" method="get" action="/auth/zoho/start">
            <label for="dc">"Data center"</label>
            <Suspense fallback=|| {
                view! {
                    <select id="dc" name="dc" disabled=true>
                        <option>"Loading…"</option>
                    </select>
                }
            }>
                {move || Suspend::new(async move {
                    match choices.await {
                        Ok(c) => {
                            let selected = c.selected;
                            view! {
                                <select id="dc" name="dc" on:change=on_change>
                                    {c
                                        .options
                                        .into_iter()
                                        .map(|o| {
                                            let is_selected = o.location == selected;
                                            view! {
                                                <option value=o.location selected=is_selected>
                                                    {o.name}
                                                </option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <button type="submit" class="primary">
                "Sign in with Zoho"
            </button>
            <p class="hint" aria-live="polite">
                {chosen}
            </p>
        </form>
    }
}

/// What a sign-in failure code means, in words.
pub fn reason_text(reason: &str) -> &'static str {
    match reason {
        "unknown_dc" => "That data center is not enabled on this zportal.",
        "state_missing" => {
            "This sign-in could not be matched to one started in this browser. Please start again."
        }
        "state_mismatch" => {
            "The answer from Zoho did not belong to the sign-in this browser started."
        }
        "expired" => "The sign-in took too long. Please start again.",
        "access_denied" => "You declined access at Zoho, so you are not signed in.",
        "dc_not_allowed" => {
            "Zoho sent the sign-in back from a data center this zportal does not accept."
        }
        "bad_response" => "Zoho's answer was incomplete or malformed.",
        "exchange_failed" => "Zoho did not accept the sign-in. Please try again.",
        "client_rejected" => "Zoho does not accept this zportal in that data center.",
        "zoho_throttled" => {
            "Zoho is limiting requests right now. Please try again in a few minutes."
        }
        "zoho_unavailable" => "Zoho could not be reached. Please try again shortly.",
        "no_refresh_token" => {
            "Zoho did not grant the offline access zportal needs. Please sign in again and accept."
        }
        "server_error" => "Something went wrong on our side. Please try again.",
        _ => "Signing in did not complete.",
    }
}

/// `/auth/error`: why the sign-in failed, and a way to try again.
#[component]
pub fn SignInError() -> impl IntoView {
    let query = use_query_map();
    let text = move || reason_text(&query.read().get("reason").unwrap_or_default());
    view! {
        <section class="panel">
            <leptos_meta::Title text="Sign-in did not complete · zportal" />
            <h1>"Sign-in did not complete"</h1>
            <p role="alert">{text}</p>
            <SignInPanel />
        </section>
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    //! The server's half: the enabled data centers and this session's choice among them.

    use super::*;

    pub async fn data_centers() -> Result<DcChoices, AppError> {
        use crate::context;
        let ctx = context::server_context()?;
        let session = crate::session::current_session().await?;
        let selected = crate::session::preferred_dc(&session)
            .await?
            .filter(|dc| ctx.zoho.dcs().endpoints(*dc).is_ok())
            .unwrap_or_else(|| ctx.zoho.dcs().default_dc());
        Ok(DcChoices {
            options: ctx
                .zoho
                .dcs()
                .enabled()
                .map(|dc| DcOption {
                    location: dc.location().to_owned(),
                    name: dc.name().to_owned(),
                })
                .collect(),
            selected: selected.location().to_owned(),
        })
    }

    pub async fn choose_data_center(location: String) -> Result<DcChosen, AppError> {
        use crate::context;
        let ctx = context::server_context()?;
        let dc: zoho::DataCenter = location
            .parse()
            .map_err(|_| AppError::BadRequest("That data center is not one Zoho has.".into()))?;
        let endpoints = ctx.zoho.dcs().endpoints(dc).map_err(|_| {
            AppError::BadRequest(format!("{} is not enabled on this zportal.", dc.name()))
        })?;
        let session = crate::session::current_session().await?;
        crate::session::prefer_dc(&session, dc).await?;
        Ok(DcChosen {
            location: dc.location().to_owned(),
            name: dc.name().to_owned(),
            accounts_server: endpoints.accounts_server.clone(),
        })
    }
}

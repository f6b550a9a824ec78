//! The signed-in side of the header: who is signed in, at which org, and the controls to sign out,
//! disconnect, add another Zoho account and switch between them. All of them are plain HTML forms
//! posting to the server's `/auth/*` routes, so they work before (and without) the WASM.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::wire::Json;

/// One Zoho account this browser is signed in with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDto {
    /// The opaque connection id: all the browser knows of the stored tokens.
    pub id: String,
    pub email: String,
    pub org_name: String,
    pub dc: String,
    pub dc_name: String,
    pub needs_reconnect: bool,
}

/// The active account and every account of this session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub active: AccountDto,
    pub accounts: Vec<AccountDto>,
}

/// Who is signed in here, or `None` when nobody is.
#[server(endpoint = "session/me", input = GetUrl, output = Json)]
pub async fn who_is_signed_in() -> Result<Option<SignedIn>, AppError> {
    ssr::who_is_signed_in().await
}

/// The header's account controls.
#[component]
pub fn AccountBar(me: SignedIn) -> impl IntoView {
    let active = me.active.clone();
    let every_id: Vec<String> = me.accounts.iter().map(|a| a.id.clone()).collect();
    let active_id = active.id.clone();
    let others: Vec<AccountDto> = me
        .accounts
        .iter()
        .filter(|a| a.id != active.id)
        .cloned()
        .collect();
    view! {
        <div class="account" data-testid="account">
            <span class="who">
                <a class="email" href="/connection" title="Connection details">
                    {active.email.clone()}
                </a>
                <span class="org">{format!("{} · {}", active.org_name, active.dc_name)}</span>
            </span>
            {(!others.is_empty())
                .then(|| {
                    view! {
                        <form method="post" action="/auth/switch" class="switcher">
                            <label for="switch-account" class="sr-only">
                                "Account"
                            </label>
                            <select id="switch-account" name="connection">
                                <option value=active.id.clone() selected=true>
                                    {format!("{} ({})", active.email, active.org_name)}
                                </option>
                                {others
                                    .into_iter()
                                    .map(|a| {
                                        view! {
                                            <option value=a.id>
                                                {format!("{} ({})", a.email, a.org_name)}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                            <button type="submit">"Switch account"</button>
                        </form>
                    }
                })}
            <form method="get" action="/auth/zoho/start">
                <button type="submit">"Add account"</button>
            </form>
            <form
                method="post"
                action="/auth/disconnect"
                on:submit=move |_| crate::stash::forget(std::slice::from_ref(&active_id))
            >
                <input type="hidden" name="connection" value=active.id.clone() />
                <button type="submit" class="danger">
                    "Disconnect"
                </button>
            </form>
            <form method="post" action="/auth/signout" on:submit=move |_| crate::stash::forget(&every_id)>
                <button type="submit">"Sign out"</button>
            </form>
        </div>
    }
}

/// The signed-in home page: who and where, and the way back to the last module.
#[component]
pub fn SignedInHome(me: SignedIn) -> impl IntoView {
    view! {
        <section class="panel">
            <h1>{format!("Welcome, {}", me.active.email)}</h1>
            <p class="lede">
                {format!(
                    "You are connected to {} in Zoho's {} data center.",
                    me.active.org_name,
                    me.active.dc_name,
                )}
            </p>
            <p>"Choose a module on the left to see its records."</p>
            <crate::records::ContinueLink />
        </section>
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    //! The server's half: this session's accounts, read from the vault.

    use super::*;

    pub async fn who_is_signed_in() -> Result<Option<SignedIn>, AppError> {
        use crate::context;
        use keeper::vault::ConnectionStatus;
        use zoho::ConnectionId;

        let ctx = context::server_context()?;
        let session = crate::session::SessionAccounts::current().await?;
        let accounts = session.accounts();
        let mut list = Vec::new();
        for id in &accounts.connections {
            // A connection disconnected from another browser is simply gone here.
            let Some(c) = ctx.zoho.vault.get(&ConnectionId::new(id.clone())).await? else {
                continue;
            };
            list.push(AccountDto {
                id: c.id.to_string(),
                email: c.email,
                org_name: c.org_name,
                dc: c.key.dc.location().to_owned(),
                dc_name: c.key.dc.name().to_owned(),
                needs_reconnect: c.status == ConnectionStatus::NeedsReconnect,
            });
        }
        let active = accounts
            .active
            .as_ref()
            .and_then(|a| list.iter().find(|c| &c.id == a))
            .or_else(|| list.first())
            .cloned();
        Ok(active.map(|active| SignedIn {
            active,
            accounts: list,
        }))
    }
}

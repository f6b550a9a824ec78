//! What a failed call shows, beside what failed: its words and the way on ("Reconnect", "Try
//! again"). Every page's sections use it, records' and activities' alike.

use leptos::prelude::*;

use crate::AppError;

/// "Reconnect": signs in at Zoho again for the active connection (granting any permission it
/// lacks) and comes back to this very page.
#[component]
pub fn ReconnectButton() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let here = move || {
        let path = location.pathname.get();
        let query = location.search.get();
        if query.is_empty() {
            path
        } else {
            format!("{path}?{}", query.trim_start_matches('?'))
        }
    };
    view! {
        <form method="get" action="/auth/zoho/start" class="reconnect go">
            <input type="hidden" name="return_to" prop:value=here value=here />
            <button type="submit" class="primary">
                "Reconnect"
            </button>
        </form>
    }
}

/// What a failed records call shows, beside what failed: words, and the way on — "Reconnect"
/// in place when the connection needs it, "Try again" when trying again may help. The alert is
/// there from the start; its words come from a WASM chunk of their own, drawn once mounted, so a
/// page that fails nothing never downloads them.
#[component]
pub fn Problem(error: AppError, #[prop(optional)] retry: Option<Callback<()>>) -> impl IntoView {
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let error = StoredValue::new(error);
    view! {
        <div class="problem" role="alert">
            <Show when=move || mounted.get()>
                <Suspense>
                    {move || Suspend::new(problem_words(error.get_value(), retry))}
                </Suspense>
            </Show>
        </div>
    }
}

/// The problem's words and ways on, from their own chunk.
#[cfg_attr(any(feature = "ssr", feature = "split"), lazy)]
async fn problem_words(error: AppError, retry: Option<Callback<()>>) -> AnyView {
    view! { <ProblemWords error retry /> }.into_any()
}

#[component]
fn ProblemWords(error: AppError, retry: Option<Callback<()>>) -> impl IntoView {
    let may_retry = matches!(
        error,
        AppError::ZohoUnavailable
            | AppError::Internal
            | AppError::Transport(_)
            | AppError::Throttled { .. }
    );
    // A time is shown in the browser's zone, not in the server's words (UTC).
    let words = error.to_string();
    let lead = match error {
        AppError::BudgetSpent { .. } => " zportal tries again at ",
        _ => "Try again after ",
    };
    let hint = match error {
        AppError::NeedsReconnect | AppError::NeedsConsent => {
            Some(view! { <ReconnectButton /> }.into_any())
        }
        AppError::Unauthenticated => Some(view! { <a href="/">"Sign in"</a> }.into_any()),
        AppError::Throttled { retry_at } | AppError::BudgetSpent { retry_at, .. } => Some(view! {
            <span>
                {lead}
                <crate::time::LocalTime iso=crate::time::iso(retry_at) fallback=crate::time::utc(retry_at) />
                "."
            </span>
        }.into_any()),
        _ => None,
    };
    let retry = retry.filter(|_| may_retry).map(|again| {
        view! {
            <button type="button" on:click=move |_| again.run(())>
                "Try again"
            </button>
        }
    });
    view! {
        <p class="error">{words}</p>
        {hint}
        {retry}
    }
}

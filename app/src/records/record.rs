//! `/m/{Module}/{id}`: one record, every field with Zoho's label; instants in the reader's time
//! zone, lookups as links to the record they name.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use super::{FieldValue, ModuleDto, Problem, delete_records, get_record};
use crate::AppError;

#[component]
pub fn RecordPage() -> impl IntoView {
    let params = use_params_map();
    let record = Resource::new(
        move || {
            let p = params.read();
            (
                p.get("module").unwrap_or_default(),
                p.get("id").unwrap_or_default(),
            )
        },
        |(m, id)| get_record(m, id),
    );
    view! {
        <section class="panel record">
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                {move || {
                    record
                        .get()
                        .map(|r| match r {
                            Ok(v) => {
                                let id = params.read_untracked().get("id").unwrap_or_default();
                                view! {
                                    <p class="crumbs">
                                        <a href=format!("/m/{}", v.module.api_name)>{v.module.plural.clone()}</a>
                                    </p>
                                    <header class="record-head">
                                        <h1>{v.title.clone()}</h1>
                                        <RecordActions module=v.module.clone() id title=v.title.clone() />
                                    </header>
                                    <dl class="facts">
                                        {v.fields.into_iter().map(|f| view! { <Fact f /> }).collect_view()}
                                    </dl>
                                }.into_any()
                            }
                            Err(e) => view! { <Problem error=e /> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

/// One field: its label and its value.
#[component]
fn Fact(f: FieldValue) -> impl IntoView {
    let value = match (f.instant, f.link) {
        _ if f.value.is_empty() => view! { <span class="none">"—"</span> }.into_any(),
        (true, _) => {
            view! { <crate::time::LocalTime iso=f.value.clone() fallback=f.value /> }.into_any()
        }
        (false, Some(href)) => view! { <a href=href>{f.value}</a> }.into_any(),
        (false, None) => f.value.into_any(),
    };
    view! {
        <dt>{f.label}</dt>
        <dd>{value}</dd>
    }
}

/// "Edit" and "Delete" (which asks first) for one record.
#[component]
fn RecordActions(module: ModuleDto, id: String, title: String) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let failed = RwSignal::new(None::<AppError>);
    let navigate = use_navigate();
    let list = format!("/m/{}", module.api_name);
    let delete = {
        let (module, id) = (module.api_name.clone(), id.clone());
        move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            let (module, id, list, navigate) =
                (module.clone(), id.clone(), list.clone(), navigate.clone());
            spawn_local(async move {
                let result = delete_records(module, vec![id]).await;
                busy.set(false);
                match result {
                    Ok(out) if out.failed.is_empty() => navigate(&list, Default::default()),
                    Ok(out) => failed.set(Some(AppError::BadRequest(
                        out.failed
                            .into_iter()
                            .map(|p| p.message)
                            .collect::<Vec<_>>()
                            .join(" "),
                    ))),
                    Err(e) => failed.set(Some(e)),
                }
            });
        }
    };
    let question = format!(
        "Delete {} “{}”? Zoho keeps it in its recycle bin.",
        module.singular, title
    );
    view! {
        <div class="record-actions">
            <Show
                when=move || confirming.get()
                fallback=move || {
                    view! {
                        <super::GoButton href=format!("/m/{}/{}/edit", module.api_name, id) label="Edit" />
                        <button type="button" class="danger" on:click=move |_| confirming.set(true)>
                            "Delete"
                        </button>
                    }
                }
            >
                <div class="confirm" role="alertdialog" aria-label="Confirm deletion">
                    <p>{question.clone()}</p>
                    <button type="button" class="danger" disabled=move || busy.get() on:click=delete.clone()>
                        "Yes, delete it"
                    </button>
                    <button type="button" on:click=move |_| confirming.set(false)>
                        "Keep it"
                    </button>
                </div>
            </Show>
        </div>
        {move || failed.get().map(|e| view! { <Problem error=e /> })}
    }
}

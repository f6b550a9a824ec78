//! `/m/{Module}/{id}`: one record. A header with its name, owner, status and the ways to reach
//! it (`tel:`, `mailto:`); its fields in a few groups (empty ones folded away), instants in the
//! reader's time zone and numbers in their locale, lookups as links; then the sections that load
//! after the fields ([`super::sections`]): notes, attachments, history and related lists.
//! It is live: a change to the record by anyone is read again into the fields (the sections, and
//! anything typed into them, stay), and a record deleted meanwhile says so.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::{
    FieldGroup, FieldValue, ModuleDto, Problem, RecordView, ValueKind, delete_records, get_record,
};
use crate::AppError;
use crate::toast::Toasts;

/// What a record page reads, started by the route as it fetches the page's chunk (not after it):
/// the record, for the module and id in the URL.
#[derive(Clone, Copy)]
pub struct RecordData {
    key: Memo<(String, String)>,
    record: Resource<Result<RecordView, AppError>>,
}

impl RecordData {
    /// Starts reading the record the route's parameters name.
    pub fn load() -> RecordData {
        let params = use_params_map();
        let key = Memo::new(move |_| {
            let p = params.read();
            (
                p.get("module").unwrap_or_default(),
                p.get("id").unwrap_or_default(),
            )
        });
        let record = Resource::new(move || key.get(), |(m, id)| get_record(m, id));
        RecordData { key, record }
    }
}

#[component]
pub fn RecordPage(data: RecordData) -> impl IntoView {
    let RecordData { key, record } = data;
    crate::live::on_change(
        move |c| {
            let (m, id) = key.get_untracked();
            c.touches(&m, Some(&id))
        },
        move || record.refetch(),
    );
    // The page's dialogs: kept here, outside the part a live re-read draws anew.
    let dialogs = PageDialogs::new();
    // Another record (a link followed from a dialog): its dialogs are closed.
    Effect::watch(move || key.get(), move |_, _, _| dialogs.close_all(), false);
    // Whether the record is there: the sections below it stay while its fields are read again.
    let found = Memo::new(move |_| matches!(record.get(), Some(Ok(_))));
    // The sections are the browser's to load, once the page is up: the server renders their
    // placeholder and hydration finds just that.
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    // Outside the suspended part (see the list's title): the record's name once it is known.
    let title = move || match record.get() {
        Some(Ok(v)) => crate::page_title(&[&v.title, &v.module.plural]),
        _ => crate::page_title(&[&key.get().0.replace('_', " ")]),
    };
    view! {
        <leptos_meta::Title text=title />
        <section class="panel record">
            // A Transition: a live re-read keeps the record on screen until the new one is in.
            <Transition fallback=|| view! { <RecordPlaceholder /> }>
                {move || {
                    record
                        .get()
                        .map(|r| match r {
                            Ok(v) => {
                                let (_, id) = key.get_untracked();
                                view! { <RecordBody v id dialogs /> }.into_any()
                            }
                            Err(e) => {
                                // The way on from a record that is not there (deleted, perhaps
                                // just now by someone else): its module's list.
                                let module = key.get_untracked().0;
                                let back = format!("Back to {}", module.replace('_', " "));
                                view! {
                                    <Problem error=e retry=Callback::new(move |()| record.refetch()) />
                                    <p><a href=format!("/m/{module}")>{back}</a></p>
                                }
                                    .into_any()
                            }
                        })
                }}
                // Drawn anew for another record (a link from one record page to another keeps
                // this page, with new parameters).
                {move || {
                    let (module, id) = key.get();
                    found.get().then_some(move || {
                        let (module, id) = (module.clone(), id.clone());
                        if mounted.get() {
                            view! { <super::sections::RecordSections module id /> }.into_any()
                        } else {
                            view! { <div class="placeholder" aria-busy="true" aria-label="Loading notes, files and history"></div> }.into_any()
                        }
                    })
                }}
            </Transition>
            {move || dialogs.view(key.get_untracked())}
        </section>
    }
}

/// The record page's dialogs ("Convert lead", "Change owner"): whether each is open, and the
/// button that opened it (the focus goes back there).
#[derive(Clone, Copy)]
pub struct PageDialogs {
    converting: RwSignal<bool>,
    convert_button: NodeRef<leptos::html::Button>,
    changing_owner: RwSignal<bool>,
    owner_button: NodeRef<leptos::html::Button>,
}

impl PageDialogs {
    fn new() -> Self {
        PageDialogs {
            converting: RwSignal::new(false),
            convert_button: NodeRef::new(),
            changing_owner: RwSignal::new(false),
            owner_button: NodeRef::new(),
        }
    }

    fn close_all(self) {
        self.converting.set(false);
        self.changing_owner.set(false);
    }

    /// The open dialog, if any, for the record `(module, id)`.
    fn view(self, (module, id): (String, String)) -> Option<AnyView> {
        let closing = |open: RwSignal<bool>, button: NodeRef<leptos::html::Button>| {
            Callback::new(move |()| {
                open.set(false);
                // Once the dialog is gone (the page behind it is inert until then): the button,
                // if a live re-read left it, else the page's heading.
                set_timeout(
                    move || match button.get_untracked().filter(|b| b.is_connected()) {
                        Some(b) => {
                            let _ = b.focus();
                        }
                        None => crate::focus_heading(3),
                    },
                    std::time::Duration::ZERO,
                );
            })
        };
        if self.converting.get() {
            let close = closing(self.converting, self.convert_button);
            return Some(
                view! { <crate::convert::dialog::ConvertDialog lead_id=id close /> }.into_any(),
            );
        }
        if self.changing_owner.get() {
            let close = closing(self.changing_owner, self.owner_button);
            let toasts = Toasts::get();
            let done = Callback::new(move |report: crate::bulk::BulkReport| {
                toasts.say(report.words("Changed the owner of"));
                close.run(());
            });
            return Some(
                view! { <crate::bulk::dialogs::ChangeOwnerDialog module ids=vec![id] close done /> }
                    .into_any(),
            );
        }
        None
    }
}

/// What shows while the record loads: the shape of a header and a few fields.
#[component]
fn RecordPlaceholder() -> impl IntoView {
    view! {
        <div class="placeholder" aria-busy="true" aria-label="Loading the record">
            <div class="ph ph-title"></div>
            <div class="ph ph-line"></div>
            <div class="ph ph-line"></div>
            <div class="ph ph-line short"></div>
        </div>
    }
}

#[component]
fn RecordBody(v: RecordView, id: String, dialogs: PageDialogs) -> impl IntoView {
    let RecordView {
        module,
        title,
        fields,
        owner,
        status,
        reach,
        currency,
        converted,
    } = v;
    // A Lead not converted yet can be; a converted one says into what.
    let convertible = module.api_name == "Leads" && converted.is_none();
    let groups = FieldGroup::ALL
        .into_iter()
        .filter_map(|g| {
            let (filled, empty): (Vec<FieldValue>, Vec<FieldValue>) = fields
                .iter()
                .filter(|f| f.group == g)
                .cloned()
                .partition(|f| !f.value.is_empty());
            (!filled.is_empty() || !empty.is_empty()).then_some((g, filled, empty))
        })
        .collect::<Vec<_>>();
    let currency = StoredValue::new(currency);
    view! {
        <p class="crumbs">
            <a href=format!("/m/{}", module.api_name)>{module.plural.clone()}</a>
        </p>
        <header class="record-head">
            <div class="record-title">
                <h1 tabindex="-1">{title.clone()}</h1>
                <p class="record-meta">
                    <span class="kind">{module.singular.clone()}</span>
                    {owner.map(|o| view! { <span>"Owner: " {o}</span> })}
                    {status.map(|(label, value)| view! {
                        <span class="badge" title=label.clone()>{format!("{label}: {value}")}</span>
                    })}
                </p>
                {(!reach.is_empty()).then(|| view! {
                    <ul class="reach" aria-label="Reach">
                        {reach.into_iter().map(|r| {
                            let verb = if r.href.starts_with("tel:") { "Call" } else { "Email" };
                            view! {
                                <li>
                                    <a href=r.href class="reach-link" title=r.text.clone()>
                                        {format!("{verb} ({})", r.label)}
                                    </a>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })}
            </div>
            <RecordActions
                module=module.clone()
                id
                title=title.clone()
                dialogs
                convertible
            />
        </header>
        {converted.map(|c| view! { <ConvertedNotice c /> })}
        {groups
            .into_iter()
            .map(|(group, filled, empty)| {
                let count = empty.len();
                view! {
                    <section class="field-group" aria-label=group.heading()>
                        <h2>{group.heading()}</h2>
                        {(!filled.is_empty()).then(|| view! {
                            <dl class="facts">
                                {filled.into_iter().map(|f| view! { <Fact f currency=currency.get_value() /> }).collect_view()}
                            </dl>
                        })}
                        {(count > 0).then(|| view! {
                            <details class="empty-fields">
                                <summary>
                                    {if count == 1 { "1 empty field".to_owned() } else { format!("{count} empty fields") }}
                                </summary>
                                <dl class="facts">
                                    {empty.into_iter().map(|f| view! { <Fact f currency=None /> }).collect_view()}
                                </dl>
                            </details>
                        })}
                    </section>
                }
            })
            .collect_view()}
    }
}

/// One field: its label and its value.
#[component]
fn Fact(f: FieldValue, currency: Option<String>) -> impl IntoView {
    let value = match (f.kind, f.link) {
        _ if f.value.is_empty() => view! { <span class="none">"—"</span> }.into_any(),
        (_, Some(href)) => view! { <a href=href>{f.value}</a> }.into_any(),
        (ValueKind::Instant, None) => {
            view! { <crate::time::LocalTime iso=f.value.clone() fallback=f.value /> }.into_any()
        }
        (ValueKind::Number | ValueKind::Percent | ValueKind::Currency, None) => {
            view! { <crate::records::numbers::LocalNumber raw=f.value kind=f.kind currency /> }
                .into_any()
        }
        (ValueKind::Email, None) => {
            let href = format!("mailto:{}", f.value);
            view! { <a href=href>{f.value}</a> }.into_any()
        }
        (ValueKind::Url, None)
            if f.value.starts_with("https://") || f.value.starts_with("http://") =>
        {
            let href = f.value.clone();
            view! { <a href=href rel="noopener noreferrer" target="_blank">{f.value}</a> }
                .into_any()
        }
        (ValueKind::LongText, None) => {
            view! { <span class="long-text">{f.value}</span> }.into_any()
        }
        _ => f.value.into_any(),
    };
    view! {
        <dt>{f.label}</dt>
        <dd>{value}</dd>
    }
}

/// What a converted Lead became, with links: "Converted to Ada Lovelace, under Acme, with the
/// deal Acme renewal."
#[component]
fn ConvertedNotice(c: crate::convert::ConvertedInto) -> impl IntoView {
    let to = |l: crate::convert::RecordLink| {
        let href = l.href();
        view! { <a href=href>{l.name}</a> }
    };
    view! {
        <p class="notice converted">
            "Converted to "
            {to(c.contact)}
            {c.account.map(|a| view! { ", under " {to(a)} })}
            {c.deal.map(|d| view! { ", with the deal " {to(d)} })}
            "."
        </p>
    }
}

/// "Edit", "Delete" (which asks first) and, on a Lead not converted yet, "Convert".
#[component]
fn RecordActions(
    module: ModuleDto,
    id: String,
    title: String,
    dialogs: PageDialogs,
    /// A Lead not converted yet: "Convert" applies.
    convertible: bool,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let failed = RwSignal::new(None::<AppError>);
    let navigate = use_navigate();
    let toasts = Toasts::get();
    let list = format!("/m/{}", module.api_name);
    let delete = {
        let (module, id) = (module.clone(), id.clone());
        move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            let (module, id, list, navigate) =
                (module.clone(), id.clone(), list.clone(), navigate.clone());
            spawn_local(async move {
                let result = delete_records(module.api_name.clone(), vec![id]).await;
                busy.set(false);
                match result {
                    Ok(out) if out.failed.is_empty() => {
                        toasts.say(format!("{} deleted.", module.singular));
                        navigate(&list, Default::default());
                    }
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
                        {convertible.then(|| view! {
                            <crate::convert::dialog::ConvertButton open=dialogs.converting node_ref=dialogs.convert_button />
                        }.into_any())}
                        <button
                            type="button"
                            node_ref=dialogs.owner_button
                            aria-haspopup="dialog"
                            on:click=move |_| dialogs.changing_owner.set(true)
                        >
                            "Change owner"
                        </button>
                        <button type="button" class="danger" on:click=move |_| confirming.set(true)>
                            "Delete"
                        </button>
                    }
                }
            >
                <div
                    class="confirm"
                    role="alertdialog"
                    aria-label="Confirm deletion"
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Escape" {
                            confirming.set(false);
                        }
                    }
                >
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

//! The Notes section: the record's notes, newest first, each editable in place and deletable;
//! a box to add one. A refused or failed change keeps the text and says why beside it.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{NoteDto, Outcome, Placeholder, add_note, delete_note, edit_note, list_notes};
use crate::AppError;
use crate::records::Problem;
use crate::toast::Toasts;

/// What a note change that failed says: Zoho's refusal, or the call's error.
fn failure(result: Result<Outcome, AppError>) -> Option<String> {
    match result {
        Ok(Outcome::Done) => None,
        Ok(Outcome::Refused { message }) => Some(message),
        Err(e) => Some(e.to_string()),
    }
}

#[component]
pub fn NotesSection(module: String, id: String) -> impl IntoView {
    let key = (module.clone(), id.clone());
    let notes = LocalResource::new(move || list_notes(key.0.clone(), key.1.clone()));
    let reload = move || notes.refetch();
    // Live: others' notes come in — but not while one is being edited here (the list is drawn
    // anew), only once it is done.
    let editing = RwSignal::new(0usize);
    provide_context(NotesEditing(editing));
    let stale = RwSignal::new(false);
    {
        let (module, id) = (module.clone(), id.clone());
        crate::live::on_change(
            move |c| c.touches_notes() || c.keeps(&module, &id),
            move || {
                if editing.get_untracked() > 0 {
                    stale.set(true);
                } else {
                    reload();
                }
            },
        );
    }
    Effect::new(move |_| {
        if editing.get() == 0 && stale.get_untracked() {
            stale.set(false);
            reload();
        }
    });
    view! {
        <section class="record-section notes" aria-labelledby="notes-heading">
            <h2 id="notes-heading">"Notes"</h2>
            <NewNote module id reload />
            <Suspense fallback=|| view! { <Placeholder label="Loading notes" /> }>
                {move || {
                    notes
                        .get()
                        .map(|r| match r {
                            Ok(list) if list.is_empty() => {
                                view! { <p class="empty">"No notes yet."</p> }.into_any()
                            }
                            Ok(list) => view! {
                                <ul class="notes-list">
                                    {list.into_iter().map(|n| view! { <NoteItem n reload /> }).collect_view()}
                                </ul>
                            }
                                .into_any(),
                            Err(e) => {
                                view! { <Problem error=e retry=Callback::new(move |()| reload()) /> }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

/// The box that adds a note.
#[component]
fn NewNote(
    module: String,
    id: String,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let toasts = Toasts::get();
    let target = StoredValue::new((module, id));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let content = text.get_untracked();
        if content.trim().is_empty() {
            problem.set(Some("Write the note first.".into()));
            return;
        }
        busy.set(true);
        let (module, id) = target.get_value();
        spawn_local(async move {
            let result = add_note(module, id, content).await;
            busy.set(false);
            match failure(result) {
                None => {
                    text.set(String::new());
                    problem.set(None);
                    toasts.say("Note added.");
                    reload();
                }
                Some(why) => problem.set(Some(why)),
            }
        });
    };
    view! {
        <form class="new-note" on:submit=submit>
            <label for="new-note">"New note"</label>
            <textarea
                id="new-note"
                rows="3"
                maxlength="32000"
                aria-describedby="new-note-error"
                aria-invalid=move || problem.get().map(|_| "true")
                prop:value=move || text.get()
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    problem.set(None);
                }
            ></textarea>
            <p class="field-error" id="new-note-error">{move || problem.get()}</p>
            <button type="submit" class="primary" disabled=move || busy.get()>
                "Add note"
            </button>
        </form>
    }
}

/// One note: its text, who wrote it and when; "Edit note" opens it in place, "Delete note"
/// deletes it.
/// How many notes of the section are being edited.
#[derive(Clone, Copy)]
struct NotesEditing(RwSignal<usize>);

#[component]
fn NoteItem(n: NoteDto, reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let editing = RwSignal::new(false);
    if let Some(NotesEditing(count)) = use_context::<NotesEditing>() {
        Effect::new(move |was: Option<bool>| {
            let now = editing.get();
            match (was.unwrap_or(false), now) {
                (false, true) => count.update(|c| *c += 1),
                (true, false) => count.update(|c| *c = c.saturating_sub(1)),
                _ => {}
            }
            now
        });
        on_cleanup(move || {
            if editing.try_get_untracked() == Some(true) {
                count.try_update(|c| *c = c.saturating_sub(1));
            }
        });
    }
    let draft = RwSignal::new(n.content.clone());
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let toasts = Toasts::get();
    let note_id = StoredValue::new(n.id.clone());
    let content = StoredValue::new(n.content.clone());
    let field_id = format!("note-{}", n.id);
    let error_id = format!("note-{}-error", n.id);
    let described_by = error_id.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            problem.set(Some("A note cannot be empty; delete it instead.".into()));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let result = edit_note(note_id.get_value(), text).await;
            busy.set(false);
            match failure(result) {
                None => {
                    editing.set(false);
                    toasts.say("Note saved.");
                    reload();
                }
                Some(why) => problem.set(Some(why)),
            }
        });
    };
    let delete = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let result = delete_note(note_id.get_value()).await;
            busy.set(false);
            match failure(result) {
                None => {
                    toasts.say("Note deleted.");
                    reload();
                }
                Some(why) => problem.set(Some(why)),
            }
        });
    };
    let byline = n.author.clone();
    let created = n.created.clone();
    let edited = n.edited.clone();
    view! {
        <li class="note">
            {n.title.clone().filter(|t| !t.is_empty()).map(|t| view! { <h3>{t}</h3> })}
            <Show
                when=move || editing.get()
                fallback=move || view! { <p class="long-text">{content.get_value()}</p> }
            >
                <form class="edit-note" on:submit=save>
                    <label for=field_id.clone() class="visually-hidden">"Note text"</label>
                    <textarea
                        id=field_id.clone()
                        rows="3"
                        maxlength="32000"
                        aria-describedby=described_by.clone()
                        prop:value=move || draft.get()
                        on:input=move |ev| draft.set(event_target_value(&ev))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                            if ev.key() == "Escape" {
                                editing.set(false);
                            }
                        }
                    ></textarea>
                    <div class="actions">
                        <button type="submit" class="primary" disabled=move || busy.get()>"Save"</button>
                        <button type="button" on:click=move |_| {
                            draft.set(content.get_value());
                            problem.set(None);
                            editing.set(false);
                        }>"Cancel"</button>
                    </div>
                </form>
            </Show>
            <p class="byline">
                {byline.clone()}
                {created.clone().map(|t| view! { " · " <crate::time::LocalTime iso=t.clone() fallback=t /> })}
                {edited.clone().map(|_| " · edited")}
            </p>
            <p class="field-error" id=error_id>{move || problem.get()}</p>
            <Show when=move || !editing.get()>
                <div class="item-actions">
                    <button type="button" class="ghost" on:click=move |_| editing.set(true)>"Edit note"</button>
                    <button type="button" class="ghost danger" disabled=move || busy.get() on:click=delete>
                        "Delete note"
                    </button>
                </div>
            </Show>
        </li>
    }
}

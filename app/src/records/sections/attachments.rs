//! The Attachments section: the record's files (each a link that downloads it, with its size,
//! who attached it and when, and "Remove attachment"), and "Attach a file", which uploads up to
//! 20 MB to zportal's upload route with the browser's progress shown as it goes.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{AttachmentDto, Outcome, Placeholder, list_attachments, remove_attachment};
use crate::records::Problem;
use crate::toast::Toasts;

/// The largest file the upload route takes (as `server::files::MAX_FILE`).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub const MAX_FILE: f64 = 20.0 * 1024.0 * 1024.0;

/// `1536` → `1.5 KB`.
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KB", "MB", "GB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

/// Where an upload stands (only the browser uploads).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Upload {
    Idle,
    /// The file's name and how much of it has gone (0–1, when the browser knows).
    Sending(String, Option<f64>),
    Failed(String),
}

#[component]
pub fn AttachmentsSection(module: String, id: String) -> impl IntoView {
    let key = StoredValue::new((module, id));
    let list = LocalResource::new(move || {
        let (m, id) = key.get_value();
        list_attachments(m, id)
    });
    let reload = move || list.refetch();
    crate::live::on_change(move |c| key.with_value(|(m, id)| c.keeps(m, id)), reload);
    let state = RwSignal::new(Upload::Idle);
    let toasts = Toasts::get();
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            input.set_value("");
            if file.size() > MAX_FILE {
                state.set(Upload::Failed(format!(
                    "“{}” is {}; Zoho takes files of up to 20 MB.",
                    file.name(),
                    size_text(file.size() as u64)
                )));
                return;
            }
            let (m, id) = key.get_value();
            let name = file.name();
            state.set(Upload::Sending(name.clone(), Some(0.0)));
            send(
                format!("/files/{m}/{id}"),
                file,
                move |p| state.set(Upload::Sending(name.clone(), p)),
                move |result| match result {
                    Ok(()) => {
                        state.set(Upload::Idle);
                        toasts.say("File attached.");
                        reload();
                    }
                    Err(why) => state.set(Upload::Failed(why)),
                },
            );
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, state, toasts);
    };
    view! {
        <section class="record-section attachments" aria-labelledby="attachments-heading">
            <h2 id="attachments-heading">"Attachments"</h2>
            <div class="attach">
                <label for="attach-file">"Attach a file"</label>
                <input
                    type="file"
                    id="attach-file"
                    aria-describedby="attach-status"
                    disabled=move || matches!(state.get(), Upload::Sending(..))
                    on:change=on_file
                />
                <div id="attach-status" class="attach-status" aria-live="polite">
                    {move || match state.get() {
                        Upload::Idle => ().into_any(),
                        Upload::Sending(name, done) => view! {
                            <span>{format!("Uploading “{name}”…")}</span>
                            <progress
                                max="1"
                                value=done.map(|d| d.to_string())
                                aria-label=format!("Uploading {name}")
                            ></progress>
                        }
                            .into_any(),
                        Upload::Failed(why) => view! { <span class="error">{why}</span> }.into_any(),
                    }}
                </div>
            </div>
            <Suspense fallback=|| view! { <Placeholder label="Loading attachments" /> }>
                {move || {
                    list.get()
                        .map(|r| match r {
                            Ok(items) if items.is_empty() => {
                                view! { <p class="empty">"No attachments yet."</p> }.into_any()
                            }
                            Ok(items) => view! {
                                <ul class="attachments-list">
                                    {items
                                        .into_iter()
                                        .map(|a| view! { <AttachmentItem a key reload /> })
                                        .collect_view()}
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

#[component]
fn AttachmentItem(
    a: AttachmentDto,
    key: StoredValue<(String, String)>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let toasts = Toasts::get();
    let attachment = StoredValue::new(a.id.clone());
    let remove = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let (m, id) = key.get_value();
        spawn_local(async move {
            let result = remove_attachment(m, id, attachment.get_value()).await;
            busy.set(false);
            match result {
                Ok(Outcome::Done) => {
                    toasts.say("Attachment removed.");
                    reload();
                }
                Ok(Outcome::Refused { message }) => problem.set(Some(message)),
                Err(e) => problem.set(Some(e.to_string())),
            }
        });
    };
    let link = if a.is_link {
        view! { <a href=a.href.clone() rel="noopener noreferrer" target="_blank">{a.name.clone()}</a> }
            .into_any()
    } else {
        view! { <a href=a.href.clone() download=a.name.clone()>{a.name.clone()}</a> }.into_any()
    };
    view! {
        <li class="attachment">
            {link}
            <span class="byline">
                {a.size.map(size_text)}
                " · "
                {a.author.clone()}
                {a.created.clone().map(|t| view! { " · " <crate::time::LocalTime iso=t.clone() fallback=t /> })}
            </span>
            <button type="button" class="ghost danger" disabled=move || busy.get() on:click=remove>
                "Remove attachment"
            </button>
            <p class="field-error">{move || problem.get()}</p>
        </li>
    }
}

/// Sends `file` to `url` as the `file` part of a form, telling `progress` how far it got and
/// `done` how it ended (the route's `{"error": …}` when it refused).
#[cfg(feature = "hydrate")]
fn send(
    url: String,
    file: web_sys::File,
    progress: impl Fn(Option<f64>) + 'static,
    done: impl FnOnce(Result<(), String>) + 'static,
) {
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    let fail = "The upload did not reach zportal. Check the connection and try again.";
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        done(Err(fail.into()));
        return;
    };
    let form = match web_sys::FormData::new() {
        Ok(f)
            if f.append_with_blob_and_filename("file", &file, &file.name())
                .is_ok() =>
        {
            f
        }
        _ => {
            done(Err(fail.into()));
            return;
        }
    };
    if xhr.open("POST", &url).is_err() {
        done(Err(fail.into()));
        return;
    }
    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            progress(
                e.length_computable()
                    .then(|| e.loaded() / e.total().max(1.0)),
            );
        });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    // Kept alive until the request ends, then dropped with the other handlers.
    type Progress = Closure<dyn FnMut(web_sys::ProgressEvent)>;
    let keep: Rc<RefCell<Option<Progress>>> = Rc::new(RefCell::new(Some(on_progress)));
    let done = Rc::new(RefCell::new(Some(done)));
    let finish = {
        let xhr = xhr.clone();
        let (keep, done) = (keep.clone(), done.clone());
        move || {
            keep.borrow_mut().take();
            let Some(done) = done.borrow_mut().take() else {
                return;
            };
            let status = xhr.status().unwrap_or(0);
            if (200..300).contains(&status) {
                done(Ok(()));
                return;
            }
            let said = xhr
                .response_text()
                .ok()
                .flatten()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned));
            done(Err(said.unwrap_or_else(|| fail.to_owned())));
        }
    };
    let finish = Rc::new(finish);
    let on_load = {
        let finish = finish.clone();
        Closure::<dyn FnMut()>::new(move || finish())
    };
    let on_error = Closure::<dyn FnMut()>::new(move || finish());
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    // The load and error handlers live as long as the request object does.
    on_load.forget();
    on_error.forget();
    if xhr.send_with_opt_form_data(Some(&form)).is_err() {
        keep.borrow_mut().take();
        if let Some(done) = done.borrow_mut().take() {
            done(Err(fail.into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::size_text;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size_text(512), "512 bytes");
        assert_eq!(size_text(1536), "1.5 KB");
        assert_eq!(size_text(20 * 1024 * 1024), "20.0 MB");
    }
}

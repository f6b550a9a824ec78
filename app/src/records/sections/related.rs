//! A section per related list Zoho names for the module (an Account's Contacts and Deals, a
//! Contact's Deals), each headed by Zoho's `display_label`, its first records as rows that link
//! to them, and "New" for a record of that list's module linked to this one.

use leptos::prelude::*;

use super::{Placeholder, RelatedSection, related_lists};
use crate::records::{GoButton, Problem};

#[component]
pub fn RelatedSections(module: String, id: String) -> impl IntoView {
    let key = StoredValue::new((module, id));
    let lists = LocalResource::new(move || {
        let (m, id) = key.get_value();
        related_lists(m, id)
    });
    view! {
        <Suspense fallback=|| view! { <Placeholder label="Loading related records" /> }>
            {move || {
                lists
                    .get()
                    .map(|r| match r {
                        Ok(sections) => sections
                            .into_iter()
                            .map(|s| view! { <Related s /> })
                            .collect_view()
                            .into_any(),
                        Err(e) => view! {
                            <section class="record-section related">
                                <h2>"Related records"</h2>
                                <Problem error=e retry=Callback::new(move |()| lists.refetch()) />
                            </section>
                        }
                            .into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn Related(s: RelatedSection) -> impl IntoView {
    let heading = format!("related-{}", s.api_name);
    let labelled_by = heading.clone();
    let body = match (s.problem, s.rows.is_empty()) {
        (Some(e), _) => view! { <Problem error=e /> }.into_any(),
        (None, true) => view! { <p class="empty">{format!("No {} yet.", s.label)}</p> }.into_any(),
        (None, false) => {
            let module = s.module.clone();
            view! {
                <div class="table-wrap">
                    <table class="related-table">
                        <thead>
                            <tr>{s.columns.iter().map(|c| view! { <th scope="col">{c.label.clone()}</th> }).collect_view()}</tr>
                        </thead>
                        <tbody>
                            {s.rows
                                .into_iter()
                                .map(|row| {
                                    let href = format!("/m/{module}/{}", row.id);
                                    view! {
                                        <tr>
                                            {row.cells.into_iter().enumerate().map(|(i, cell)| {
                                                if i == 0 {
                                                    view! { <td><a href=href.clone()>{if cell.is_empty() { "(no name)".to_owned() } else { cell }}</a></td> }.into_any()
                                                } else {
                                                    view! { <td>{cell}</td> }.into_any()
                                                }
                                            }).collect_view()}
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
                {s.more.then(|| view! {
                    <p class="hint">{format!("Showing the first {}.", s.label)}</p>
                })}
            }
                .into_any()
        }
    };
    view! {
        <section class="record-section related" aria-labelledby=labelled_by>
            <div class="section-head">
                <h2 id=heading>{s.label.clone()}</h2>
                <GoButton href=s.new_href.clone() label="New" />
            </div>
            {body}
        </section>
    }
}

//! `/m/Deals?view=board`: deals as a board by Stage. A column per value of the Stage picklist,
//! headed by it, with how many deals it holds and their Amount together — Zoho's own totals
//! (COQL), not a sum of the cards loaded — then its first 50 cards and "Show more". A card moves
//! by drag and drop, or with its "Move to" select from the keyboard; a move is an ordinary edit
//! of the deal's Stage. Loaded as a chunk of its own the first time a board is opened.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

use super::{ModuleDto, Problem, ValueKind};
use crate::AppError;
use crate::toast::Toasts;
use crate::wire::Json;

/// The cards a column shows at first, and each "Show more" adds.
pub const CARDS_PER_PAGE: u32 = 50;

/// One deal on the board.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub id: String,
    pub name: String,
    /// The Amount as Zoho gives it (formatted in the browser).
    pub amount: String,
    pub account: String,
    pub closing: String,
}

/// One column: a Stage value, Zoho's totals for it, and its first cards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardColumn {
    pub stage: String,
    pub count: u64,
    pub sum: f64,
    pub cards: Vec<Card>,
    pub more: bool,
}

/// The whole board.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardDto {
    pub module: ModuleDto,
    /// The label of the field the columns are (Zoho's for `Stage`).
    pub field_label: String,
    pub columns: Vec<BoardColumn>,
    pub currency: Option<String>,
}

/// A page of one column's cards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardsPage {
    pub cards: Vec<Card>,
    pub more: bool,
}

/// The board of `module` (one with a Stage picklist and an Amount).
#[server(endpoint = "records/board", input = GetUrl, output = Json)]
pub async fn load_board(module: String) -> Result<BoardDto, AppError> {
    super::ssr::Records::active().await?.board(&module).await
}

/// More cards of one column: page `page` of those at `stage`.
#[server(endpoint = "records/board/cards", input = GetUrl, output = Json)]
pub async fn column_cards(module: String, stage: String, page: u32) -> Result<CardsPage, AppError> {
    super::ssr::Records::active()
        .await?
        .cards(&module, &stage, page)
        .await
}

/// How a card's move ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MoveOutcome {
    Moved,
    /// Zoho refused it; the words say why.
    Refused {
        message: String,
    },
    /// Someone else moved the card since the board showed it (`by`, if Zoho says who): it
    /// stays in `stage`, where they put it.
    Elsewhere {
        stage: String,
        by: Option<String>,
    },
    /// The record was deleted since the board showed it.
    Gone,
}

/// Moves a card: sets the record's Stage — with `from` (the column the board showed it in),
/// only if nobody moved it meanwhile.
#[server(endpoint = "records/board/move", input = Json, output = Json)]
pub async fn move_card(
    module: String,
    id: String,
    stage: String,
    #[server(default)] from: Option<String>,
) -> Result<MoveOutcome, AppError> {
    super::ssr::Records::active()
        .await?
        .move_card(&module, &id, &stage, from.as_deref())
        .await
}

/// The board page, in its own WASM chunk.
#[cfg_attr(any(feature = "ssr", feature = "split"), lazy)]
pub async fn board_page(module: String) -> AnyView {
    view! { <Board module /> }.into_any()
}

#[component]
fn Board(module: String) -> impl IntoView {
    let key = StoredValue::new(module);
    let board = Resource::new(move || key.get_value(), load_board);
    // Live: a card anyone moved, added or deleted moves here too.
    crate::live::on_change(
        move |c| key.with_value(|m| c.touches(m, None)),
        move || board.refetch(),
    );
    view! {
        <section class="records board-page">
            <Transition fallback=|| view! { <p aria-busy="true">"Loading the board…"</p> }>
                {move || {
                    board
                        .get()
                        .map(|r| match r {
                            Ok(b) => view! { <Columns b /> }.into_any(),
                            Err(e) => view! {
                                <h1>"Board"</h1>
                                <Problem error=e retry=Callback::new(move |()| board.refetch()) />
                            }
                                .into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

/// Where a dragged card came from.
#[derive(Clone, Debug, PartialEq)]
struct Dragging {
    id: String,
    from: String,
}

#[component]
fn Columns(b: BoardDto) -> impl IntoView {
    let BoardDto {
        module,
        field_label,
        columns,
        currency,
    } = b;
    let stages: Vec<String> = columns.iter().map(|c| c.stage.clone()).collect();
    let stages = StoredValue::new(stages);
    let columns = RwSignal::new(columns);
    let dragging = RwSignal::new(None::<Dragging>);
    let problem = RwSignal::new(None::<AppError>);
    let toasts = Toasts::get();
    let api = StoredValue::new(module.api_name.clone());
    let currency = StoredValue::new(currency);

    // Moves a card between columns here at once, then asks Zoho; puts it back if Zoho says no.
    let shift = move |id: String, from: String, to: String| {
        columns.update(|cols| move_between(cols, &id, &from, &to));
    };
    let move_to = move |id: String, from: String, to: String| {
        if from == to {
            return;
        }
        shift(id.clone(), from.clone(), to.clone());
        spawn_local(async move {
            let shown = Some(from.clone());
            match move_card(api.get_value(), id.clone(), to.clone(), shown).await {
                Ok(MoveOutcome::Moved) => {
                    problem.set(None);
                    toasts.say(format!("Moved to {to}."));
                }
                Ok(MoveOutcome::Refused { message }) => {
                    shift(id, to, from);
                    problem.set(Some(AppError::BadRequest(message)));
                }
                Ok(MoveOutcome::Elsewhere { stage, by }) => {
                    // Where they put it, not where it was: that is where it is now.
                    shift(id, to, stage.clone());
                    let who = by.unwrap_or_else(|| "Someone else".into());
                    problem.set(Some(AppError::BadRequest(format!(
                        "{who} moved this card to {stage} meanwhile; it stays there."
                    ))));
                }
                Ok(MoveOutcome::Gone) => {
                    // Into no column: off the board.
                    shift(id, to, String::new());
                    problem.set(Some(AppError::BadRequest(
                        "That card's record was deleted meanwhile.".into(),
                    )));
                }
                Err(e) => {
                    shift(id, to, from);
                    problem.set(Some(e));
                }
            }
        });
    };

    view! {
        <leptos_meta::Title text=crate::page_title(&[&format!("{} board", module.plural)]) />
        <header class="records-head">
            <h1>{format!("{} board", module.plural)}</h1>
            <a href=format!("/m/{}", module.api_name) class="view-switch">"Table"</a>
            <super::GoButton href=format!("/m/{}/new", module.api_name) label="New" class="primary" />
        </header>
        <p class="hint">{format!("Columns by {field_label}. Drag a card, or use its “Move to”.")}</p>
        {move || problem.get().map(|e| view! { <Problem error=e /> })}
        <div class="board">
            <For each=move || stages.get_value() key=|s| s.clone() let:stage>
                <Column stage stages columns dragging move_to api currency />
            </For>
        </div>
    }
}

/// Moves card `id` from column `from` to the top of column `to`, with the totals.
fn move_between(cols: &mut [BoardColumn], id: &str, from: &str, to: &str) {
    let Some(source) = cols.iter().position(|c| c.stage == from) else {
        return;
    };
    let Some(at) = cols[source].cards.iter().position(|c| c.id == id) else {
        return;
    };
    let card = cols[source].cards.remove(at);
    let amount = card.amount.parse::<f64>().unwrap_or(0.0);
    cols[source].count = cols[source].count.saturating_sub(1);
    cols[source].sum -= amount;
    if let Some(target) = cols.iter_mut().find(|c| c.stage == to) {
        target.count += 1;
        target.sum += amount;
        target.cards.insert(0, card);
    }
}

#[component]
fn Column(
    stage: String,
    stages: StoredValue<Vec<String>>,
    columns: RwSignal<Vec<BoardColumn>>,
    dragging: RwSignal<Option<Dragging>>,
    move_to: impl Fn(String, String, String) + Copy + Send + Sync + 'static,
    api: StoredValue<String>,
    currency: StoredValue<Option<String>>,
) -> impl IntoView {
    let here = StoredValue::new(stage.clone());
    let heading = format!(
        "stage-{}",
        stage.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    let labelled = heading.clone();
    let column = move || {
        columns
            .read()
            .iter()
            .find(|c| c.stage == here.get_value())
            .cloned()
    };
    let over = RwSignal::new(false);
    let loading = RwSignal::new(false);
    let more = move |_| {
        let Some(c) = column() else {
            return;
        };
        loading.set(true);
        let page = (c.cards.len() as u32 / CARDS_PER_PAGE) + 1;
        spawn_local(async move {
            let result = column_cards(api.get_value(), here.get_value(), page).await;
            loading.set(false);
            if let Ok(p) = result {
                columns.update(|cols| {
                    if let Some(c) = cols.iter_mut().find(|c| c.stage == here.get_value()) {
                        for card in p.cards {
                            if !c.cards.iter().any(|k| k.id == card.id) {
                                c.cards.push(card);
                            }
                        }
                        c.more = p.more;
                    }
                });
            }
        });
    };
    view! {
        <section
            class="board-column"
            class:drop-target=move || over.get()
            aria-labelledby=labelled
            on:dragover=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                over.set(true);
            }
            on:dragleave=move |_| over.set(false)
            on:drop=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                over.set(false);
                if let Some(d) = dragging.get_untracked() {
                    dragging.set(None);
                    move_to(d.id, d.from, here.get_value());
                }
            }
        >
            <h2 id=heading>{stage.clone()}</h2>
            <p class="column-total">
                {move || column().map(|c| {
                    let deals = if c.count == 1 { "1 deal".to_owned() } else { format!("{} deals", c.count) };
                    view! {
                        {deals}
                        " · "
                        <crate::records::numbers::LocalNumber
                            raw=format!("{:.2}", c.sum)
                            kind=ValueKind::Currency
                            currency=currency.get_value()
                        />
                    }
                })}
            </p>
            <ul class="cards">
                <For
                    each=move || column().map(|c| c.cards).unwrap_or_default()
                    key=|c| c.id.clone()
                    let:card
                >
                    <CardView card stage=here stages dragging move_to api currency />
                </For>
            </ul>
            <Show when=move || column().is_some_and(|c| c.more)>
                <button type="button" class="ghost" disabled=move || loading.get() on:click=more>
                    "Show more"
                </button>
            </Show>
        </section>
    }
}

#[component]
fn CardView(
    card: Card,
    stage: StoredValue<String>,
    stages: StoredValue<Vec<String>>,
    dragging: RwSignal<Option<Dragging>>,
    move_to: impl Fn(String, String, String) + Copy + Send + Sync + 'static,
    api: StoredValue<String>,
    currency: StoredValue<Option<String>>,
) -> impl IntoView {
    let id = StoredValue::new(card.id.clone());
    let select_id = format!("move-{}", card.id);
    let href = format!("/m/{}/{}", api.get_value(), card.id);
    view! {
        <li
            class="card"
            draggable="true"
            on:dragstart=move |ev: leptos::ev::DragEvent| {
                // What a drag carries, for browsers that start one only with data.
                #[cfg(feature = "hydrate")]
                if let Some(data) = ev.data_transfer() {
                    let _ = data.set_data("text/plain", &id.get_value());
                    data.set_effect_allowed("move");
                }
                #[cfg(not(feature = "hydrate"))]
                let _ = &ev;
                dragging.set(Some(Dragging { id: id.get_value(), from: stage.get_value() }))
            }
        >
            <a href=href class="card-name">{if card.name.is_empty() { "(no name)".to_owned() } else { card.name.clone() }}</a>
            {(!card.amount.is_empty()).then(|| view! {
                <crate::records::numbers::LocalNumber raw=card.amount.clone() kind=ValueKind::Currency currency=currency.get_value() />
            })}
            {(!card.account.is_empty()).then(|| view! { <span class="card-account">{card.account.clone()}</span> })}
            <label for=select_id.clone() class="move-label">"Move to"</label>
            <select
                id=select_id
                on:change=move |ev| {
                    let to = event_target_value(&ev);
                    move_to(id.get_value(), stage.get_value(), to);
                }
            >
                {stages
                    .get_value()
                    .into_iter()
                    .map(|s| {
                        let selected = s == stage.get_value();
                        view! { <option value=s.clone() selected=selected>{s.clone()}</option> }
                    })
                    .collect_view()}
            </select>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(stage: &str, ids: &[&str]) -> BoardColumn {
        BoardColumn {
            stage: stage.into(),
            count: ids.len() as u64,
            sum: ids.len() as f64 * 10.0,
            cards: ids
                .iter()
                .map(|i| Card {
                    id: (*i).into(),
                    name: String::new(),
                    amount: "10".into(),
                    account: String::new(),
                    closing: String::new(),
                })
                .collect(),
            more: false,
        }
    }

    #[test]
    fn a_move_takes_the_card_and_its_amount_to_the_top_of_the_other_column() {
        let mut cols = vec![col("A", &["1", "2"]), col("B", &["3"])];
        move_between(&mut cols, "2", "A", "B");
        assert_eq!((cols[0].count, cols[0].sum), (1, 10.0));
        assert_eq!((cols[1].count, cols[1].sum), (2, 20.0));
        assert_eq!(cols[1].cards[0].id, "2");
        move_between(&mut cols, "nope", "A", "B");
        assert_eq!(cols[1].count, 2);
    }
}

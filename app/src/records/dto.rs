//! The typed contract between the two halves: what the record pages ask the server for and
//! what it answers with. Compiled into both the server and the WASM bundle.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The most columns a list shows at once.
pub const MAX_COLUMNS: usize = 12;
/// What a search shorter than Zoho takes says (the page says it; the server refuses one).
pub const SHORT_SEARCH: &str = "Type at least 2 characters";
/// The most conditions one search takes (Zoho's limit).
pub const MAX_CONDITIONS: usize = 10;

/// A module, as the navigation shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleDto {
    pub api_name: String,
    pub plural: String,
    pub singular: String,
}

/// A field as a column or a condition offers it: its API name and Zoho's label for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub api_name: String,
    pub label: String,
    /// Whether the list can be ordered by it (text, numbers, dates, picklists, yes/no).
    #[serde(default)]
    pub sortable: bool,
}

/// What the list page needs to know of a module before it lists anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleMeta {
    pub module: ModuleDto,
    /// Every field that can be a column or a condition, in Zoho's order.
    pub fields: Vec<Column>,
    /// The same fields as a condition offers them: with their kind of value.
    pub filters: Vec<FilterField>,
    /// The columns a list starts with.
    pub default_columns: Vec<String>,
}

/// What a condition's value is entered with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterKind {
    #[default]
    Text,
    Number,
    Date,
    /// One of the field's values.
    Picklist,
    /// A record of another module, by its name.
    Lookup,
}

/// A field a condition can test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterField {
    pub api_name: String,
    pub label: String,
    pub kind: FilterKind,
    pub choices: Vec<Choice>,
    pub lookup_module: Option<String>,
}

/// The field a list is ordered by when an old link names its order (`sort=created_time`).
pub fn sort_field(raw: &str) -> Option<String> {
    let known = match raw {
        "created_time" | "CreatedTime" => "Created_Time",
        "modified_time" | "ModifiedTime" => "Modified_Time",
        "Id" => "id",
        other => other,
    };
    let ok = !known.is_empty()
        && known.len() <= 100
        && known
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then(|| known.to_owned())
}

/// A condition's operator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionOp {
    #[default]
    Equals,
    NotEqual,
    StartsWith,
    GreaterThan,
    LessThan,
}

impl ConditionOp {
    pub const ALL: [ConditionOp; 5] = [
        ConditionOp::Equals,
        ConditionOp::NotEqual,
        ConditionOp::StartsWith,
        ConditionOp::GreaterThan,
        ConditionOp::LessThan,
    ];

    /// The operator in words, as the builder offers it.
    pub fn words(self) -> &'static str {
        match self {
            ConditionOp::Equals => "is",
            ConditionOp::NotEqual => "is not",
            ConditionOp::StartsWith => "starts with",
            ConditionOp::GreaterThan => "is more than",
            ConditionOp::LessThan => "is less than",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConditionOp::Equals => "equals",
            ConditionOp::NotEqual => "not_equal",
            ConditionOp::StartsWith => "starts_with",
            ConditionOp::GreaterThan => "greater_than",
            ConditionOp::LessThan => "less_than",
        }
    }

    pub fn parse(s: &str) -> Option<ConditionOp> {
        ConditionOp::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// One condition of a search: field, operator, value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub field: String,
    pub operator: ConditionOp,
    pub value: String,
}

/// What the list shows: a module, its columns, order and page, and an optional search — a text
/// (searched as an email, a phone number or a word, whichever it looks like) or conditions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListArgs {
    pub module: String,
    /// The columns to show, in order; none for the module's defaults.
    pub columns: Vec<String>,
    /// The field to order by (its API name, or `id`); none for Zoho's order (newest first,
    /// or a view's own).
    pub sort: Option<String>,
    pub ascending: bool,
    pub per_page: u32,
    /// The page number (1-based); lists past the first page use `page_token` instead.
    pub page: u32,
    pub page_token: Option<String>,
    pub text: Option<String>,
    pub conditions: Vec<Condition>,
    /// Whether any one condition is enough (`or`) rather than all of them (`and`).
    pub match_any: bool,
    /// An org view's id (`cvid`): the list is of what it holds.
    pub view: Option<String>,
}

/// One row: the record id and its cells as text, in column order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub id: String,
    pub cells: Vec<String>,
}

/// A page of a module's records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsPage {
    pub module: ModuleDto,
    pub columns: Vec<Column>,
    /// Whether this page is a search result.
    pub searched: bool,
    pub rows: Vec<Row>,
    pub page: u32,
    pub more: bool,
    pub next_token: Option<String>,
    /// Said above the list when it is not quite the page asked for (an expired page link).
    pub note: Option<String>,
    /// The place of the page's first row in the whole list (1-based).
    pub first: u64,
    /// How many records the list holds, as Zoho counts them; none where Zoho cannot count.
    pub total: Option<u64>,
    /// Whether the total disagrees with the pages (Zoho's count lags): "about".
    pub about: bool,
    /// Said in the list's header when the order asked for cannot be had (a view whose order
    /// is Zoho's).
    pub order_note: Option<String>,
}

/// How a record page shows a field's value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueKind {
    #[default]
    Text,
    /// Several lines, kept as typed.
    LongText,
    /// An instant, shown in the reader's time zone.
    Instant,
    Email,
    Phone,
    Url,
    /// A whole or decimal number, grouped for the reader's locale.
    Number,
    /// Money in the org's currency, in the reader's locale.
    Currency,
    Percent,
}

/// The group a record page shows a field in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FieldGroup {
    #[default]
    Details,
    Address,
    Description,
    /// Who owns it, who made and changed it, and when.
    System,
}

impl FieldGroup {
    pub const ALL: [FieldGroup; 4] = [
        FieldGroup::Details,
        FieldGroup::Address,
        FieldGroup::Description,
        FieldGroup::System,
    ];

    pub fn heading(self) -> &'static str {
        match self {
            FieldGroup::Details => "Details",
            FieldGroup::Address => "Address",
            FieldGroup::Description => "Description",
            FieldGroup::System => "Record information",
        }
    }
}

/// One field of a record as text; instants are shown in the reader's zone, numbers in their
/// locale, lookups link to the record they name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldValue {
    pub api_name: String,
    pub label: String,
    pub value: String,
    pub kind: ValueKind,
    pub group: FieldGroup,
    pub link: Option<String>,
}

/// A way to reach a record's person or company: a `tel:` or `mailto:` link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactLink {
    pub label: String,
    pub href: String,
    pub text: String,
}

/// One record: its title and every field with its label, and what its header shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordView {
    pub module: ModuleDto,
    pub title: String,
    pub fields: Vec<FieldValue>,
    /// The record owner's name.
    pub owner: Option<String>,
    /// The field that tells where the record stands (`Lead_Status`, `Stage`, …): label, value.
    pub status: Option<(String, String)>,
    pub reach: Vec<ContactLink>,
    /// The org's currency (ISO 4217), for money fields.
    pub currency: Option<String>,
    /// A converted Lead: what it became.
    pub converted: Option<crate::convert::ConvertedInto>,
}

/// The control a field gets, from its Zoho `data_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Control {
    Text,
    TextArea,
    Email,
    Phone,
    Url,
    Integer,
    Decimal,
    Currency,
    Percent,
    Date,
    DateTime,
    Boolean,
    Picklist,
    MultiSelect,
    Lookup,
}

impl Control {
    /// The control for a Zoho data type; `None` for fields a form does not edit.
    pub fn for_data_type(data_type: &str) -> Option<Control> {
        Some(match data_type {
            "text" => Control::Text,
            "textarea" => Control::TextArea,
            "email" => Control::Email,
            "phone" => Control::Phone,
            "website" => Control::Url,
            "integer" | "bigint" => Control::Integer,
            "double" | "decimal" => Control::Decimal,
            "currency" => Control::Currency,
            "percent" => Control::Percent,
            "date" => Control::Date,
            "datetime" => Control::DateTime,
            "boolean" => Control::Boolean,
            "picklist" => Control::Picklist,
            "multiselectpicklist" => Control::MultiSelect,
            "lookup" => Control::Lookup,
            _ => return None,
        })
    }
}

/// A picklist value: what Zoho stores, and what people read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// One editable field of the form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    pub api_name: String,
    pub label: String,
    pub control: Control,
    pub required: bool,
    pub max_length: Option<u32>,
    pub choices: Vec<Choice>,
    /// The module a lookup field points into.
    pub lookup_module: Option<String>,
}

/// A record a lookup points at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupRef {
    pub id: String,
    pub name: String,
}

/// A field's value as the form holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value")]
pub enum Input {
    Text(String),
    Flag(bool),
    Many(Vec<String>),
    Lookup(Option<LookupRef>),
}

/// The form's values, by field API name.
pub type Values = BTreeMap<String, Input>;

/// Everything the form page needs: the fields, their current values, what is shown read-only
/// (subforms), and a token that makes a repeated "Save" of a new record create it only once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormSpec {
    pub module: ModuleDto,
    pub record_id: Option<String>,
    pub title: String,
    pub fields: Vec<FormField>,
    pub values: Values,
    pub read_only: Vec<FieldValue>,
    pub save_token: String,
}

/// What is wrong with one field (or, without a field, with the record).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: Option<String>,
    pub message: String,
}

/// How a save ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaveOutcome {
    Saved {
        id: String,
    },
    Refused {
        problems: Vec<FieldProblem>,
    },
    /// Someone else changed a field this save changes since the form was opened: nothing was
    /// written. `by` and `at` (ISO 8601) are the record's last change.
    Conflict {
        conflicts: Vec<Conflict>,
        by: Option<String>,
        at: Option<String>,
    },
    /// The record was deleted since the form was opened: nothing was written.
    Gone,
}

/// What changed in a record since its form was opened, as [`changed_meanwhile`](super::changed_meanwhile) finds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meanwhile {
    /// The labels of the fields whose value is no longer the one the form opened with.
    pub fields: Vec<String>,
    /// The record's last change: who (`Modified_By`) and when (ISO 8601).
    pub by: Option<String>,
    pub at: Option<String>,
    /// The record was deleted.
    pub gone: bool,
}

/// One field changed both here and by someone else since the form was opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub field: String,
    pub label: String,
    /// Their value, as the form holds it ("Use theirs" puts it in).
    pub theirs: Input,
    pub theirs_text: String,
    pub yours_text: String,
}

/// How a delete of several records ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteOutcome {
    pub deleted: Vec<String>,
    pub failed: Vec<FieldProblem>,
}

/// The most records one delete from the page takes (Zoho's own calls take 100 each).
pub const MAX_DELETE: usize = 200;

//! Converting a qualified Lead into a Contact, under a new or existing Account, optionally with a
//! Deal (reference §9.2). The [`dialog`] is what a rep sees on the Lead's page; the DTOs and
//! server functions here are the contract both halves compile; `ssr` is the server's half.

pub mod dialog;
#[cfg(feature = "ssr")]
pub(crate) mod ssr;

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::activities::Pick;
use crate::wire::Json;

/// A record a conversion made or joined: where its page is, and its name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLink {
    pub module: String,
    pub id: String,
    pub name: String,
}

impl RecordLink {
    /// Its page.
    pub fn href(&self) -> String {
        format!("/m/{}/{}", self.module, self.id)
    }
}

/// What a Lead became: its Contact, and the Account and Deal when there are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvertedInto {
    pub contact: RecordLink,
    pub account: Option<RecordLink>,
    pub deal: Option<RecordLink>,
}

impl ConvertedInto {
    /// Each record, with the word for what it is: contact, account, deal.
    pub fn parts(&self) -> Vec<(&'static str, RecordLink)> {
        std::iter::once(("contact", Some(self.contact.clone())))
            .chain([
                ("account", self.account.clone()),
                ("deal", self.deal.clone()),
            ])
            .filter_map(|(word, link)| Some((word, link?)))
            .collect()
    }
}

/// A Contact or Account Zoho suggests the Lead join.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggested {
    pub id: String,
    pub name: String,
    /// A contact's email or an account's phone: what tells two of one name apart.
    pub hint: Option<String>,
}

/// What the dialog offers for one Lead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvertSetup {
    /// The Lead's name: the new Contact's.
    pub lead_name: String,
    /// The Lead's Company: the new Account's name (none: the Lead can go without an Account).
    pub company: Option<String>,
    pub accounts: Vec<Suggested>,
    pub contacts: Vec<Suggested>,
    /// The Deals' stages, from the org's metadata.
    pub stages: Vec<Pick>,
    /// The org's pipelines, when its Deals have the field (then a Deal must name one).
    pub pipelines: Option<Vec<Pick>>,
    /// The token a press of "Convert now" carries: a double click is one conversion.
    pub token: String,
    /// Converted already, into this.
    pub converted: Option<ConvertedInto>,
}

/// Where the Lead's company goes: `new`, `none` or an Account's id; where its person goes:
/// `new` or a Contact's id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvertChoice {
    pub account: String,
    pub contact: String,
    pub deal: Option<NewDeal>,
}

/// The Deal to make, as its fields were typed (dates `yyyy-MM-dd`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDeal {
    pub name: String,
    pub closing_date: String,
    pub stage: String,
    pub amount: String,
    pub pipeline: Option<String>,
}

/// What came of a press of "Convert now".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Conversion {
    /// Converted by this press (or by an earlier press of the same dialog).
    Converted(ConvertedInto),
    /// It had been converted before, by someone else or elsewhere.
    Already(ConvertedInto),
    /// Zoho converts it in the background; the Lead shows it once done.
    Scheduled,
    /// What must change first: the words, and the dialog's label it is about.
    Refused {
        message: String,
        field: Option<String>,
    },
}

/// What the dialog offers for Lead `lead_id`.
#[server(endpoint = "convert/setup", input = GetUrl, output = Json)]
pub async fn conversion_setup(lead_id: String) -> Result<ConvertSetup, AppError> {
    ssr::Converter::active().await?.setup(&lead_id).await
}

/// Converts Lead `lead_id` once per `token`. `retry` says this token was pressed before and its
/// answer was lost: then a Lead found converted was converted by that press.
#[server(endpoint = "convert/lead", input = Json, output = Json)]
pub async fn convert_lead(
    lead_id: String,
    token: String,
    choice: ConvertChoice,
    #[server(default)] retry: bool,
) -> Result<Conversion, AppError> {
    let converter = ssr::Converter::active().await?;
    converter.convert(&lead_id, &token, choice, retry).await
}

/// What Lead `lead_id` was converted into, read from Zoho now (none: not yet).
#[server(endpoint = "convert/state", input = GetUrl, output = Json)]
pub async fn conversion_state(lead_id: String) -> Result<Option<ConvertedInto>, AppError> {
    ssr::Converter::active().await?.state(&lead_id).await
}

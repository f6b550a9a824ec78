//! CRM metadata: the standard modules and their fields, with Zoho's `api_name`, `field_label`,
//! `data_type`, `json_type`, length, mandatory flags, picklists, lookup targets, which fields a
//! mass update may set, and what each profile may do with each field. Validation and
//! `settings/modules` / `settings/fields` both read from here.

use serde_json::{Value, json};

use crate::model::people::{FieldAccess, Profile};

/// What kind of value a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text(usize),
    TextArea(usize),
    Email,
    Phone,
    Website,
    Integer,
    Double,
    Currency,
    Percent,
    Date,
    DateTime,
    Boolean,
    Picklist(&'static [&'static str]),
    MultiSelect(&'static [&'static str]),
    Lookup(&'static str),
    /// An activity's `What_Id`: a lookup into the module its sibling `$se_module` names.
    WhatId,
    /// A meeting's `Participants`: `[{"type","participant"}]`, each a contact, lead, user or
    /// address.
    Participants,
    Owner,
    Subform,
}

impl Kind {
    pub fn data_type(self) -> &'static str {
        match self {
            Kind::Text(_) => "text",
            Kind::TextArea(_) => "textarea",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Website => "website",
            Kind::Integer => "integer",
            Kind::Double => "double",
            Kind::Currency => "currency",
            Kind::Percent => "percent",
            Kind::Date => "date",
            Kind::DateTime => "datetime",
            Kind::Boolean => "boolean",
            Kind::Picklist(_) => "picklist",
            Kind::MultiSelect(_) => "multiselectpicklist",
            Kind::Lookup(_) | Kind::WhatId => "lookup",
            Kind::Participants => "multiselectlookup",
            Kind::Owner => "ownerlookup",
            Kind::Subform => "subform",
        }
    }

    pub fn json_type(self) -> &'static str {
        match self {
            Kind::Integer => "integer",
            Kind::Double | Kind::Currency | Kind::Percent => "double",
            Kind::Boolean => "boolean",
            Kind::Lookup(_) | Kind::WhatId | Kind::Owner => "jsonobject",
            Kind::MultiSelect(_) | Kind::Subform | Kind::Participants => "jsonarray",
            _ => "jsonstring",
        }
    }

    pub fn length(self) -> usize {
        match self {
            Kind::Text(n) | Kind::TextArea(n) => n,
            Kind::Email | Kind::Website => 255,
            Kind::Phone => 30,
            Kind::Integer => 9,
            Kind::Double | Kind::Currency | Kind::Percent => 16,
            Kind::Picklist(_) | Kind::MultiSelect(_) => 120,
            _ => 255,
        }
    }
}

/// One field of a module.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub api_name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub mandatory: bool,
    /// Set by the system (times, creators, derived names); ignored on write.
    pub read_only: bool,
}

/// One module.
#[derive(Clone, Debug)]
pub struct Module {
    pub api_name: &'static str,
    pub singular: &'static str,
    pub plural: &'static str,
    pub id: u32,
    pub fields: Vec<Field>,
}

impl Module {
    pub fn field(&self, api_name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.api_name == api_name)
    }

    /// Whether `f` can be mass updated (reference §9.4): not email, lookup, multi-line,
    /// line-item or system fields, nor the owner (change owner moves it) or the fields a record
    /// is named by (the emulator's choice: a hundred records with one name help nobody).
    pub fn mass_updatable(&self, f: &Field) -> bool {
        let kind_ok = !matches!(
            f.kind,
            Kind::Email
                | Kind::Lookup(_)
                | Kind::WhatId
                | Kind::Participants
                | Kind::Owner
                | Kind::TextArea(_)
                | Kind::Subform
        );
        let names = ["First_Name", "Last_Name", self.name_field()];
        kind_ok && !f.read_only && !names.contains(&f.api_name)
    }

    /// How many fields one mass update may set: three in Deals (a Pipeline with its Stage),
    /// one elsewhere.
    pub fn mass_update_limit(&self) -> usize {
        if self.api_name == "Deals" { 3 } else { 1 }
    }

    /// The field the module names its records by.
    pub fn name_field(&self) -> &'static str {
        match self.api_name {
            "Leads" | "Contacts" => "Full_Name",
            "Accounts" => "Account_Name",
            "Deals" => "Deal_Name",
            "Campaigns" => "Campaign_Name",
            "Events" => "Event_Title",
            "Products" => "Product_Name",
            "Vendors" => "Vendor_Name",
            "Price_Books" => "Price_Book_Name",
            "Solutions" => "Solution_Title",
            _ => "Subject",
        }
    }
}

const fn field(api_name: &'static str, label: &'static str, kind: Kind) -> Field {
    Field {
        api_name,
        label,
        kind,
        mandatory: false,
        read_only: false,
    }
}

const fn required(api_name: &'static str, label: &'static str, kind: Kind) -> Field {
    Field {
        mandatory: true,
        ..field(api_name, label, kind)
    }
}

const fn system(api_name: &'static str, label: &'static str, kind: Kind) -> Field {
    Field {
        read_only: true,
        ..field(api_name, label, kind)
    }
}

const LEAD_SOURCE: &[&str] = &[
    "-None-",
    "Advertisement",
    "Cold Call",
    "Employee Referral",
    "External Referral",
    "Online Store",
    "Partner",
    "Public Relations",
    "Trade Show",
    "Web Download",
];
const LEAD_STATUS: &[&str] = &[
    "-None-",
    "Attempted to Contact",
    "Contact in Future",
    "Contacted",
    "Junk Lead",
    "Lost Lead",
    "Not Contacted",
    "Pre-Qualified",
];
const INDUSTRY: &[&str] = &[
    "-None-",
    "Communications",
    "Consulting",
    "Education",
    "Financial Services",
    "Government",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Technology",
];
const RATING: &[&str] = &["-None-", "Acquired", "Active", "Market Failed", "Shutdown"];
const SALUTATION: &[&str] = &["-None-", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof."];
const STAGE: &[&str] = &[
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
];
const DEAL_TYPE: &[&str] = &["-None-", "New Business", "Existing Business"];
const ACCOUNT_TYPE: &[&str] = &[
    "-None-",
    "Analyst",
    "Competitor",
    "Customer",
    "Investor",
    "Partner",
    "Prospect",
    "Reseller",
];
const TAGS: &[&str] = &["Hot", "Cold", "Partner", "Follow-up", "VIP"];
const PRIORITY: &[&str] = &["High", "Highest", "Low", "Lowest", "Normal"];
const TASK_STATUS: &[&str] = &[
    "Not Started",
    "Deferred",
    "In Progress",
    "Completed",
    "Waiting for input",
];
const CALL_TYPE: &[&str] = &["Outbound", "Inbound", "Missed"];
const CALL_PURPOSE: &[&str] = &[
    "-None-",
    "Prospecting",
    "Administrative",
    "Negotiation",
    "Demo",
    "Project",
    "Desk",
];
const CALL_RESULT: &[&str] = &[
    "-None-",
    "Interested",
    "Not interested",
    "No response/Busy",
    "Requested more info",
    "Requested call back",
    "Invalid number",
];
const OUTGOING_CALL_STATUS: &[&str] = &["Scheduled", "Completed", "Overdue", "Cancelled"];
const CAMPAIGN_TYPE: &[&str] = &[
    "-None-",
    "Advertisement",
    "Banner Ads",
    "Conference",
    "Email",
    "Public Relations",
    "Telemarketing",
    "Webinar",
];
const CAMPAIGN_STATUS: &[&str] = &["-None-", "Planning", "Active", "Inactive", "Complete"];
const CASE_ORIGIN: &[&str] = &["Email", "Phone", "Web"];
const CASE_STATUS: &[&str] = &["New", "On Hold", "Escalated", "Closed"];
const QUOTE_STAGE: &[&str] = &[
    "Draft",
    "Negotiation",
    "Delivered",
    "On Hold",
    "Confirmed",
    "Closed Won",
    "Closed Lost",
];
const ORDER_STATUS: &[&str] = &["Created", "Approved", "Delivered", "Cancelled"];
const INVOICE_STATUS: &[&str] = &["Created", "Approved", "Delivered", "Cancelled"];
const PRODUCT_CATEGORY: &[&str] = &["-None-", "Hardware", "Software", "CRM Applications"];
const PRICING_MODEL: &[&str] = &["-None-", "Flat", "Differential"];
const SOLUTION_STATUS: &[&str] = &["Draft", "Reviewed", "Published"];

/// Fields every module has: the owner and the audit fields.
fn common() -> Vec<Field> {
    vec![
        field("Owner", "Record Owner", Kind::Owner),
        system("Created_By", "Created By", Kind::Owner),
        system("Modified_By", "Modified By", Kind::Owner),
        system("Created_Time", "Created Time", Kind::DateTime),
        system("Modified_Time", "Modified Time", Kind::DateTime),
    ]
}

fn module(
    api_name: &'static str,
    singular: &'static str,
    plural: &'static str,
    id: u32,
    own: Vec<Field>,
) -> Module {
    let mut fields = common();
    fields.splice(1..1, own);
    Module {
        api_name,
        singular,
        plural,
        id,
        fields,
    }
}

/// Every standard module, in the order Zoho lists them.
pub fn modules() -> Vec<Module> {
    use Kind::*;
    vec![
        module(
            "Leads",
            "Lead",
            "Leads",
            1,
            vec![
                field("Salutation", "Salutation", Picklist(SALUTATION)),
                field("First_Name", "First Name", Text(40)),
                required("Last_Name", "Last Name", Text(80)),
                system("Full_Name", "Lead Name", Text(120)),
                field("Company", "Company", Text(200)),
                field("Designation", "Title", Text(100)),
                field("Email", "Email", Email),
                field("Phone", "Phone", Phone),
                field("Mobile", "Mobile", Phone),
                field("Website", "Website", Website),
                field("Lead_Source", "Lead Source", Picklist(LEAD_SOURCE)),
                field("Lead_Status", "Lead Status", Picklist(LEAD_STATUS)),
                field("Industry", "Industry", Picklist(INDUSTRY)),
                field("Annual_Revenue", "Annual Revenue", Currency),
                field("No_of_Employees", "No. of Employees", Integer),
                field("Rating", "Rating", Picklist(RATING)),
                field("Tag", "Tag", MultiSelect(TAGS)),
                field("Email_Opt_Out", "Email Opt Out", Boolean),
                field("City", "City", Text(100)),
                field("Country", "Country", Text(100)),
                field("Description", "Description", TextArea(32000)),
                system("Converted__s", "Converted", Boolean),
            ],
        ),
        module(
            "Contacts",
            "Contact",
            "Contacts",
            2,
            vec![
                field("Salutation", "Salutation", Picklist(SALUTATION)),
                field("First_Name", "First Name", Text(40)),
                required("Last_Name", "Last Name", Text(80)),
                system("Full_Name", "Contact Name", Text(120)),
                field("Account_Name", "Account Name", Lookup("Accounts")),
                field("Title", "Title", Text(100)),
                field("Department", "Department", Text(30)),
                field("Email", "Email", Email),
                field("Phone", "Phone", Phone),
                field("Mobile", "Mobile", Phone),
                field("Date_of_Birth", "Date of Birth", Date),
                field("Lead_Source", "Lead Source", Picklist(LEAD_SOURCE)),
                field("Email_Opt_Out", "Email Opt Out", Boolean),
                field("Mailing_City", "Mailing City", Text(100)),
                field("Mailing_Country", "Mailing Country", Text(100)),
                field("Description", "Description", TextArea(32000)),
            ],
        ),
        module(
            "Accounts",
            "Account",
            "Accounts",
            3,
            vec![
                required("Account_Name", "Account Name", Text(200)),
                field("Phone", "Phone", Phone),
                field("Website", "Website", Website),
                field("Account_Type", "Account Type", Picklist(ACCOUNT_TYPE)),
                field("Industry", "Industry", Picklist(INDUSTRY)),
                field("Annual_Revenue", "Annual Revenue", Currency),
                field("Employees", "Employees", Integer),
                field("Rating", "Rating", Picklist(RATING)),
                field("Billing_City", "Billing City", Text(100)),
                field("Billing_Country", "Billing Country", Text(100)),
                field("Description", "Description", TextArea(32000)),
            ],
        ),
        module(
            "Deals",
            "Deal",
            "Deals",
            4,
            vec![
                required("Deal_Name", "Deal Name", Text(120)),
                field("Account_Name", "Account Name", Lookup("Accounts")),
                field("Contact_Name", "Contact Name", Lookup("Contacts")),
                field("Amount", "Amount", Currency),
                required("Stage", "Stage", Picklist(STAGE)),
                field("Closing_Date", "Closing Date", Date),
                field("Probability", "Probability (%)", Percent),
                field("Type", "Type", Picklist(DEAL_TYPE)),
                field("Lead_Source", "Lead Source", Picklist(LEAD_SOURCE)),
                field("Next_Step", "Next Step", Text(100)),
                field("Description", "Description", TextArea(32000)),
            ],
        ),
        module(
            "Campaigns",
            "Campaign",
            "Campaigns",
            5,
            vec![
                required("Campaign_Name", "Campaign Name", Text(120)),
                field("Type", "Type", Picklist(CAMPAIGN_TYPE)),
                field("Status", "Status", Picklist(CAMPAIGN_STATUS)),
                field("Start_Date", "Start Date", Date),
                field("End_Date", "End Date", Date),
                field("Expected_Revenue", "Expected Revenue", Currency),
                field("Budgeted_Cost", "Budgeted Cost", Currency),
                field("Description", "Description", TextArea(32000)),
            ],
        ),
        module(
            "Tasks",
            "Task",
            "Tasks",
            6,
            vec![
                required("Subject", "Subject", Text(300)),
                field("Due_Date", "Due Date", Date),
                field("Status", "Status", Picklist(TASK_STATUS)),
                field("Priority", "Priority", Picklist(PRIORITY)),
                field("What_Id", "Related To", WhatId),
                field("Who_Id", "Contact Name", Lookup("Contacts")),
                system("Closed_Time", "Closed Time", DateTime),
                system("Remind_At", "Reminder", Text(255)),
                system("Recurring_Activity", "Repeat", Text(255)),
                field("Description", "Description", TextArea(32000)),
            ],
        ),
        module(
            "Events",
            "Meeting",
            "Meetings",
            7,
            vec![
                required("Event_Title", "Title", Text(255)),
                required("Start_DateTime", "From", DateTime),
                required("End_DateTime", "To", DateTime),
                field("All_day", "All day", Boolean),
                field("Participants", "Participants", Participants),
                field("What_Id", "Related To", WhatId),
                field("Who_Id", "Contact Name", Lookup("Contacts")),
                field("Venue", "Location", Text(255)),
                system("Remind_At", "Reminder", DateTime),
                system("Recurring_Activity", "Repeat", Text(255)),
                field("Description", "Description", TextArea(32000)),
            ],
        ),
        module(
            "Calls",
            "Call",
            "Calls",
            8,
            vec![
                required("Subject", "Subject", Text(300)),
                required("Call_Type", "Call Type", Picklist(CALL_TYPE)),
                required("Call_Start_Time", "Call Start Time", DateTime),
                // Mandatory only for a completed call (the activity rules check it).
                field("Call_Duration", "Call Duration", Text(10)),
                system(
                    "Call_Duration_in_seconds",
                    "Call Duration (in seconds)",
                    Integer,
                ),
                field("Call_Purpose", "Call Purpose", Picklist(CALL_PURPOSE)),
                field("Call_Result", "Call Result", Picklist(CALL_RESULT)),
                field("Call_Agenda", "Call Agenda", TextArea(2000)),
                system(
                    "Outgoing_Call_Status",
                    "Outgoing Call Status",
                    Picklist(OUTGOING_CALL_STATUS),
                ),
                field("What_Id", "Related To", WhatId),
                field("Who_Id", "Contact Name", Lookup("Contacts")),
                field("Description", "Description", TextArea(32000)),
            ],
        ),
        module(
            "Products",
            "Product",
            "Products",
            9,
            vec![
                required("Product_Name", "Product Name", Text(120)),
                field("Product_Code", "Product Code", Text(40)),
                field("Product_Active", "Product Active", Boolean),
                field(
                    "Product_Category",
                    "Product Category",
                    Picklist(PRODUCT_CATEGORY),
                ),
                field("Unit_Price", "Unit Price", Currency),
                field("Qty_in_Stock", "Qty in Stock", Double),
                field("Description", "Description", TextArea(32000)),
            ],
        ),
        module(
            "Quotes",
            "Quote",
            "Quotes",
            10,
            vec![
                required("Subject", "Subject", Text(120)),
                field("Quote_Stage", "Quote Stage", Picklist(QUOTE_STAGE)),
                field("Account_Name", "Account Name", Lookup("Accounts")),
                field("Valid_Till", "Valid Till", Date),
                required("Product_Details", "Quoted Items", Subform),
                system("Grand_Total", "Grand Total", Currency),
            ],
        ),
        module(
            "Sales_Orders",
            "Sales Order",
            "Sales Orders",
            11,
            vec![
                required("Subject", "Subject", Text(120)),
                field("Status", "Status", Picklist(ORDER_STATUS)),
                field("Account_Name", "Account Name", Lookup("Accounts")),
                field("Due_Date", "Due Date", Date),
                required("Product_Details", "Ordered Items", Subform),
                system("Grand_Total", "Grand Total", Currency),
            ],
        ),
        module(
            "Purchase_Orders",
            "Purchase Order",
            "Purchase Orders",
            12,
            vec![
                required("Subject", "Subject", Text(120)),
                required("Vendor_Name", "Vendor Name", Lookup("Vendors")),
                field("Status", "Status", Picklist(ORDER_STATUS)),
                field("PO_Date", "PO Date", Date),
                required("Product_Details", "Purchase Items", Subform),
                system("Grand_Total", "Grand Total", Currency),
            ],
        ),
        module(
            "Invoices",
            "Invoice",
            "Invoices",
            13,
            vec![
                required("Subject", "Subject", Text(120)),
                field("Status", "Status", Picklist(INVOICE_STATUS)),
                field("Account_Name", "Account Name", Lookup("Accounts")),
                field("Invoice_Date", "Invoice Date", Date),
                field("Due_Date", "Due Date", Date),
                required("Product_Details", "Invoiced Items", Subform),
                system("Grand_Total", "Grand Total", Currency),
            ],
        ),
        module(
            "Vendors",
            "Vendor",
            "Vendors",
            14,
            vec![
                required("Vendor_Name", "Vendor Name", Text(120)),
                field("Email", "Email", Email),
                field("Phone", "Phone", Phone),
                field("Website", "Website", Website),
                field("Category", "Category", Text(100)),
                field("Description", "Description", TextArea(32000)),
            ],
        ),
        module(
            "Price_Books",
            "Price Book",
            "Price Books",
            15,
            vec![
                required("Price_Book_Name", "Price Book Name", Text(120)),
                field("Active", "Active", Boolean),
                field("Pricing_Model", "Pricing Model", Picklist(PRICING_MODEL)),
                required("Pricing_Details", "Pricing Details", Subform),
                field("Description", "Description", TextArea(32000)),
            ],
        ),
        module(
            "Cases",
            "Case",
            "Cases",
            16,
            vec![
                required("Subject", "Subject", Text(255)),
                required("Case_Origin", "Case Origin", Picklist(CASE_ORIGIN)),
                required("Status", "Status", Picklist(CASE_STATUS)),
                field("Priority", "Priority", Picklist(PRIORITY)),
                field("Account_Name", "Account Name", Lookup("Accounts")),
                field("Email", "Email", Email),
                field("Description", "Description", TextArea(32000)),
            ],
        ),
        module(
            "Solutions",
            "Solution",
            "Solutions",
            17,
            vec![
                required("Solution_Title", "Solution Title", Text(255)),
                field("Status", "Status", Picklist(SOLUTION_STATUS)),
                field("Question", "Question", TextArea(32000)),
                field("Answer", "Answer", TextArea(32000)),
            ],
        ),
    ]
}

/// A module's field list as `settings/fields` answers it to a user with the profile `viewer`:
/// `profiles` says what each profile may do with a field, and `read_only` is true where the
/// viewer may not edit it (a system field, or one their profile makes read-only), so a client
/// that reads only `read_only` offers no field it would be refused; `field_read_only` is the
/// field's own (system) read-only flag, the same for everyone.
pub fn fields_json(m: &Module, org_id: &str, viewer: Profile) -> Value {
    let fields: Vec<Value> = m
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let access = |p: Profile| {
                if f.read_only {
                    FieldAccess::ReadOnly
                } else {
                    p.field_access(m.api_name, f.api_name)
                }
            };
            let profiles: Vec<Value> = Profile::ALL
                .into_iter()
                .map(|p| {
                    json!({ "permission_type": access(p).as_str(), "name": p.name(), "id": p.id(org_id) })
                })
                .collect();
            let mut v = json!({
                "id": format!("{org_id}{:02}{:03}", m.id, i),
                "api_name": f.api_name,
                "field_label": f.label,
                "display_label": f.label,
                "data_type": f.kind.data_type(),
                "json_type": f.kind.json_type(),
                "length": f.kind.length(),
                "system_mandatory": f.mandatory,
                "read_only": access(viewer) == FieldAccess::ReadOnly,
                "field_read_only": f.read_only,
                "mass_update": m.mass_updatable(f),
                "profiles": profiles,
                "custom_field": false,
                "visible": true,
            });
            if let Kind::Picklist(values) | Kind::MultiSelect(values) = f.kind {
                v["pick_list_values"] = values
                    .iter()
                    .map(|p| json!({ "display_value": p, "actual_value": p }))
                    .collect();
            }
            if let Kind::Lookup(target) = f.kind {
                v["lookup"] = json!({ "module": { "api_name": target } });
            }
            // Zoho names the module of a `What_Id` `se_module`: the record's `$se_module` says
            // which it is.
            if f.kind == Kind::WhatId {
                v["lookup"] = json!({ "module": { "api_name": "se_module" } });
            }
            v
        })
        .collect();
    json!({ "fields": fields })
}

/// A module as `settings/modules` lists it.
pub fn module_json(m: &Module, org_id: &str) -> Value {
    json!({
        "id": format!("{org_id}{:03}", m.id),
        "api_name": m.api_name,
        "module_name": m.api_name,
        "singular_label": m.singular,
        "plural_label": m.plural,
        "api_supported": true,
        "creatable": true,
        "editable": true,
        "deletable": true,
        "viewable": true,
        "visible": true,
        "generated_type": "default",
        "sequence_number": m.id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_has_unique_fields_an_owner_and_its_mandatory_ones() {
        let modules = modules();
        assert_eq!(modules.len(), 17);
        for m in &modules {
            let mut names: Vec<_> = m.fields.iter().map(|f| f.api_name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), m.fields.len(), "{}", m.api_name);
            assert!(m.field("Owner").is_some());
            assert!(m.fields.iter().any(|f| f.mandatory), "{}", m.api_name);
            assert!(m.field(m.name_field()).is_some(), "{}", m.api_name);
            for f in &m.fields {
                if let Kind::Lookup(target) = f.kind {
                    assert!(modules.iter().any(|t| t.api_name == target), "{target}");
                }
            }
        }
        let leads = &modules[0];
        assert!(leads.field("Last_Name").is_some_and(|f| f.mandatory));
        let deals = modules
            .iter()
            .find(|m| m.api_name == "Deals")
            .expect("deals");
        assert!(deals.field("Stage").is_some_and(|f| f.mandatory));
        let can = |m: &Module, name: &str| m.field(name).is_some_and(|f| m.mass_updatable(f));
        assert!(can(leads, "Lead_Status") && can(leads, "City"));
        for never in [
            "Email",
            "Description",
            "Owner",
            "Last_Name",
            "Full_Name",
            "Created_Time",
        ] {
            assert!(!can(leads, never), "{never}");
        }
        assert!(!can(deals, "Account_Name") && !can(deals, "Deal_Name") && can(deals, "Stage"));
        assert_eq!(
            (deals.mass_update_limit(), leads.mass_update_limit()),
            (3, 1)
        );
    }
}

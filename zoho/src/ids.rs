//! Identities as types, not strings: the org's `zgid`, the user's `zuid`, the OAuth client id,
//! the opaque id the browser may know a connection by, and a CRM module's API name.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A Zoho CRM org, by its `zgid` (what the SDK keys tokens by, not the org's `id`).
    OrgId
);
id_type!(
    /// A Zoho user, by their accounts id (`zuid`).
    UserId
);
id_type!(
    /// The OAuth client (`1000.…`).
    ClientId
);
id_type!(
    /// A stored connection's opaque random id: all the browser ever learns of it.
    ConnectionId
);

impl ConnectionId {
    /// A fresh random id: 128 bits as hex (URL-safe, and never mistaken for a CLI flag).
    pub fn random() -> Self {
        ConnectionId(crate::random::hex(16))
    }
}

/// A module's API name (`Leads`, `Sales_Orders`): letters, digits and underscores only, so it can
/// never smuggle a path or a query into a URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ModuleName(String);

impl ModuleName {
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && s.as_bytes()[0].is_ascii_alphabetic();
        ok.then(|| ModuleName(s.to_owned()))
    }

    /// Whether it starts with a capital letter, as every module of Zoho's does.
    pub fn is_capitalized(&self) -> bool {
        self.0.starts_with(|c: char| c.is_ascii_uppercase())
    }

    /// One of Zoho's own modules (`Leads`, `Deals`), named in the code: a name written there is
    /// valid, and debug builds check it.
    pub fn standard(name: &'static str) -> Self {
        debug_assert!(Self::parse(name).is_some(), "not a module name: {name}");
        ModuleName(name.to_owned())
    }

    /// `Notes`, the module every record's notes are records of.
    pub fn notes() -> Self {
        ModuleName("Notes".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

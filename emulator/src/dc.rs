//! The nine data centers the emulator plays, by location code. Every one lives under the
//! emulator's single base URL: accounts at `{base}/{dc}/accounts`, the API at `{base}/{dc}/api`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dc {
    Us,
    Eu,
    In,
    Au,
    Jp,
    Ca,
    Sa,
    Cn,
    Uk,
}

impl Dc {
    pub const ALL: [Dc; 9] = [
        Dc::Us,
        Dc::Eu,
        Dc::In,
        Dc::Au,
        Dc::Jp,
        Dc::Ca,
        Dc::Sa,
        Dc::Cn,
        Dc::Uk,
    ];

    pub fn location(self) -> &'static str {
        match self {
            Dc::Us => "us",
            Dc::Eu => "eu",
            Dc::In => "in",
            Dc::Au => "au",
            Dc::Jp => "jp",
            Dc::Ca => "ca",
            Dc::Sa => "sa",
            Dc::Cn => "cn",
            Dc::Uk => "uk",
        }
    }

    /// The accounts server URL this emulator advertises for the data center.
    pub fn accounts_server(self, base: &str) -> String {
        format!("{base}/{self}/accounts")
    }

    /// The API domain this emulator advertises for the data center.
    pub fn api_domain(self, base: &str) -> String {
        format!("{base}/{self}/api")
    }
}

impl fmt::Display for Dc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.location())
    }
}

impl FromStr for Dc {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dc::ALL
            .into_iter()
            .find(|dc| dc.location() == s)
            .ok_or_else(|| format!("unknown data center {s:?}"))
    }
}

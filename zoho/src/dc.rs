//! Zoho's data centers and where each one lives. This is the one file in zportal that names a Zoho
//! host: every accounts or API URL is taken from a [`DcTable`] built here, never from a request.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A Zoho data center, known by its `location` code (`us`, `eu`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataCenter {
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

impl DataCenter {
    /// Every data center zportal knows, in the order the UI lists them.
    pub const ALL: [DataCenter; 9] = [
        DataCenter::Us,
        DataCenter::Eu,
        DataCenter::In,
        DataCenter::Au,
        DataCenter::Jp,
        DataCenter::Ca,
        DataCenter::Sa,
        DataCenter::Cn,
        DataCenter::Uk,
    ];

    /// The `location` code Zoho uses in redirects and in `ZOHO_DCS`.
    pub fn location(self) -> &'static str {
        match self {
            DataCenter::Us => "us",
            DataCenter::Eu => "eu",
            DataCenter::In => "in",
            DataCenter::Au => "au",
            DataCenter::Jp => "jp",
            DataCenter::Ca => "ca",
            DataCenter::Sa => "sa",
            DataCenter::Cn => "cn",
            DataCenter::Uk => "uk",
        }
    }

    /// What a person calls it.
    pub fn name(self) -> &'static str {
        match self {
            DataCenter::Us => "United States",
            DataCenter::Eu => "Europe",
            DataCenter::In => "India",
            DataCenter::Au => "Australia",
            DataCenter::Jp => "Japan",
            DataCenter::Ca => "Canada",
            DataCenter::Sa => "Saudi Arabia",
            DataCenter::Cn => "China",
            DataCenter::Uk => "United Kingdom",
        }
    }

    /// Real Zoho's accounts server for this data center (the pinned allowlist).
    fn zoho_accounts_server(self) -> &'static str {
        match self {
            DataCenter::Us => "https://accounts.zoho.com",
            DataCenter::Eu => "https://accounts.zoho.eu",
            DataCenter::In => "https://accounts.zoho.in",
            DataCenter::Au => "https://accounts.zoho.com.au",
            DataCenter::Jp => "https://accounts.zoho.jp",
            DataCenter::Ca => "https://accounts.zohocloud.ca",
            DataCenter::Sa => "https://accounts.zoho.sa",
            DataCenter::Cn => "https://accounts.zoho.com.cn",
            DataCenter::Uk => "https://accounts.zoho.uk",
        }
    }

    /// Real Zoho's API domain for this data center.
    fn zoho_api_domain(self) -> &'static str {
        match self {
            DataCenter::Us => "https://www.zohoapis.com",
            DataCenter::Eu => "https://www.zohoapis.eu",
            DataCenter::In => "https://www.zohoapis.in",
            DataCenter::Au => "https://www.zohoapis.com.au",
            DataCenter::Jp => "https://www.zohoapis.jp",
            DataCenter::Ca => "https://www.zohoapis.ca",
            DataCenter::Sa => "https://www.zohoapis.sa",
            DataCenter::Cn => "https://www.zohoapis.com.cn",
            DataCenter::Uk => "https://www.zohoapis.uk",
        }
    }
}

impl fmt::Display for DataCenter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.location())
    }
}

impl FromStr for DataCenter {
    type Err = DcError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DataCenter::ALL
            .into_iter()
            .find(|dc| dc.location() == s)
            .ok_or_else(|| DcError::UnknownLocation(s.to_owned()))
    }
}

/// Why a data center, or a URL claimed for one, was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DcError {
    #[error("unknown data center location {0:?}")]
    UnknownLocation(String),
    #[error("data center {0} is not enabled")]
    NotEnabled(DataCenter),
    #[error("the accounts server given for {0} is not the pinned one")]
    AccountsServerMismatch(DataCenter),
    #[error("the API domain given for {0} is not the pinned one")]
    ApiDomainMismatch(DataCenter),
    #[error("no data center is enabled")]
    NoneEnabled,
}

/// Where one data center's accounts server and API live, as absolute URLs without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcEndpoints {
    pub accounts_server: String,
    pub api_domain: String,
}

/// The data centers this deployment talks to, each with its pinned endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcTable {
    entries: Vec<(DataCenter, DcEndpoints)>,
}

impl DcTable {
    /// Real Zoho, limited to `enabled` (kept in [`DataCenter::ALL`] order, without repeats).
    pub fn zoho(enabled: &[DataCenter]) -> Result<Self, DcError> {
        Self::build(enabled, |dc| DcEndpoints {
            accounts_server: dc.zoho_accounts_server().to_owned(),
            api_domain: dc.zoho_api_domain().to_owned(),
        })
    }

    /// The local emulator at `base` (e.g. `http://127.0.0.1:3100`): every data center under one
    /// base URL, accounts at `{base}/{dc}/accounts` and the API at `{base}/{dc}/api`.
    pub fn emulator(base: &str, enabled: &[DataCenter]) -> Result<Self, DcError> {
        let base = base.trim_end_matches('/');
        Self::build(enabled, |dc| DcEndpoints {
            accounts_server: format!("{base}/{dc}/accounts"),
            api_domain: format!("{base}/{dc}/api"),
        })
    }

    fn build(
        enabled: &[DataCenter],
        endpoints: impl Fn(DataCenter) -> DcEndpoints,
    ) -> Result<Self, DcError> {
        let entries: Vec<_> = DataCenter::ALL
            .into_iter()
            .filter(|dc| enabled.contains(dc))
            .map(|dc| (dc, endpoints(dc)))
            .collect();
        if entries.is_empty() {
            return Err(DcError::NoneEnabled);
        }
        Ok(DcTable { entries })
    }

    /// The enabled data centers, in display order.
    pub fn enabled(&self) -> impl Iterator<Item = DataCenter> + '_ {
        self.entries.iter().map(|(dc, _)| *dc)
    }

    /// The endpoints of an enabled data center.
    pub fn endpoints(&self, dc: DataCenter) -> Result<&DcEndpoints, DcError> {
        self.entries
            .iter()
            .find(|(d, _)| *d == dc)
            .map(|(_, e)| e)
            .ok_or(DcError::NotEnabled(dc))
    }

    /// Where a sign-in starts when nobody chose: `us` if enabled, else the first enabled one.
    pub fn default_dc(&self) -> DataCenter {
        self.enabled()
            .find(|dc| *dc == DataCenter::Us)
            .or_else(|| self.enabled().next())
            .unwrap_or(DataCenter::Us)
    }

    /// Checks the `location` and `accounts-server` a callback brought: the location must be an
    /// enabled data center and the accounts server must be its pinned URL, byte for byte.
    pub fn verify_callback(
        &self,
        location: &str,
        accounts_server: &str,
    ) -> Result<DataCenter, DcError> {
        let dc: DataCenter = location.parse()?;
        let endpoints = self.endpoints(dc)?;
        if endpoints.accounts_server.as_bytes() != accounts_server.as_bytes() {
            return Err(DcError::AccountsServerMismatch(dc));
        }
        Ok(dc)
    }

    /// Checks an `api_domain` from a token response against the pinned one for `dc`.
    pub fn verify_api_domain(&self, dc: DataCenter, api_domain: &str) -> Result<(), DcError> {
        if self.endpoints(dc)?.api_domain.as_bytes() != api_domain.as_bytes() {
            return Err(DcError::ApiDomainMismatch(dc));
        }
        Ok(())
    }
}

/// Parses a comma-separated list of locations (`ZOHO_DCS`), e.g. `us,eu,in`.
pub fn parse_locations(list: &str) -> Result<Vec<DataCenter>, DcError> {
    let dcs = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if dcs.is_empty() {
        return Err(DcError::NoneEnabled);
    }
    Ok(dcs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_location_round_trips() {
        for dc in DataCenter::ALL {
            assert_eq!(dc.location().parse::<DataCenter>(), Ok(dc));
            assert_eq!(
                serde_json::to_string(&dc).ok(),
                Some(format!("\"{}\"", dc.location()))
            );
        }
        assert!("US".parse::<DataCenter>().is_err());
        assert!("ae".parse::<DataCenter>().is_err());
    }

    #[test]
    fn callback_accepts_only_the_pinned_accounts_server() {
        let table = DcTable::zoho(&DataCenter::ALL).expect("all enabled");
        assert_eq!(
            table.verify_callback("eu", "https://accounts.zoho.eu"),
            Ok(DataCenter::Eu)
        );
        assert_eq!(
            table.verify_callback("ca", "https://accounts.zohocloud.ca"),
            Ok(DataCenter::Ca)
        );
        for forged in [
            "https://evil.test",
            "http://accounts.zoho.eu",
            "https://accounts.zoho.eu/",
            "https://accounts.zoho.eu.evil.test",
            "https://accounts.zoho.com",
            "HTTPS://accounts.zoho.eu",
        ] {
            assert_eq!(
                table.verify_callback("eu", forged),
                Err(DcError::AccountsServerMismatch(DataCenter::Eu)),
                "{forged}"
            );
        }
        assert!(matches!(
            table.verify_callback("xx", "https://accounts.zoho.eu"),
            Err(DcError::UnknownLocation(_))
        ));
    }

    #[test]
    fn disabled_data_centers_are_refused() {
        let table = DcTable::zoho(&[DataCenter::Eu, DataCenter::Us]).expect("two enabled");
        assert_eq!(
            table.enabled().collect::<Vec<_>>(),
            vec![DataCenter::Us, DataCenter::Eu]
        );
        assert_eq!(
            table.verify_callback("in", "https://accounts.zoho.in"),
            Err(DcError::NotEnabled(DataCenter::In))
        );
        assert_eq!(table.default_dc(), DataCenter::Us);
        let eu_only = DcTable::zoho(&[DataCenter::Eu]).expect("one enabled");
        assert_eq!(eu_only.default_dc(), DataCenter::Eu);
        assert_eq!(DcTable::zoho(&[]), Err(DcError::NoneEnabled));
    }

    #[test]
    fn emulator_table_lives_under_one_base() {
        let table =
            DcTable::emulator("http://127.0.0.1:3100/", &DataCenter::ALL).expect("all enabled");
        let uk = table.endpoints(DataCenter::Uk).expect("uk enabled");
        assert_eq!(uk.accounts_server, "http://127.0.0.1:3100/uk/accounts");
        assert_eq!(uk.api_domain, "http://127.0.0.1:3100/uk/api");
        assert!(
            table
                .verify_api_domain(DataCenter::Uk, "http://127.0.0.1:3100/uk/api")
                .is_ok()
        );
        assert_eq!(
            table.verify_api_domain(DataCenter::Uk, "https://www.zohoapis.uk"),
            Err(DcError::ApiDomainMismatch(DataCenter::Uk))
        );
    }

    #[test]
    fn location_lists_parse_and_name_the_bad_entry() {
        assert_eq!(
            parse_locations(" us, eu ,in"),
            Ok(vec![DataCenter::Us, DataCenter::Eu, DataCenter::In])
        );
        assert_eq!(
            parse_locations("us,mars"),
            Err(DcError::UnknownLocation("mars".into()))
        );
        assert_eq!(parse_locations(" , "), Err(DcError::NoneEnabled));
    }
}

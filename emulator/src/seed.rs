//! The deterministic starting world (README, "The emulator"): the two seeded clients, fourteen
//! users and nine orgs; `crm::seed` adds their records. Acme Corp has, beside ada and ben, the
//! people change owner and field permissions need: a deactivated user, one who has not accepted
//! the invitation, a non-admin manager whose profile may not edit Lead Status, and a user outside
//! that manager's branch of the role hierarchy.

use std::collections::BTreeMap;

use crate::dc::Dc;
use crate::model::people::{Profile, Role, Status};
use crate::model::{Client, EmuConfig, Org, Stats, User, World};

pub const DEV_CLIENT_ID: &str = "1000.ZPORTALDEV";
pub const DEV_CLIENT_SECRET: &str = "zportal-dev-secret";
pub const US_ONLY_CLIENT_ID: &str = "1000.USONLY";
pub const US_ONLY_CLIENT_SECRET: &str = "us-only-secret";

/// (email, first name, last name, dc, org zgid, org name)
const USERS: &[(&str, &str, &str, Dc, &str, &str)] = &[
    (
        "ada@us.zportal.test",
        "Ada",
        "Lovelace",
        Dc::Us,
        "70001",
        "Acme Corp",
    ),
    (
        "ben@us.zportal.test",
        "Ben",
        "Okafor",
        Dc::Us,
        "70001",
        "Acme Corp",
    ),
    (
        "eva@eu.zportal.test",
        "Eva",
        "Schmidt",
        Dc::Eu,
        "70002",
        "Euro GmbH",
    ),
    (
        "ish@in.zportal.test",
        "Ish",
        "Patel",
        Dc::In,
        "70003",
        "Bharat Traders",
    ),
    (
        "ava@au.zportal.test",
        "Ava",
        "Nguyen",
        Dc::Au,
        "70004",
        "Southern Cross Pty",
    ),
    (
        "jun@jp.zportal.test",
        "Jun",
        "Tanaka",
        Dc::Jp,
        "70005",
        "Sakura KK",
    ),
    (
        "cleo@ca.zportal.test",
        "Cleo",
        "Tremblay",
        Dc::Ca,
        "70006",
        "Maple Ltd",
    ),
    (
        "sami@sa.zportal.test",
        "Sami",
        "Alharbi",
        Dc::Sa,
        "70007",
        "Najd Trading",
    ),
    (
        "chen@cn.zportal.test",
        "Chen",
        "Wei",
        Dc::Cn,
        "70008",
        "Lotus Co",
    ),
    (
        "uma@uk.zportal.test",
        "Uma",
        "Clarke",
        Dc::Uk,
        "70009",
        "Thames Ltd",
    ),
    // Last, so that everyone above keeps their ids.
    (
        "ines@us.zportal.test",
        "Ines",
        "Duarte",
        Dc::Us,
        "70001",
        "Acme Corp",
    ),
    (
        "uri@us.zportal.test",
        "Uri",
        "Novak",
        Dc::Us,
        "70001",
        "Acme Corp",
    ),
    (
        "nia@us.zportal.test",
        "Nia",
        "Brooks",
        Dc::Us,
        "70001",
        "Acme Corp",
    ),
    (
        "sol@us.zportal.test",
        "Sol",
        "Ferreira",
        Dc::Us,
        "70001",
        "Acme Corp",
    ),
];

/// Who the Acme users other than ada and ben are: (email, status, confirmed, role, profile).
/// Everyone else is an active, confirmed CEO with the Administrator profile.
const PEOPLE: &[(&str, Status, bool, Role, Profile)] = &[
    // Deactivated: keeps their records, owns no new ones, holds no licence.
    (
        "ines@us.zportal.test",
        Status::Inactive,
        true,
        Role::SalesRep,
        Profile::Standard,
    ),
    // Invited, not yet joined.
    (
        "uri@us.zportal.test",
        Status::Active,
        false,
        Role::SalesRep,
        Profile::Standard,
    ),
    // A non-admin manager: may not edit Lead Status; hands records only to her branch.
    (
        "nia@us.zportal.test",
        Status::Active,
        true,
        Role::SalesManager,
        Profile::Telesales,
    ),
    // Outside Nia's branch; her profile may not change owners.
    (
        "sol@us.zportal.test",
        Status::Active,
        true,
        Role::SupportLead,
        Profile::Support,
    ),
];

/// An org's CRM id, 19 digits like Zoho's, derived from its zgid.
pub fn org_id(zgid: &str) -> String {
    format!("{:0>19}", format!("5{zgid}"))
}

/// A user's zuid and CRM user id, from their position in the user list.
pub fn user_ids(index: usize, zgid: &str) -> (String, String) {
    let zuid = format!("{}", 60_000_001 + index);
    let user_id = format!("{:0>19}", format!("4{zgid}{:06}", 225_001 + index));
    (zuid, user_id)
}

pub fn clients() -> BTreeMap<String, Client> {
    let dev = Client {
        client_id: DEV_CLIENT_ID.into(),
        client_secret: DEV_CLIENT_SECRET.into(),
        redirect_uris: vec![
            "http://127.0.0.1:*/auth/zoho/callback".into(),
            "http://localhost:*/auth/zoho/callback".into(),
        ],
        dcs: Dc::ALL.to_vec(),
    };
    let us_only = Client {
        client_id: US_ONLY_CLIENT_ID.into(),
        client_secret: US_ONLY_CLIENT_SECRET.into(),
        redirect_uris: vec!["http://127.0.0.1:3000/auth/zoho/callback".into()],
        dcs: vec![Dc::Us],
    };
    [dev, us_only]
        .into_iter()
        .map(|c| (c.client_id.clone(), c))
        .collect()
}

/// The world as it starts, and as `POST reset` leaves it.
pub fn world() -> World {
    let mut orgs = BTreeMap::new();
    let mut users = Vec::new();
    for (i, (email, first, last, dc, zgid, org_name)) in USERS.iter().enumerate() {
        orgs.entry(zgid.to_string()).or_insert_with(|| Org {
            zgid: zgid.to_string(),
            id: org_id(zgid),
            name: org_name.to_string(),
            dc: *dc,
            edition: Default::default(),
        });
        let (zuid, user_id) = user_ids(i, zgid);
        let (status, confirmed, role, profile) = PEOPLE
            .iter()
            .find(|(e, ..)| e == email)
            .map(|(_, s, c, r, p)| (*s, *c, *r, *p))
            // Not `unwrap_or_default`: that would leave everyone else unconfirmed.
            .unwrap_or((Status::Active, true, Role::Ceo, Profile::Administrator));
        users.push(User {
            email: email.to_string(),
            zuid,
            user_id,
            first_name: first.to_string(),
            last_name: last.to_string(),
            dc: *dc,
            org_zgid: zgid.to_string(),
            status,
            confirmed,
            role,
            profile,
        });
    }
    let mut crm = crate::crm::seed(&orgs, &users);
    // Dated from the clock at seeding (or reset), so some are always overdue, due today, ahead.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    crate::crm::activities::seed(&mut crm, &users, now);
    World {
        crm,
        clock_offset: 0,
        config: EmuConfig::default(),
        clients: clients(),
        users,
        orgs,
        codes: Default::default(),
        refresh_tokens: Default::default(),
        access_tokens: Default::default(),
        code_issues: Default::default(),
        next_refresh_id: 1,
        next_token_seq: 0,
        metering: Default::default(),
        watch: Default::default(),
        stats: Stats::default(),
        requests: Default::default(),
        next_seq: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_matches_the_contract() {
        let w = world();
        assert_eq!(w.users.len(), 14);
        assert_eq!(w.orgs.len(), 9);
        let ada = w.user_by_email("ada@us.zportal.test").expect("ada");
        let ben = w.user_by_email("ben@us.zportal.test").expect("ben");
        assert_eq!(ada.org_zgid, "70001");
        assert_eq!(ben.org_zgid, "70001");
        assert_eq!(w.orgs["70001"].name, "Acme Corp");
        assert_eq!(w.orgs["70002"].name, "Euro GmbH");
        for dc in Dc::ALL {
            assert!(w.users.iter().any(|u| u.dc == dc), "a user in {dc}");
        }
        let ids: std::collections::HashSet<_> = w.users.iter().map(|u| &u.zuid).collect();
        assert_eq!(ids.len(), 14, "zuids are unique");
        assert!(w.users.iter().all(|u| u.user_id.len() == 19));
        assert_eq!(w.orgs["70001"].id.len(), 19);
        // Ada and Ben hold two of Acme's four licences; the deactivated and the invited do not.
        assert!(ada.licensed() && ada.profile.is_admin());
        assert_eq!(w.licensed_users("70001"), 4);
        let by = |e: &str| w.user_by_email(e).expect(e).clone();
        assert_eq!(by("ines@us.zportal.test").status, Status::Inactive);
        assert!(!by("uri@us.zportal.test").confirmed);
        let nia = by("nia@us.zportal.test");
        assert!(!nia.profile.is_admin());
        assert!(!nia.role.covers(by("sol@us.zportal.test").role));
        assert_eq!(w.licensed_users("70002"), 1);
    }
}

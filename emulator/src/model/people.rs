//! Who a user is in their org, beyond their name (reference §9.7): active or deactivated, whether
//! they accepted the invitation, their role (a place in the org's hierarchy) and their profile
//! (what they may do). `users` reports each, change owner checks the new owner against them, and
//! the profile says which fields a user may edit. Every org has the same roles and profiles; a
//! user saved before these existed loads as an active, confirmed CEO with the Administrator
//! profile, which is what the emulator said of everyone then.

use serde::{Deserialize, Serialize};

/// Whether a user is active. A deactivated user keeps their records but owns no new ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Active,
    Inactive,
}

impl Status {
    /// As Zoho's `users[].status` says it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
        }
    }
}

/// A place in the role hierarchy. The CEO is at the top; a Sales Manager reports to the CEO, a
/// Sales Rep to the Sales Manager, and a Support Lead to the CEO (a branch of its own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    Ceo,
    SalesManager,
    SalesRep,
    SupportLead,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Ceo,
        Role::SalesManager,
        Role::SalesRep,
        Role::SupportLead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Ceo => "CEO",
            Role::SalesManager => "Sales Manager",
            Role::SalesRep => "Sales Rep",
            Role::SupportLead => "Support Lead",
        }
    }

    /// The role this one reports to.
    pub fn parent(self) -> Option<Role> {
        match self {
            Role::Ceo => None,
            Role::SalesManager | Role::SupportLead => Some(Role::Ceo),
            Role::SalesRep => Some(Role::SalesManager),
        }
    }

    /// Whether `other` is this role or one below it: this role's branch of the hierarchy.
    pub fn covers(self, other: Role) -> bool {
        let mut at = Some(other);
        while let Some(role) = at {
            if role == self {
                return true;
            }
            at = role.parent();
        }
        false
    }

    /// The role's id in the org whose CRM id is `org_id` (the CEO's is what the emulator gave
    /// every user before roles existed).
    pub fn id(self, org_id: &str) -> String {
        let n = match self {
            Role::Ceo => 1,
            Role::SalesManager => 5,
            Role::SalesRep => 6,
            Role::SupportLead => 7,
        };
        format!("{org_id}{n}")
    }
}

/// What a profile lets its users do with a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldAccess {
    ReadWrite,
    ReadOnly,
}

impl FieldAccess {
    /// As the field metadata's `profiles[].permission_type` says it.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldAccess::ReadWrite => "read_write",
            FieldAccess::ReadOnly => "read_only",
        }
    }
}

/// A profile: Zoho's two standard ones and two custom ones. Telesales may not edit a Lead's
/// Lead Status (qualification sets it); Support may not change records' owners.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    #[default]
    Administrator,
    Standard,
    Telesales,
    Support,
}

impl Profile {
    pub const ALL: [Profile; 4] = [
        Profile::Administrator,
        Profile::Standard,
        Profile::Telesales,
        Profile::Support,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Administrator => "Administrator",
            Profile::Standard => "Standard",
            Profile::Telesales => "Telesales",
            Profile::Support => "Support",
        }
    }

    /// The profile's id in the org whose CRM id is `org_id` (the Administrator's is what the
    /// emulator gave every user before profiles existed).
    pub fn id(self, org_id: &str) -> String {
        let n = match self {
            Profile::Administrator => 2,
            Profile::Standard => 3,
            Profile::Telesales => 4,
            Profile::Support => 8,
        };
        format!("{org_id}{n}")
    }

    /// Administrators see and hand over every record, whatever the role hierarchy says.
    pub fn is_admin(self) -> bool {
        self == Profile::Administrator
    }

    /// Whether the profile has Zoho's Change Owner permission.
    pub fn may_change_owner(self) -> bool {
        self != Profile::Support
    }

    /// What the profile may do with `field` of `module`.
    pub fn field_access(self, module: &str, field: &str) -> FieldAccess {
        match (self, module, field) {
            (Profile::Telesales, "Leads", "Lead_Status") => FieldAccess::ReadOnly,
            _ => FieldAccess::ReadWrite,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_covers_itself_and_what_is_below_it_only() {
        assert!(Role::Ceo.covers(Role::SalesRep));
        assert!(Role::SalesManager.covers(Role::SalesManager));
        assert!(Role::SalesManager.covers(Role::SalesRep));
        assert!(!Role::SalesManager.covers(Role::Ceo));
        assert!(!Role::SalesManager.covers(Role::SupportLead));
        assert!(!Role::SupportLead.covers(Role::SalesRep));
    }

    #[test]
    fn old_defaults_are_what_everyone_was_before() {
        let org = "0000000000000570001";
        assert_eq!(Role::default().id(org), format!("{org}1"));
        assert_eq!(Profile::default().id(org), format!("{org}2"));
        assert_eq!(Status::default().as_str(), "active");
        let ids: std::collections::HashSet<String> = Role::ALL
            .iter()
            .map(|r| r.id(org))
            .chain(Profile::ALL.iter().map(|p| p.id(org)))
            .collect();
        assert_eq!(ids.len(), 8, "no role and profile share an id");
    }
}

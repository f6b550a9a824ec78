//! What zportal keeps in this browser for one connection — column choices, the last module
//! opened, unsaved form input — in localStorage under keys that name the connection, so signing
//! out can forget exactly that account's things. Never a token: the browser has none to keep.
//!
//! Every function is a no-op on the server, and pages read the stash only after hydration, so
//! the server's HTML and the first client render always agree.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The key prefix of everything kept for `connection`.
fn prefix(connection: &str) -> String {
    format!("{ALL}{connection}.")
}

/// The key of `what`, kept for `connection`.
pub fn key(connection: &str, what: &str) -> String {
    format!("{}{what}", prefix(connection))
}

/// The value kept under `what` for `connection`, if any (and if it still reads as a `T`).
pub fn load<T: DeserializeOwned>(connection: &str, what: &str) -> Option<T> {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::{LocalStorage, Storage};
        LocalStorage::get(key(connection, what)).ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (connection, what);
        None
    }
}

/// Keeps `value` under `what` for `connection`. A full or disabled storage only loses the
/// convenience, so errors are ignored.
pub fn save<T: Serialize>(connection: &str, what: &str, value: &T) {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::{LocalStorage, Storage};
        let _ = LocalStorage::set(key(connection, what), value);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (connection, what, value);
}

/// Drops what is kept under `what` for `connection`.
pub fn remove(connection: &str, what: &str) {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::{LocalStorage, Storage};
        LocalStorage::delete(key(connection, what));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (connection, what);
}

/// Forgets everything kept for these connections (at sign-out and disconnect).
pub fn forget(connections: &[String]) {
    let prefixes: Vec<String> = connections.iter().map(|c| prefix(c)).collect();
    remove_keys(|k| prefixes.iter().any(|p| k.starts_with(p.as_str())));
}

/// Forgets everything kept for connections other than these (on each page load: the session's
/// accounts, none when signed out), so what a session that ended elsewhere left behind goes.
pub fn keep_only(connections: &[String]) {
    remove_keys(|k| stale(k, connections));
}

/// Whether `key` is kept for a connection not among `connections`.
fn stale(key: &str, connections: &[String]) -> bool {
    key.strip_prefix(ALL)
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(connection, _)| !connections.iter().any(|c| c == connection))
}

/// The start of every key kept for a connection.
const ALL: &str = "zportal.c.";

/// Removes the keys of localStorage that `doomed` picks.
fn remove_keys(doomed: impl Fn(&str) -> bool) {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::{LocalStorage, Storage};
        let storage = LocalStorage::raw();
        let len = storage.length().unwrap_or(0);
        let keys: Vec<String> = (0..len)
            .filter_map(|i| storage.key(i).ok().flatten())
            .filter(|k| doomed(k))
            .collect();
        for k in keys {
            let _ = storage.remove_item(&k);
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = doomed;
}

/// The active connection's id, once the header has loaded who is signed in (tracked: an effect
/// that reads it runs again when it arrives).
pub fn active_connection() -> Option<String> {
    use leptos::prelude::*;
    let me = use_context::<crate::MeResource>()?;
    me.get().and_then(|r| r.ok().flatten()).map(|m| m.active.id)
}

/// The active connection's id, for event handlers.
pub fn active_connection_untracked() -> Option<String> {
    use leptos::prelude::*;
    let me = use_context::<crate::MeResource>()?;
    me.get_untracked()
        .and_then(|r| r.ok().flatten())
        .map(|m| m.active.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_connection_and_cannot_collide() {
        assert_eq!(key("ab12", "cols.Leads"), "zportal.c.ab12.cols.Leads");
        // One connection's prefix is never the start of another's key.
        assert!(!key("ab123", "x").starts_with(&prefix("ab12")));
    }

    #[test]
    fn what_is_kept_for_accounts_not_in_the_session_is_stale() {
        let session = ["ab12".to_owned()];
        assert!(!stale(&key("ab12", "draft.Leads.new"), &session));
        assert!(stale(&key("ab123", "cols.Leads"), &session));
        assert!(
            stale(&key("cd34", "cols.Leads"), &[]),
            "signed out: all of it"
        );
        assert!(
            !stale("zportal.theme", &[]),
            "the browser's own preferences stay"
        );
    }
}

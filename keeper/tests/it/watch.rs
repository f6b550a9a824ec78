//! The watch channels' per-process state stays as large as what is open here: an org's mode
//! and a released connection are forgotten once no stream of them is left.

use keeper::watch::{Mode, Watches};
use zoho::budget::OrgKey;
use zoho::{ConnectionId, DataCenter};

use crate::support::World;

#[test]
fn an_orgs_mode_is_forgotten_with_its_last_stream() {
    testkit::block_on(async {
        let world = World::start().await;
        let (vault, crm, _) = world.process().await;
        // Zoho would notify here, but no connection of the org is usable: the org polls.
        let watches = Watches::new(crm, vault, Some("http://127.0.0.1:9/zoho/notify".into()));
        let org = OrgKey {
            dc: DataCenter::Us,
            org: zoho::ids::OrgId::new("4711"),
        };
        let gone = ConnectionId::new("not-a-connection");
        let stream = watches.open(&org, &gone);
        watches.tend().await;
        assert_eq!(watches.mode(&org), Mode::PollFailed);
        watches.release_connection(&gone).await.expect("release");
        assert_eq!(
            watches.tracked(),
            (1, 1),
            "one org's mode, one released connection"
        );
        drop(stream);
        watches.tend().await;
        assert_eq!(watches.tracked(), (0, 0), "nothing left of them");
        assert_eq!(
            watches.mode(&org),
            Mode::Push,
            "an org opened anew starts afresh"
        );
    });
}

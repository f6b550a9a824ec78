//! Zoho's watch API (`zoho-reference.md` §8.5): a channel per org that has Zoho POST a
//! notification to zportal for every create, edit and delete of the modules it names. Channels
//! are registered (POST), renewed before they lapse (PUT) and removed (DELETE) here; which org
//! has one, and when, is decided a layer above (`zoho::watch`).

use serde_json::json;

use super::{ApiError, CrmClient, CrmError, api_error};
use crate::call::{Call, Op, Resource};
use crate::ids::ConnectionId;

/// A channel as zportal asks Zoho for it.
#[derive(Clone, Debug)]
pub struct ChannelSpec<'a> {
    pub channel_id: i64,
    /// `{Module}.all` for each module watched.
    pub events: &'a [String],
    pub notify_url: &'a str,
    /// Zoho sends it back with each notification (at most 50 characters).
    pub token: &'a str,
}

impl CrmClient {
    /// Registers `spec` (or, with `renew`, replaces the channel of its id, which also renews
    /// its expiry): Zoho's default of one hour from now.
    pub async fn watch(
        &self,
        id: &ConnectionId,
        spec: &ChannelSpec<'_>,
        renew: bool,
    ) -> Result<(), CrmError> {
        let body = json!({ "watch": [{
            "channel_id": spec.channel_id,
            "events": spec.events,
            "notify_url": spec.notify_url,
            "token": spec.token,
        }]});
        let op = if renew { Op::Update } else { Op::Create };
        let channels = Resource::Watch {
            channel_ids: Vec::new(),
        };
        let call = Call::json(op, &channels, &body);
        let (status, body) = self.send(id, call).await?;
        let answer: serde_json::Value =
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        let item = &answer["watch"][0];
        if (200..300).contains(&status) && item["status"] == "success" {
            return Ok(());
        }
        if (200..300).contains(&status) || item.is_object() {
            return Err(ApiError::Other {
                status,
                code: item["code"].as_str().unwrap_or("UNKNOWN").to_owned(),
            }
            .into());
        }
        Err(api_error(status, &body).into())
    }

    /// Removes channel `channel_id` of the connection's org.
    pub async fn unwatch(&self, id: &ConnectionId, channel_id: i64) -> Result<(), CrmError> {
        let channel = Resource::Watch {
            channel_ids: vec![channel_id],
        };
        let (status, body) = self.send(id, Call::delete(&channel)).await?;
        if (200..300).contains(&status) {
            return Ok(());
        }
        Err(api_error(status, &body).into())
    }
}

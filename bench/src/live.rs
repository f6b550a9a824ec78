//! Change-to-browser latency with many pages open: `STREAMS` event streams of one org (as a
//! hundred browsers would hold them), and a record changed `CHANGES` times — through zportal
//! (a save of its form) and straight at Zoho's API (Zoho then notifies zportal). Each change's
//! latency is counted per stream, from just before the change was sent until that stream had
//! its event; the figures are the p50 and p99 over all of them.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use app::live_event::LiveEvent;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::report::Figures;
use crate::stack::{Browser, Stack};

pub const STREAMS: usize = 100;
const CHANGES: usize = 30;
/// A change that has not reached every stream by then is reported as lost.
const PATIENCE: Duration = Duration::from_secs(30);

/// One `change` event a stream received: the record ids it names, and when.
struct Receipt {
    ids: Vec<String>,
    at: Instant,
}

/// Opens `STREAMS` streams with `cookie`; each sends its change events to the returned channel.
async fn open_streams(server: &str, cookie: &str) -> Result<mpsc::UnboundedReceiver<Receipt>> {
    let (tx, rx) = mpsc::unbounded_channel();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    for _ in 0..STREAMS {
        let res = http
            .get(format!("{server}/api/live"))
            .header("cookie", cookie)
            .header("accept", "text/event-stream")
            .header("sec-fetch-site", "same-origin")
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("GET /api/live: HTTP {}", res.status());
        }
        let tx = tx.clone();
        tokio::spawn(read_stream(res, tx));
    }
    Ok(rx)
}

/// Reads one stream's events until it ends, passing on each `change`.
async fn read_stream(mut res: reqwest::Response, tx: mpsc::UnboundedSender<Receipt>) {
    let mut buffer = String::new();
    while let Ok(Some(chunk)) = res.chunk().await {
        let at = Instant::now();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if !block.lines().any(|l| l == "event: change") {
                continue;
            }
            // The event's line, read as a page reads it (the contract of `app::live_event`).
            let ids = match block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .and_then(LiveEvent::parse)
            {
                Some(LiveEvent::Change { ids, .. }) => ids,
                _ => Vec::new(),
            };
            if tx.send(Receipt { ids, at }).is_err() {
                return;
            }
        }
    }
}

/// Waits until `STREAMS` receipts name `id`; their latencies after `sent`, in ms (fewer if some
/// never came within [`PATIENCE`]).
async fn collect(rx: &mut mpsc::UnboundedReceiver<Receipt>, id: &str, sent: Instant) -> Vec<f64> {
    let mut got = Vec::with_capacity(STREAMS);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while got.len() < STREAMS {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(r)) if r.ids.iter().any(|i| i == id) => {
                got.push(r.at.duration_since(sent).as_secs_f64() * 1000.0)
            }
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    got
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn record(f: &mut Figures, name: &str, mut all: Vec<f64>, lost: usize) {
    all.sort_by(f64::total_cmp);
    f.set(format!("live.{name}.p50_ms"), percentile(&all, 50.0));
    f.set(format!("live.{name}.p99_ms"), percentile(&all, 99.0));
    f.set(format!("live.{name}.lost"), lost as f64);
}

/// Lead ids to change, from the list ada sees.
async fn leads(ada: &Browser, server: &str) -> Result<Vec<String>> {
    let url = format!("{server}/api/records/list?args[module]=Leads&args[per_page]=50");
    let page: Value = ada.http.get(url).send().await?.json().await?;
    let ids: Vec<String> = page["rows"]
        .as_array()
        .context("the list's rows")?
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    if ids.len() < CHANGES {
        bail!("too few Leads to change");
    }
    Ok(ids)
}

/// Opens Lead `id`'s form as a person does: its values and save token, with a new Phone.
async fn open_form(ada: &Browser, server: &str, id: &str, phone: &str) -> Result<Value> {
    let form: Value = ada
        .http
        .get(format!("{server}/api/records/form?module=Leads&id={id}"))
        .send()
        .await?
        .json()
        .await?;
    let mut values = form["values"].clone();
    values["Phone"] = json!({ "kind": "Text", "value": phone });
    Ok(json!({"module": "Leads", "id": id, "values": values,
        "save_token": form["save_token"], "base": form["values"]}))
}

/// Saves an opened form through zportal; it must be saved, not met with a conflict.
async fn save_through_zportal(ada: &Browser, server: &str, body: &Value) -> Result<()> {
    let res = ada
        .http
        .post(format!("{server}/api/records/save"))
        .header("sec-fetch-site", "same-origin")
        .json(body)
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("records/save: HTTP {}", res.status());
    }
    let out: Value = res.json().await?;
    if !out["Saved"].is_object() {
        bail!("records/save did not save: {out}");
    }
    Ok(())
}

/// The live rows of the report.
pub async fn latency(stack: &Stack, ada: &Browser, user: &str, f: &mut Figures) -> Result<()> {
    let server = &stack.server.base;
    let cookie = ada.cookie_header(server)?;
    let mut rx = open_streams(server, &cookie).await?;
    let ids = leads(ada, server).await?;
    // The org's watch channel is registered when its first stream opens: give it a moment.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let token = stack.stored_access_token(user).await?;
    let api = format!("{}/crm/v8/Leads", stack.api_domain("us").await?);
    let direct = reqwest::Client::new();
    let (mut through, mut zoho) = (Vec::new(), Vec::new());
    let (mut lost_through, mut lost_zoho) = (0, 0);
    for (k, id) in ids.iter().take(CHANGES).enumerate() {
        // The form is read before the clock starts: only the save counts.
        let form = open_form(ada, server, id, &format!("+1 555 7{k:03}")).await?;
        let sent = Instant::now();
        save_through_zportal(ada, server, &form).await?;
        let got = collect(&mut rx, id, sent).await;
        lost_through += STREAMS - got.len();
        through.extend(got);

        let sent = Instant::now();
        let res = direct
            .put(&api)
            .header("authorization", format!("Zoho-oauthtoken {token}"))
            .json(&json!({ "data": [{ "id": id, "Company": format!("Live {k}") }] }))
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("a direct update at Zoho: HTTP {}", res.status());
        }
        let got = collect(&mut rx, id, sent).await;
        lost_zoho += STREAMS - got.len();
        zoho.extend(got);
    }
    f.set("live.streams", STREAMS as f64);
    f.set("live.changes", CHANGES as f64);
    record(f, "zportal", through, lost_through);
    record(f, "zoho", zoho, lost_zoho);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_by_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 51.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}

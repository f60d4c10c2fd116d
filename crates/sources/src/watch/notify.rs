//! Where alerts go: Prometheus Alertmanager (`POST /api/v2/alerts`, as a Prometheus sends
//! them: re-sent while firing with an `endsAt` a few intervals ahead, resolved with `endsAt`
//! at the resolution) and plain JSON webhooks (one POST per state change).
//!
//! Sending happens in a task of its own ([`Notifier::spawn`]), so a slow or unreachable
//! receiver never holds up the evaluation. Requests go through the one HTTP request loop
//! ([`HttpClient::send`]: 429/502/503/504 retried by the [`RetryPolicy`]); a receiver that
//! cannot be reached is tried again at the next round after the policy's backoff, with what
//! it had to send kept (bounded), and every failure and recovery is reported, never fatal.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use logsleuth_core::model::Nanos;
use logsleuth_core::time::{format_duration, format_rfc3339, now_nanos};
use tokio::sync::mpsc;

use super::rule::number_text;
use super::{Event, State, Watch};
use crate::SourceError;
use crate::http::{HttpClient, HttpConfig, Refusal, RetryPolicy, status_error};

/// Alertmanager re-sends are this far apart at most (Prometheus' default resend delay).
pub const RESEND: Duration = Duration::from_secs(60);

/// Webhook events kept while the receiver is unreachable; older ones are dropped (and said).
pub const MAX_QUEUED: usize = 1000;

/// A rule's alert as of one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertState {
    /// The watch.
    pub watch: Watch,
    /// Firing (or just resolved: `false`).
    pub firing: bool,
    /// The value measured.
    pub value: Option<f64>,
    /// When it began firing.
    pub starts_at: Nanos,
    /// When it resolved (`firing == false`).
    pub ends_at: Option<Nanos>,
    /// The source's description (the `source` label).
    pub source: String,
    /// The `logsleuth` command that shows the lines.
    pub command: String,
}

impl AlertState {
    /// The state an event leaves a watch in.
    pub fn from_event(watch: &Watch, event: &Event, command: &str) -> AlertState {
        AlertState {
            watch: watch.clone(),
            firing: event.state == State::Firing,
            value: event.value,
            starts_at: event.since,
            ends_at: (event.state == State::Resolved).then_some(event.at),
            source: event.source.clone(),
            command: command.to_string(),
        }
    }

    /// Alertmanager's labels: the rule's labels, then `alertname`, `severity`, `source`.
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.watch.labels.clone();
        labels.insert("alertname".into(), self.watch.rule.name.clone());
        labels.insert("severity".into(), self.watch.severity.clone());
        labels.insert("source".into(), self.source.clone());
        labels
    }

    /// One line saying what fired.
    pub fn summary(&self) -> String {
        let r = &self.watch.rule;
        let what = match &r.measure {
            super::Measure::Count => "lines",
            super::Measure::Rate { .. } => "rate",
            super::Measure::Ratio { .. } => "ratio",
        };
        let value = self.value.map_or("-".to_string(), number_text);
        format!(
            "{}: {what} {value} {} {} over {} on {}",
            r.name,
            r.op.symbol(),
            r.threshold_text(),
            format_duration(r.window),
            self.source
        )
    }

    /// The Alertmanager `postableAlert`; `valid_until` is a firing alert's `endsAt` (so an
    /// alert whose watch stopped resolves by itself, as Prometheus does).
    pub fn alertmanager_json(&self, valid_until: Nanos) -> serde_json::Value {
        serde_json::json!({
            "labels": self.labels(),
            "annotations": {
                "summary": self.summary(),
                "kql": self.watch.rule.kql,
                "rule": self.watch.rule.text(),
                "command": self.command,
            },
            "startsAt": format_rfc3339(self.starts_at),
            "endsAt": format_rfc3339(self.ends_at.unwrap_or(valid_until)),
        })
    }
}

/// What a receiver is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkKind {
    /// Prometheus Alertmanager (base URL).
    Alertmanager,
    /// A URL that gets each state change as a JSON object.
    Webhook,
}

/// A receiver of alerts.
#[derive(Debug, Clone)]
pub struct Sink {
    kind: SinkKind,
    client: HttpClient,
    url: String,
}

impl Sink {
    /// Alertmanager at `base_url` (alerts go to `{base}/api/v2/alerts`).
    pub fn alertmanager(base_url: &str) -> Result<Sink, SourceError> {
        Sink::new(SinkKind::Alertmanager, base_url)
    }

    /// A webhook at `url`.
    pub fn webhook(url: &str) -> Result<Sink, SourceError> {
        Sink::new(SinkKind::Webhook, url)
    }

    fn new(kind: SinkKind, url: &str) -> Result<Sink, SourceError> {
        let mut http = HttpConfig::new(url)?;
        // A receiver that hangs must not delay the next alert long.
        http.timeout = Duration::from_secs(10);
        http.connect_timeout = Duration::from_secs(5);
        let url = match kind {
            SinkKind::Alertmanager => http.url("/api/v2/alerts"),
            SinkKind::Webhook => http.base_url.to_string(),
        };
        Ok(Sink { kind, client: HttpClient::new(http, RetryPolicy::default())?, url })
    }

    /// Replaces the retry policy (tests make it fast).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Sink {
        self.client = self.client.with_retry(retry);
        self
    }

    /// What to call it in reports (no credentials).
    pub fn name(&self) -> String {
        let what = match self.kind {
            SinkKind::Alertmanager => "alertmanager",
            SinkKind::Webhook => "webhook",
        };
        format!("{what} {}", self.client.config().display())
    }

    async fn post(&self, body: &serde_json::Value) -> Result<Vec<String>, SourceError> {
        let bytes = serde_json::to_vec(body).map_err(|e| SourceError::Decode(e.to_string()))?;
        let url = self.url.clone();
        let sent = self
            .client
            .send(
                |c| c.post(&url).header(reqwest::header::CONTENT_TYPE, "application/json").body(bytes.clone()),
                |status, body: &[u8]| {
                    let message = String::from_utf8_lossy(&body[..body.len().min(500)]).trim().to_string();
                    Refusal { error: status_error(status, message.clone()), message, detail: () }
                },
            )
            .await
            .map_err(|f| f.error)?;
        Ok(sent.notes)
    }
}

/// What the evaluation loop hands the notifier after a round.
#[derive(Debug, Clone, PartialEq)]
pub struct Round {
    /// Every alert firing now, and those resolved in this round.
    pub alerts: Vec<AlertState>,
    /// The state changes of this round (for webhooks).
    pub events: Vec<(Event, AlertState)>,
}

/// One receiver's delivery state.
struct Delivery {
    sink: Sink,
    /// Alertmanager: the alerts to send next, by rule name (the newest state wins).
    due: BTreeMap<String, AlertState>,
    /// Alertmanager: when each firing alert was last delivered.
    sent_at: BTreeMap<String, Instant>,
    /// Webhook: bodies to send, oldest first.
    queue: VecDeque<serde_json::Value>,
    failures: u32,
    retry_at: Option<Instant>,
}

/// The sending tasks' handle (one task per receiver, so a receiver that hangs delays no other).
/// Dropping it ends the tasks after they tried what they had.
pub struct Notifier {
    senders: Vec<mpsc::UnboundedSender<Round>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Notifier {
    /// Starts the sending tasks. `every` is the evaluation interval (a firing alert's
    /// `endsAt` is four of the longer of it and [`RESEND`] ahead, and it is re-sent every four
    /// evaluations, at most every [`RESEND`]); `report` gets every failure and recovery, as
    /// one line each.
    pub fn spawn(sinks: Vec<Sink>, every: Duration, report: impl Fn(String) + Send + Sync + 'static) -> Notifier {
        let report = std::sync::Arc::new(report);
        let resend = RESEND.min(every * 4);
        let valid_for = every.max(RESEND) * 4;
        let mut senders = Vec::new();
        let mut tasks = Vec::new();
        for sink in sinks {
            let (tx, mut rx) = mpsc::unbounded_channel::<Round>();
            let report = report.clone();
            let mut d = Delivery {
                sink,
                due: BTreeMap::new(),
                sent_at: BTreeMap::new(),
                queue: VecDeque::new(),
                failures: 0,
                retry_at: None,
            };
            tasks.push(tokio::spawn(async move {
                loop {
                    let open = match rx.recv().await {
                        Some(round) => {
                            d.take(&round, resend);
                            true
                        }
                        None => false,
                    };
                    // Coalesce what queued up while the last delivery was under way.
                    while let Ok(round) = rx.try_recv() {
                        d.take(&round, resend);
                    }
                    d.deliver(valid_for, !open, &*report).await;
                    if !open {
                        break;
                    }
                }
            }));
            senders.push(tx);
        }
        Notifier { senders, tasks }
    }

    /// Hands over a round; never blocks.
    pub fn send(&self, round: Round) {
        for tx in &self.senders {
            let _ = tx.send(round.clone());
        }
    }

    /// Sends what is due and ends the tasks, waiting at most `deadline` in all.
    pub async fn finish(mut self, deadline: Duration) {
        self.senders.clear();
        let all = futures_util::future::join_all(std::mem::take(&mut self.tasks));
        let _ = tokio::time::timeout(deadline, all).await;
    }
}

impl Delivery {
    fn pending(&self) -> bool {
        !self.due.is_empty() || !self.queue.is_empty()
    }

    fn take(&mut self, round: &Round, resend: Duration) {
        match self.sink.kind {
            SinkKind::Alertmanager => {
                for a in &round.alerts {
                    let name = a.watch.rule.name.clone();
                    let changed = !a.firing || !self.sent_at.contains_key(&name);
                    let stale = self.sent_at.get(&name).is_none_or(|t| t.elapsed() >= resend);
                    if changed || stale {
                        self.due.insert(name, a.clone());
                    }
                }
            }
            SinkKind::Webhook => {
                for (event, alert) in &round.events {
                    if self.queue.len() == MAX_QUEUED {
                        self.queue.pop_front();
                    }
                    let mut body = event.to_json();
                    body["severity"] = alert.watch.severity.clone().into();
                    body["labels"] = serde_json::json!(alert.labels());
                    body["summary"] = alert.summary().into();
                    body["kql"] = alert.watch.rule.kql.clone().into();
                    body["command"] = alert.command.clone().into();
                    self.queue.push_back(body);
                }
            }
        }
    }

    async fn deliver(&mut self, valid_for: Duration, last: bool, report: &(impl Fn(String) + ?Sized)) {
        if !self.pending() || (!last && self.retry_at.is_some_and(|t| Instant::now() < t)) {
            return;
        }
        let result = match self.sink.kind {
            SinkKind::Alertmanager => {
                let valid_until = now_nanos().saturating_add(valid_for.as_nanos() as i64);
                let body: Vec<serde_json::Value> = self.due.values().map(|a| a.alertmanager_json(valid_until)).collect();
                let r = self.sink.post(&serde_json::Value::Array(body)).await;
                if r.is_ok() {
                    for (name, a) in std::mem::take(&mut self.due) {
                        if a.firing {
                            self.sent_at.insert(name, Instant::now());
                        } else {
                            self.sent_at.remove(&name);
                        }
                    }
                }
                r
            }
            SinkKind::Webhook => {
                let mut r = Ok(Vec::new());
                while let Some(body) = self.queue.front() {
                    match self.sink.post(body).await {
                        Ok(notes) => {
                            self.queue.pop_front();
                            if let Ok(all) = &mut r {
                                all.extend(notes);
                            }
                        }
                        Err(e) => {
                            r = Err(e);
                            break;
                        }
                    }
                }
                r
            }
        };
        match result {
            Ok(notes) => {
                for n in notes {
                    report(format!("{}: {n}", self.sink.name()));
                }
                if self.failures > 0 {
                    report(format!("{}: delivered again after {} failed attempts", self.sink.name(), self.failures));
                }
                self.failures = 0;
                self.retry_at = None;
            }
            Err(e) => {
                let delay = self.sink.client.retry().delay(self.failures, None);
                self.failures += 1;
                self.retry_at = Some(Instant::now() + delay);
                let next = if last { "giving up at exit".to_string() } else { format!("retrying in {:.1}s", delay.as_secs_f64()) };
                report(format!("{}: {e}; {next}", self.sink.name()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::{Tracker, parse_rule};

    #[test]
    fn alertmanager_alert_has_the_labels_and_annotations_prometheus_would_send() {
        let mut watch = Watch::new(parse_rule("errors: status >= 500 > 10 per 1m").unwrap());
        watch.labels.insert("team".into(), "web".into());
        watch.severity = "critical".into();
        let mut t = Tracker::default();
        let e = t.observe(&watch.rule, Some(11.0), 1_000_000_000, "access.log").unwrap();
        let a = AlertState::from_event(&watch, &e, "logsleuth query access.log --kql 'status >= 500' --since 1m");
        let json = a.alertmanager_json(61_000_000_000);
        assert_eq!(
            json,
            serde_json::json!({
                "labels": {"alertname": "errors", "severity": "critical", "source": "access.log", "team": "web"},
                "annotations": {
                    "summary": "errors: lines 11 > 10 over 1m on access.log",
                    "kql": "status >= 500",
                    "rule": "errors: status >= 500 > 10 per 1m",
                    "command": "logsleuth query access.log --kql 'status >= 500' --since 1m",
                },
                "startsAt": "1970-01-01T00:00:01Z",
                "endsAt": "1970-01-01T00:01:01Z",
            })
        );
        let e = t.observe(&watch.rule, Some(0.0), 5_000_000_000, "access.log").unwrap();
        let a = AlertState::from_event(&watch, &e, "");
        assert_eq!(a.alertmanager_json(61_000_000_000)["endsAt"], "1970-01-01T00:00:05Z", "resolved: endsAt is the resolution");
        assert_eq!(a.alertmanager_json(0)["startsAt"], "1970-01-01T00:00:01Z");
    }
}

//! Watches: alert rules evaluated against a source. A rule ([`rule`]) is a KQL condition and a
//! threshold over a sliding window; [`measure`] asks the source itself for the counts (the hit
//! count of a search over `[now - window, now)`: Loki's `count_over_time` metric query,
//! Elasticsearch's `track_total_hits`, the local index, which the follower keeps growing),
//! and a [`Tracker`] turns the values into states (ok → pending → firing → resolved) with
//! hysteresis. [`notify`] sends the state changes to Alertmanager and webhooks. Pure apart
//! from [`measure`] and [`notify`]'s senders; nothing here prints.

pub mod loki_rules;
pub mod notify;
pub mod rule;

use std::collections::BTreeMap;

use logsleuth_core::model::{HitCount, Nanos, TimeRange};
use logsleuth_core::time::{format_duration, format_rfc3339};

pub use rule::{Measure, Op, Rule, RuleError, parse_condition, parse_rule};

use crate::{Query, SearchRequest, Source, SourceError, SourceResult};

/// A watch: a rule and what goes with its alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct Watch {
    /// The rule.
    pub rule: Rule,
    /// Alertmanager `severity` label (`warning` when not given).
    pub severity: String,
    /// Extra labels for Alertmanager.
    pub labels: BTreeMap<String, String>,
}

impl Watch {
    /// A watch with the default severity and no labels.
    pub fn new(rule: Rule) -> Watch {
        Watch { rule, severity: "warning".into(), labels: BTreeMap::new() }
    }
}

/// Where a rule stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The condition does not hold (or was never evaluated).
    Ok,
    /// The condition holds, for less than the rule's `for`.
    Pending,
    /// The condition has held for `for`: alerting.
    Firing,
    /// It fired, then stopped holding for `for`.
    Resolved,
}

impl State {
    /// The lowercase name used in events.
    pub fn name(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Pending => "pending",
            State::Firing => "firing",
            State::Resolved => "resolved",
        }
    }
}

/// A state change worth telling: firing or resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The rule's name.
    pub rule: String,
    /// `Firing` or `Resolved`.
    pub state: State,
    /// The measured value (count, rate or percentage); `None` when a ratio had no lines to
    /// be a ratio of.
    pub value: Option<f64>,
    /// The threshold.
    pub threshold: f64,
    /// The threshold as written (`10`, `100/s`, `5%`).
    pub threshold_text: String,
    /// The window.
    pub window: Nanos,
    /// When the change was seen.
    pub at: Nanos,
    /// The source's description.
    pub source: String,
    /// When it began firing (for a resolved event, when the alert it ends began).
    pub since: Nanos,
}

impl Event {
    /// The NDJSON form: `{"rule","state","value","threshold","window","at","source"}` (and
    /// `since`, when it began firing).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "rule": self.rule,
            "state": self.state.name(),
            "value": self.value.map(json_number),
            "threshold": json_number(self.threshold),
            "window": format_duration(self.window),
            "at": format_rfc3339(self.at),
            "source": self.source,
            "since": format_rfc3339(self.since),
        })
    }

    /// One line for people: `2026-12-02T05:00:00Z firing errors: 12 > 10 per 1m (access.log)`.
    pub fn to_text(&self) -> String {
        let value = self.value.map_or("-".to_string(), rule::number_text);
        format!(
            "{} {} {}: {value} (threshold {}, window {}) on {}",
            format_rfc3339(self.at),
            self.state.name(),
            self.rule,
            self.threshold_text,
            format_duration(self.window),
            self.source
        )
    }
}

/// Whole numbers as JSON integers, the rest as floats (rounded to 4 decimals for ratios and rates).
pub fn json_number(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Value::from((n * 10_000.0).round() / 10_000.0)
    }
}

/// One rule's state across evaluations, with hysteresis: the condition must hold for the
/// rule's `for` before firing, and stop holding for as long before resolving, so a count
/// that flaps around the threshold does not send an alert at every evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracker {
    /// The current state.
    pub state: State,
    /// Since when it is in this state.
    pub since: Nanos,
    /// The last value measured.
    pub value: Option<f64>,
    /// When the last firing began.
    fired_at: Nanos,
    /// While firing: since when the condition no longer holds.
    clearing_since: Option<Nanos>,
    /// The last values, oldest first, for a sparkline (at most [`HISTORY`]).
    pub history: Vec<Option<f64>>,
}

/// Values kept per rule for the sparkline.
pub const HISTORY: usize = 60;

impl Default for Tracker {
    fn default() -> Self {
        Tracker { state: State::Ok, since: 0, value: None, fired_at: 0, clearing_since: None, history: Vec::new() }
    }
}

impl Tracker {
    /// Takes the value measured at `at`; returns the event when the rule started firing or
    /// resolved.
    pub fn observe(&mut self, rule: &Rule, value: Option<f64>, at: Nanos, source: &str) -> Option<Event> {
        self.value = value;
        if self.history.len() == HISTORY {
            self.history.remove(0);
        }
        self.history.push(value);
        let holds = value.is_some_and(|v| rule.op.holds(v, rule.threshold));
        let next = match self.state {
            State::Ok | State::Resolved if holds => {
                if rule.hold == 0 {
                    State::Firing
                } else {
                    State::Pending
                }
            }
            State::Pending if !holds => State::Ok,
            State::Pending if at.saturating_sub(self.since) >= rule.hold => State::Firing,
            State::Firing if holds => {
                self.clearing_since = None;
                State::Firing
            }
            State::Firing => {
                let clearing = *self.clearing_since.get_or_insert(at);
                if at.saturating_sub(clearing) >= rule.hold { State::Resolved } else { State::Firing }
            }
            same => same,
        };
        if next == self.state {
            return None;
        }
        self.state = next;
        self.since = at;
        match next {
            State::Firing => {
                self.fired_at = at;
                self.clearing_since = None;
            }
            State::Resolved => self.clearing_since = None,
            _ => return None,
        }
        Some(Event {
            rule: rule.name.clone(),
            state: next,
            value,
            threshold: rule.threshold,
            threshold_text: rule.threshold_text(),
            window: rule.window,
            at,
            source: source.to_string(),
            since: self.fired_at,
        })
    }

    /// When the current (or last) firing began.
    pub fn fired_at(&self) -> Nanos {
        self.fired_at
    }
}

/// The number of lines matching `kql` in `range`, as the source counts them: the total of a
/// one-line search (every backend counts it server-side or from its index).
pub async fn count(source: &dyn Source, kql: &str, range: TimeRange) -> SourceResult<u64> {
    let page = source.search(SearchRequest { query: Query::kql(kql), range, limit: 1, cursor: None }).await?;
    match page.total {
        Some(HitCount::Exact(n)) | Some(HitCount::AtLeast(n)) => Ok(n),
        None => Err(SourceError::Unsupported(format!(
            "{} gave no count for '{kql}'{}",
            source.info().kind,
            page.warnings.first().map(|w| format!(": {w}")).unwrap_or_default()
        ))),
    }
}

/// The rule's value over `[now - window, now)`: a count, a rate per the threshold's unit, or
/// a percentage (`None` when the ratio's denominator counted no line).
pub async fn measure(source: &dyn Source, rule: &Rule, now: Nanos) -> SourceResult<Option<f64>> {
    let range = TimeRange::between(now.saturating_sub(rule.window), now);
    match &rule.measure {
        Measure::Count => Ok(Some(count(source, rule.query_kql(), range).await? as f64)),
        Measure::Rate { unit } => {
            let n = count(source, rule.query_kql(), range).await? as f64;
            Ok(Some(n * *unit as f64 / rule.window as f64))
        }
        Measure::Ratio { of } => {
            let of = match of.trim() {
                "*" => "",
                q => q,
            };
            let (n, d) = tokio::join!(count(source, rule.query_kql(), range), count(source, of, range));
            let (n, d) = (n?, d?);
            Ok((d > 0).then(|| 100.0 * n as f64 / d as f64))
        }
    }
}

/// The `logsleuth` command that shows the lines a rule counts, for alert annotations
/// (`source_args` is how the source is named on the command line, already quoted).
pub fn show_command(rule: &Rule, source_args: &str) -> String {
    let kql = rule.query_kql();
    let kql = if kql.is_empty() { String::new() } else { format!(" --kql {}", shell_quote(kql)) };
    format!("logsleuth query {source_args}{kql} --since {}", format_duration(rule.window))
}

/// Single-quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::time::NS_PER_SEC;

    const S: Nanos = NS_PER_SEC;

    #[test]
    fn fires_at_once_without_for_and_resolves_when_it_stops_holding() {
        let r = parse_rule("errors: status >= 500 > 10 per 1m").unwrap();
        let mut t = Tracker::default();
        assert_eq!(t.observe(&r, Some(10.0), S, "x"), None);
        assert_eq!(t.state, State::Ok);
        let e = t.observe(&r, Some(11.0), 2 * S, "x").expect("fires");
        assert_eq!((e.state, e.value, e.at), (State::Firing, Some(11.0), 2 * S));
        assert_eq!(t.observe(&r, Some(30.0), 3 * S, "x"), None, "no event while it keeps firing");
        let e = t.observe(&r, Some(3.0), 4 * S, "x").expect("resolves");
        assert_eq!((e.state, e.since), (State::Resolved, 2 * S));
        assert_eq!(
            e.to_json(),
            serde_json::json!({"rule":"errors","state":"resolved","value":3,"threshold":10,"window":"1m",
                "at":"1970-01-01T00:00:04Z","source":"x","since":"1970-01-01T00:00:02Z"})
        );
        // Fires again after a resolution.
        assert_eq!(t.observe(&r, Some(12.0), 5 * S, "x").map(|e| e.state), Some(State::Firing));
    }

    #[test]
    fn hysteresis_needs_the_condition_to_hold_for_the_for_duration() {
        let r = parse_rule("errors: status >= 500 > 10 per 1m for 30s").unwrap();
        let mut t = Tracker::default();
        // A flapping count never fires.
        for i in 0..10 {
            let v = if i % 2 == 0 { 20.0 } else { 1.0 };
            assert_eq!(t.observe(&r, Some(v), i * 15 * S, "x"), None, "evaluation {i}");
        }
        assert_ne!(t.state, State::Firing);
        let mut t = Tracker::default();
        assert_eq!(t.observe(&r, Some(20.0), 0, "x"), None);
        assert_eq!(t.state, State::Pending);
        assert_eq!(t.observe(&r, Some(20.0), 15 * S, "x"), None);
        assert_eq!(t.observe(&r, Some(20.0), 30 * S, "x").map(|e| e.state), Some(State::Firing));
        // A dip shorter than `for` does not resolve it.
        assert_eq!(t.observe(&r, Some(1.0), 45 * S, "x"), None);
        assert_eq!(t.observe(&r, Some(20.0), 60 * S, "x"), None);
        assert_eq!(t.observe(&r, Some(1.0), 75 * S, "x"), None);
        assert_eq!(t.state, State::Firing);
        assert_eq!(t.observe(&r, Some(1.0), 105 * S, "x").map(|e| (e.state, e.since)), Some((State::Resolved, 30 * S)));
    }

    #[test]
    fn absence_fires_on_silence_and_a_ratio_without_lines_does_not_fire() {
        let r = parse_rule("silent: * < 1 per 10m").unwrap();
        let mut t = Tracker::default();
        assert_eq!(t.observe(&r, Some(5.0), 0, "x"), None);
        assert_eq!(t.observe(&r, Some(0.0), S, "x").map(|e| e.state), Some(State::Firing));
        let r = parse_rule("ratio: status >= 500 < 5% of * per 5m").unwrap();
        let mut t = Tracker::default();
        assert_eq!(t.observe(&r, None, 0, "x"), None);
        assert_eq!(t.history, vec![None]);
    }

    #[test]
    fn show_command_quotes_for_the_shell() {
        let r = parse_rule("errors: status >= 500 > 10 per 1m").unwrap();
        assert_eq!(show_command(&r, "access.log"), "logsleuth query access.log --kql 'status >= 500' --since 1m");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}

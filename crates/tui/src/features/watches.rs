//! Watches in the TUI: alert rules (`logsleuth_sources::watch`) evaluated on a pane's source
//! every `every`, their states in the watches panel (`!`), the firing count on the status line,
//! and on a state change a mark with a note on the pane (`watch: NAME firing (…)`, which the
//! postmortem report recognises by its `watch: ` prefix), the bell and a desktop notification.
//!
//! Pure like every reducer: on a tick, [`due`] asks the runtime to measure the rules whose turn
//! it is ([`WatchEffect::Measure`]); the runtime answers [`WatchAction::Measured`], and the
//! rule's [`Tracker`] (the same hysteresis as `logsleuth watch`) decides the state.
//! "Watch this" (`W`) makes a rule from the focused pane's query in a prompt.

use logsleuth_core::model::Nanos;
use logsleuth_core::time::{NS_PER_SEC, format_duration};
use logsleuth_sources::QueryLanguage;
use logsleuth_sources::watch::{Event, Measure, Rule, State, Tracker, Watch, parse_rule, rule::number_text};

use crate::action::{Action, Effect, PaneId};
use crate::app::{App, Mode};
use crate::clipboard::Multiplexer;
use crate::investigate::{Mark, PromptKind, open_prompt};

/// How often a watch is evaluated when nothing else is said (as `logsleuth watch --every`).
pub const DEFAULT_EVERY: Nanos = 15 * NS_PER_SEC;

/// The threshold and window "watch this" proposes, to be edited.
pub const DEFAULT_CONDITION: &str = "> 10 per 1m";

/// The prefix of every note a watch writes on a mark (the report finds watch events by it).
pub const NOTE_PREFIX: &str = "watch: ";

/// Longest an evaluation may take before it counts as failed (a server that never answers
/// must not leave the watch waiting forever).
pub const MEASURE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// One watch of the session.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchEntry {
    /// Stable id (answers name it; the list's order changes as watches are deleted).
    pub id: u64,
    /// The rule and its labels.
    pub watch: Watch,
    /// The pane whose source it is evaluated on.
    pub pane: PaneId,
    /// State, value, history (the sparkline), since when.
    pub tracker: Tracker,
    /// When the last evaluation was asked for.
    pub asked: Option<Nanos>,
    /// An evaluation is running.
    pub in_flight: bool,
    /// When the last answer came.
    pub evaluated: Option<Nanos>,
    /// Why the last evaluation failed.
    pub error: Option<String>,
}

/// The session's watches.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchesState {
    /// The watches, in the order made.
    pub entries: Vec<WatchEntry>,
    /// How often each is evaluated.
    pub every: Nanos,
    /// Selected row of the panel.
    pub cursor: usize,
    /// The id the next watch gets.
    pub next_id: u64,
    /// The multiplexer notifications are wrapped for.
    pub multiplexer: Multiplexer,
    /// Ring the bell and notify on firing (off in tests that write no terminal).
    pub alerts: bool,
    /// Alertmanager base URLs the alerts also go to (`--alertmanager`).
    pub alertmanager: Vec<String>,
    /// Webhook URLs that get each state change (`--webhook`).
    pub webhook: Vec<String>,
    /// The delivery's last failure or recovery, shown in the panel.
    pub delivery_note: Option<String>,
}

impl Default for WatchesState {
    fn default() -> Self {
        WatchesState {
            entries: Vec::new(),
            every: DEFAULT_EVERY,
            cursor: 0,
            next_id: 0,
            multiplexer: Multiplexer::None,
            alerts: true,
            alertmanager: Vec::new(),
            webhook: Vec::new(),
            delivery_note: None,
        }
    }
}

impl WatchesState {
    /// Adds a watch on `pane`; returns its id.
    pub fn add(&mut self, watch: Watch, pane: PaneId) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.entries.push(WatchEntry {
            id,
            watch,
            pane,
            tracker: Tracker::default(),
            asked: None,
            in_flight: false,
            evaluated: None,
            error: None,
        });
        id
    }

    /// How many watches fire now.
    pub fn firing(&self) -> usize {
        self.entries.iter().filter(|e| e.tracker.state == State::Firing).count()
    }
}

/// The watches' actions (keys in `keymap.rs`, answers from the runtime).
#[derive(Debug, Clone, PartialEq)]
pub enum WatchAction {
    /// `W`: a prompt with a rule made of the focused pane's query.
    WatchThis,
    /// `!`: show / hide the watches panel.
    TogglePanel,
    /// Move the panel's selection.
    Move(isize),
    /// Delete the selected watch.
    Delete,
    /// The runtime measured a watch's rule.
    Measured {
        /// The watch.
        id: u64,
        /// The evaluation's "now" (the end of its window).
        at: Nanos,
        /// The value (`None`: a ratio of no lines), or why it could not be measured.
        result: Result<Option<f64>, String>,
    },
    /// A delivery to Alertmanager or a webhook failed or recovered (one line).
    DeliveryReport(String),
}

/// Work for the runtime (wrapped in [`Effect::Watch`]).
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEffect {
    /// Measure `rule` over `[now - window, now)` on the pane's source
    /// (`logsleuth_sources::watch::measure`) and answer [`WatchAction::Measured`].
    Measure {
        /// The watch.
        id: u64,
        /// Whose source.
        pane: PaneId,
        /// The rule.
        rule: Rule,
        /// The end of the window.
        now: Nanos,
    },
    /// Write the bell and the notification ([`crate::notify::alert_sequence`]) to the terminal.
    Alert {
        /// The bytes.
        sequence: String,
    },
    /// Hand an evaluation's alerts to the Alertmanager / webhook senders (`watch::notify`,
    /// started by the runtime on the first round; retried with backoff there, never blocking).
    Deliver {
        /// The alerts firing or resolved now, and the state changes.
        round: logsleuth_sources::watch::notify::Round,
        /// Alertmanager base URLs.
        alertmanager: Vec<String>,
        /// Webhook URLs.
        webhook: Vec<String>,
        /// The evaluation interval (how long a firing alert is valid, when it is re-sent).
        every: Nanos,
    },
}

/// The reducer of [`WatchAction`].
pub(crate) fn update(app: &mut App, action: WatchAction) -> Vec<Effect> {
    match action {
        WatchAction::WatchThis => watch_this(app),
        WatchAction::TogglePanel => {
            app.mode = if app.mode == Mode::Watches { Mode::Normal } else { Mode::Watches };
            let n = app.watches.entries.len();
            app.watches.cursor = app.watches.cursor.min(n.saturating_sub(1));
            vec![]
        }
        WatchAction::Move(d) => {
            let n = app.watches.entries.len();
            app.watches.cursor = app.watches.cursor.saturating_add_signed(d).min(n.saturating_sub(1));
            vec![]
        }
        WatchAction::Delete => {
            let i = app.watches.cursor;
            if i < app.watches.entries.len() {
                let gone = app.watches.entries.remove(i);
                app.message = Some(format!("watch {} deleted", gone.watch.rule.name));
                app.watches.cursor = i.min(app.watches.entries.len().saturating_sub(1));
            }
            vec![]
        }
        WatchAction::Measured { id, at, result } => measured(app, id, at, result),
        WatchAction::DeliveryReport(line) => {
            app.message = Some(line.clone());
            app.watches.delivery_note = Some(line);
            vec![]
        }
    }
}

/// The rule "watch this" proposes for the focused pane: its query, a default threshold.
pub fn proposed_rule(app: &App) -> String {
    let kql = app.pane().applied.text.trim();
    let kql = if kql.is_empty() { "*" } else { kql };
    let taken = |n: &str| app.watches.entries.iter().any(|e| e.watch.rule.name == n);
    let mut n = app.watches.entries.len() + 1;
    while taken(&format!("watch{n}")) {
        n += 1;
    }
    format!("watch{n}: {kql} {DEFAULT_CONDITION}")
}

fn watch_this(app: &mut App) -> Vec<Effect> {
    if app.pane().applied.language == QueryLanguage::Native {
        app.message = Some("a watch counts KQL: switch the query bar to KQL first (Ctrl-t)".into());
        return vec![];
    }
    let detail = Some(format!(
        "every {} on {}: NAME: KQL > N per DUR (or > N/s, > N% of KQL, < N; then 'for DUR')",
        format_duration(app.watches.every),
        app.pane().title()
    ));
    let rule = proposed_rule(app);
    open_prompt(app, PromptKind::WatchRule, "Watch this", &rule, detail);
    vec![]
}

/// Enter in the "watch this" prompt: the rule is added on the focused pane and evaluated at
/// once; a bad rule keeps the prompt open with the error and its position.
pub(crate) fn submit_rule(app: &mut App, text: &str) -> Vec<Effect> {
    let rule = match parse_rule(text) {
        Ok(rule) => rule,
        Err(e) => {
            if let Some(p) = app.prompt.as_mut() {
                p.error = Some(e.message);
            }
            return vec![];
        }
    };
    if app.watches.entries.iter().any(|e| e.watch.rule.name == rule.name) {
        if let Some(p) = app.prompt.as_mut() {
            p.error = Some(format!("a watch named {} exists: give another name", rule.name));
        }
        return vec![];
    }
    let mode = app.prompt.take().map_or(Mode::Normal, |p| p.return_mode);
    app.mode = mode;
    let pane = app.pane().id;
    app.message = Some(format!("watching {}: every {} (! lists the watches)", rule.name, format_duration(app.watches.every)));
    app.watches.add(Watch::new(rule), pane);
    due(app, app.now)
}

/// On a tick: the watches whose turn it is (never evaluated, or `every` since the last ask,
/// and no evaluation running) are measured at `now`.
pub fn due(app: &mut App, now: Nanos) -> Vec<Effect> {
    let every = app.watches.every.max(1);
    let mut effects = Vec::new();
    for e in &mut app.watches.entries {
        if e.in_flight || e.asked.is_some_and(|t| now.saturating_sub(t) < every) {
            continue;
        }
        e.asked = Some(now);
        e.in_flight = true;
        effects.push(Effect::Watch(WatchEffect::Measure { id: e.id, pane: e.pane, rule: e.watch.rule.clone(), now }));
    }
    effects
}

/// A value as the rule's threshold is written: `12`, `7.5%`, `120/s`.
pub fn value_text(rule: &Rule, value: Option<f64>) -> String {
    let Some(v) = value else { return "-".into() };
    let n = number_text((v * 100.0).round() / 100.0);
    match &rule.measure {
        Measure::Count => n,
        Measure::Rate { .. } => {
            let t = rule.threshold_text();
            format!("{n}{}", &t[t.find('/').unwrap_or(t.len())..])
        }
        Measure::Ratio { .. } => format!("{n}%"),
    }
}

/// The note of the mark a state change leaves: `watch: errors firing (12 > 3 per 1m)`,
/// `watch: errors resolved (0)`.
pub fn event_note(rule: &Rule, event: &Event) -> String {
    let value = value_text(rule, event.value);
    match event.state {
        State::Firing => format!(
            "{NOTE_PREFIX}{} firing ({value} {} {} per {})",
            rule.name,
            rule.op.symbol(),
            rule.threshold_text(),
            format_duration(rule.window)
        ),
        _ => format!("{NOTE_PREFIX}{} resolved ({value})", rule.name),
    }
}

fn measured(app: &mut App, id: u64, at: Nanos, result: Result<Option<f64>, String>) -> Vec<Effect> {
    let Some(i) = app.watches.entries.iter().position(|e| e.id == id) else { return vec![] };
    let pane = app.watches.entries[i].pane;
    let source = app.pane_index(pane).map(|p| app.panes[p].info.description.clone()).unwrap_or_default();
    let e = &mut app.watches.entries[i];
    e.in_flight = false;
    e.evaluated = Some(at);
    let value = match result {
        Ok(v) => {
            e.error = None;
            v
        }
        Err(err) => {
            // The state stays as it was: a failed count is no evidence either way.
            e.error = Some(err);
            return vec![];
        }
    };
    let event = e.tracker.observe(&e.watch.rule, value, at, &source);
    let mut effects: Vec<Effect> = delivery(&app.watches, i, event.as_ref(), &source).into_iter().collect();
    let Some(event) = event else { return effects };
    let rule = app.watches.entries[i].watch.rule.clone();
    let note = event_note(&rule, &event);
    app.marks.insert(
        app.marks.partition_point(|m| (m.time, m.end) <= (at, None)),
        Mark { pane, source, time: at, end: None, line: None, fields: Vec::new(), count: None, note: note.clone() },
    );
    app.message = Some(format!("{} (! the watches, M the marks)", note.trim_start_matches(NOTE_PREFIX)));
    if event.state == State::Firing && app.watches.alerts {
        let title = format!("logsleuth: {} firing", rule.name);
        let body = format!(
            "{} {} {} per {}",
            value_text(&rule, event.value),
            rule.op.symbol(),
            rule.threshold_text(),
            format_duration(rule.window)
        );
        let sequence = crate::notify::alert_sequence(&title, &body, app.watches.multiplexer);
        effects.push(Effect::Watch(WatchEffect::Alert { sequence }));
    }
    effects
}

/// The round for Alertmanager and webhooks after an evaluation of entry `i`, as
/// `logsleuth watch` sends it: the alert while it fires (re-sent, so it stays active), the
/// resolved alert with its `endsAt`, and the state change for webhooks.
fn delivery(w: &WatchesState, i: usize, event: Option<&Event>, source: &str) -> Option<Effect> {
    use logsleuth_sources::watch::notify::{AlertState, Round};
    if w.alertmanager.is_empty() && w.webhook.is_empty() {
        return None;
    }
    let e = &w.entries[i];
    let command = logsleuth_sources::watch::show_command(&e.watch.rule, &logsleuth_sources::watch::shell_quote(source));
    let mut round = Round { alerts: Vec::new(), events: Vec::new() };
    if let Some(event) = event {
        let alert = AlertState::from_event(&e.watch, event, &command);
        if event.state == State::Resolved {
            round.alerts.push(alert.clone());
        }
        round.events.push((event.clone(), alert));
    }
    if e.tracker.state == State::Firing {
        round.alerts.push(AlertState {
            watch: e.watch.clone(),
            firing: true,
            value: e.tracker.value,
            starts_at: e.tracker.fired_at(),
            ends_at: None,
            source: source.to_string(),
            command,
        });
    }
    if round.alerts.is_empty() && round.events.is_empty() {
        return None;
    }
    Some(Effect::Watch(WatchEffect::Deliver {
        round,
        alertmanager: w.alertmanager.clone(),
        webhook: w.webhook.clone(),
        every: w.every,
    }))
}

/// The action the runtime sends back for a measurement.
pub fn measured_action(id: u64, at: Nanos, result: Result<Option<f64>, String>) -> Action {
    Action::Watch(WatchAction::Measured { id, at, result })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> App {
        let info = logsleuth_sources::SourceInfo {
            kind: "local",
            description: "access.log".into(),
            roles: logsleuth_formats::LogFormat::AccessCombined.roles(),
            default_columns: vec!["status".into()],
            is_remote: false,
            warning: None,
        };
        App::new(info, Some("status >= 500".into()), None, crate::Theme::default(), crate::history::History::default(), 0)
    }

    const S: Nanos = NS_PER_SEC;

    fn measure_ids(effects: &[Effect]) -> Vec<u64> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Watch(WatchEffect::Measure { id, .. }) => Some(*id),
                _ => None,
            })
            .collect()
    }

    fn answer(app: &mut App, id: u64, at: Nanos, v: f64) -> Vec<Effect> {
        crate::update(app, measured_action(id, at, Ok(Some(v))))
    }

    #[test]
    fn watch_this_proposes_the_query_and_a_bad_rule_keeps_the_prompt_with_its_position() {
        let mut app = app();
        crate::update(&mut app, Action::Watch(WatchAction::WatchThis));
        assert_eq!(app.mode, Mode::Prompt);
        let p = app.prompt.as_ref().unwrap();
        assert_eq!((p.kind.clone(), p.editor.text.as_str()), (PromptKind::WatchRule, "watch1: status >= 500 > 10 per 1m"));
        app.prompt.as_mut().unwrap().editor.set("errors: status >= 500 > 3 per soon".to_string());
        assert!(crate::update(&mut app, Action::Submit).is_empty());
        let err = app.prompt.as_ref().unwrap().error.clone().unwrap();
        assert!(err.starts_with("watch rule error at column 31: not a duration"), "{err}");
        assert!(err.ends_with(&format!("{}^", "-".repeat(30))), "{err}");
        app.prompt.as_mut().unwrap().editor.set("errors: status >= 500 > 3 per 1m".to_string());
        let effects = crate::update(&mut app, Action::Submit);
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(measure_ids(&effects), vec![0], "evaluated at once");
        assert_eq!(app.watches.entries[0].watch.rule.text(), "errors: status >= 500 > 3 per 1m");
        assert_eq!(app.watches.entries[0].pane, app.pane().id);
    }

    #[test]
    fn evaluations_come_every_interval_one_at_a_time() {
        let mut app = app();
        app.watches.every = 10 * S;
        let id = app.watches.add(Watch::new(parse_rule("e: * > 1 per 1m").unwrap()), 0);
        assert_eq!(measure_ids(&due(&mut app, S)), vec![id]);
        assert!(due(&mut app, 20 * S).is_empty(), "one in flight at a time");
        answer(&mut app, id, S, 0.0);
        assert!(due(&mut app, 5 * S).is_empty(), "not yet its turn");
        assert_eq!(measure_ids(&crate::update(&mut app, Action::Tick(11 * S))), vec![id], "ticks ask");
    }

    #[test]
    fn firing_adds_a_mark_rings_and_counts_resolving_adds_another() {
        let mut app = app();
        let id = app.watches.add(Watch::new(parse_rule("errors: status >= 500 > 3 per 1m").unwrap()), 0);
        assert!(answer(&mut app, id, S, 2.0).is_empty());
        assert_eq!((app.watches.firing(), app.marks.len()), (0, 0));
        let effects = answer(&mut app, id, 2 * S, 5.0);
        assert_eq!(app.watches.firing(), 1);
        assert_eq!(app.marks.len(), 1);
        assert_eq!(app.marks[0].note, "watch: errors firing (5 > 3 per 1m)");
        assert_eq!((app.marks[0].time, app.marks[0].pane), (2 * S, 0));
        let Some(Effect::Watch(WatchEffect::Alert { sequence })) = effects.first() else { panic!("{effects:?}") };
        assert!(sequence.starts_with('\x07') && sequence.contains("\x1b]777;notify;logsleuth: errors firing;5 > 3 per 1m\x07"));
        assert!(answer(&mut app, id, 3 * S, 9.0).is_empty(), "no second alert while firing");
        assert_eq!(app.marks.len(), 1);
        assert!(answer(&mut app, id, 4 * S, 1.0).is_empty(), "resolving does not ring");
        assert_eq!(app.marks.last().unwrap().note, "watch: errors resolved (1)");
        assert_eq!(app.watches.entries[0].tracker.state, State::Resolved);
        assert_eq!(app.watches.entries[0].tracker.history, vec![Some(2.0), Some(5.0), Some(9.0), Some(1.0)]);
    }

    #[test]
    fn hysteresis_holds_through_the_tui_and_errors_keep_the_state() {
        let mut app = app();
        let id = app.watches.add(Watch::new(parse_rule("errors: status >= 500 > 3 per 1m for 30s").unwrap()), 0);
        answer(&mut app, id, 0, 5.0);
        assert_eq!(app.watches.entries[0].tracker.state, State::Pending);
        answer(&mut app, id, 15 * S, 1.0);
        assert_eq!(app.watches.entries[0].tracker.state, State::Ok, "a flap does not fire");
        answer(&mut app, id, 30 * S, 5.0);
        answer(&mut app, id, 45 * S, 5.0);
        assert!(app.marks.is_empty());
        answer(&mut app, id, 60 * S, 5.0);
        assert_eq!(app.watches.firing(), 1);
        crate::update(&mut app, measured_action(id, 75 * S, Err("connection refused".into())));
        assert_eq!(app.watches.entries[0].error.as_deref(), Some("connection refused"));
        assert_eq!(app.watches.firing(), 1, "a failed count changes nothing");
        assert_eq!(app.marks.len(), 1);
    }

    #[test]
    fn with_an_alertmanager_each_evaluation_while_firing_and_the_resolution_are_delivered() {
        let mut app = app();
        app.watches.alerts = false;
        app.watches.alertmanager = vec!["http://127.0.0.1:9093".into()];
        let id = app.watches.add(Watch::new(parse_rule("errors: status >= 500 > 3 per 1m").unwrap()), 0);
        assert!(answer(&mut app, id, S, 1.0).is_empty(), "nothing to send while ok");
        let rounds = |effects: Vec<Effect>| -> Vec<(Vec<bool>, usize)> {
            effects
                .into_iter()
                .filter_map(|e| match e {
                    Effect::Watch(WatchEffect::Deliver { round, .. }) => {
                        Some((round.alerts.iter().map(|a| a.firing).collect(), round.events.len()))
                    }
                    _ => None,
                })
                .collect()
        };
        assert_eq!(rounds(answer(&mut app, id, 2 * S, 5.0)), vec![(vec![true], 1)], "fired: the alert and the event");
        assert_eq!(rounds(answer(&mut app, id, 3 * S, 6.0)), vec![(vec![true], 0)], "re-sent while firing");
        let effects = answer(&mut app, id, 4 * S, 0.0);
        let Some(Effect::Watch(WatchEffect::Deliver { round, .. })) = effects.first() else { panic!("{effects:?}") };
        assert_eq!((round.alerts[0].firing, round.alerts[0].ends_at, round.alerts[0].starts_at), (false, Some(4 * S), 2 * S));
        assert_eq!(round.alerts[0].command, "logsleuth query access.log --kql 'status >= 500' --since 1m");
        crate::update(&mut app, Action::Watch(WatchAction::DeliveryReport("alertmanager: connection refused".into())));
        assert_eq!(app.watches.delivery_note.as_deref(), Some("alertmanager: connection refused"));
    }

    #[test]
    fn notes_use_the_rules_units() {
        let r = parse_rule("ratio: status >= 500 > 5% of * per 5m").unwrap();
        assert_eq!(value_text(&r, Some(7.456)), "7.46%");
        let r = parse_rule("flood: * > 100/s per 1m").unwrap();
        assert_eq!(value_text(&r, Some(120.0)), "120/s");
        let r = parse_rule("silent: * < 1 per 10m").unwrap();
        let mut t = Tracker::default();
        let e = t.observe(&r, Some(0.0), S, "x").unwrap();
        assert_eq!(event_note(&r, &e), "watch: silent firing (0 < 1 per 10m)");
    }
}

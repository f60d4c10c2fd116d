//! `logsleuth watch`: alert rules evaluated against a source every `--every`, one event per
//! state change on stdout, alerts to Alertmanager and webhooks (docs/watches.md). The rules
//! and their states are `sources::watch`'s; this is the command line around them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::CliError;
use super::args::SourceArgs;
use super::source::{open_source, open_spec};
use crate::sources::spec::SourceSpec;
use crate::sources::watch::notify::{AlertState, Notifier, Round, Sink};
use crate::sources::watch::{self, State, Tracker, Watch};
use crate::sources::{Query, Source, TailRequest};

/// Output formats of `watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum WatchOutput {
    /// One JSON object per state change.
    #[default]
    Ndjson,
    /// One line per state change, for people.
    Text,
}

/// `logsleuth watch`
#[derive(Debug, Args, Clone)]
pub struct WatchArgs {
    /// The source (the rules' source; `[[watches]]` with a `source` use theirs).
    #[command(flatten)]
    pub source: SourceArgs,
    /// A rule, `NAME: KQL > N per DUR` (repeatable; see docs/watches.md for rates, ratios,
    /// absence and `for`). Without any, the `[[watches]]` of the configuration file.
    #[arg(long = "rule", value_name = "RULE")]
    pub rules: Vec<String>,
    /// How often the rules are evaluated.
    #[arg(long, value_name = "DUR", default_value = "15s")]
    pub every: String,
    /// Evaluate once and exit: status 0 when nothing fires, 3 when something does.
    #[arg(long)]
    pub once: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = WatchOutput::Ndjson)]
    pub output: WatchOutput,
    /// Prometheus Alertmanager base URL to send alerts to (repeatable).
    #[arg(long, value_name = "URL")]
    pub alertmanager: Vec<String>,
    /// URL that gets each state change as a JSON POST (repeatable).
    #[arg(long, value_name = "URL")]
    pub webhook: Vec<String>,
    /// Alertmanager `severity` label of the `--rule` rules.
    #[arg(long, value_name = "LEVEL", default_value = "warning")]
    pub severity: String,
    /// Extra Alertmanager label of the `--rule` rules, `NAME=VALUE` (repeatable).
    #[arg(long = "label", value_name = "NAME=VALUE")]
    pub labels: Vec<String>,
    /// Print the rules as a Loki ruler rule group (YAML, LogQL metric expressions) and exit;
    /// Loki sources only.
    #[arg(long, conflicts_with_all = ["once", "alertmanager", "webhook"])]
    pub export_loki_rules: bool,
}

/// The watches on one source.
struct Group {
    source: Arc<dyn Source>,
    /// The source's description (the events' `source`, the `source` label).
    name: String,
    /// How the source is given on the command line, for the annotation's command.
    args_text: String,
    watches: Vec<(Watch, Tracker)>,
    /// The last evaluation error of each watch, reported once until it changes.
    errors: Vec<Option<String>>,
    /// Keeps the follower of local files running (the receiver is drained by a task).
    _follow: Option<tokio::task::JoinHandle<()>>,
}

/// Runs `logsleuth watch`.
pub fn run(args: WatchArgs) -> Result<(), CliError> {
    let every = crate::time::parse_duration(&args.every).map_err(|e| CliError::usage(format!("--every: {e}")))?;
    if every <= 0 {
        return Err(CliError::usage("--every must be longer than 0"));
    }
    let every = Duration::from_nanos(every as u64);
    let planned = plan(&args)?;
    if args.export_loki_rules {
        return export_loki_rules(&args, planned);
    }
    let mut sinks = Vec::new();
    for url in &args.alertmanager {
        sinks.push(Sink::alertmanager(url).map_err(|e| CliError::usage(format!("--alertmanager: {e}")))?);
    }
    for url in &args.webhook {
        sinks.push(Sink::webhook(url).map_err(|e| CliError::usage(format!("--webhook: {e}")))?);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::source(format!("cannot start the runtime: {e}")))?;
    let result = rt.block_on(async move {
        let mut groups = Vec::new();
        for (spec, args_text, watches) in planned {
            groups.push(open_group(spec, args_text, watches, &args).await?);
        }
        let notifier = Notifier::spawn(sinks, every, |line| eprintln!("logsleuth: {}", crate::text::sanitize(&line)));
        let result = evaluate(&mut groups, &notifier, every, &args).await;
        notifier.finish(Duration::from_secs(10)).await;
        result
    });
    // Threads following files or reading stdin may still block; do not wait for them.
    rt.shutdown_background();
    result
}

/// Which source each watch runs on: `(spec or None for the command line's source, its
/// command-line text, watches)`.
type Plan = Vec<(Option<SourceSpec>, String, Vec<Watch>)>;

fn plan(args: &WatchArgs) -> Result<Plan, CliError> {
    let config_path = args.source.config.as_deref();
    if !args.rules.is_empty() {
        let mut labels = BTreeMap::new();
        for l in &args.labels {
            let (k, v) = l.split_once('=').ok_or_else(|| CliError::usage(format!("--label '{l}' must be NAME=VALUE")))?;
            labels.insert(k.trim().to_string(), v.trim().to_string());
        }
        let mut watches = Vec::new();
        for text in &args.rules {
            let rule = watch::parse_rule(text).map_err(|e| CliError::usage(e.message))?;
            if watches.iter().any(|w: &Watch| w.rule.name == rule.name) {
                return Err(CliError::usage(format!("two rules are named '{}'", rule.name)));
            }
            let mut w = Watch::new(rule);
            w.severity = args.severity.clone();
            w.labels = labels.clone();
            watches.push(w);
        }
        return Ok(vec![(None, source_args_text(&args.source, config_path), watches)]);
    }
    let loaded = crate::config::open::load_for_cli(config_path)?;
    let configured = loaded.as_ref().map(|l| l.config.watches.clone()).unwrap_or_default();
    if configured.is_empty() {
        return Err(CliError::usage("no rules: give --rule 'NAME: KQL > N per DUR' or [[watches]] in the configuration file"));
    }
    let mut plan: Plan = Vec::new();
    for w in &configured {
        let watch = w.watch().map_err(|e| CliError::usage(format!("watch '{}' in the configuration: {e}", w.name)))?;
        let (spec, text) = match &w.source {
            Some(name) => (Some(SourceSpec::named(name.clone())), format!("--source {}", watch::shell_quote(name))),
            None => (None, source_args_text(&args.source, config_path)),
        };
        match plan.iter_mut().find(|(s, _, _)| *s == spec) {
            Some((_, _, list)) => list.push(watch),
            None => plan.push((spec, text, vec![watch])),
        }
    }
    Ok(plan)
}

/// The source as `logsleuth query` takes it (URLs without credentials, files absolute).
fn source_args_text(a: &SourceArgs, config: Option<&Path>) -> String {
    let url = |u: &str| watch::shell_quote(&crate::sources::http::redact_url_text(u));
    let mut parts: Vec<String> = Vec::new();
    if let Some(u) = &a.loki {
        parts.push(format!("--loki {}", url(u)));
        if let Some(s) = &a.selector {
            parts.push(format!("--selector {}", watch::shell_quote(s)));
        }
        if let Some(p) = &a.parser {
            parts.push(format!("--parser {}", watch::shell_quote(p)));
        }
        if let Some(t) = &a.tenant {
            parts.push(format!("--tenant {}", watch::shell_quote(t)));
        }
    } else if let Some(u) = &a.es {
        parts.push(format!("--es {}", url(u)));
        if let Some(i) = &a.index {
            parts.push(format!("--index {}", watch::shell_quote(i)));
        }
    } else if let Some(s) = &a.source {
        parts.push(format!("--source {}", watch::shell_quote(s)));
    } else {
        for f in &a.files {
            let f = std::path::absolute(f).unwrap_or_else(|_| f.clone());
            parts.push(watch::shell_quote(&f.to_string_lossy()));
        }
    }
    if let Some(c) = config {
        parts.push(format!("--config {}", watch::shell_quote(&c.to_string_lossy())));
    }
    parts.join(" ")
}

/// `--export-loki-rules`: the rule group the Loki ruler runs, on the log queries the Loki
/// source makes of each rule's KQL (its selector and parser stage, detected when not given).
fn export_loki_rules(args: &WatchArgs, planned: Plan) -> Result<(), CliError> {
    use crate::sources::watch::loki_rules;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::source(format!("cannot start the runtime: {e}")))?;
    let mut rules = Vec::new();
    for (spec, args_text, watches) in planned {
        let spec = match spec {
            Some(spec) => spec,
            None => match super::source::spec_from_args(&args.source)? {
                Some(spec) => spec,
                None => match crate::config::open::default_source(args.source.config.as_deref())? {
                    Some(name) => SourceSpec::named(name).apply(&super::source::overrides(&args.source)?),
                    None => return Err(CliError::usage("--export-loki-rules needs a Loki source: --loki URL --selector SEL")),
                },
            },
        };
        let spec = match spec {
            SourceSpec::Named { name, overrides } => crate::config::open::resolve_named(&name, &overrides, args.source.config.as_deref())?,
            other => other,
        };
        let SourceSpec::Loki(loki) = spec else {
            return Err(CliError::usage("--export-loki-rules needs a Loki source: the ruler runs on Loki"));
        };
        let source = crate::sources::loki::LokiSource::new(crate::sources::spec::loki_config(&loki)?)?;
        for w in watches {
            let now = crate::time::now_nanos();
            let range = crate::model::TimeRange::between(now.saturating_sub(w.rule.window), now);
            let (log, of) = rt.block_on(async {
                let log = source.log_query(&Query::kql(w.rule.query_kql()), range).await?;
                let of = match &w.rule.measure {
                    watch::Measure::Ratio { of } => {
                        let of = if of.trim() == "*" { "" } else { of.as_str() };
                        Some(source.log_query(&Query::kql(of), range).await?)
                    }
                    _ => None,
                };
                Ok::<_, crate::sources::SourceError>((log, of))
            })?;
            let expr = loki_rules::expression(&w, &log, of.as_deref());
            let command = watch::show_command(&w.rule, &args_text);
            rules.push((w, expr, command));
        }
    }
    print!("{}", loki_rules::rule_group("logsleuth", &rules));
    Ok(())
}

async fn open_group(spec: Option<SourceSpec>, args_text: String, watches: Vec<Watch>, args: &WatchArgs) -> Result<Group, CliError> {
    let source = match &spec {
        Some(spec) => open_spec(spec, args.source.config.as_deref())?,
        None => open_source(&args.source)?,
    };
    let info = source.info();
    let mut follow = None;
    if !info.is_remote {
        // Counts come from the index: everything there now first, then what the follower
        // appends (it runs while a tail is open; its lines are not needed here).
        while source.progress().is_some_and(|p| p.total > 0) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut rx = source.tail(TailRequest { query: Query::kql(""), since: None })?;
        follow = Some(tokio::spawn(async move { while rx.recv().await.is_some() {} }));
    }
    let n = watches.len();
    Ok(Group {
        source,
        name: info.description,
        args_text,
        watches: watches.into_iter().map(|w| (w, Tracker::default())).collect(),
        errors: vec![None; n],
        _follow: follow,
    })
}

async fn evaluate(groups: &mut [Group], notifier: &Notifier, every: Duration, args: &WatchArgs) -> Result<(), CliError> {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut out = std::io::stdout();
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
        let mut round = Round { alerts: Vec::new(), events: Vec::new() };
        let mut failed: Option<CliError> = None;
        for g in groups.iter_mut() {
            for (i, (w, tracker)) in g.watches.iter_mut().enumerate() {
                let now = crate::time::now_nanos();
                let value = match watch::measure(g.source.as_ref(), &w.rule, now).await {
                    Ok(v) => {
                        if g.errors[i].take().is_some() {
                            eprintln!("logsleuth: watch {}: evaluating again", w.rule.name);
                        }
                        v
                    }
                    Err(e) => {
                        // Reported once until it changes; the state stays as it was.
                        let text = e.to_string();
                        failed.get_or_insert_with(|| CliError::from(e.clone()));
                        if g.errors[i].as_deref() != Some(&text) {
                            eprintln!("logsleuth: watch {}: {}", w.rule.name, crate::text::sanitize(&text));
                            g.errors[i] = Some(text);
                        }
                        continue;
                    }
                };
                let command = watch::show_command(&w.rule, &g.args_text);
                if let Some(event) = tracker.observe(&w.rule, value, now, &g.name) {
                    let line = match args.output {
                        WatchOutput::Ndjson => crate::export::records::json_line(&event.to_json()),
                        WatchOutput::Text => crate::text::sanitize(&event.to_text()).into_owned(),
                    };
                    if writeln!(out, "{line}").and_then(|_| out.flush()).is_err() {
                        // The reader went away (`| head`): nothing more to say.
                        return Ok(());
                    }
                    let alert = AlertState::from_event(w, &event, &command);
                    if event.state == State::Resolved {
                        round.alerts.push(alert.clone());
                    }
                    round.events.push((event, alert));
                }
                if tracker.state == State::Firing {
                    round.alerts.push(AlertState {
                        watch: w.clone(),
                        firing: true,
                        value,
                        starts_at: tracker.fired_at(),
                        ends_at: None,
                        source: g.name.clone(),
                        command,
                    });
                }
            }
        }
        notifier.send(round);
        if args.once {
            let firing: Vec<&str> = groups
                .iter()
                .flat_map(|g| g.watches.iter())
                .filter(|(_, t)| t.state == State::Firing)
                .map(|(w, _)| w.rule.name.as_str())
                .collect();
            if !firing.is_empty() {
                return Err(CliError { code: 3, message: format!("firing: {}", firing.join(", ")) });
            }
            // A rule that could not be evaluated is not "nothing fires" (already reported).
            return match failed {
                Some(e) => Err(CliError { code: e.code, message: "a rule could not be evaluated".into() }),
                None => Ok(()),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(argv: &[&str]) -> WatchArgs {
        match <crate::cli::Cli as clap::Parser>::try_parse_from(argv).expect("valid command line").command {
            Some(crate::cli::args::Command::Watch(w)) => w,
            other => panic!("not watch: {other:?}"),
        }
    }

    #[test]
    fn rules_from_the_command_line_share_labels_and_bad_ones_are_usage_errors() {
        let a = parse(&[
            "logsleuth", "watch", "access.log", "--rule", "errors: status >= 500 > 10 per 1m", "--rule", "silent: * < 1 per 5m",
            "--label", "team=web", "--severity", "critical", "--every", "1s", "--once",
        ]);
        let planned = plan(&a).unwrap();
        assert_eq!(planned.len(), 1);
        let (spec, text, watches) = &planned[0];
        assert!(spec.is_none());
        assert!(text.ends_with("/access.log"), "{text}");
        assert_eq!(watches.len(), 2);
        assert_eq!((watches[0].severity.as_str(), watches[1].labels["team"].as_str()), ("critical", "web"));
        let a = parse(&["logsleuth", "watch", "access.log", "--rule", "errors: status >= 500 > 10 per soon"]);
        let e = plan(&a).unwrap_err();
        assert_eq!(e.code, 2);
        assert!(e.message.contains("column 32") && e.message.contains('^'), "{}", e.message);
        let a = parse(&["logsleuth", "watch", "--loki", "http://u:secret@127.0.0.1:3100", "--selector", "{job=\"nginx\"}", "--rule", "e: * > 1 per 1m"]);
        let text = &plan(&a).unwrap()[0].1;
        assert!(!text.contains("secret") && text.contains("--selector '{job=\"nginx\"}'"), "{text}");
    }
}

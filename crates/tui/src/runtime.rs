//! Executes effects: every source call runs in its own tokio task and answers the UI loop over
//! an mpsc channel with an [`Action`] tagged by pane and generation. `Esc` aborts a pane's
//! tasks; tails run until stopped or replaced.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::AbortHandle;

use super::action::{Action, Effect, OpenRequest, PaneId};
use logsleuth_sources::spec::SourceSpec;
use logsleuth_sources::{Source, TailEvent};

/// Opens sources for new panes from their description (the command line's code paths,
/// with the configuration file for named sources). Called off the UI loop: opening may read
/// files or start indexing.
pub trait SourceOpener: Send + Sync {
    /// Opens the source a spec describes; the error says why not, in words for the pane.
    fn open(&self, spec: &SourceSpec) -> Result<Arc<dyn Source>, String>;
}

type SourceMap = Arc<RwLock<HashMap<PaneId, Arc<dyn Source>>>>;

/// Runs effects for the UI loop.
pub struct Runtime {
    sources: SourceMap,
    opener: Option<Arc<dyn SourceOpener>>,
    tx: UnboundedSender<Action>,
    tasks: HashMap<PaneId, Vec<AbortHandle>>,
    tails: HashMap<PaneId, AbortHandle>,
    history_path: Option<PathBuf>,
    /// Where clipboard (OSC 52) sequences go: the terminal.
    terminal: Box<dyn std::io::Write + Send>,
    /// Work started and not yet answered (tails, which never end by themselves, are not
    /// counted): zero once every answer is on the channel. See [`Runtime::is_idle`].
    in_flight: Arc<AtomicUsize>,
    /// Followers kept running for watches on local sources (their counts come from the
    /// index, which grows only while a tail is open), by pane.
    watch_followers: HashMap<PaneId, AbortHandle>,
    /// The Alertmanager / webhook senders of the watches, started by the first delivery.
    watch_notifier: Option<logsleuth_sources::watch::notify::Notifier>,
    /// The pattern / comparison view's work, by pane: not among the pane's tasks, which a new
    /// query or `Esc` aborts (the view would wait for ever); a new request of the view replaces it.
    view_tasks: HashMap<PaneId, AbortHandle>,
    /// The source picker's running log-group listing (a newer prefix replaces it).
    group_listing: Option<AbortHandle>,
}

/// One unit of work in flight; counted until dropped (answered, or aborted).
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Runtime {
    /// A runtime for panes backed by `sources` (the first pane ids, 0, 1, …, in order),
    /// answering on `tx`.
    pub fn new(sources: Vec<Arc<dyn Source>>, tx: UnboundedSender<Action>, history_path: Option<PathBuf>) -> Self {
        let sources = Arc::new(RwLock::new(sources.into_iter().enumerate().collect()));
        Runtime {
            sources,
            opener: None,
            tx,
            tasks: HashMap::new(),
            tails: HashMap::new(),
            history_path,
            terminal: Box::new(std::io::stdout()),
            in_flight: Arc::new(AtomicUsize::new(0)),
            watch_followers: HashMap::new(),
            watch_notifier: None,
            view_tasks: HashMap::new(),
            group_listing: None,
        }
    }

    /// Whether every effect run so far has been answered: each answer is already on the
    /// channel (or the work was aborted, or answers nothing). Running tails do not count.
    /// Tests drive the runtime with it until nothing is left to do.
    pub fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    fn start_work(&self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.in_flight.clone())
    }

    /// Lets the runtime open sources for new panes.
    pub fn with_opener(mut self, opener: Arc<dyn SourceOpener>) -> Self {
        self.opener = Some(opener);
        self
    }

    /// Sends terminal output of effects (the OSC 52 clipboard) to `out` instead of stdout.
    pub fn with_terminal_output(mut self, out: Box<dyn std::io::Write + Send>) -> Self {
        self.terminal = out;
        self
    }

    /// The source of a pane.
    pub fn source(&self, pane: PaneId) -> Option<Arc<dyn Source>> {
        self.sources.read().unwrap_or_else(|e| e.into_inner()).get(&pane).cloned()
    }

    /// Every pane's source, by pane id.
    pub fn sources(&self) -> Vec<(PaneId, Arc<dyn Source>)> {
        self.sources.read().unwrap_or_else(|e| e.into_inner()).iter().map(|(k, v)| (*k, v.clone())).collect()
    }

    /// Sets (or with `None` removes) the source of a pane.
    pub fn set_source(&self, pane: PaneId, source: Option<Arc<dyn Source>>) {
        let mut map = self.sources.write().unwrap_or_else(|e| e.into_inner());
        match source {
            Some(s) => map.insert(pane, s),
            None => map.remove(&pane),
        };
    }

    fn spawn<F>(&mut self, pane: PaneId, fut: F)
    where
        F: std::future::Future<Output = Action> + Send + 'static,
    {
        let tx = self.tx.clone();
        let work = self.start_work();
        let handle = tokio::spawn(async move {
            let action = fut.await;
            // The loop may have ended; nothing to do then.
            let _ = tx.send(action);
            drop(work);
        });
        let list = self.tasks.entry(pane).or_default();
        list.retain(|h| !h.is_finished());
        list.push(handle.abort_handle());
    }

    /// Runs the pattern or comparison view's work for a pane, aborting the one it replaces.
    fn spawn_view<F>(&mut self, pane: PaneId, fut: F)
    where
        F: std::future::Future<Output = Action> + Send + 'static,
    {
        let (tx, work) = (self.tx.clone(), self.start_work());
        let handle = tokio::spawn(async move {
            let _ = tx.send(fut.await);
            drop(work);
        });
        if let Some(old) = self.view_tasks.insert(pane, handle.abort_handle()) {
            old.abort();
        }
    }

    /// Starts the work an effect asks for. Never blocks.
    pub fn run(&mut self, effect: Effect) {
        let pane = match &effect {
            Effect::Search { pane, .. }
            | Effect::Histogram { pane, .. }
            | Effect::Top { pane, .. }
            | Effect::Fields { pane, .. }
            | Effect::ResolveRange { pane, .. }
            | Effect::FieldValues { pane, .. }
            | Effect::Context { pane, .. }
            | Effect::Patterns { pane, .. }
            | Effect::Compare { pane, .. }
            | Effect::StartTail { pane, .. }
            | Effect::StopTail { pane }
            | Effect::Cancel { pane } => *pane,
            Effect::OpenSource { pane, request } => {
                self.open_source(*pane, request.clone());
                return;
            }
            Effect::ListLogGroups { endpoint, prefix } => {
                if let Some(old) = self.group_listing.take() {
                    old.abort();
                }
                let (endpoint, prefix, tx, work) = (endpoint.clone(), prefix.clone(), self.tx.clone(), self.start_work());
                let task = tokio::spawn(async move {
                    let asked = (!prefix.is_empty()).then_some(prefix.as_str());
                    let result = logsleuth_sources::cloudwatch::CloudWatchSource::list_groups(&endpoint, asked, crate::app::LOG_GROUPS_LISTED)
                        .await
                        .map(|groups| groups.into_iter().map(|g| g.name).collect())
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Action::LogGroupsListed { prefix, result });
                    drop(work);
                });
                self.group_listing = Some(task.abort_handle());
                return;
            }
            Effect::CloseSource { pane } => {
                self.set_source(*pane, None);
                if let Some(h) = self.watch_followers.remove(pane) {
                    h.abort();
                }
                if let Some(h) = self.view_tasks.remove(pane) {
                    h.abort();
                }
                return;
            }
            Effect::SaveWorkspace { name, file } => {
                let (name, file, tx, work) = (name.clone(), file.clone(), self.tx.clone(), self.start_work());
                tokio::task::spawn_blocking(move || {
                    let _ = tx.send(Action::WorkspaceSaved(crate::workspace::save(&name, &file)));
                    drop(work);
                });
                return;
            }
            Effect::SaveHistory(entries) => {
                if let Some(path) = self.history_path.clone() {
                    let entries = entries.clone();
                    let (tx, work) = (self.tx.clone(), self.start_work());
                    tokio::task::spawn_blocking(move || {
                        if let Err(e) = super::history::save(&path, &entries) {
                            let _ = tx.send(Action::HistorySaveFailed(e.to_string()));
                        }
                        drop(work);
                    });
                }
                return;
            }
            Effect::Watch(_) => {
                if let Effect::Watch(e) = effect {
                    self.run_watch(e);
                }
                return;
            }
            Effect::Investigate(_) => {
                // Taken by value (an export carries the records): not cloned.
                if let Effect::Investigate(e) = effect {
                    // A report's draft asks the panes' sources for its figures first.
                    let e = match e {
                        super::investigate::InvestigateEffect::Export {
                            path,
                            job: super::investigate::ExportJob::Report(mut report, ids),
                        } if report.draft.is_none() => {
                            let sources: Vec<Option<Arc<dyn Source>>> = ids.iter().map(|id| self.source(*id)).collect();
                            let (tx, work) = (self.tx.clone(), self.start_work());
                            tokio::spawn(async move {
                                report.draft = Some(crate::export::postmortem::gather(&report, &sources).await);
                                let job = super::investigate::ExportJob::Report(report, ids);
                                let effect = super::investigate::InvestigateEffect::Export { path, job };
                                let done = tokio::task::spawn_blocking(move || super::investigate::run_effect_now(effect, &mut std::io::sink())).await;
                                if let Ok(Some(action)) = done {
                                    let _ = tx.send(action);
                                }
                                drop(work);
                            });
                            return;
                        }
                        e => e,
                    };
                    // Its answers go through a channel of their own, forwarded until the work
                    // (inline or on a blocking thread) drops its sender: that ends it.
                    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                    super::investigate::run_effect(e, &tx, &mut self.terminal);
                    drop(tx);
                    let (out, work) = (self.tx.clone(), self.start_work());
                    tokio::spawn(async move {
                        while let Some(action) = rx.recv().await {
                            let _ = out.send(action);
                        }
                        drop(work);
                    });
                }
                return;
            }
        };
        let Some(source) = self.source(pane) else { return };
        match effect {
            Effect::Search { generation, append, request, .. } => {
                let tx = self.tx.clone();
                self.spawn(pane, async move {
                    let result = source.search(request).await;
                    let _ = tx.send(Action::SourceInfo { pane, info: source.info() });
                    Action::SearchDone { pane, generation, append, result }
                })
            }
            Effect::Histogram { generation, request, .. } => self.spawn(pane, async move {
                let result = source.histogram(request).await;
                Action::HistogramDone { pane, generation, result }
            }),
            Effect::Top { generation, request, distinct, .. } => self.spawn(pane, async move {
                let field = request.field.clone();
                let mut result = source.top(request.clone()).await;
                if distinct && let Ok(top) = result.as_mut() {
                    // A distinct count the server cannot give leaves the values as they are.
                    let _ = logsleuth_sources::add_distinct(source.as_ref(), request, top).await;
                }
                Action::TopDone { pane, generation, field, result }
            }),
            Effect::ResolveRange { generation, .. } => self.spawn(pane, async move {
                Action::RangeResolved { pane, generation, span: source.time_span().await }
            }),
            Effect::Fields { range, .. } => {
                let (tx, work) = (self.tx.clone(), self.start_work());
                // Not tied to a query generation: the field list survives query changes.
                tokio::spawn(async move {
                    let result = source.fields(range).await;
                    let _ = tx.send(Action::SourceInfo { pane, info: source.info() });
                    let _ = tx.send(Action::FieldsDone { pane, result });
                    drop(work);
                });
            }
            Effect::Context { record, lines, .. } => self.spawn(pane, async move {
                let result = source.context(*record, lines, lines).await;
                Action::ContextDone { pane, result }
            }),
            Effect::Patterns { id, request, .. } => self.spawn_view(pane, async move {
                let result = source.patterns(request).await;
                Action::Patterns(crate::features::patterns::PatternsAction::Done { pane, id, result })
            }),
            Effect::Compare { id, request, .. } => self.spawn_view(pane, async move {
                let result = logsleuth_sources::compare::compare(source.as_ref(), &request).await;
                Action::Comparison(crate::features::comparison::ComparisonAction::Done { pane, id, result })
            }),
            Effect::FieldValues { field, range, .. } => {
                let (tx, work) = (self.tx.clone(), self.start_work());
                tokio::spawn(async move {
                    let result = source.field_values(field.clone(), range, 100).await;
                    let _ = tx.send(Action::ValuesDone { pane, field, result });
                    drop(work);
                });
            }
            Effect::StartTail { generation, request, .. } => {
                if let Some(old) = self.tails.remove(&pane) {
                    old.abort();
                }
                match source.tail(request) {
                    Ok(mut rx) => {
                        let tx = self.tx.clone();
                        let handle = tokio::spawn(async move {
                            // What the source says of itself changes as lines come (the format
                            // of stdin is known after its first lines; a memory budget note).
                            let mut info = source.info();
                            let _ = tx.send(Action::SourceInfo { pane, info: info.clone() });
                            while let Some(event) = rx.recv().await {
                                let records = matches!(event, TailEvent::Records(_));
                                if tx.send(Action::Tail { pane, generation, event }).is_err() {
                                    break;
                                }
                                if records {
                                    let now = source.info();
                                    if now != info {
                                        info = now;
                                        let _ = tx.send(Action::SourceInfo { pane, info: info.clone() });
                                    }
                                }
                            }
                        });
                        self.tails.insert(pane, handle.abort_handle());
                    }
                    Err(e) => {
                        let _ = self.tx.send(Action::Tail {
                            pane,
                            generation,
                            event: logsleuth_sources::TailEvent::Failed(e),
                        });
                    }
                }
            }
            Effect::StopTail { .. } => {
                // Dropping the receiver (aborting its reader) ends the source's tail task.
                if let Some(old) = self.tails.remove(&pane) {
                    old.abort();
                }
            }
            Effect::Cancel { .. } => {
                for h in self.tasks.remove(&pane).unwrap_or_default() {
                    h.abort();
                }
            }
            Effect::SaveHistory(_)
            | Effect::Investigate(_)
            | Effect::Watch(_)
            | Effect::OpenSource { .. }
            | Effect::ListLogGroups { .. }
            | Effect::CloseSource { .. }
            | Effect::SaveWorkspace { .. } => {}
        }
    }

    /// Opens a new pane's source: the same object as another pane's, or through the opener
    /// on a blocking thread; answers [`Action::PaneOpened`] once the source is in place.
    fn open_source(&mut self, pane: PaneId, request: OpenRequest) {
        match request {
            OpenRequest::SameAs(other) => {
                let source = self.source(other);
                let info = source.as_ref().map(|s| s.info()).ok_or_else(|| "the other pane is gone".to_string());
                let progress = source.as_ref().and_then(|s| s.progress());
                self.set_source(pane, source);
                let _ = self.tx.send(Action::PaneOpened { pane, result: info, progress });
            }
            OpenRequest::Spec(spec) => {
                let Some(opener) = self.opener.clone() else {
                    let _ = self.tx.send(Action::PaneOpened { pane, result: Err("no source opener in this runtime".into()), progress: None });
                    return;
                };
                let (sources, tx, work) = (self.sources.clone(), self.tx.clone(), self.start_work());
                tokio::task::spawn_blocking(move || {
                    let mut progress = None;
                    let result = opener.open(&spec).map(|source| {
                        let info = source.info();
                        progress = source.progress();
                        sources.write().unwrap_or_else(|e| e.into_inner()).insert(pane, source);
                        info
                    });
                    let _ = tx.send(Action::PaneOpened { pane, result, progress });
                    drop(work);
                });
            }
        }
    }

    /// Stops everything (on quit).
    pub fn shutdown(&mut self) {
        for (_, list) in self.tasks.drain() {
            for h in list {
                h.abort();
            }
        }
        for (_, h) in self.tails.drain() {
            h.abort();
        }
        for (_, h) in self.watch_followers.drain() {
            h.abort();
        }
        for (_, h) in self.view_tasks.drain() {
            h.abort();
        }
    }

    /// A watch's work: measuring its rule on the pane's source (never blocking the loop, a
    /// failure or a time-out answered as the watch's error), or the alert on the terminal.
    fn run_watch(&mut self, effect: crate::features::watches::WatchEffect) {
        use crate::features::watches::{MEASURE_TIMEOUT, WatchEffect, measured_action};
        use std::io::Write as _;
        match effect {
            WatchEffect::Measure { id, pane, rule, now } => {
                let Some(source) = self.source(pane) else {
                    let _ = self.tx.send(measured_action(id, now, Err("its pane is closed".into())));
                    return;
                };
                if !source.info().is_remote && !self.watch_followers.get(&pane).is_some_and(|h| !h.is_finished()) {
                    // Lines appended to the files are counted once the follower indexed them.
                    let request = logsleuth_sources::TailRequest { query: logsleuth_sources::Query::kql(""), since: None };
                    if let Ok(mut rx) = source.tail(request) {
                        let handle = tokio::spawn(async move { while rx.recv().await.is_some() {} });
                        self.watch_followers.insert(pane, handle.abort_handle());
                    }
                }
                let (tx, work) = (self.tx.clone(), self.start_work());
                tokio::spawn(async move {
                    let result = match tokio::time::timeout(MEASURE_TIMEOUT, logsleuth_sources::watch::measure(source.as_ref(), &rule, now)).await {
                        Ok(r) => r.map_err(|e| logsleuth_core::text::sanitize(&e.to_string()).into_owned()),
                        Err(_) => Err(format!("no answer within {} s", MEASURE_TIMEOUT.as_secs())),
                    };
                    let _ = tx.send(measured_action(id, now, result));
                    drop(work);
                });
            }
            WatchEffect::Deliver { round, alertmanager, webhook, every } => {
                use logsleuth_sources::watch::notify::{Notifier, Sink};
                if self.watch_notifier.is_none() {
                    let mut sinks = Vec::new();
                    let tx = self.tx.clone();
                    let urls = alertmanager.iter().map(|u| (u, true)).chain(webhook.iter().map(|u| (u, false)));
                    for (url, am) in urls {
                        match if am { Sink::alertmanager(url) } else { Sink::webhook(url) } {
                            Ok(s) => sinks.push(s),
                            Err(e) => {
                                let _ = tx.send(Action::Watch(crate::features::watches::WatchAction::DeliveryReport(format!("{url}: {e}"))));
                            }
                        }
                    }
                    let every = std::time::Duration::from_nanos(every.max(1) as u64);
                    // Failures and recoveries go to the panel, never stop the watch or the UI.
                    let report = move |line: String| {
                        let line = logsleuth_core::text::sanitize(&line).into_owned();
                        let _ = tx.send(Action::Watch(crate::features::watches::WatchAction::DeliveryReport(line)));
                    };
                    self.watch_notifier = Some(Notifier::spawn(sinks, every, report));
                }
                if let Some(n) = &self.watch_notifier {
                    n.send(round);
                }
            }
            WatchEffect::Alert { sequence } => {
                // A terminal that cannot be written to loses the bell, not the watch.
                let _ = self.terminal.write_all(sequence.as_bytes()).and_then(|_| self.terminal.flush());
            }
        }
    }
}

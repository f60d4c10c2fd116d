//! An in-memory [`Source`] test double for UI tests, snapshots and screenshots: a `Vec<Record>`
//! answering searches, aggregations, field questions and a tail fed by the test.
//! Filtering uses the real KQL engine ([`logsleuth_kql`]) in memory.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use logsleuth_core::model::{Fields, HistogramBucket, HistogramResult, Nanos, Record, RecordId, TimeRange, TopBucket, TopResult, Value};
use logsleuth_sources::{
    Cursor, FieldInfo, FieldKind, FieldOrigin, FieldRoles, HistogramRequest, HitCount, Query, QueryLanguage, SearchPage, SearchRequest,
    Source, SourceError, SourceInfo, SourceResult, Split, TailEvent, TailRequest, TopRequest, choose_interval,
};

/// Parses one nginx/apache combined access-log line into a record with the fields `client`,
/// `user`, `method`, `path`, `protocol`, `status`, `bytes`, `referrer`, `agent`.
pub fn access_record(line: &str, line_no: u64) -> Option<Record> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r#"^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) (\S+) ([^"]*)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)""#)
            .expect("static regex")
    });
    let c = re.captures(line)?;
    let ts = chrono::DateTime::parse_from_str(&c[3], "%d/%b/%Y:%H:%M:%S %z").ok()?.timestamp_nanos_opt()?;
    let mut f = Fields::new();
    f.push("client", Value::Str(c[1].into()));
    f.push("user", Value::Str(c[2].into()));
    f.push("method", Value::Str(c[4].into()));
    f.push("path", Value::Str(c[5].into()));
    f.push("protocol", Value::Str(c[6].into()));
    f.push("status", Value::Int(c[7].parse().ok()?));
    f.push("bytes", c[8].parse().map(Value::Int).unwrap_or(Value::Null));
    f.push("referrer", Value::Str(c[9].into()));
    f.push("agent", Value::Str(c[10].into()));
    Some(Record { timestamp: Some(ts), message: line.to_string(), fields: f, id: RecordId::Line { file: 0, line: line_no }, ..Record::default() })
}

/// The source info of an access log.
pub fn access_info(description: &str) -> SourceInfo {
    SourceInfo {
        kind: "local",
        description: description.to_string(),
        roles: FieldRoles {
            status: Some("status".into()),
            client_ip: Some("client".into()),
            user_agent: Some("agent".into()),
            level: None,
            method: Some("method".into()),
            path: Some("path".into()),
        },
        default_columns: ["status", "method", "path", "client", "agent"].map(String::from).to_vec(),
        is_remote: false,
        warning: None,
    }
}

/// An in-memory source.
pub struct MemorySource {
    info: SourceInfo,
    /// Records, newest first.
    records: Vec<Record>,
    delay: Option<Duration>,
    tails: Mutex<Vec<mpsc::Sender<TailEvent>>>,
    requests: Mutex<Vec<String>>,
}

impl MemorySource {
    /// A source holding `records` (any order) described by `info`.
    pub fn new(info: SourceInfo, mut records: Vec<Record>) -> Self {
        records.sort_by_key(|r| std::cmp::Reverse(r.timestamp));
        MemorySource { info, records, delay: None, tails: Mutex::new(Vec::new()), requests: Mutex::new(Vec::new()) }
    }

    /// A source from access-log text (unparsable lines are skipped).
    pub fn from_access_log(description: &str, text: &str) -> Self {
        let records = text.lines().enumerate().filter_map(|(i, l)| access_record(l, i as u64)).collect();
        MemorySource::new(access_info(description), records)
    }

    /// Makes every search and aggregation take `delay` (to test spinners and cancelling).
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Sends tail events to every running tail; returns how many tails got them.
    pub fn push_tail(&self, event: TailEvent) -> usize {
        let mut tails = self.tails.lock().unwrap_or_else(|e| e.into_inner());
        tails.retain(|t| t.try_send(event.clone()).is_ok());
        tails.len()
    }

    /// The requests received so far, as short descriptions (`search q=… cursor=…`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The newest record time.
    pub fn newest(&self) -> Option<Nanos> {
        self.records.first().and_then(|r| r.timestamp)
    }

    fn log(&self, what: String) {
        if let Ok(mut r) = self.requests.lock() {
            r.push(what);
        }
    }

    async fn pause(&self) {
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
    }

    fn matching(&self, query: &Query, range: TimeRange) -> SourceResult<Vec<&Record>> {
        let filter = Filter::new(query)?;
        Ok(self
            .records
            .iter()
            .filter(|r| r.timestamp.is_none_or(|t| range.contains(t)))
            .filter(|r| filter.matches(r))
            .collect())
    }
}

/// A compiled filter: KQL, or (native, as the local source does) a regular expression over
/// the raw line. `All` matches everything.
enum Filter {
    All,
    Kql(logsleuth_kql::Matcher),
    Regex(regex::Regex),
}

impl Filter {
    fn new(query: &Query) -> SourceResult<Filter> {
        let text = query.text.trim();
        if text.is_empty() {
            return Ok(Filter::All);
        }
        if query.language == QueryLanguage::Native {
            let re = regex::Regex::new(text).map_err(|e| SourceError::Query(e.to_string()))?;
            return Ok(Filter::Regex(re));
        }
        let ast = logsleuth_kql::parse(text).map_err(|e| SourceError::Query(e.message))?;
        let m = logsleuth_kql::Matcher::new(&ast, &logsleuth_kql::EvalOptions::default()).map_err(|e| SourceError::Query(e.message))?;
        Ok(Filter::Kql(m))
    }

    fn matches(&self, r: &Record) -> bool {
        match self {
            Filter::All => true,
            Filter::Kql(m) => m.matches(r),
            Filter::Regex(re) => re.is_match(&r.message),
        }
    }
}

fn split_key(r: &Record, split: &Split, roles: &FieldRoles) -> Option<String> {
    match split {
        Split::None => None,
        Split::StatusClass => roles
            .status
            .as_deref()
            .and_then(|f| r.get(f))
            .and_then(|v| crate::theme::status_class(&v.as_text())),
        Split::Level => roles.level.as_deref().and_then(|f| r.get(f)).map(|v| v.as_text().to_lowercase()),
        Split::Field(f) => r.get(f).map(|v| v.as_text()),
    }
}

#[async_trait]
impl Source for MemorySource {
    fn info(&self) -> SourceInfo {
        self.info.clone()
    }

    async fn context(&self, record: Record, before: usize, after: usize) -> SourceResult<Vec<Record>> {
        self.log("context".to_string());
        // Records are newest first: "before" (older) records follow the anchor in the list.
        let at = self
            .records
            .iter()
            .position(|r| r.id == record.id && r.timestamp == record.timestamp && r.message == record.message)
            .ok_or_else(|| SourceError::Unsupported("record not found".into()))?;
        let newest = at.saturating_sub(after);
        let oldest = (at + before).min(self.records.len().saturating_sub(1));
        Ok(self.records[newest..=oldest].iter().rev().cloned().collect())
    }

    async fn time_span(&self) -> Option<TimeRange> {
        let newest = self.records.first()?.timestamp?;
        let oldest = self.records.last()?.timestamp?;
        Some(TimeRange::between(oldest, newest + 1))
    }

    async fn search(&self, request: SearchRequest) -> SourceResult<SearchPage> {
        self.log(format!("search q={} cursor={:?}", request.query.text, request.cursor.as_ref().map(|c| &c.0)));
        self.pause().await;
        let all = self.matching(&request.query, request.range)?;
        let start: usize = request.cursor.as_ref().and_then(|c| c.0.parse().ok()).unwrap_or(0);
        let end = (start + request.limit).min(all.len());
        let records = all.get(start..end).unwrap_or_default().iter().map(|r| (*r).clone()).collect();
        Ok(SearchPage {
            records,
            total: Some(HitCount::Exact(all.len() as u64)),
            next: (end < all.len()).then(|| Cursor(end.to_string())),
            warnings: Vec::new(),
        })
    }

    async fn top(&self, request: TopRequest) -> SourceResult<TopResult> {
        self.log(format!("top {} q={}", request.field, request.query.text));
        self.pause().await;
        let all = self.matching(&request.query, request.range)?;
        let mut counts: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        for r in &all {
            if let Some(v) = r.get(&request.field) {
                *counts.entry(v.as_text()).or_default() += 1;
            }
        }
        let with_field: u64 = counts.values().sum();
        let mut buckets: Vec<TopBucket> = counts.into_iter().map(|(value, count)| TopBucket { value, count }).collect();
        buckets.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        buckets.truncate(request.size);
        let shown: u64 = buckets.iter().map(|b| b.count).sum();
        Ok(TopResult {
            field: request.field,
            total: all.len() as u64,
            other: with_field - shown,
            buckets,
            error_bound: None,
            partial: false,
            note: None,
        })
    }

    async fn histogram(&self, request: HistogramRequest) -> SourceResult<HistogramResult> {
        self.log(format!("histogram q={} split={:?}", request.query.text, request.split));
        self.pause().await;
        let all = self.matching(&request.query, request.range)?;
        let span = match (request.range.from, request.range.to) {
            (Some(f), Some(t)) => TimeRange::between(f, t),
            _ => self.time_span().await.unwrap_or(TimeRange::between(0, 1)),
        };
        let (from, to) = (span.from.unwrap_or(0), span.to.unwrap_or(1));
        let interval = request.interval.unwrap_or_else(|| choose_interval(to - from, request.target_buckets));
        let first = from.div_euclid(interval) * interval;
        let n = ((to - first + interval - 1) / interval).max(1) as usize;
        let mut buckets: Vec<HistogramBucket> = (0..n)
            .map(|i| HistogramBucket { start: first + i as i64 * interval, count: 0, split: Default::default() })
            .collect();
        for r in all {
            let Some(ts) = r.timestamp else { continue };
            let i = ((ts - first) / interval) as usize;
            if let Some(b) = buckets.get_mut(i) {
                b.count += 1;
                if let Some(k) = split_key(r, &request.split, &self.info.roles) {
                    *b.split.entry(k).or_default() += 1;
                }
            }
        }
        let split_by = match &request.split {
            Split::None => None,
            Split::StatusClass => Some("status_class".into()),
            Split::Level => Some("level".into()),
            Split::Field(f) => Some(f.clone()),
        };
        Ok(HistogramResult { interval, split_by, buckets, partial: false, note: None })
    }

    async fn fields(&self, _range: TimeRange) -> SourceResult<Vec<FieldInfo>> {
        let mut out: Vec<FieldInfo> = Vec::new();
        for r in self.records.iter().take(1000) {
            for (name, v) in r.fields.flatten() {
                if out.iter().any(|f| f.name == name) {
                    continue;
                }
                let kind = match v {
                    Value::Int(_) | Value::Float(_) => FieldKind::Number,
                    _ => FieldKind::Keyword,
                };
                out.push(FieldInfo { name, kind, aggregatable: true, origin: FieldOrigin::Field });
            }
        }
        Ok(out)
    }

    async fn field_values(&self, field: String, range: TimeRange, limit: usize) -> SourceResult<Vec<String>> {
        let top = self.top(TopRequest { query: Query::default(), range, field, size: limit }).await?;
        Ok(top.buckets.into_iter().map(|b| b.value).collect())
    }

    fn tail(&self, request: TailRequest) -> SourceResult<mpsc::Receiver<TailEvent>> {
        self.log(format!("tail q={}", request.query.text));
        let (tx, rx) = mpsc::channel(1024);
        self.tails.lock().unwrap_or_else(|e| e.into_inner()).push(tx);
        Ok(rx)
    }
}

/// Runs effects to completion against `source` inline (no tasks, no timing), feeding each
/// answer back into the reducer until nothing is left: deterministic state for snapshots.
/// Every pane is answered by `source` (a new pane opens it again). Tails, cancels and history
/// saves are skipped; the incident workflow's files are written.
pub async fn settle(app: &mut crate::App, source: &dyn Source, effects: Vec<crate::Effect>) {
    let mut queue: std::collections::VecDeque<crate::Effect> = effects.into();
    while let Some(effect) = queue.pop_front() {
        if let Some(action) = answer(source, effect).await {
            queue.extend(crate::update(app, action));
        }
    }
}

/// The answer `source` gives to one effect, as the runtime would deliver it (`None` for
/// effects with no answer: tails, cancels, saves).
async fn answer(source: &dyn Source, effect: crate::Effect) -> Option<crate::Action> {
    use crate::{Action, Effect};
    Some(match effect {
        Effect::Search { pane, generation, append, request } => {
            Action::SearchDone { pane, generation, append, result: source.search(request).await }
        }
        Effect::Histogram { pane, generation, request } => {
            Action::HistogramDone { pane, generation, result: source.histogram(request).await }
        }
        Effect::Top { pane, generation, request } => {
            let field = request.field.clone();
            Action::TopDone { pane, generation, field, result: source.top(request).await }
        }
        Effect::Fields { pane, range } => Action::FieldsDone { pane, result: source.fields(range).await },
        Effect::FieldValues { pane, field, range } => {
            let result = source.field_values(field.clone(), range, 100).await;
            Action::ValuesDone { pane, field, result }
        }
        Effect::Context { pane, record, lines } => Action::ContextDone { pane, result: source.context(*record, lines, lines).await },
        Effect::OpenSource { pane, .. } => Action::PaneOpened { pane, result: Ok(source.info()), progress: source.progress() },
        // Files are written for real (tests give temporary paths); the clipboard goes nowhere.
        Effect::Investigate(e) => return crate::investigate::run_effect_now(e, &mut std::io::sink()),
        Effect::StartTail { .. }
        | Effect::StopTail { .. }
        | Effect::Cancel { .. }
        | Effect::SaveHistory(_)
        | Effect::CloseSource { .. }
        | Effect::SaveWorkspace { .. } => return None,
    })
}

/// Like [`settle`] for several panes on different sources: `sources` maps pane ids to their
/// sources; a new pane's source comes from the same pane (`SameAs`) or from `opener`.
pub async fn settle_panes(
    app: &mut crate::App,
    sources: &mut std::collections::HashMap<crate::action::PaneId, Arc<dyn Source>>,
    opener: Option<&dyn crate::runtime::SourceOpener>,
    effects: Vec<crate::Effect>,
) {
    use crate::action::OpenRequest;
    use crate::{Action, Effect, update};
    let mut queue: std::collections::VecDeque<Effect> = effects.into();
    while let Some(effect) = queue.pop_front() {
        let pane = match &effect {
            Effect::Search { pane, .. }
            | Effect::Histogram { pane, .. }
            | Effect::Top { pane, .. }
            | Effect::Fields { pane, .. }
            | Effect::FieldValues { pane, .. }
            | Effect::Context { pane, .. } => *pane,
            Effect::OpenSource { pane, request } => {
                let opened = match request {
                    OpenRequest::SameAs(other) => sources.get(other).cloned().ok_or_else(|| "no such pane".to_string()),
                    OpenRequest::Spec(spec) => match opener {
                        Some(o) => o.open(spec),
                        None => Err("no opener".to_string()),
                    },
                };
                let mut progress = None;
                let result = opened.map(|s| {
                    let info = s.info();
                    progress = s.progress();
                    sources.insert(*pane, s);
                    info
                });
                queue.extend(update(app, Action::PaneOpened { pane: *pane, result, progress }));
                continue;
            }
            Effect::CloseSource { pane } => {
                sources.remove(pane);
                continue;
            }
            _ => continue,
        };
        let Some(source) = sources.get(&pane).cloned() else { continue };
        if let Some(action) = answer(&*source, effect).await {
            queue.extend(update(app, action));
        }
    }
}

/// Maps a key (as typed in the app's current mode) and applies it; returns the effects.
pub fn press(app: &mut crate::App, code: crossterm::event::KeyCode) -> Vec<crate::Effect> {
    press_with(app, code, crossterm::event::KeyModifiers::NONE)
}

/// Like [`press`] with modifiers.
pub fn press_with(
    app: &mut crate::App,
    code: crossterm::event::KeyCode,
    modifiers: crossterm::event::KeyModifiers,
) -> Vec<crate::Effect> {
    let key = crossterm::event::KeyEvent::new(code, modifiers);
    match crate::keys::map_key(app, &key) {
        Some(action) => crate::update(app, action),
        None => Vec::new(),
    }
}

/// Types text key by key.
pub fn type_text(app: &mut crate::App, text: &str) -> Vec<crate::Effect> {
    text.chars().flat_map(|c| press(app, crossterm::event::KeyCode::Char(c))).collect()
}

/// Renders the app into a buffer of its viewport's size.
pub fn render(app: &crate::App) -> ratatui::buffer::Buffer {
    let area = app.viewport;
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(area.width, area.height))
        .expect("the test backend cannot fail");
    terminal.draw(|f| crate::view::render(f, app)).expect("the test backend cannot fail");
    terminal.backend().buffer().clone()
}

/// The buffer as plain text lines (trailing blanks trimmed), for assertions.
pub fn buffer_text(buf: &ratatui::buffer::Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let line: String = (0..area.width).map(|x| buf[(area.x + x, area.y + y)].symbol().to_string()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One screenshot: a file stem, the app state and the terminal palette to draw it on.
pub struct Scene {
    /// File name without extension.
    pub name: &'static str,
    /// The state to render.
    pub app: crate::App,
    /// Terminal colours behind the theme.
    pub palette: crate::svg::Palette,
}

/// The screens shown in `screenshots/`, built by driving the app with keys over an access log
/// (`text`) with a fixed "now" just after its newest line.
pub async fn screenshot_scenes(text: &str) -> Vec<Scene> {
    use crossterm::event::KeyCode;
    use crate::svg::{DARK, LIGHT};
    let source = MemorySource::from_access_log("nginx_sample.log", text);
    let now = source.newest().unwrap_or(0) + 60 * 1_000_000_000;
    let base = |theme: &str| {
        let theme = crate::Theme::load(Some(theme), None, false).unwrap_or_default();
        let mut app = crate::App::new(source.info(), None, None, theme, crate::history::History::default(), now);
        app.viewport = ratatui::layout::Rect::new(0, 0, 120, 36);
        app
    };
    let mut out = Vec::new();
    for (name, theme, palette) in [("main-dark", "dark", DARK), ("main-light", "light", LIGHT), ("main-high-contrast", "high-contrast", DARK)] {
        let mut app = base(theme);
        let e = crate::update::start(&mut app);
        settle(&mut app, &source, e).await;
        out.push(Scene { name, app, palette });
    }
    let loaded = out[0].app.clone();
    let scene = |name, keys: &[KeyCode]| {
        let mut app = loaded.clone();
        let effects: Vec<_> = keys.iter().flat_map(|k| press(&mut app, *k)).collect();
        (name, app, effects)
    };
    use KeyCode::*;
    let scripted: Vec<(&'static str, Vec<KeyCode>)> = vec![
        ("query-completion", "/status:404 and agent:deb".chars().map(Char).collect()),
        ("query-error", "/status:404 and (method:GET".chars().map(Char).collect()),
        ("histogram-selection", vec![BackTab, Char('l'), Char('l'), Char('v'), Char('l'), Char('l'), Char('l'), Char('l'), Char('l'), Char('l')]),
        ("zoomed", vec![BackTab, Char('v'), Char('l'), Char('l'), Char('l'), Char('l'), Char('l'), Char('l'), Char('l'), Enter]),
        ("fields", vec![Char('f'), Char('j'), Char('j'), Char('j'), Char('j'), Char('j'), Char('j'), Char('j'), Char('j')]),
        ("detail", vec![Char('j'), Enter, Char('j'), Char('j'), Char('j')]),
        ("charts", vec![Char('c'), Char('j')]),
        ("help", vec![Char('?')]),
        ("time-picker", vec![Char('r'), Char('j')]),
    ];
    for (name, keys) in scripted {
        let (name, mut app, effects) = scene(name, &keys);
        settle(&mut app, &source, effects).await;
        out.push(Scene { name, app, palette: DARK });
    }
    // Live tail, paused with lines waiting.
    let mut app = loaded.clone();
    press(&mut app, Char('t'));
    let generation = app.pane().tail_generation;
    let newest = source.newest().unwrap_or(0);
    let live = |i: i64| {
        let mut r = source.records.first().cloned().unwrap_or_default();
        r.timestamp = Some(newest + i * 1_000_000_000);
        r.fields.set("path", Value::Str(format!("/downloads/product_{}", i % 3 + 1)));
        r
    };
    crate::update(&mut app, crate::Action::Tick(now));
    crate::update(&mut app, crate::Action::Tail { pane: 0, generation, event: TailEvent::Records((1..4).map(live).collect()) });
    press(&mut app, Char(' '));
    crate::update(&mut app, crate::Action::Tail { pane: 0, generation, event: TailEvent::Records((4..16).map(live).collect()) });
    out.push(Scene { name: "tail-paused", app, palette: DARK });
    out.extend(pane_scenes(text, now).await);
    out
}

/// An application's error log (JSON-like records) during the nginx sample's hours: the second
/// source of the multi-pane screenshots.
pub fn checkout_errors() -> MemorySource {
    let info = SourceInfo {
        kind: "local",
        description: "checkout-errors.json".into(),
        roles: logsleuth_sources::FieldRoles { level: Some("level".into()), ..Default::default() },
        default_columns: vec!["level".into(), "service".into(), "message".into()],
        is_remote: false,
        warning: None,
    };
    let start = logsleuth_core::time::parse_absolute("2015-05-17T09:00:00Z", None).unwrap_or(0);
    let records = (0..40i64)
        .map(|i| {
            let level = if i % 5 == 0 { "error" } else { "warn" };
            let message = if i % 5 == 0 { format!("payment gateway timeout after 30s (order {})", 7310 + i) } else { format!("retrying payment call ({})", i % 5) };
            let mut fields = Fields::new();
            fields.push("level", Value::Str(level.into()));
            fields.push("service", Value::Str("checkout".into()));
            fields.push("message", Value::Str(message.clone()));
            Record { timestamp: Some(start + i * 12 * 60 * 1_000_000_000), message, fields, ..Record::default() }
        })
        .collect();
    MemorySource::new(info, records)
}

/// Opens [`checkout_errors`] for any spec (the screenshots' configured source `checkout`).
struct CheckoutOpener(Arc<MemorySource>);

impl crate::runtime::SourceOpener for CheckoutOpener {
    fn open(&self, _spec: &logsleuth_sources::spec::SourceSpec) -> Result<Arc<dyn Source>, String> {
        Ok(self.0.clone())
    }
}

/// Screens of the incident workflow: the nginx log above and the application's errors below on
/// one clock (the instant under the cursor marked below), the marks list, the source picker.
async fn pane_scenes(text: &str, now: Nanos) -> Vec<Scene> {
    use crossterm::event::{KeyCode::*, KeyModifiers};
    use crate::svg::DARK;
    let nginx: Arc<dyn Source> = Arc::new(MemorySource::from_access_log("nginx_sample.log", text));
    let opener = CheckoutOpener(Arc::new(checkout_errors()));
    let mut app = crate::App::new(nginx.info(), None, None, crate::Theme::default(), crate::history::History::default(), now);
    app.viewport = ratatui::layout::Rect::new(0, 0, 140, 48);
    app.named_sources = vec!["checkout".into()];
    let mut sources: std::collections::HashMap<crate::action::PaneId, Arc<dyn Source>> = std::collections::HashMap::from([(0, nginx)]);
    let mut out = Vec::new();
    let e = crate::update::start(&mut app);
    settle_panes(&mut app, &mut sources, Some(&opener), e).await;
    press_with(&mut app, Char('w'), KeyModifiers::CONTROL);
    press(&mut app, Char('s'));
    type_text(&mut app, "check");
    out.push(Scene { name: "source-picker", app: app.clone(), palette: DARK });
    let e = press(&mut app, Enter);
    settle_panes(&mut app, &mut sources, Some(&opener), e).await;
    press_with(&mut app, Char('w'), KeyModifiers::CONTROL);
    press(&mut app, Char('k'));
    let mut e = type_text(&mut app, "/status:404");
    e.extend(press(&mut app, Enter));
    settle_panes(&mut app, &mut sources, Some(&opener), e).await;
    for _ in 0..22 {
        press(&mut app, Char('j'));
    }
    press(&mut app, Char('m'));
    type_text(&mut app, "404s on product_2 while checkout retries");
    press(&mut app, Enter);
    out.push(Scene { name: "panes", app: app.clone(), palette: DARK });
    press(&mut app, Char('M'));
    out.push(Scene { name: "marks", app, palette: DARK });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../tests/fixtures/ui/nginx_sample.log");

    #[tokio::test]
    async fn memory_source_pages_filters_and_aggregates() {
        let s = MemorySource::from_access_log("nginx_sample.log", SAMPLE);
        let page = s
            .search(SearchRequest { query: Query::kql("status:404"), range: TimeRange::ALL, limit: 100, cursor: None })
            .await
            .unwrap();
        assert_eq!(page.total, Some(HitCount::Exact(688)));
        assert_eq!(page.records.len(), 100);
        assert!(page.records.windows(2).all(|w| w[0].timestamp >= w[1].timestamp));
        let top = s
            .top(TopRequest { query: Query::default(), range: TimeRange::ALL, field: "status".into(), size: 3 })
            .await
            .unwrap();
        assert_eq!(top.buckets[0], TopBucket { value: "404".into(), count: 688 });
        assert_eq!(top.buckets.iter().map(|b| b.count).sum::<u64>() + top.other, 1000);
        let h = s
            .histogram(HistogramRequest {
                query: Query::default(),
                range: TimeRange::ALL,
                interval: None,
                target_buckets: 60,
                split: Split::StatusClass,
            })
            .await
            .unwrap();
        assert_eq!(h.buckets.iter().map(|b| b.count).sum::<u64>(), 1000);
        assert!(h.buckets.len() <= 60);
        assert_eq!(h.buckets.iter().map(|b| b.split.get("4xx").copied().unwrap_or(0)).sum::<u64>(), 690);
    }
}

//! The pattern view (`P`, issue #16 "What changed?"): the log templates of the focused pane's
//! query and range, mined by its source (`Source::patterns`: Loki's pattern ingester,
//! Elasticsearch's `categorize_text`, else Drain), with their counts, shares and sparklines.
//! A template filters the pane for (`+`) or out (`-`) through [`pattern_filter`], a readable
//! KQL of its literal parts that the user can edit in the query bar.
//!
//! Pure like every reducer: opening asks the runtime for [`Effect::Patterns`]; its answer is
//! [`PatternsAction::Done`], kept on the pane ([`crate::app::Pane::shown_patterns`]) for the
//! postmortem report.

use logsleuth_core::model::TimeRange;
use logsleuth_core::patterns::{PatternsResult, WILDCARD};
use logsleuth_sources::patterns::PatternsRequest;
use logsleuth_sources::{Query, QueryLanguage, SourceResult};

use crate::action::{Effect, PaneId};
use crate::app::{App, Mode};

/// Templates asked for.
pub const PATTERNS_SIZE: usize = 30;
/// Sample buckets over the range (the sparkline's width).
pub const PATTERN_BUCKETS: usize = 30;
/// Literal parts shorter than this (in letters and digits) are left out of a filter: `- - [`
/// or `"` say nothing about the template and only make the query harder to read.
pub const MIN_PART_ALNUM: usize = 3;

/// The pattern view's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatternsState {
    /// The pane whose source was asked.
    pub pane: PaneId,
    /// The query the patterns are for.
    pub query: Query,
    /// The range they are for.
    pub range: TimeRange,
    /// The range as the pane's time picker names it (`All time`, `Last 1h`, the bounds).
    pub range_label: String,
    /// Which request the view waits for (answers to older ones are dropped).
    pub request: u64,
    /// The answer (`Err` holds the message); `None` while mining.
    pub result: Option<Result<PatternsResult, String>>,
    /// Selected template.
    pub cursor: usize,
}

impl PatternsState {
    /// Whether the view waits for its answer.
    pub fn loading(&self) -> bool {
        self.result.is_none()
    }
}

/// The pattern view's actions (keys in `keymap.rs`, the answer from the runtime).
#[derive(Debug, Clone, PartialEq)]
pub enum PatternsAction {
    /// `P`: mine the focused pane's patterns and show them.
    Open,
    /// Move the selection by rows.
    Move(i32),
    /// Move by pages.
    Page(i32),
    /// Filter the pane for the selected template.
    FilterFor,
    /// Filter the selected template out.
    FilterOut,
    /// The source's answer.
    Done {
        /// Pane asked.
        pane: PaneId,
        /// The request it answers ([`PatternsState::request`]).
        id: u64,
        /// The patterns, or why not.
        result: SourceResult<PatternsResult>,
    },
}

/// Rows a page moves.
const PAGE_ROWS: i32 = 10;

/// The reducer of [`PatternsAction`].
pub(crate) fn update(app: &mut App, action: PatternsAction) -> Vec<Effect> {
    match action {
        PatternsAction::Open => open(app),
        PatternsAction::Move(n) => {
            move_cursor(app, n);
            vec![]
        }
        PatternsAction::Page(n) => {
            move_cursor(app, n * PAGE_ROWS);
            vec![]
        }
        PatternsAction::FilterFor => filter(app, false),
        PatternsAction::FilterOut => filter(app, true),
        PatternsAction::Done { pane, id, result } => {
            if id != app.patterns.request || pane != app.patterns.pane {
                return vec![];
            }
            let result = result.map_err(|e| logsleuth_core::text::sanitize(&e.to_string()).into_owned());
            if let (Ok(r), Some(i)) = (&result, app.pane_index(pane)) {
                let p = &mut app.panes[i];
                p.shown_patterns = Some(r.clone());
                p.shown_patterns_for = Some((app.patterns.query.text.clone(), app.patterns.range));
            }
            app.patterns.result = Some(result);
            app.patterns.cursor = 0;
            vec![]
        }
    }
}

fn open(app: &mut App) -> Vec<Effect> {
    let p = app.pane();
    if p.opening {
        app.message = Some("the source is still opening".into());
        return vec![];
    }
    let (pane, query, range, range_label) = (p.id, p.applied.clone(), p.resolved, p.range.label());
    let request = app.patterns.request + 1;
    app.patterns = PatternsState { pane, query: query.clone(), range, range_label, request, result: None, cursor: 0 };
    app.mode = Mode::Patterns;
    vec![Effect::Patterns {
        pane,
        id: request,
        request: PatternsRequest { query, range, size: PATTERNS_SIZE, target_buckets: PATTERN_BUCKETS },
    }]
}

fn move_cursor(app: &mut App, n: i32) {
    let len = match &app.patterns.result {
        Some(Ok(r)) => r.patterns.len(),
        _ => 0,
    };
    app.patterns.cursor = super::table::clamp_add(app.patterns.cursor, n, len);
}

fn filter(app: &mut App, out: bool) -> Vec<Effect> {
    let Some(Ok(result)) = &app.patterns.result else { return vec![] };
    let Some(pattern) = result.patterns.get(app.patterns.cursor) else { return vec![] };
    let template = pattern.pattern.clone();
    add_pattern_filter(app, &template, out)
}

/// Adds the filter for (or against) `template` to the focused pane's query and runs it; a
/// template without literal text says so instead.
pub(crate) fn add_pattern_filter(app: &mut App, template: &str, out: bool) -> Vec<Effect> {
    if app.pane().applied.language == QueryLanguage::Native {
        app.message = Some("filters are added to KQL queries: switch the query bar to KQL (Ctrl-t) first".into());
        return vec![];
    }
    match pattern_filter(template, out) {
        Some(clause) => super::query::add_clause(app, &clause),
        None => {
            app.message = Some("this template has no literal text to filter on".into());
            vec![]
        }
    }
}

/// The literal parts of a template: split on the wildcard, trimmed (of blanks, and of a
/// closing bracket at the start or an opening one at the end, whose other half was masked:
/// `<_>]` of `[17/May/2015:08:05:32 +0000]`), parts with fewer than [`MIN_PART_ALNUM`]
/// letters or digits left out. Each part is a substring of the template's lines.
pub fn literal_parts(template: &str) -> Vec<&str> {
    template
        .split(WILDCARD)
        .map(|p| p.trim().trim_start_matches([')', ']', '}']).trim_end_matches(['(', '[', '{']).trim())
        .filter(|p| p.chars().filter(|c| c.is_alphanumeric()).count() >= MIN_PART_ALNUM)
        .collect()
}

/// A template as a KQL filter: its literal parts as quoted free-text phrases joined with `and`
/// (`"GET /api/orders HTTP/1.1\" 502" and "curl/"`), `"` and `\` escaped as KQL's quoted
/// strings want; `out` wraps it in `not (…)`. `None` when no part is left (a template of
/// wildcards only). Free text matches anywhere in a line, so a line of the template matches
/// the filter (lines may match that the miner put in another template: it is a filter on the
/// text, readable and editable, not the template itself).
pub fn pattern_filter(template: &str, out: bool) -> Option<String> {
    let parts = literal_parts(template);
    if parts.is_empty() {
        return None;
    }
    let phrases: Vec<String> = parts.iter().map(|p| logsleuth_kql::quote_value(p)).collect();
    let joined = phrases.join(" and ");
    Some(if out { format!("not ({joined})") } else { joined })
}

#[cfg(test)]
mod tests {
    use super::*;
    use logsleuth_core::model::Record;
    use logsleuth_kql::{EvalOptions, Matcher};

    const NGINX: &str = r#"203.0.113.77 - - [20/May/2015:12:00:02 +0000] "POST /api/checkout HTTP/1.1" 502 151 "-" "EvilBot/9.9""#;

    /// The template the product's own miner makes of the burst's lines.
    fn mined_template() -> String {
        let grid = logsleuth_core::patterns::Grid { start: 0, interval: 1, buckets: 1 };
        let mut m = logsleuth_core::patterns::Miner::new(grid);
        for i in 0..5 {
            let line = NGINX.replace("12:00:02", &format!("12:00:0{i}")).replace(" 151 ", &format!(" 15{i} "));
            m.add(&line, None);
        }
        let mut found = m.finish();
        assert_eq!(found.len(), 1, "{found:?}");
        found.remove(0).pattern
    }

    fn matches(query: &str, line: &str) -> bool {
        let ast = logsleuth_kql::parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
        let m = Matcher::new(&ast, &EvalOptions::default()).unwrap();
        m.matches(&Record { message: line.to_string(), ..Default::default() })
    }

    #[test]
    fn a_mined_nginx_template_filters_its_own_line_and_not_others() {
        let template = mined_template();
        assert!(template.contains(WILDCARD), "{template}");
        let f = pattern_filter(&template, false).unwrap();
        // Numbers are masked (the status too): the request and the agent are the literal text.
        assert_eq!(f, r#""\"POST /api/checkout HTTP/1.1\"" and "\"-\" \"EvilBot/9.9\"""#);
        assert!(matches(&f, NGINX), "{f} must match {NGINX}");
        let other = r#"10.0.0.1 - - [20/May/2015:12:00:02 +0000] "GET /downloads/product_1 HTTP/1.1" 200 151 "-" "curl/8""#;
        assert!(!matches(&f, other), "{f}");
        let out = pattern_filter(&template, true).unwrap();
        assert_eq!(out, format!("not ({f})"));
        assert!(!matches(&out, NGINX) && matches(&out, other), "{out}");
    }

    #[test]
    fn quotes_and_backslashes_are_escaped_as_kql_reads_them() {
        let template = r#"user <_> said "C:\temp\new" <_> done"#;
        let f = pattern_filter(template, false).unwrap();
        assert_eq!(f, r#""user" and "said \"C:\\temp\\new\"" and "done""#);
        assert!(matches(&f, r#"user 42 said "C:\temp\new" twice done"#), "{f}");
        assert!(!matches(&f, r#"user 42 said "C:	emp
ew" twice done"#), "{f}: a backslash stays a backslash");
    }

    #[test]
    fn short_and_empty_parts_are_dropped_and_wildcards_alone_give_nothing() {
        assert_eq!(literal_parts("<_> - - [<_> +0000] GET <_>"), vec!["+0000] GET"]);
        assert_eq!(literal_parts("<_>] (user <_>) said [<_>"), vec!["(user", "said"]);
        assert_eq!(pattern_filter("<_> <_> -", false), None);
        assert_eq!(pattern_filter("", true), None);
        assert_eq!(pattern_filter("connection reset by peer", false).as_deref(), Some(r#""connection reset by peer""#));
    }
}

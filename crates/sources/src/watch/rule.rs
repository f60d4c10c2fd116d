//! The watch rule syntax: `NAME: KQL OP THRESHOLD [of KQL2] per DUR [for DUR]`.
//!
//! - count: `errors: status >= 500 > 10 per 1m`
//! - rate: `flood: * > 100/s per 1m` (`/s`, `/m`, `/h`)
//! - ratio: `error_ratio: status >= 500 > 5% of * per 5m`
//! - absence: `silent: * < 1 per 10m`
//! - a value: `npe: exception:"NullPointerException" >= 1 per 5m`
//!
//! The threshold clause is found from the left as the first `OP NUMBER[UNIT]` (outside quotes)
//! followed by `per` or `of` whose rest reads as a valid tail, so KQL comparisons such as
//! `status >= 500` stay in the KQL. Errors carry the position of the mistake in the rule and
//! show it with a caret, as KQL errors do (the KQL part's errors are the KQL parser's).

use logsleuth_core::model::Nanos;
use logsleuth_core::time::{NS_PER_SEC, format_duration, parse_duration};

/// A comparison of the measured value with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Op {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl Op {
    /// Whether `value OP threshold` holds.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
            Op::Lt => value < threshold,
            Op::Le => value <= threshold,
        }
    }

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }
}

/// What a rule measures over its window.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// The number of matching lines.
    Count,
    /// Matching lines per `unit` (1 s, 1 m or 1 h) averaged over the window.
    Rate {
        /// The unit of the threshold, in ns.
        unit: Nanos,
    },
    /// Matching lines as a percentage of the lines matching `of` (a KQL query).
    Ratio {
        /// The denominator's KQL.
        of: String,
    },
}

/// A parsed watch rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Its name (Alertmanager's `alertname`).
    pub name: String,
    /// The KQL of the lines counted (empty or `*`: every line).
    pub kql: String,
    /// What is measured.
    pub measure: Measure,
    /// How the value compares with the threshold.
    pub op: Op,
    /// The threshold: a count, a rate per unit, or a percentage.
    pub threshold: f64,
    /// The sliding window, ending at each evaluation.
    pub window: Nanos,
    /// How long the condition must hold before firing (and stop holding before resolving).
    pub hold: Nanos,
}

/// A rule that does not parse: the message has the rule and a caret under the mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RuleError {
    /// What is wrong, with the caret display.
    pub message: String,
    /// 0-based character offset of the mistake in the rule text.
    pub offset: usize,
}

impl Rule {
    /// The threshold as written: `10`, `100/s`, `5%`.
    pub fn threshold_text(&self) -> String {
        let n = number_text(self.threshold);
        match &self.measure {
            Measure::Count => n,
            Measure::Rate { unit } => format!("{n}/{}", unit_name(*unit)),
            Measure::Ratio { .. } => format!("{n}%"),
        }
    }

    /// The condition in the rule syntax, without the name (what `[[watches]] rule` holds).
    pub fn condition_text(&self) -> String {
        let kql = if self.kql.trim().is_empty() { "*" } else { self.kql.trim() };
        let of = match &self.measure {
            Measure::Ratio { of } => format!(" of {}", if of.trim().is_empty() { "*" } else { of.trim() }),
            _ => String::new(),
        };
        let hold = if self.hold > 0 { format!(" for {}", format_duration(self.hold)) } else { String::new() };
        format!("{kql} {} {}{of} per {}{hold}", self.op.symbol(), self.threshold_text(), format_duration(self.window))
    }

    /// The whole rule: `NAME: condition`.
    pub fn text(&self) -> String {
        format!("{}: {}", self.name, self.condition_text())
    }

    /// The KQL the counted lines match, `*` standing for every line (sources take an empty
    /// query as "everything").
    pub fn query_kql(&self) -> &str {
        match self.kql.trim() {
            "*" => "",
            q => q,
        }
    }
}

fn unit_name(unit: Nanos) -> &'static str {
    match unit {
        u if u == 60 * NS_PER_SEC => "m",
        u if u == 3600 * NS_PER_SEC => "h",
        _ => "s",
    }
}

/// A number without a useless fraction: `10`, `2.5`.
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { format!("{n}") }
}

/// Names are what Alertmanager and shells take without quoting.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Parses `NAME: condition`.
pub fn parse_rule(text: &str) -> Result<Rule, RuleError> {
    let Some(colon) = text.find(':') else {
        return Err(error(text, 0, "a watch rule starts with its name: 'NAME: KQL > N per DUR'"));
    };
    let name = text[..colon].trim();
    if !valid_name(name) {
        return Err(error(
            text,
            0,
            "a watch rule starts with its name (letters, digits, _ - .) and a colon: 'NAME: KQL > N per DUR'",
        ));
    }
    let start = colon + 1;
    parse_condition_at(name, text, start)
}

/// Parses a condition (`KQL > N per DUR …`) for the rule `name` (the config file's form, where
/// the name is its own key).
pub fn parse_condition(name: &str, text: &str) -> Result<Rule, RuleError> {
    if !valid_name(name.trim()) {
        return Err(RuleError {
            message: format!("watch name '{}' must be letters, digits, _ - or .", name.escape_debug()),
            offset: 0,
        });
    }
    parse_condition_at(name.trim(), text, 0)
}

/// A threshold clause candidate: `OP NUMBER[UNIT] (per|of)` at byte `at`.
struct Candidate {
    at: usize,
    op: Op,
    number: f64,
    unit: Option<(String, usize)>,
    keyword_at: usize,
    is_of: bool,
}

fn parse_condition_at(name: &str, text: &str, start: usize) -> Result<Rule, RuleError> {
    let candidates = candidates(text, start);
    if candidates.is_empty() {
        return Err(error(
            text,
            char_offset(text, text.trim_end().len()),
            "expected a threshold after the KQL: '> N per DUR', '> N/s per DUR', '> N% of KQL per DUR' or '< N per DUR'",
        ));
    }
    let mut last_error = None;
    for c in &candidates {
        match rule_from(name, text, start, c) {
            Ok(rule) => return Ok(rule),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.expect("at least one candidate"))
}

fn rule_from(name: &str, text: &str, start: usize, c: &Candidate) -> Result<Rule, RuleError> {
    let kql = text[start..c.at].trim().to_string();
    check_kql(text, start, &text[start..c.at])?;
    let after_keyword = c.keyword_at + if c.is_of { 2 } else { 3 };
    let measure = match (&c.unit, c.is_of) {
        (Some((u, at)), true) if u != "%" => {
            return Err(error(text, char_offset(text, *at), "a ratio's threshold is a percentage: '> 5% of KQL per DUR'"));
        }
        (None, true) => {
            return Err(error(text, char_offset(text, c.keyword_at), "a ratio's threshold is a percentage: '> 5% of KQL per DUR'"));
        }
        (Some((u, at)), false) if u == "%" => {
            return Err(error(text, char_offset(text, *at), "a percentage needs the lines it is of: '> 5% of KQL per DUR'"));
        }
        (Some((u, _)), false) => Measure::Rate {
            unit: match u.as_str() {
                "/m" => 60 * NS_PER_SEC,
                "/h" => 3600 * NS_PER_SEC,
                _ => NS_PER_SEC,
            },
        },
        (None, false) => Measure::Count,
        (Some(_), true) => Measure::Ratio { of: String::new() },
    };
    // The rest: `[KQL2 ]per DUR [for DUR]`.
    let rest = &text[after_keyword..];
    let (of_kql, per_at) = if c.is_of {
        let Some(per) = last_keyword(rest, "per") else {
            return Err(error(text, char_offset(text, text.trim_end().len()), "expected 'per DUR' after the ratio's KQL"));
        };
        let of_text = &rest[..per];
        check_kql(text, after_keyword, of_text)?;
        (Some(of_text.trim().to_string()), after_keyword + per)
    } else {
        (None, c.keyword_at)
    };
    let tail = &text[per_at + 3..];
    let mut words = words(tail, per_at + 3);
    let (window_text, window_at) = words
        .next()
        .ok_or_else(|| error(text, char_offset(text, text.trim_end().len()), "expected the window after 'per': 'per 1m'"))?;
    let window = duration(text, window_text, window_at)?;
    let mut hold = 0;
    if let Some((word, at)) = words.next() {
        if word != "for" {
            return Err(error(text, char_offset(text, at), "expected 'for DUR' or the end of the rule"));
        }
        let (hold_text, hold_at) = words
            .next()
            .ok_or_else(|| error(text, char_offset(text, text.trim_end().len()), "expected a duration after 'for': 'for 2m'"))?;
        hold = parse_duration(hold_text).map_err(|_| error(text, char_offset(text, hold_at), "not a duration (30s, 5m, 1h)"))?;
        if let Some((_, at)) = words.next() {
            return Err(error(text, char_offset(text, at), "unexpected text after the rule"));
        }
    }
    let measure = match measure {
        Measure::Ratio { .. } => Measure::Ratio { of: of_kql.unwrap_or_default() },
        m => m,
    };
    if !c.number.is_finite() {
        return Err(error(text, char_offset(text, c.at), "the threshold is not a number"));
    }
    Ok(Rule { name: name.to_string(), kql, measure, op: c.op, threshold: c.number, window, hold })
}

fn duration(text: &str, word: &str, at: usize) -> Result<Nanos, RuleError> {
    match parse_duration(word) {
        Ok(d) if d > 0 => Ok(d),
        Ok(_) => Err(error(text, char_offset(text, at), "the window must be longer than 0")),
        Err(_) => Err(error(text, char_offset(text, at), "not a duration (30s, 5m, 1h)")),
    }
}

/// The KQL part parses, or its error is shown at its place in the whole rule.
fn check_kql(text: &str, base: usize, kql: &str) -> Result<(), RuleError> {
    if kql.trim() == "*" {
        return Ok(());
    }
    logsleuth_kql::parse(kql).map(|_| ()).map_err(|e| {
        let offset = e.offset.unwrap_or(0);
        let byte = kql.char_indices().nth(offset).map_or(kql.len(), |(b, _)| b);
        // The KQL parser's words without its own position line (ours shows the whole rule).
        let first = e.message.lines().next().unwrap_or_default();
        let what = first.split_once(": ").map_or(first, |(_, w)| w);
        error(text, char_offset(text, base + byte), &format!("in the KQL: {what}"))
    })
}

/// Whitespace-separated words of `s` with their byte offsets in the rule.
fn words(s: &str, base: usize) -> impl Iterator<Item = (&str, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    let b = s.as_bytes();
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let begin = i;
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        out.push((&s[begin..i], base + begin));
    }
    out.into_iter()
}

/// The byte offset of the last whole word `kw` outside quotes.
fn last_keyword(s: &str, kw: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut found = None;
    let mut in_quote = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if in_quote => i += 1,
            b'"' => in_quote = !in_quote,
            _ if !in_quote && is_word_at(s, i, kw) => found = Some(i),
            _ => {}
        }
        i += 1;
    }
    found
}

fn is_word_at(s: &str, i: usize, kw: &str) -> bool {
    let b = s.as_bytes();
    // `get`: `i` may fall inside a multi-byte character of hostile text.
    s.get(i..).is_some_and(|rest| rest.starts_with(kw))
        && (i == 0 || b[i - 1].is_ascii_whitespace())
        && b.get(i + kw.len()).is_none_or(|c| c.is_ascii_whitespace())
}

fn candidates(text: &str, start: usize) -> Vec<Candidate> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut in_quote = false;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'\\' if in_quote => i += 1,
            b'"' => in_quote = !in_quote,
            b'>' | b'<' if !in_quote => {
                if let Some(c) = candidate_at(text, i) {
                    out.push(c);
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn candidate_at(text: &str, at: usize) -> Option<Candidate> {
    let b = text.as_bytes();
    let mut i = at + 1;
    let eq = b.get(i) == Some(&b'=');
    if eq {
        i += 1;
    }
    let op = match (b[at], eq) {
        (b'>', false) => Op::Gt,
        (b'>', true) => Op::Ge,
        (b'<', false) => Op::Lt,
        _ => Op::Le,
    };
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let num_start = i;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
        i += 1;
    }
    if i == num_start {
        return None;
    }
    let number: f64 = text[num_start..i].parse().ok()?;
    let unit = if b.get(i) == Some(&b'%') {
        i += 1;
        Some(("%".to_string(), i - 1))
    } else if b.get(i) == Some(&b'/') {
        let u = text.get(i..i + 2)?;
        if !matches!(u, "/s" | "/m" | "/h") {
            return None;
        }
        i += 2;
        Some((u.to_string(), i - 2))
    } else {
        None
    };
    let ws = i;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    if i == ws {
        return None;
    }
    let is_of = is_word_at(text, i, "of");
    if !is_of && !is_word_at(text, i, "per") {
        return None;
    }
    Some(Candidate { at, op, number, unit, keyword_at: i, is_of })
}

fn char_offset(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].chars().count()
}

/// A rule error with the caret display under character `offset`.
fn error(text: &str, offset: usize, message: &str) -> RuleError {
    let shown: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let caret = format!("{}^", "-".repeat(offset));
    RuleError { message: format!("watch rule error at column {}: {message}\n{shown}\n{caret}", offset + 1), offset }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> Rule {
        parse_rule(text).unwrap_or_else(|e| panic!("{text}: {}", e.message))
    }

    #[test]
    fn count_rule_keeps_the_kql_comparison_in_the_kql() {
        let r = rule("errors: status >= 500 > 10 per 1m");
        assert_eq!(r.name, "errors");
        assert_eq!(r.kql, "status >= 500");
        assert_eq!((r.measure.clone(), r.op, r.threshold, r.window, r.hold), (Measure::Count, Op::Gt, 10.0, 60 * NS_PER_SEC, 0));
        assert_eq!(r.text(), "errors: status >= 500 > 10 per 1m");
    }

    #[test]
    fn rate_ratio_absence_and_value_rules() {
        let r = rule("flood: * > 100/s per 1m");
        assert_eq!((r.measure.clone(), r.threshold, r.query_kql()), (Measure::Rate { unit: NS_PER_SEC }, 100.0, ""));
        assert_eq!(r.threshold_text(), "100/s");
        let r = rule("ratio: status >= 500 > 5% of * per 5m for 2m");
        assert_eq!(r.measure, Measure::Ratio { of: "*".into() });
        assert_eq!((r.threshold, r.window, r.hold), (5.0, 300 * NS_PER_SEC, 120 * NS_PER_SEC));
        assert_eq!(r.text(), "ratio: status >= 500 > 5% of * per 5m for 2m");
        let r = rule("api_ratio: status:5* > 2.5% of request:\"/api\" per 10m");
        assert_eq!(r.measure, Measure::Ratio { of: "request:\"/api\"".into() });
        assert_eq!(r.threshold, 2.5);
        let r = rule("silent: * < 1 per 10m");
        assert_eq!((r.op, r.threshold), (Op::Lt, 1.0));
        let r = rule("npe: exception:\"NullPointerException\" >= 1 per 5m");
        assert_eq!((r.kql.as_str(), r.op), ("exception:\"NullPointerException\"", Op::Ge));
        // A threshold-like text inside quotes belongs to the KQL.
        let r = rule("q: message:\"> 3 per day\" > 0 per 1h");
        assert_eq!(r.kql, "message:\"> 3 per day\"");
    }

    #[test]
    fn hostile_text_never_panics() {
        for text in ["é: ü > 1 per 1m", "x: \"per\" ünï < 2 per 5m", "a: > ", "a: <", "a: * > 1/x per 1m", "a: * > 1e999 per 1m", "a:\u{1b}[31m > 1 per 1m", "a: * > 1 per", "a: * > 1% of", "😀: * > 1 of ü per"] {
            let _ = parse_rule(text);
        }
        assert_eq!(parse_rule("x: msg:\"per ünï\" or ü < 2 per 5m").unwrap().kql, "msg:\"per ünï\" or ü");
        let e = parse_rule("a:\u{1b}[31m > 1 per soon").unwrap_err();
        assert!(!e.message.contains('\u{1b}'), "control characters are not echoed: {:?}", e.message);
    }

    #[test]
    fn config_conditions_have_their_name_apart() {
        let r = parse_condition("errors", "status >= 500 > 10 per 1m").unwrap();
        assert_eq!((r.name.as_str(), r.kql.as_str()), ("errors", "status >= 500"));
        assert!(parse_condition("bad name", "* > 1 per 1m").is_err());
    }

    #[test]
    fn errors_point_at_the_mistake() {
        let e = parse_rule("status >= 500 > 10 per 1m").unwrap_err();
        // "status >= 500 > 10 per 1m" has a colon nowhere: the name is missing.
        assert_eq!(e.offset, 0);
        let e = parse_rule("errors: status >= 500 > 10 per soon").unwrap_err();
        assert_eq!(e.offset, 31, "{}", e.message);
        assert_eq!(
            e.message,
            format!("watch rule error at column 32: not a duration (30s, 5m, 1h)\nerrors: status >= 500 > 10 per soon\n{}^", "-".repeat(31))
        );
        let e = parse_rule("errors: status >= 500").unwrap_err();
        assert!(e.message.contains("expected a threshold"), "{}", e.message);
        assert_eq!(e.offset, 21);
        // The KQL part's own error, at its place in the rule.
        let e = parse_rule("errors: status: > 10 per 1m").unwrap_err();
        assert!(e.message.contains("in the KQL"), "{}", e.message);
        assert_eq!(e.offset, 16, "{}", e.message);
        let e = parse_rule("r: * > 5 of * per 1m").unwrap_err();
        assert!(e.message.contains("percentage"), "{}", e.message);
        let e = parse_rule("r: * > 5% per 1m").unwrap_err();
        assert!(e.message.contains("needs the lines"), "{}", e.message);
        assert_eq!(e.offset, 8);
        let e = parse_rule("r: * > 5 per 1m during 2m").unwrap_err();
        assert_eq!(e.offset, 16, "{}", e.message);
        let e = parse_rule("r: * > 5 per 0s").unwrap_err();
        assert!(e.message.contains("longer than 0"), "{}", e.message);
    }
}

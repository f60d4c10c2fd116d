//! Log patterns: Drain template mining (He et al., "Drain: An Online Log Parsing Approach with
//! Fixed Depth Tree", ICWS 2017) with masking of variable parts. Pure and synchronous: the
//! sources feed it lines (in parallel, one [`Miner`] a chunk, merged in chunk order so the
//! answer is deterministic) and the CLI / TUI show its [`PatternsResult`].
//!
//! Templates use Loki's wildcard `<_>`, so a template mined here reads like one from Loki's
//! pattern ingester and can be used in Loki's pattern line filter (`|>`) as it is.
//!
//! # Tokens and masking
//! A line is split on whitespace (at most 128 tokens of its first 4 KiB). Before clustering, a
//! token (without its surrounding brackets, quotes and punctuation) that is a number (with a
//! unit: `12ms`), an IPv4 / IPv6 address (with or without a port), a UUID, a hex id (8+ hex
//! digits with a digit, or `0x…`), a timestamp-like run (digits with `:` `/` `-` separators)
//! or a month / weekday name becomes `<_>`, its brackets and quotes kept (`"<_>"`, `[<_>`); in
//! other tokens, runs of 3+ digits become `<_>` (`blk_<_>`), and the value of `key=value` is
//! masked the same way. Quoted strings are words like any other, so a quoted request keeps
//! its method and protocol (`"GET /<_> HTTP/1.1"`) and a quoted value that varies becomes
//! `"<_>"` where lines differ.
//!
//! # Clustering
//! Lines are grouped by token count and their first token (the fixed-depth tree; a first token
//! with a wildcard or a digit shares the `<_>` branch); within a group a line joins the template
//! with the highest share of equal tokens (wildcards not counted, as in Drain) if it is at least
//! [`SIMILARITY`], and positions that differ become `<_>`, keeping the punctuation both tokens
//! start and end with (`/x` and `/y` make `/<_>`).

use std::collections::HashMap;

use crate::model::Nanos;

/// The wildcard of a template (Loki's).
pub const WILDCARD: &str = "<_>";
/// Least share of equal tokens for a line to join a template (Drain3's default).
pub const SIMILARITY: f64 = 0.4;
/// Most templates a miner keeps; lines that would start more join a catch-all (memory bound).
pub const MAX_TEMPLATES: usize = 4096;
/// Longest line (in bytes) mined; longer lines are cut (hostile input stays bounded).
pub const MAX_LINE: usize = 4096;
/// Most tokens of a line considered.
const MAX_TOKENS: usize = 128;

/// How a [`PatternsResult`] was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternMethod {
    /// Loki's pattern ingester.
    Loki,
    /// Elasticsearch's `categorize_text`.
    Elasticsearch,
    /// logsleuth's own Drain.
    Drain,
}

impl PatternMethod {
    /// The name in the CLI's JSON.
    pub fn name(self) -> &'static str {
        match self {
            PatternMethod::Loki => "loki",
            PatternMethod::Elasticsearch => "elasticsearch",
            PatternMethod::Drain => "drain",
        }
    }
}

/// One template and what it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The template, `<_>` for variable parts.
    pub pattern: String,
    /// Lines it covers (exact or estimated, see [`PatternsResult::exact`]).
    pub count: u64,
    /// One line it covers (may be empty when the backend gives none).
    pub example: String,
    /// `(bucket start in unix seconds, count)` over the range, in time order.
    pub samples: Vec<(i64, u64)>,
}

/// The patterns of a query over a range.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternsResult {
    /// Lines the patterns were counted over (the matching lines of the range).
    pub total: u64,
    /// True when counts are exact over the range; false when estimated from a sample.
    pub exact: bool,
    /// Who found the patterns.
    pub method: PatternMethod,
    /// Largest count first, ties by pattern.
    pub patterns: Vec<Pattern>,
    /// Why the result is estimated or partial, for the user.
    pub note: Option<String>,
}

impl PatternsResult {
    /// Sorts by count (largest first, ties by pattern) and keeps the first `size`.
    pub fn rank(&mut self, size: usize) {
        self.patterns.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.pattern.cmp(&b.pattern)));
        self.patterns.truncate(size);
    }
}

/// The share of `count` in `total` (0 when total is 0).
pub fn share(count: u64, total: u64) -> f64 {
    if total == 0 { 0.0 } else { count as f64 / total as f64 }
}

/// The time grid of the samples: `n` buckets of `interval` ns from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// First bucket's start, ns.
    pub start: Nanos,
    /// Bucket width, ns (> 0).
    pub interval: Nanos,
    /// Number of buckets.
    pub buckets: usize,
}

impl Grid {
    fn slot(&self, ts: Option<Nanos>) -> Option<usize> {
        let ts = ts?;
        if self.buckets == 0 || self.interval <= 0 || ts < self.start {
            return None;
        }
        let i = ((ts - self.start) / self.interval) as usize;
        (i < self.buckets).then_some(i)
    }
}

// ---------------------------------------------------------------------------------------------
// Masking

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn is_number(s: &[u8]) -> bool {
    let s = s.strip_prefix(b"-").or_else(|| s.strip_prefix(b"+")).unwrap_or(s);
    let digits_end = s.iter().position(|b| !(b.is_ascii_digit() || *b == b'.' || *b == b',')).unwrap_or(s.len());
    if digits_end == 0 || !s[0].is_ascii_digit() {
        return false;
    }
    // A unit may follow: 12ms, 3.5s, 10KB, 99%.
    let unit = &s[digits_end..];
    unit.len() <= 3 && unit.iter().all(|b| b.is_ascii_alphabetic() || *b == b'%')
}

fn is_ipv4(s: &[u8]) -> bool {
    // a.b.c.d, optionally :port
    let (ip, port) = match s.iter().position(|&b| b == b':') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    if let Some(p) = port
        && (p.is_empty() || !p.iter().all(u8::is_ascii_digit))
    {
        return false;
    }
    // Four dot-separated groups of 1–3 digits (counted, not collected: this runs per token).
    let mut groups = 0;
    for p in ip.split(|&b| b == b'.') {
        groups += 1;
        if groups > 4 || p.is_empty() || p.len() > 3 || !p.iter().all(u8::is_ascii_digit) {
            return false;
        }
    }
    groups == 4
}

fn is_ipv6(s: &[u8]) -> bool {
    let colons = s.iter().filter(|&&b| b == b':').count();
    colons >= 2 && s.iter().all(|&b| is_hex(b) || b == b':' || b == b'.') && s.iter().any(|&b| b != b':')
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, &b)| if matches!(i, 8 | 13 | 18 | 23) { b == b'-' } else { is_hex(b) })
}

fn is_hex_id(s: &[u8]) -> bool {
    if let Some(rest) = s.strip_prefix(b"0x").or_else(|| s.strip_prefix(b"0X")) {
        return !rest.is_empty() && rest.iter().all(|&b| is_hex(b));
    }
    s.len() >= 8 && s.iter().all(|&b| is_hex(b)) && s.iter().any(u8::is_ascii_digit)
}

fn is_timestamp(s: &[u8]) -> bool {
    let digits = s.iter().filter(|b| b.is_ascii_digit()).count();
    let seps = s.iter().filter(|b| matches!(b, b':' | b'/' | b'-')).count();
    let alnum = s.iter().filter(|b| b.is_ascii_alphanumeric()).count();
    digits >= 4
        && seps >= 2
        && digits * 2 >= alnum
        && s.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'-' | b'.' | b'+' | b','))
}

/// Month and weekday names: parts of timestamps (`Jun 14 15:16:01`, `[Sun Dec 04 …]`).
fn is_date_word(core: &[u8]) -> bool {
    const WORDS: [&[u8]; 19] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec", b"Mon", b"Tue",
        b"Wed", b"Thu", b"Fri", b"Sat", b"Sun",
    ];
    core.len() == 3 && WORDS.contains(&core)
}

/// True when a token's core (without brackets and punctuation) is a variable value.
fn is_variable(core: &[u8]) -> bool {
    is_date_word(core)
        || !core.is_empty()
        && core.iter().any(|b| b.is_ascii_digit())
        && (is_number(core) || is_ipv4(core) || is_uuid(core) || is_hex_id(core) || is_timestamp(core) || is_ipv6(core))
}

const OPEN: &[u8] = b"[({<'\"";
const CLOSE: &[u8] = b"])}>',;.\"";

/// Appends the masked form of one plain (unquoted) word to `out`.
fn mask_word(word: &str, out: &mut String) {
    let b = word.as_bytes();
    let lead = b.iter().take_while(|c| OPEN.contains(c)).count();
    let trail = b[lead..].iter().rev().take_while(|c| CLOSE.contains(c)).count();
    let core = &word[lead..word.len() - trail];
    out.push_str(&word[..lead]);
    if is_variable(core.as_bytes()) {
        out.push_str(WILDCARD);
    } else if let Some(eq) = core.find('=').filter(|&i| i > 0) {
        // key=value: the key stays, the value is masked as a word of its own.
        out.push_str(&core[..=eq]);
        mask_word(&core[eq + 1..], out);
    } else {
        mask_digit_runs(core, out);
    }
    out.push_str(&word[word.len() - trail..]);
}

/// Runs of 3+ digits become `<_>` (`blk_1234567` → `blk_<_>`); shorter ones stay (`HTTP/1.1`).
fn mask_digit_runs(text: &str, out: &mut String) {
    let b = text.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i - start >= 3 {
                // A sign glued to the number goes with it (HDFS's `blk_-160899…`).
                let s = if start > copied && b[start - 1] == b'-' { start - 1 } else { start };
                out.push_str(&text[copied..s]);
                out.push_str(WILDCARD);
                copied = i;
            }
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied..]);
}

/// The masked tokens of a line, in a reusable buffer (no allocation per line once warm).
#[derive(Default)]
struct Tokens {
    text: String,
    spans: Vec<(u32, u32)>,
}

impl Tokens {
    fn get(&self, i: usize) -> &str {
        let (a, b) = self.spans[i];
        &self.text[a as usize..b as usize]
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    fn fill(&mut self, line: &str) {
        self.text.clear();
        self.spans.clear();
        let mut line = line;
        if line.len() > MAX_LINE {
            let mut cut = MAX_LINE;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line = &line[..cut];
        }
        for word in line.split_ascii_whitespace().take(MAX_TOKENS) {
            let start = self.text.len();
            mask_word(word, &mut self.text);
            self.spans.push((start as u32, self.text.len() as u32));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Token comparison

/// How much a template token and a token agree: 1 equal, 0 different; a wildcard in the
/// template counts 0 (Drain: parameters are not similarity).
fn token_similarity(template: &str, token: &str) -> f64 {
    if template != WILDCARD && template == token { 1.0 } else { 0.0 }
}

/// The template token that covers both (`None`: the template already does). Punctuation both
/// start or end with stays around the wildcard (`"GET` and `"HEAD` make `"<_>`).
fn generalize(template: &str, token: &str) -> Option<String> {
    if template == WILDCARD || template == token {
        return None;
    }
    let punct = |c: &u8| !c.is_ascii_alphanumeric() && *c != b'<' && *c != b'>' && *c != b'_';
    let (a, b) = (template.as_bytes(), token.as_bytes());
    let lead = a.iter().zip(b).take_while(|(x, y)| x == y && punct(x)).count();
    let trail = a[lead..].iter().rev().zip(b[lead..].iter().rev()).take_while(|(x, y)| x == y && punct(x)).count();
    let out = format!("{}{WILDCARD}{}", &template[..lead], &template[template.len() - trail..]);
    (out != template).then_some(out)
}

// ---------------------------------------------------------------------------------------------
// The miner

#[derive(Debug, Clone)]
struct Cluster {
    tokens: Vec<String>,
    count: u64,
    example: String,
    samples: Vec<u64>,
}

/// A Drain miner over one stream of lines. Feed it with [`Miner::add`], combine miners of
/// consecutive chunks with [`Miner::merge`], read it with [`Miner::finish`].
pub struct Miner {
    grid: Grid,
    clusters: Vec<Cluster>,
    /// (token count, first token's hash) → clusters of that branch.
    groups: HashMap<(usize, u64), Vec<usize>>,
    /// Lines beyond [`MAX_TEMPLATES`] that matched nothing.
    overflow: Option<usize>,
    scratch: Tokens,
    lines: u64,
}

impl Miner {
    /// A miner whose samples fall on `grid`.
    pub fn new(grid: Grid) -> Miner {
        Miner { grid, clusters: Vec::new(), groups: HashMap::new(), overflow: None, scratch: Tokens::default(), lines: 0 }
    }

    /// Lines added (directly or merged).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Adds one line at time `ts`.
    pub fn add(&mut self, line: &str, ts: Option<Nanos>) {
        let mut tokens = std::mem::take(&mut self.scratch);
        tokens.fill(line);
        let slot = self.grid.slot(ts);
        let words: Vec<&str> = (0..tokens.len()).map(|i| tokens.get(i)).collect();
        self.add_tokens(&words, 1, slot.map(|s| (s, 1)).into_iter(), || line);
        self.scratch = tokens;
    }

    /// The tree's branch of a line: its token count and first token (a token with a wildcard
    /// or a digit is a parameter and takes the `<_>` branch), hashed so looking it up allocates
    /// nothing; a collision only makes two branches share their templates' list.
    fn group_key(words: &[&str]) -> (usize, u64) {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        match words.first() {
            Some(w) if !(w.contains(WILDCARD) || w.bytes().any(|b| b.is_ascii_digit())) => w.hash(&mut h),
            Some(_) => WILDCARD.hash(&mut h),
            None => {}
        }
        (words.len(), h.finish())
    }

    fn add_tokens<'l>(&mut self, words: &[&str], count: u64, samples: impl Iterator<Item = (usize, u64)>, example: impl FnOnce() -> &'l str) {
        self.lines += count;
        let key = Self::group_key(words);
        let best = self.groups.get(&key).and_then(|ids| {
            let mut best: Option<(usize, f64, usize)> = None;
            for &id in ids {
                let c = &self.clusters[id];
                let sim: f64 = c.tokens.iter().zip(words).map(|(t, w)| token_similarity(t, w)).sum::<f64>()
                    / words.len().max(1) as f64;
                let params = c.tokens.iter().filter(|t| *t == WILDCARD).count();
                // Highest similarity, then most parameters (Drain3's tie-break), then oldest.
                if best.is_none_or(|(_, s, p)| sim > s || (sim == s && params > p)) {
                    best = Some((id, sim, params));
                }
            }
            best
        });
        let id = match best {
            Some((id, sim, _)) if sim >= SIMILARITY || words.is_empty() => {
                let c = &mut self.clusters[id];
                for (t, w) in c.tokens.iter_mut().zip(words) {
                    if let Some(g) = generalize(t, w) {
                        *t = g;
                    }
                }
                id
            }
            // One slot stays for the catch-all.
            _ if self.clusters.len() + 1 >= MAX_TEMPLATES => match self.overflow {
                Some(id) => id,
                None => {
                    let id = self.push(vec![WILDCARD.to_string()], example());
                    self.overflow = Some(id);
                    id
                }
            },
            _ => {
                let id = self.push(words.iter().map(|w| (*w).to_string()).collect(), example());
                self.groups.entry(key).or_default().push(id);
                id
            }
        };
        let c = &mut self.clusters[id];
        c.count += count;
        for (slot, n) in samples {
            if let Some(s) = c.samples.get_mut(slot) {
                *s += n;
            }
        }
    }

    fn push(&mut self, tokens: Vec<String>, example: &str) -> usize {
        let mut example = example.trim_end_matches(['\r', '\n']).to_string();
        if example.len() > MAX_LINE {
            let mut cut = MAX_LINE;
            while !example.is_char_boundary(cut) {
                cut -= 1;
            }
            example.truncate(cut);
        }
        self.clusters.push(Cluster { tokens, count: 0, example, samples: vec![0; self.grid.buckets] });
        self.clusters.len() - 1
    }

    /// Multiplies every count by `factor` (rounded): a sample's counts standing for more lines.
    pub fn scale(&mut self, factor: f64) {
        let f = |n: u64| (n as f64 * factor).round().max(0.0) as u64;
        for c in &mut self.clusters {
            c.count = f(c.count);
            c.samples.iter_mut().for_each(|s| *s = f(*s));
        }
        self.lines = f(self.lines);
    }

    /// Folds the templates of `other` (a miner of a later chunk on the same grid) into this one,
    /// as Drain would have met them: each template joins the most similar one or starts its own.
    pub fn merge(&mut self, other: Miner) {
        for c in other.clusters {
            let words: Vec<&str> = c.tokens.iter().map(String::as_str).collect();
            let samples = c.samples.iter().copied().enumerate().filter(|(_, n)| *n > 0);
            self.add_tokens(&words, c.count, samples, || c.example.as_str());
        }
    }

    /// The templates, identical templates combined, largest first.
    pub fn finish(self) -> Vec<Pattern> {
        let grid = self.grid;
        let mut by_text: HashMap<String, Pattern> = HashMap::new();
        for c in self.clusters {
            if c.count == 0 {
                continue;
            }
            let text = c.tokens.join(" ");
            let p = by_text.entry(text.clone()).or_insert_with(|| Pattern {
                pattern: text,
                count: 0,
                example: c.example.clone(),
                samples: (0..grid.buckets)
                    .map(|i| ((grid.start + i as Nanos * grid.interval).div_euclid(1_000_000_000), 0))
                    .collect(),
            });
            p.count += c.count;
            for (s, n) in p.samples.iter_mut().zip(&c.samples) {
                s.1 += n;
            }
        }
        let mut out: Vec<Pattern> = by_text.into_values().collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.pattern.cmp(&b.pattern)));
        out
    }
}

/// Mines `lines` in one go (tests, samples): `(line, time)` pairs.
pub fn mine<'a>(lines: impl IntoIterator<Item = (&'a str, Option<Nanos>)>, grid: Grid) -> Vec<Pattern> {
    let mut m = Miner::new(grid);
    for (l, ts) in lines {
        m.add(l, ts);
    }
    m.finish()
}

/// True when `line` fits `template` (as Loki's `|>` does: literal parts in order, `<_>` any
/// run of text). Used to count a template exactly and to filter for / out of it.
pub fn matches(template: &str, line: &str) -> bool {
    let parts: Vec<&str> = template.split(WILDCARD).collect();
    if parts.len() == 1 {
        return template == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if line.len() < first.len() + last.len() || !line.starts_with(first) || !line.ends_with(last) {
        return false;
    }
    let mut rest = &line[first.len()..line.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        if part.is_empty() {
            continue;
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(line: &str) -> Vec<String> {
        let mut t = Tokens::default();
        t.fill(line);
        (0..t.len()).map(|i| t.get(i).to_string()).collect()
    }

    const NO_GRID: Grid = Grid { start: 0, interval: 1, buckets: 0 };

    #[test]
    fn variable_parts_are_masked() {
        assert_eq!(
            masked("10.0.0.1:8080 took 12ms id=550e8400-e29b-41d4-a716-446655440000 [17/May/2015:08:05:32 +0000]"),
            vec!["<_>", "took", "<_>", "id=<_>", "[<_>", "<_>]"]
        );
        assert_eq!(masked("0xdeadBEEF deadbeef 3fa2c9d1e0 fe80::1 blk_-1608999687919862906 HTTP/1.1"), vec![
            "<_>",
            "deadbeef",
            "<_>",
            "<_>",
            "blk_<_>",
            "HTTP/1.1"
        ]);
        assert_eq!(masked("2015-05-17T08:05:32.123Z level=info"), vec!["<_>", "level=info"]);
        assert_eq!(masked(r#"x "GET /a/123 HTTP/1.1" 200"#), vec!["x", "\"GET", "/a/<_>", "HTTP/1.1\"", "<_>"]);
        assert_eq!(masked(r#"say "42" [Sun Dec 04"#), vec!["say", "\"<_>\"", "[<_>", "<_>", "<_>"]);
        assert!(masked("").is_empty());
    }

    #[test]
    fn lines_that_differ_in_parameters_share_a_template() {
        let lines = [
            "Connection from 10.0.0.1 closed after 12 requests",
            "Connection from 10.0.0.2 closed after 7 requests",
            "user alice logged in",
            "user bob logged in",
            "Connection from 10.9.9.9 closed after 1 requests",
        ];
        let p = mine(lines.iter().map(|l| (*l, None)), NO_GRID);
        let got: Vec<(&str, u64)> = p.iter().map(|p| (p.pattern.as_str(), p.count)).collect();
        assert_eq!(got, vec![("Connection from <_> closed after <_> requests", 3), ("user <_> logged in", 2)]);
        assert_eq!(p[0].example, lines[0]);
    }

    #[test]
    fn quoted_words_generalize_keeping_their_quotes() {
        let lines = [r#"a "GET /x HTTP/1.1" "curl/7""#, r#"a "GET /y HTTP/1.1" "Mozilla/5.0""#, r#"a "HEAD /z HTTP/1.1" "-""#];
        let p = mine(lines.iter().map(|l| (*l, None)), NO_GRID);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].pattern, r#"a "<_> /<_> HTTP/1.1" "<_>""#);
    }

    #[test]
    fn samples_fall_on_the_grid_and_merging_chunks_gives_the_same_templates() {
        let grid = Grid { start: 0, interval: 10_000_000_000, buckets: 3 };
        let lines: Vec<(String, Option<Nanos>)> =
            (0..30).map(|i| (format!("request {i} served in {}ms", i * 3), Some(i as Nanos * 1_000_000_000))).collect();
        let whole = mine(lines.iter().map(|(l, t)| (l.as_str(), *t)), grid);
        let mut a = Miner::new(grid);
        let mut b = Miner::new(grid);
        for (i, (l, t)) in lines.iter().enumerate() {
            if i < 15 { a.add(l, *t) } else { b.add(l, *t) }
        }
        a.merge(b);
        assert_eq!(a.lines(), 30);
        let merged = a.finish();
        assert_eq!(whole, merged);
        assert_eq!(whole[0].pattern, "request <_> served in <_>");
        assert_eq!(whole[0].samples, vec![(0, 10), (10, 10), (20, 10)]);
    }

    #[test]
    fn hostile_lines_stay_bounded() {
        let long = "x ".repeat(100_000);
        let p = mine([(long.as_str(), None), ("\u{1b}[2J \u{0} \"", None)], NO_GRID);
        assert!(p.iter().all(|p| p.pattern.len() <= 2 * MAX_LINE && p.example.len() <= MAX_LINE));
        // More distinct shapes than MAX_TEMPLATES: the rest share one catch-all template.
        let mut m = Miner::new(NO_GRID);
        let alpha = |mut i: usize| {
            let mut s = String::new();
            loop {
                s.push((b'a' + (i % 26) as u8) as char);
                i /= 26;
                if i == 0 {
                    return s;
                }
            }
        };
        for i in 0..(MAX_TEMPLATES + 50) {
            let a = alpha(i);
            m.add(&format!("{a} {a} end"), None);
        }
        assert_eq!(m.lines(), (MAX_TEMPLATES + 50) as u64);
        assert!(m.finish().len() <= MAX_TEMPLATES);
    }

    #[test]
    fn templates_match_lines_like_lokis_pattern_filter() {
        assert!(matches("user <_> logged in", "user bob logged in"));
        assert!(!matches("user <_> logged in", "user bob logged out"));
        assert!(matches("<_> - - [<_>] \"GET <_>\" 404 <_>", "1.2.3.4 - - [x] \"GET /a\" 404 12"));
        assert!(matches("a <_>", "a b c"));
        assert!(!matches("a", "ab"));
        assert!(matches("<_>", "anything"));
    }
}

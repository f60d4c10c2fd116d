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

#[cfg(test)]
fn is_ipv6(s: &[u8]) -> bool {
    let colons = s.iter().filter(|&&b| b == b':').count();
    colons >= 2 && s.iter().all(|&b| is_hex(b) || b == b':' || b == b'.') && s.iter().any(|&b| b != b':')
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, &b)| if matches!(i, 8 | 13 | 18 | 23) { b == b'-' } else { is_hex(b) })
}

#[cfg(test)]
fn is_hex_id(s: &[u8]) -> bool {
    if let Some(rest) = s.strip_prefix(b"0x").or_else(|| s.strip_prefix(b"0X")) {
        return !rest.is_empty() && rest.iter().all(|&b| is_hex(b));
    }
    s.len() >= 8 && s.iter().all(|&b| is_hex(b)) && s.iter().any(u8::is_ascii_digit)
}

#[cfg(test)]
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

/// True when a token's core (without brackets and punctuation) is a variable value: the
/// definition, one predicate at a time (several passes over the token). The miner uses
/// [`Shape::is_variable`], one pass; a test checks that both agree.
#[cfg(test)]
fn is_variable(core: &[u8]) -> bool {
    is_date_word(core)
        || !core.is_empty()
        && core.iter().any(|b| b.is_ascii_digit())
        && (is_number(core) || is_ipv4(core) || is_uuid(core) || is_hex_id(core) || is_timestamp(core) || is_ipv6(core))
}

const OPEN: &[u8] = b"[({<'\"";
const CLOSE: &[u8] = b"])}>',;.\"";

// Byte classes, one table lookup a byte (masking was over half of the mining time when each
// predicate walked the token on its own).
const C_DIGIT: u16 = 1;
const C_ALNUM: u16 = 2;
const C_HEX: u16 = 4;
const C_OPEN: u16 = 8;
const C_CLOSE: u16 = 16;
/// A timestamp's bytes: alphanumerics and `: / - . + ,`.
const C_TS: u16 = 32;
/// A timestamp's separators: `: / -`.
const C_SEP: u16 = 64;
/// An IPv6 address's bytes: hex digits, `:` and `.`.
const C_V6: u16 = 128;
/// An IPv4 address's bytes (with a port): digits, `.` and `:`.
const C_V4: u16 = 256;

const fn byte_classes() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_digit() {
            c |= C_DIGIT | C_V4;
        }
        if b.is_ascii_alphanumeric() {
            c |= C_ALNUM | C_TS;
        }
        if b.is_ascii_hexdigit() {
            c |= C_HEX | C_V6;
        }
        if matches!(b, b':' | b'/' | b'-') {
            c |= C_SEP;
        }
        if matches!(b, b':' | b'/' | b'-' | b'.' | b'+' | b',') {
            c |= C_TS;
        }
        if matches!(b, b':' | b'.') {
            c |= C_V6 | C_V4;
        }
        let mut j = 0;
        while j < OPEN.len() {
            if OPEN[j] == b {
                c |= C_OPEN;
            }
            j += 1;
        }
        let mut j = 0;
        while j < CLOSE.len() {
            if CLOSE[j] == b {
                c |= C_CLOSE;
            }
            j += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CLASS: [u16; 256] = byte_classes();

/// A byte's contribution to [`Shape`]'s counts, packed in 16-bit fields (digits, alphanumerics,
/// separators, non-hex bytes; colons, `=`) so one pass adds them with two additions a byte.
/// A core is at most [`MAX_LINE`] bytes, so no field overflows.
const fn byte_counts() -> [(u64, u32); 256] {
    let mut t = [(0u64, 0u32); 256];
    let classes = byte_classes();
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let c = classes[i];
        let mut a = 0u64;
        if c & C_DIGIT != 0 {
            a |= 1;
        }
        if c & C_ALNUM != 0 {
            a |= 1 << 16;
        }
        if c & C_SEP != 0 {
            a |= 1 << 32;
        }
        if c & C_HEX == 0 {
            a |= 1 << 48;
        }
        let mut k = 0u32;
        if b == b':' {
            k |= 1;
        }
        if b == b'=' {
            k |= 1 << 16;
        }
        t[i] = (a, k);
        i += 1;
    }
    t
}

static COUNTS: [(u64, u32); 256] = byte_counts();

/// What one pass over a token's core tells about it.
struct Shape {
    digits: usize,
    alnum: usize,
    seps: usize,
    colons: usize,
    /// Bytes that are not hex digits.
    non_hex: usize,
    /// The classes every byte has.
    all: u16,
    /// Whether there is an `=`.
    has_eq: bool,
}

impl Shape {
    fn of(core: &[u8]) -> Shape {
        let (mut a, mut k, mut all) = (0u64, 0u32, u16::MAX);
        for &b in core {
            let (x, y) = COUNTS[b as usize];
            a += x;
            k += y;
            all &= CLASS[b as usize];
        }
        let field = |v: u64, i: u32| ((v >> (16 * i)) & 0xffff) as usize;
        Shape {
            digits: field(a, 0),
            alnum: field(a, 1),
            seps: field(a, 2),
            non_hex: field(a, 3),
            colons: (k & 0xffff) as usize,
            all,
            has_eq: k >> 16 != 0,
        }
    }

    /// [`is_variable`] of the core this shape is of, from the counts (same answer).
    fn is_variable(&self, core: &[u8]) -> bool {
        if is_date_word(core) {
            return true;
        }
        if core.is_empty() || self.digits == 0 {
            return false;
        }
        let n = core.len();
        let hex_id = if core.starts_with(b"0x") || core.starts_with(b"0X") {
            // `x` is the one byte that is not a hex digit.
            n > 2 && self.non_hex == 1
        } else {
            n >= 8 && self.non_hex == 0
        };
        let timestamp = self.digits >= 4 && self.seps >= 2 && self.digits * 2 >= self.alnum && self.all & C_TS != 0;
        let ipv6 = self.colons >= 2 && self.all & C_V6 != 0 && n > self.colons;
        hex_id
            || timestamp
            || ipv6
            || is_number(core)
            || (self.all & C_V4 != 0 && is_ipv4(core))
            || (n == 36 && is_uuid(core))
    }
}

/// Appends the masked form of one plain (unquoted) word to `out`.
fn mask_word(word: &str, out: &mut String) {
    let b = word.as_bytes();
    let lead = b.iter().take_while(|&&c| CLASS[c as usize] & C_OPEN != 0).count();
    let trail = b[lead..].iter().rev().take_while(|&&c| CLASS[c as usize] & C_CLOSE != 0).count();
    // Both runs are ASCII, so the cuts are on char boundaries.
    let core = &word[lead..word.len() - trail];
    let shape = Shape::of(core.as_bytes());
    let eq = || shape.has_eq.then(|| core.bytes().position(|c| c == b'=')).flatten().filter(|&i| i > 0);
    if shape.is_variable(core.as_bytes()) {
        out.push_str(&word[..lead]);
        out.push_str(WILDCARD);
    } else if let Some(eq) = eq() {
        // key=value: the key stays, the value is masked as a word of its own.
        out.push_str(&word[..=lead + eq]);
        mask_word(&core[eq + 1..], out);
    } else if shape.digits < 3 {
        // No run of 3+ digits to mask: the word as it is (most words), in one copy.
        out.push_str(word);
        return;
    } else {
        out.push_str(&word[..lead]);
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

/// The template token that covers both (`None`: the template already does). Punctuation both
/// start or end with stays around the wildcard (`"GET` and `"HEAD` make `"<_>`).
fn generalize(template: &str, token: &str) -> Option<String> {
    if template == WILDCARD || template == token {
        return None;
    }
    let punct = |c: &u8| !c.is_ascii_alphanumeric() && *c != b'<' && *c != b'>' && *c != b'_';
    let (a, b) = (template.as_bytes(), token.as_bytes());
    let mut lead = a.iter().zip(b).take_while(|(x, y)| x == y && punct(x)).count();
    // Bytes of a non-ASCII character count as punctuation: two tokens may share the first
    // bytes of different characters (`é`, `ü`), so the cuts step back to a char boundary.
    while !template.is_char_boundary(lead) {
        lead -= 1;
    }
    let mut trail = a[lead..].iter().rev().zip(b[lead..].iter().rev()).take_while(|(x, y)| x == y && punct(x)).count();
    while !template.is_char_boundary(template.len() - trail) {
        trail -= 1;
    }
    // The template already reads `lead<_>trail` (the usual case once a position varies): no
    // new string (this runs for every differing token of every line).
    if a.len() == lead + WILDCARD.len() + trail && &a[lead..lead + WILDCARD.len()] == WILDCARD.as_bytes() {
        return None;
    }
    Some(format!("{}{WILDCARD}{}", &template[..lead], &template[template.len() - trail..]))
}

/// A cheap, deterministic 64-bit hash (FxHash's multiply-rotate, a word at a time) for the
/// tree's branch keys: SipHash was a visible share of the per-line time and the keys need no
/// protection (a collision only makes two branches share their list of templates).
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl std::hash::Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
        self.add(bytes.len() as u64);
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// The tokens of a line (or of a template being merged), as the miner reads them: lets a
/// line's reusable token buffer and a template's `Vec<String>` go the same way without
/// collecting a `Vec<&str>` a line.
trait Words {
    fn count(&self) -> usize;
    fn word(&self, i: usize) -> &str;
}

impl Words for Tokens {
    fn count(&self) -> usize {
        self.len()
    }
    fn word(&self, i: usize) -> &str {
        self.get(i)
    }
}

impl Words for [String] {
    fn count(&self) -> usize {
        self.len()
    }
    fn word(&self, i: usize) -> &str {
        &self[i]
    }
}

// ---------------------------------------------------------------------------------------------
// The miner

#[derive(Debug, Clone)]
struct Cluster {
    tokens: Vec<String>,
    /// How many of `tokens` are exactly `<_>` (Drain's tie-break; kept as tokens change).
    params: usize,
    count: u64,
    example: String,
    samples: Vec<u64>,
}

/// One branch of the tree: its templates, oldest first, and the one a line joined last.
#[derive(Default)]
struct Group {
    ids: Vec<usize>,
    /// Tried first: consecutive lines mostly share a template, and a good first candidate
    /// lets the others be given up after a few differing tokens.
    last: usize,
}

/// A Drain miner over one stream of lines. Feed it with [`Miner::add`], combine miners of
/// consecutive chunks with [`Miner::merge`], read it with [`Miner::finish`].
pub struct Miner {
    grid: Grid,
    clusters: Vec<Cluster>,
    /// (token count, first token's hash) → clusters of that branch.
    groups: HashMap<(usize, u64), Group, FxBuild>,
    /// Lines beyond [`MAX_TEMPLATES`] that matched nothing.
    overflow: Option<usize>,
    scratch: Tokens,
    lines: u64,
}

impl Miner {
    /// A miner whose samples fall on `grid`.
    pub fn new(grid: Grid) -> Miner {
        Miner {
            grid,
            clusters: Vec::new(),
            groups: HashMap::default(),
            overflow: None,
            scratch: Tokens::default(),
            lines: 0,
        }
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
        self.add_tokens(&tokens, 1, slot.map(|s| (s, 1)).into_iter(), || line);
        self.scratch = tokens;
    }

    /// The tree's branch of a line: its token count and first token (a token with a wildcard
    /// or a digit is a parameter and takes the `<_>` branch), hashed so looking it up allocates
    /// nothing; a collision only makes two branches share their templates' list.
    fn group_key<W: Words + ?Sized>(words: &W) -> (usize, u64) {
        use std::hash::{Hash, Hasher};
        let mut h = FxHasher::default();
        if words.count() > 0 {
            let w = words.word(0);
            let b = w.as_bytes();
            let param = b.iter().any(u8::is_ascii_digit) || b.windows(WILDCARD.len()).any(|x| x == WILDCARD.as_bytes());
            if param { WILDCARD.hash(&mut h) } else { w.hash(&mut h) }
        }
        (words.count(), h.finish())
    }

    /// The template of a branch a line joins best: most equal tokens (wildcards not counted,
    /// as in Drain), then most parameters (Drain3's tie-break), then oldest. `(id, equal)`.
    /// The same answer as comparing the line with every template in full; templates that can
    /// no longer beat the best so far are given up early.
    fn best_of<W: Words + ?Sized>(&self, group: &Group, words: &W) -> Option<(usize, usize)> {
        let n = words.count();
        // (id, equal tokens, params)
        let mut best: Option<(usize, usize, usize)> = None;
        // `last` is always one of `ids` (set whenever a line joins or starts a template).
        let first = group.ids.first().map(|_| group.last);
        for id in first.into_iter().chain(group.ids.iter().copied().filter(|&i| Some(i) != first)) {
            let c = &self.clusters[id];
            // The fewest equal tokens for this template to win over the best so far.
            let need = match best {
                None => 0,
                Some((bid, be, bp)) => {
                    if c.params > bp || (c.params == bp && id < bid) { be } else { be + 1 }
                }
            };
            // Equal tokens it can still reach: its non-wildcard tokens not yet found different.
            let mut reach = if c.tokens.len() == n { n - c.params } else { c.tokens.len().min(n) };
            if reach < need {
                continue;
            }
            let mut equal = 0;
            for (i, t) in c.tokens.iter().take(n).enumerate() {
                let w = words.word(i);
                if t.as_str() == w {
                    if t != WILDCARD {
                        equal += 1;
                    }
                } else if t != WILDCARD {
                    reach -= 1;
                    if reach < need {
                        break;
                    }
                }
            }
            let wins = |(bid, be, bp): (usize, usize, usize)| {
                equal > be || (equal == be && (c.params > bp || (c.params == bp && id < bid)))
            };
            if reach >= need && best.is_none_or(wins) {
                best = Some((id, equal, c.params));
            }
        }
        best.map(|(id, equal, _)| (id, equal))
    }

    fn add_tokens<'l, W: Words + ?Sized>(
        &mut self,
        words: &W,
        count: u64,
        samples: impl Iterator<Item = (usize, u64)>,
        example: impl FnOnce() -> &'l str,
    ) {
        self.lines += count;
        let key = Self::group_key(words);
        let n = words.count();
        let best = self.groups.get(&key).and_then(|g| self.best_of(g, words));
        let best = best.map(|(id, equal)| (id, equal as f64 / n.max(1) as f64));
        let id = match best {
            Some((id, sim)) if sim >= SIMILARITY || n == 0 => {
                let c = &mut self.clusters[id];
                for (i, t) in c.tokens.iter_mut().take(n).enumerate() {
                    if let Some(g) = generalize(t, words.word(i)) {
                        if g == WILDCARD {
                            c.params += 1;
                        }
                        *t = g;
                    }
                }
                if let Some(g) = self.groups.get_mut(&key) {
                    g.last = id;
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
                let id = self.push((0..n).map(|i| words.word(i).to_string()).collect(), example());
                let g = self.groups.entry(key).or_default();
                g.ids.push(id);
                g.last = id;
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
        let params = tokens.iter().filter(|t| *t == WILDCARD).count();
        self.clusters.push(Cluster { tokens, params, count: 0, example, samples: vec![0; self.grid.buckets] });
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
            let samples = c.samples.iter().copied().enumerate().filter(|(_, n)| *n > 0);
            self.add_tokens(c.tokens.as_slice(), c.count, samples, || c.example.as_str());
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
    fn one_pass_masking_agrees_with_the_predicates() {
        // Tokens built from the bytes the predicates look at, every length up to 6 and some
        // longer real ones: the one-pass shape must say "variable" exactly when they do.
        let alphabet = b"0123456789abcdefxX:./-+,=%_ZG";
        let mut tokens: Vec<Vec<u8>> = Vec::new();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..=40 {
            for _ in 0..4000 {
                let t: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        alphabet[(seed % alphabet.len() as u64) as usize]
                    })
                    .collect();
                tokens.push(t);
            }
        }
        for t in [
            "550e8400-e29b-41d4-a716-446655440000",
            "0x",
            "0x1f",
            "0Xg1",
            "deadbeef1",
            "fe80::1",
            "::",
            "1.2.3.4:80",
            "1.2.3.4:",
            "17/May/2015:08:05:32",
            "2015-05-17T08:05:32.123Z",
            "+0000",
            "-12ms",
            "Jan",
            "12345678",
        ] {
            tokens.push(t.as_bytes().to_vec());
        }
        for t in &tokens {
            assert_eq!(Shape::of(t).is_variable(t), is_variable(t), "{:?}", String::from_utf8_lossy(t));
        }
    }

    /// Drain's choice as first written: every template of the branch compared in full, the
    /// share as a float, the first of the best (most equal, then most `<_>`) in age order.
    fn best_by_full_scan(m: &Miner, words: &Tokens) -> Option<(usize, f64)> {
        let ids = &m.groups.get(&Miner::group_key(words))?.ids;
        let n = words.len();
        let mut best: Option<(usize, f64, usize)> = None;
        for &id in ids {
            let c = &m.clusters[id];
            let same = |(i, t): (usize, &String)| if t != WILDCARD && t == words.get(i) { 1.0 } else { 0.0 };
            let sim = c.tokens.iter().enumerate().take(n).map(same).sum::<f64>() / n.max(1) as f64;
            let params = c.tokens.iter().filter(|t| *t == WILDCARD).count();
            if best.is_none_or(|(_, s, p)| sim > s || (sim == s && params > p)) {
                best = Some((id, sim, params));
            }
        }
        best.map(|(id, sim, _)| (id, sim))
    }

    #[test]
    fn the_pruned_search_picks_the_template_a_full_scan_picks() {
        // Short lines over a small vocabulary: many templates a branch, many ties.
        let vocab = ["a", "b", "c", "GET", "\"GET", "\"HEAD", "/x", "/y", "12", "x=1", "k=v", "[Jan", "-", "<_>"];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |k: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % k as u64) as usize
        };
        let mut m = Miner::new(NO_GRID);
        let mut checked = 0;
        for _ in 0..20_000 {
            let len = 1 + next(6);
            let line: Vec<&str> = (0..len).map(|_| vocab[next(vocab.len())]).collect();
            let line = line.join(" ");
            let mut words = Tokens::default();
            words.fill(&line);
            let want = best_by_full_scan(&m, &words);
            let got = m.groups.get(&Miner::group_key(&words)).and_then(|g| m.best_of(g, &words));
            let got = got.map(|(id, equal)| (id, equal as f64 / words.len().max(1) as f64));
            assert_eq!(got, want, "{line:?}");
            checked += usize::from(want.is_some());
            m.add(&line, None);
        }
        assert!(checked > 19_000);
    }

    #[test]
    fn tokens_sharing_the_first_bytes_of_a_character_generalize_without_panicking() {
        // `é` and `ü` both start with byte 0xC3: the shared punctuation stops before it.
        let p = mine([("a é", None), ("a ü/z", None), ("a éx", None), ("a éy", None)], NO_GRID);
        assert_eq!(p[0].pattern, "a <_>");
        assert_eq!(generalize("éx", "éy").as_deref(), Some("é<_>"));
        assert_eq!(generalize("aé", "bĩ").as_deref(), Some("<_>"));
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

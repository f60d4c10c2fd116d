//! The aggregation rules every backend shares, each written once: local files, Loki and
//! Elasticsearch call these so the same data gives the same chart whatever serves it.
//!
//! - Split keys: [`status_key`] (HTTP status class, [`OTHER`] for anything that is not a
//!   status), [`normalize_level`] (`WARNING` → `warn`, …) and [`split_key`] choosing between
//!   them and a field's own value.
//! - Folding a split into `other`: [`SPLIT_SERIES`] and [`fold_other`].
//! - Ranking top-N values: [`top_order`], [`rank_counts`], [`sort_top`], [`top_n`].
//! - How many buckets a histogram may have: [`MAX_BUCKETS`] and [`bucket_count`].
//!
//! Field roles (which field is the status, the level, …) have their one dictionary in
//! [`FieldRoles::guess`](crate::model::FieldRoles::guess); time ranges their one parser in
//! [`time::resolve_range`](crate::time::resolve_range).

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use crate::model::{HistogramBucket, Nanos, TopBucket};

/// The key of a split's remainder: values folded away by [`fold_other`], the server's own
/// remainder (ES `sum_other_doc_count`), and status values that are not HTTP statuses.
pub const OTHER: &str = "other";

/// Series a histogram split keeps; the rest are summed into [`OTHER`]. Kibana's breakdown and
/// Lens default to the top 10 values with "Other" on; Loki had 9, local files and
/// Elasticsearch 10, so 10 it is everywhere.
pub const SPLIT_SERIES: usize = 10;

/// Most buckets a histogram may have. Loki refuses more than 11,000 points per series (its
/// `max_points_per_series`, not configurable per query); a cap above that would let local
/// files and Elasticsearch draw charts Loki refuses for the same range and interval, so every
/// backend uses Loki's, and every backend says so with the same error ([`TooManyBuckets`])
/// instead of stopping silently.
pub const MAX_BUCKETS: usize = 11_000;

/// The HTTP status class of a status code: `404` → `4xx`; `None` outside 100..600. Every
/// source and the UI split and colour by this one definition, so their charts agree.
#[inline]
pub fn status_class_of(code: f64) -> Option<String> {
    status_class_name(code).map(str::to_string)
}

/// [`status_class_of`] without allocating or formatting (the local histogram asks it for
/// every line).
#[inline]
pub fn status_class_name(code: f64) -> Option<&'static str> {
    const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
    (100.0..600.0).contains(&code).then(|| CLASSES[(code / 100.0) as usize - 1])
}

/// [`status_key`] of a numeric status: its class, or [`OTHER`].
#[inline]
pub fn status_key_of(code: f64) -> String {
    status_class_name(code).unwrap_or(OTHER).to_string()
}

/// [`status_class_of`] for a status given as text (`"404"`, `" 200 "`, `"503.0"` from a float
/// aggregation key); `None` when it is not a status code.
#[inline]
pub fn status_class(text: &str) -> Option<String> {
    text.trim().parse::<f64>().ok().and_then(status_class_of)
}

/// The split key of a status value: its class, or [`OTHER`] for a value that is not an HTTP
/// status (`-` in access logs, `999`). Loki and Elasticsearch already did this; local files
/// dropped such lines from the split, which made the series not add up to the bar.
#[inline]
pub fn status_key(text: &str) -> String {
    status_class(text).unwrap_or_else(|| OTHER.to_string())
}

/// bunyan/pino numeric levels as names (`30` → `info`).
#[inline]
pub fn level_of_number(level: i64) -> Option<&'static str> {
    Some(match level {
        10 => "trace",
        20 => "debug",
        30 => "info",
        40 => "warn",
        50 => "error",
        60 => "fatal",
        _ => return None,
    })
}

/// The one level-name normalisation, the local files' rule (the product's reference): trimmed,
/// lower-case, with common spellings folded (`WARNING`/`Warn` → `warn`, `ERR` → `error`,
/// `information` → `info`) and bunyan numbers named (`50` → `error`). Other names are kept
/// lower-case (`critical`, `fatal`, `notice`, …). Loki's `detected_level` and Elasticsearch's
/// `log.level` go through it too, so `WARNING` and `warn` are one series everywhere.
#[inline]
pub fn normalize_level(text: &str) -> String {
    let trimmed = text.trim();
    if let Ok(n) = trimmed.parse::<i64>()
        && let Some(name) = level_of_number(n)
    {
        return name.to_string();
    }
    let lower = trimmed.to_ascii_lowercase();
    match lower.as_str() {
        "warning" => "warn".into(),
        "err" => "error".into(),
        "information" => "info".into(),
        _ => lower,
    }
}

/// What a histogram is split by, for [`split_key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitKind {
    /// The status role's HTTP class.
    StatusClass,
    /// The level role, normalised.
    Level,
    /// A field's own values.
    Field,
}

/// The split key of one event's value (`None`: the event has no such field). Events without
/// the field, or with an empty value, are counted in their bucket but in no series (Kibana
/// leaves "documents without this field" out of a breakdown by default); a status that is not
/// a status is [`OTHER`].
#[inline]
pub fn split_key(kind: SplitKind, value: Option<&str>) -> Option<String> {
    let value = value?;
    match kind {
        SplitKind::StatusClass => (!value.trim().is_empty()).then(|| status_key(value)),
        SplitKind::Level => (!value.trim().is_empty()).then(|| normalize_level(value)),
        SplitKind::Field => (!value.is_empty()).then(|| value.to_string()),
    }
}

/// The one top-N order: largest count first, ties by value (ascending), as Elasticsearch's
/// `terms` aggregation orders its buckets.
pub fn top_order<C: Ord>(a: (&str, C), b: (&str, C)) -> Ordering {
    b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0))
}

/// Counts in [`top_order`].
pub fn rank_counts(counts: impl IntoIterator<Item = (String, u64)>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| top_order((&a.0, a.1), (&b.0, b.1)));
    v
}

/// Sorts top-N buckets in [`top_order`].
pub fn sort_top(buckets: &mut [TopBucket]) {
    buckets.sort_by(|a, b| top_order((&a.value, a.count), (&b.value, b.count)));
}

/// The `size` most frequent values as buckets in [`top_order`], and the sum of the rest.
pub fn top_n(counts: impl IntoIterator<Item = (String, u64)>, size: usize) -> (Vec<TopBucket>, u64) {
    let all = rank_counts(counts);
    let other = all.iter().skip(size).map(|(_, c)| c).sum();
    let buckets = all.into_iter().take(size).map(|(value, count)| TopBucket { value, count }).collect();
    (buckets, other)
}

/// Folds a histogram's split into at most `keep` series plus [`OTHER`]: the values kept are the
/// `keep` largest by their total over the whole histogram, in [`top_order`] (so a series is one
/// value from the first bucket to the last), and every other value, plus any remainder the
/// server already reported as [`OTHER`], is summed into [`OTHER`] bucket by bucket.
pub fn fold_other(buckets: &mut [HistogramBucket], keep: usize) {
    let mut totals: HashMap<&str, u64> = HashMap::new();
    for b in buckets.iter() {
        for (k, v) in &b.split {
            if k != OTHER {
                *totals.entry(k.as_str()).or_default() += v;
            }
        }
    }
    if totals.len() <= keep {
        return;
    }
    let mut ranked: Vec<(&str, u64)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| top_order(*a, *b));
    let kept: HashSet<String> = ranked.into_iter().take(keep).map(|(k, _)| k.to_string()).collect();
    for b in buckets.iter_mut() {
        let old = std::mem::take(&mut b.split);
        for (k, v) in old {
            let key = if kept.contains(&k) { k } else { OTHER.to_string() };
            *b.split.entry(key).or_default() += v;
        }
    }
}

/// A histogram whose interval gives more than [`MAX_BUCKETS`] buckets over its range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyBuckets {
    /// The interval asked for, in ns.
    pub interval: Nanos,
    /// The buckets it would give.
    pub buckets: u128,
}

impl std::fmt::Display for TooManyBuckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the interval {} gives {} buckets over this range; the most is {MAX_BUCKETS}: choose a longer interval or a shorter range",
            crate::time::format_duration(self.interval),
            self.buckets
        )
    }
}

impl std::error::Error for TooManyBuckets {}

/// Buckets of `interval` from `first` (the aligned start of the first bucket) until `end`
/// (exclusive), at least one; an error past [`MAX_BUCKETS`].
pub fn bucket_count(first: Nanos, end: Nanos, interval: Nanos) -> Result<usize, TooManyBuckets> {
    let interval = interval.max(1);
    let span = (i128::from(end) - i128::from(first)).max(0);
    let n = ((span + i128::from(interval) - 1) / i128::from(interval)).max(1) as u128;
    if n > MAX_BUCKETS as u128 {
        return Err(TooManyBuckets { interval, buckets: n });
    }
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn status_classes() {
        assert_eq!(status_class("404").as_deref(), Some("4xx"));
        assert_eq!(status_class(" 200 ").as_deref(), Some("2xx"));
        assert_eq!(status_class("503.0").as_deref(), Some("5xx"));
        assert_eq!(status_class("99"), None);
        assert_eq!(status_class("600"), None);
        assert_eq!(status_class("-"), None);
        assert_eq!(status_class_of(599.0).as_deref(), Some("5xx"));
        assert_eq!(status_key("504"), "5xx");
        assert_eq!(status_key("-"), OTHER);
        assert_eq!(status_key("999"), OTHER);
    }

    #[test]
    fn levels_are_normalised_one_way() {
        for (raw, name) in [
            ("WARNING", "warn"),
            ("warn", "warn"),
            ("Warn ", "warn"),
            ("ERR", "error"),
            ("Error", "error"),
            ("information", "info"),
            ("INFO", "info"),
            ("50", "error"),
            ("critical", "critical"),
            ("notice", "notice"),
        ] {
            assert_eq!(normalize_level(raw), name, "{raw}");
        }
        assert_eq!(normalize_level("42"), "42");
    }

    #[test]
    fn split_keys_leave_missing_values_out() {
        assert_eq!(split_key(SplitKind::Level, Some("")), None);
        assert_eq!(split_key(SplitKind::Level, None), None);
        assert_eq!(split_key(SplitKind::StatusClass, Some("-")).as_deref(), Some(OTHER));
        assert_eq!(split_key(SplitKind::StatusClass, None), None);
        assert_eq!(split_key(SplitKind::Field, Some("GET")).as_deref(), Some("GET"));
        assert_eq!(split_key(SplitKind::Level, Some("WARNING")).as_deref(), Some("warn"));
    }

    #[test]
    fn top_n_ranks_by_count_then_value() {
        let counts = [("b".to_string(), 2), ("a".to_string(), 2), ("c".to_string(), 5), ("d".to_string(), 1)];
        let (buckets, other) = top_n(counts, 3);
        let order: Vec<(&str, u64)> = buckets.iter().map(|b| (b.value.as_str(), b.count)).collect();
        assert_eq!(order, [("c", 5), ("a", 2), ("b", 2)]);
        assert_eq!(other, 1);
        let mut v = vec![("x".to_string(), 1usize), ("y".to_string(), 3)];
        v.sort_by(|a, b| top_order((&a.0, a.1), (&b.0, b.1)));
        assert_eq!(v[0].0, "y");
    }

    #[test]
    fn folding_keeps_the_largest_series_over_the_whole_histogram() {
        let bucket = |pairs: &[(&str, u64)]| HistogramBucket {
            start: 0,
            count: pairs.iter().map(|p| p.1).sum(),
            split: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
        };
        let mut h = vec![bucket(&[("a", 5), ("b", 1), ("c", 1), (OTHER, 2)]), bucket(&[("b", 3), ("d", 1)])];
        fold_other(&mut h, 2);
        // Totals a 5, b 4, c 1, d 1: a and b stay; c, d and the server's remainder are other.
        assert_eq!(h[0].split, BTreeMap::from([("a".into(), 5), ("b".into(), 1), (OTHER.into(), 3)]));
        assert_eq!(h[1].split, BTreeMap::from([("b".into(), 3), (OTHER.into(), 1)]));
        let mut few = vec![bucket(&[("a", 1), ("b", 1)])];
        fold_other(&mut few, SPLIT_SERIES);
        assert_eq!(few[0].split.len(), 2);
    }

    #[test]
    fn bucket_caps_are_one_error() {
        let s = crate::time::NS_PER_SEC;
        assert_eq!(bucket_count(0, 3600 * s, 60 * s), Ok(60));
        assert_eq!(bucket_count(0, 1, 60 * s), Ok(1));
        assert_eq!(bucket_count(0, 0, 60 * s), Ok(1));
        assert_eq!(bucket_count(0, MAX_BUCKETS as i64 * s, s), Ok(MAX_BUCKETS));
        let err = bucket_count(0, 6 * 3600 * s, s).unwrap_err();
        assert_eq!(err.buckets, 21_600);
        assert_eq!(
            err.to_string(),
            "the interval 1s gives 21600 buckets over this range; the most is 11000: choose a longer interval or a shorter range"
        );
        assert!(bucket_count(i64::MIN, i64::MAX, 1).is_err());
    }
}

//! "What changed?": the one owner of the spike / drop rule over histogram buckets and of the
//! significance score that ranks value changes between a baseline and a window.
//!
//! # Spikes and drops
//!
//! A histogram's bucket counts are compared with the *robust level* of the range: the median
//! `m` of the counts and their median absolute deviation `MAD`. The robust spread is
//! `s = max(1.4826 · MAD, √m, 1)`: `1.4826 · MAD` estimates a standard deviation that a few
//! outliers cannot inflate, and `√m` (the Poisson spread of a count of `m`) keeps a very flat
//! series (MAD 0) from calling every small wobble a spike.
//!
//! - a bucket is a **spike** when its count is more than [`SPIKE_SCORE`] spreads above the
//!   median, at least [`SPIKE_RATIO`] times the median and times the median of the non-empty
//!   buckets (a log written in bursts, once an hour, has a median of 0 between them), and at
//!   least [`MIN_SPIKE_COUNT`];
//! - a bucket is a **drop** (an app that stopped logging) when the robust level is at least
//!   [`MIN_DROP_LEVEL`], its count is more than [`DROP_SCORE`] spreads below the median and at
//!   most [`DROP_RATIO`] of it.
//!
//! Fewer than [`MIN_BUCKETS`] buckets flag nothing: there is no "rest of the range" to compare.
//!
//! # Significance of a change
//!
//! [`g_test`] is the log-likelihood ratio (G-test) of a 2×2 table: a value's count in the
//! window and in the baseline against the windows' totals. It is large when the value's share
//! differs between the windows *and* there are enough events to be sure of it.

/// Spreads above the median for a spike.
pub const SPIKE_SCORE: f64 = 5.0;
/// A spike is at least this many times the median.
pub const SPIKE_RATIO: f64 = 2.0;
/// A spike has at least this many events (a bucket of 3 among buckets of 0 is no incident).
pub const MIN_SPIKE_COUNT: u64 = 10;
/// Spreads below the median for a drop.
pub const DROP_SCORE: f64 = 4.0;
/// A drop is at most this share of the median.
pub const DROP_RATIO: f64 = 0.25;
/// The median must be at least this for a drop to mean anything.
pub const MIN_DROP_LEVEL: f64 = 20.0;
/// Fewer buckets than this flag nothing.
pub const MIN_BUCKETS: usize = 5;

/// What the rule says about one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BucketFlag {
    /// Far above the robust level.
    pub spike: bool,
    /// Far below it.
    pub drop: bool,
}

/// The robust level of a series: median and spread (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustLevel {
    /// Median of the counts.
    pub median: f64,
    /// `max(1.4826 · MAD, √median, 1)`.
    pub spread: f64,
}

fn median_of(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 }
}

/// The median and robust spread of `counts`.
pub fn robust_level(counts: &[u64]) -> RobustLevel {
    let mut v: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    v.sort_by(f64::total_cmp);
    let median = median_of(&v);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
    dev.sort_by(f64::total_cmp);
    let mad = median_of(&dev);
    RobustLevel { median, spread: (1.4826 * mad).max(median.sqrt()).max(1.0) }
}

/// Flags each of `counts` (histogram buckets in time order) as spike, drop or neither.
///
/// `partial_last`: the last bucket covers only part of its interval (the range ends inside
/// it), so a low count there is not a drop.
pub fn flag_buckets(counts: &[u64], partial_last: bool) -> Vec<BucketFlag> {
    let mut flags = vec![BucketFlag::default(); counts.len()];
    if counts.len() < MIN_BUCKETS {
        return flags;
    }
    let level = robust_level(counts);
    // The typical non-empty bucket: a series that logs in bursts (once an hour, say) has a
    // median of 0, and its every burst is not a spike.
    // (The lower median, so that one burst among few busy buckets does not lift it.)
    let mut busy: Vec<u64> = counts.iter().copied().filter(|&c| c > 0).collect();
    busy.sort_unstable();
    let busy_median = busy.get(busy.len().saturating_sub(1) / 2).copied().unwrap_or(0) as f64;
    let last = counts.len() - 1;
    for (i, &c) in counts.iter().enumerate() {
        let x = c as f64;
        let score = (x - level.median) / level.spread;
        flags[i].spike = score > SPIKE_SCORE
            && x >= SPIKE_RATIO * level.median
            && x >= SPIKE_RATIO * busy_median
            && c >= MIN_SPIKE_COUNT;
        flags[i].drop = level.median >= MIN_DROP_LEVEL
            && -score > DROP_SCORE
            && x <= DROP_RATIO * level.median
            && !(partial_last && i == last);
    }
    flags
}

/// The flags of a histogram: [`flag_buckets`] over its totals, and a bucket where a failure
/// series of its split (the `5xx` of a status split, `error` or worse of a level split) spikes
/// by the same rule is a spike too, even when the total hardly moves ([`series_spikes`] says
/// which series). Only failure series count: in a log written in bursts the shares of 2xx and
/// 3xx swing from hour to hour (the shared nginx log's 3xx do), which is no incident.
/// Drops are the totals' only: a series that stops is often another one growing.
pub fn flag_histogram(h: &crate::model::HistogramResult, partial_last: bool) -> Vec<BucketFlag> {
    let counts: Vec<u64> = h.buckets.iter().map(|b| b.count).collect();
    let mut flags = flag_buckets(&counts, partial_last);
    for (flag, series) in flags.iter_mut().zip(series_spikes(h, partial_last)) {
        flag.spike |= !series.is_empty();
    }
    flags
}

/// For each bucket, the failure series of the split ([`is_failure_series`]) that spike in it: the
/// series' count is more than [`SPIKE_SCORE`] spreads above its robust level, at least
/// [`SPIKE_RATIO`] times its median and at least [`MIN_SPIKE_COUNT`], and its *share* of the
/// bucket is at least [`SPIKE_RATIO`] times its typical share in the buckets that have events.
/// The share, not the busy median of [`flag_buckets`], is what keeps a log written in bursts from
/// flagging each burst: 5xx that come with every burst keep their share; 5xx that appear (a
/// series absent elsewhere) are a spike.
pub fn series_spikes(h: &crate::model::HistogramResult, _partial_last: bool) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new(); h.buckets.len()];
    if h.buckets.len() < MIN_BUCKETS {
        return out;
    }
    let keys: std::collections::BTreeSet<&String> =
        h.buckets.iter().flat_map(|b| b.split.keys()).filter(|k| is_failure_series(k)).collect();
    for key in keys {
        let counts: Vec<u64> = h.buckets.iter().map(|b| b.split.get(key).copied().unwrap_or(0)).collect();
        let level = robust_level(&counts);
        let mut shares: Vec<f64> =
            h.buckets.iter().zip(&counts).filter(|(b, _)| b.count > 0).map(|(b, &c)| c as f64 / b.count as f64).collect();
        shares.sort_by(f64::total_cmp);
        let typical_share = shares.get(shares.len().saturating_sub(1) / 2).copied().unwrap_or(0.0);
        for (i, (b, &c)) in h.buckets.iter().zip(&counts).enumerate() {
            let x = c as f64;
            let share = if b.count > 0 { x / b.count as f64 } else { 0.0 };
            if c >= MIN_SPIKE_COUNT
                && (x - level.median) / level.spread > SPIKE_SCORE
                && x >= SPIKE_RATIO * level.median
                && share >= SPIKE_RATIO * typical_share
            {
                out[i].push(key.clone());
            }
        }
    }
    out
}

/// Whether a split series counts failures: the `5xx` status class, or a level of error or worse
/// (`error`, `fatal`, `critical`, … as [`crate::agg::normalize_level`] names them).
pub fn is_failure_series(key: &str) -> bool {
    key == "5xx"
        || matches!(
            crate::agg::normalize_level(key).as_str(),
            "error" | "fatal" | "critical" | "crit" | "alert" | "emerg" | "emergency" | "panic"
        )
}

/// The next (`forward`) or previous flagged index from `from` (exclusive), if any.
pub fn next_flagged(flags: &[bool], from: Option<usize>, forward: bool) -> Option<usize> {
    match (forward, from) {
        (true, None) => flags.iter().position(|&f| f),
        (true, Some(i)) => flags.iter().enumerate().skip(i + 1).find(|(_, f)| **f).map(|(j, _)| j),
        (false, None) => flags.iter().rposition(|&f| f),
        (false, Some(i)) => flags[..i.min(flags.len())].iter().rposition(|&f| f),
    }
}

fn xlogx_ratio(observed: f64, expected: f64) -> f64 {
    if observed <= 0.0 || expected <= 0.0 { 0.0 } else { observed * (observed / expected).ln() }
}

/// The G statistic (log-likelihood ratio, `2 Σ O ln(O/E)`) of the 2×2 table
/// `[[window, window_total - window], [baseline, baseline_total - baseline]]`.
/// 0 when the value's share is the same in both windows; grows with the difference and with
/// the number of events. Counts above their totals are clamped to the totals.
pub fn g_test(window: u64, window_total: u64, baseline: u64, baseline_total: u64) -> f64 {
    let a = window.min(window_total) as f64;
    let b = (window_total - window.min(window_total)) as f64;
    let c = baseline.min(baseline_total) as f64;
    let d = (baseline_total - baseline.min(baseline_total)) as f64;
    let n = a + b + c + d;
    if n == 0.0 {
        return 0.0;
    }
    let (r1, r2, c1, c2) = (a + b, c + d, a + c, b + d);
    let g = 2.0
        * (xlogx_ratio(a, r1 * c1 / n)
            + xlogx_ratio(b, r1 * c2 / n)
            + xlogx_ratio(c, r2 * c1 / n)
            + xlogx_ratio(d, r2 * c2 / n));
    if g.is_finite() { g.max(0.0) } else { 0.0 }
}

#[cfg(test)]
mod tests {
    fn histogram(series: &[(&str, &[u64])]) -> crate::model::HistogramResult {
        let n = series[0].1.len();
        crate::model::HistogramResult {
            interval: 60,
            split_by: Some("status_class".into()),
            buckets: (0..n)
                .map(|i| {
                    let split: std::collections::BTreeMap<String, u64> =
                        series.iter().map(|(k, c)| (k.to_string(), c[i])).filter(|(_, c)| *c > 0).collect();
                    crate::model::HistogramBucket { start: i as i64 * 60, count: split.values().sum(), split }
                })
                .collect(),
            partial: false,
            note: None,
            split_error_bound: None,
        }
    }

    #[test]
    fn a_split_series_that_spikes_flags_its_bucket_while_the_total_hardly_moves() {
        // 100 requests a minute; in minute 6 the 5xx go from 1 to 40 while the total stays 100.
        let ok: &[u64] = &[99, 98, 99, 100, 99, 98, 60, 99, 98, 99];
        let err: &[u64] = &[1, 2, 1, 0, 1, 2, 40, 1, 2, 1];
        let h = histogram(&[("2xx", ok), ("5xx", err)]);
        let totals: Vec<u64> = h.buckets.iter().map(|b| b.count).collect();
        assert!(flag_buckets(&totals, false).iter().all(|f| !f.spike), "the totals alone show nothing");
        let flags = flag_histogram(&h, false);
        let spiked: Vec<usize> = flags.iter().enumerate().filter(|(_, f)| f.spike).map(|(i, _)| i).collect();
        assert_eq!(spiked, [6]);
        assert_eq!(series_spikes(&h, false)[6], ["5xx"]);
        // The 2xx falling in that minute is not a drop of the totals.
        assert!(flags.iter().all(|f| !f.drop));
        // 5xx that appear with a burst of the log (absent from every other bucket) are a spike;
        // 5xx coming with every burst at the same share are not.
        let ok: &[u64] = &[100, 0, 0, 110, 0, 0, 100, 0, 0, 105];
        let err: &[u64] = &[0, 0, 0, 0, 0, 0, 60, 0, 0, 0];
        let spiked: Vec<bool> = flag_histogram(&histogram(&[("2xx", ok), ("5xx", err)]), false).iter().map(|f| f.spike).collect();
        assert_eq!(spiked.iter().filter(|s| **s).count(), 1);
        assert!(spiked[6]);
        let err: &[u64] = &[10, 0, 0, 11, 0, 0, 10, 0, 0, 11];
        assert!(flag_histogram(&histogram(&[("2xx", ok), ("5xx", err)]), false).iter().all(|f| !f.spike));
        // A success series swinging as much is no spike.
        let h = histogram(&[("3xx", err), ("2xx", ok)]);
        assert!(flag_histogram(&h, false).iter().all(|f| !f.spike));
        assert!(is_failure_series("ERROR") && is_failure_series("5xx") && !is_failure_series("4xx") && !is_failure_series("warn"));
    }

    use super::*;

    fn spikes(counts: &[u64]) -> Vec<usize> {
        flag_buckets(counts, false).iter().enumerate().filter(|(_, f)| f.spike).map(|(i, _)| i).collect()
    }

    fn drops(counts: &[u64], partial: bool) -> Vec<usize> {
        flag_buckets(counts, partial).iter().enumerate().filter(|(_, f)| f.drop).map(|(i, _)| i).collect()
    }

    #[test]
    fn a_burst_is_a_spike_and_the_noise_around_it_is_not() {
        let counts = [100, 96, 110, 104, 90, 99, 480, 520, 101, 95, 108, 93];
        assert_eq!(spikes(&counts), vec![6, 7]);
        assert!(drops(&counts, false).is_empty());
    }

    #[test]
    fn daily_waves_are_not_spikes() {
        // A day/night wave: the peak is 3× the trough, but the MAD follows the wave.
        let counts: Vec<u64> =
            (0..48).map(|i| (100.0 + 60.0 * ((i as f64) * std::f64::consts::PI / 12.0).sin()) as u64).collect();
        assert!(spikes(&counts).is_empty(), "{counts:?}");
        assert!(drops(&counts, false).is_empty());
    }

    #[test]
    fn a_log_written_in_bursts_has_no_spikes_but_a_bigger_burst_is_one() {
        // Once an hour in 10-minute buckets: five empty buckets, then about 120.
        let mut counts: Vec<u64> = (0..144).map(|i| if i % 6 == 0 { 110 + (i % 17) as u64 } else { 0 }).collect();
        assert!(spikes(&counts).is_empty());
        counts[72] = 415;
        assert_eq!(spikes(&counts), vec![72]);
    }

    #[test]
    fn an_app_that_stopped_logging_is_a_drop_not_a_spike() {
        let counts = [200, 190, 210, 205, 198, 0, 0, 3, 202, 199];
        assert_eq!(drops(&counts, false), vec![5, 6, 7]);
        assert!(spikes(&counts).is_empty());
    }

    #[test]
    fn a_partial_last_bucket_is_not_a_drop() {
        let counts = [200, 190, 210, 205, 198, 201, 12];
        assert_eq!(drops(&counts, false), vec![6]);
        assert!(drops(&counts, true).is_empty());
    }

    #[test]
    fn quiet_and_short_series_flag_nothing() {
        // Mostly empty buckets: a bucket of 4 is not an incident (below MIN_SPIKE_COUNT).
        assert!(spikes(&[0, 0, 1, 0, 4, 0, 0, 0]).is_empty());
        // But 40 among zeros is.
        assert_eq!(spikes(&[0, 0, 1, 0, 40, 0, 0, 0]), vec![4]);
        // Too few buckets to have a "rest of the range".
        assert!(spikes(&[1, 1000, 1]).is_empty());
        assert!(flag_buckets(&[], false).is_empty());
        // Low levels never drop.
        assert!(drops(&[5, 6, 5, 0, 5, 6], false).is_empty());
    }

    #[test]
    fn next_and_previous_flagged() {
        let f = [false, true, false, true, false];
        assert_eq!(next_flagged(&f, None, true), Some(1));
        assert_eq!(next_flagged(&f, Some(1), true), Some(3));
        assert_eq!(next_flagged(&f, Some(3), true), None);
        assert_eq!(next_flagged(&f, None, false), Some(3));
        assert_eq!(next_flagged(&f, Some(3), false), Some(1));
        assert_eq!(next_flagged(&f, Some(1), false), None);
        assert_eq!(next_flagged(&f, Some(99), false), Some(3));
    }

    #[test]
    fn g_test_is_zero_for_equal_shares_and_ranks_bigger_changes_higher() {
        assert!(g_test(10, 100, 20, 200).abs() < 1e-9);
        let small = g_test(15, 100, 10, 100);
        let big = g_test(50, 100, 10, 100);
        let new_value = g_test(50, 100, 0, 100);
        assert!(small > 0.0 && big > small && new_value > big, "{small} {big} {new_value}");
        // The same shares over more events are more significant.
        assert!(g_test(500, 1000, 100, 1000) > g_test(50, 100, 10, 100));
        // Known value: table [[10, 0], [0, 10]] has G = 2·20·ln 2.
        assert!((g_test(10, 10, 0, 10) - 40.0 * std::f64::consts::LN_2).abs() < 1e-9);
        assert_eq!(g_test(0, 0, 0, 0), 0.0);
        assert!(g_test(5, 3, 0, 0).is_finite());
    }
}

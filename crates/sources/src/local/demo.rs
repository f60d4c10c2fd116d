//! `logsleuth demo`: a real nginx access log (bundled, see data/demo/README.md) re-stamped so
//! that it ends now, and a generator that keeps appending lines drawn from the same data, with
//! an error burst now and then.

use std::io::Read;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{TimeZone, Utc};

use super::Inner;
use super::index::{Notifier, flush_stream};
use super::store::{FileStore, load_owned};
use logsleuth_formats::{self as formats, LogFormat, ParseOptions};
use logsleuth_core::model::{Nanos, Value};

/// The bundled sample: lines 1–4000 of elastic/examples' nginx_logs (Apache-2.0), gzipped.
static DEMO_GZ: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/nginx_access.log.gz"));

/// The sample's time span is compressed into this window ending now, so the histogram of
/// the default view has shape.
const DEMO_WINDOW: Nanos = 6 * 3600 * logsleuth_core::time::NS_PER_SEC;

/// Name of the demo input.
pub(super) const DEMO_NAME: &str = "demo/nginx_access.log";

fn time_local(ns: Nanos) -> String {
    Utc.timestamp_nanos(ns).format("%d/%b/%Y:%H:%M:%S +0000").to_string()
}

/// Replaces the `[time]` of an access-log line.
fn restamp(line: &str, ns: Nanos) -> String {
    match (line.find('['), line.find(']')) {
        (Some(a), Some(b)) if a < b => format!("{}[{}]{}", &line[..a], time_local(ns), &line[b + 1..]),
        _ => line.to_string(),
    }
}

/// The demo lines re-stamped to end at `now`.
pub(super) fn restamped_lines(now: Nanos) -> Vec<String> {
    let mut text = String::new();
    // The data is ours and valid; a failure would leave the demo empty rather than panic.
    let _ = flate2::read::GzDecoder::new(DEMO_GZ).read_to_string(&mut text);
    let opts = ParseOptions { now };
    let parsed: Vec<(&str, Option<Nanos>)> = text
        .lines()
        .map(|l| (l, formats::parse(LogFormat::AccessCombined, l, &opts).and_then(|r| r.timestamp)))
        .collect();
    let first = parsed.iter().filter_map(|p| p.1).min().unwrap_or(now);
    let last = parsed.iter().filter_map(|p| p.1).max().unwrap_or(now);
    let span = (last - first).max(1) as f64;
    parsed
        .into_iter()
        .map(|(line, ts)| match ts {
            Some(ts) => restamp(line, now - ((last - ts) as f64 / span * DEMO_WINDOW as f64) as Nanos),
            None => line.to_string(),
        })
        .collect()
}

/// Loads the demo data into a store.
pub(super) fn load(notify: Arc<Notifier>) -> Arc<FileStore> {
    let now = logsleuth_core::time::now_nanos();
    let lines = restamped_lines(now);
    let store = Arc::new(FileStore::new(0, DEMO_NAME.into(), None, ParseOptions { now }));
    let sample: Vec<&str> = lines.iter().take(200).map(String::as_str).collect();
    store.set_format(LogFormat::AccessCombined, &sample);
    let mut data = lines.join("\n").into_bytes();
    data.push(b'\n');
    store.total_bytes.store(data.len() as u64, Ordering::Relaxed);
    store.done_bytes.store(data.len() as u64, Ordering::Relaxed);
    load_owned(&store, data, true);
    store.complete.store(true, Ordering::Release);
    notify.bump();
    store
}

/// A small deterministic PRNG (xorshift64*): the demo and the benchmark input generator
/// (`examples/gen_access_log.rs`) need variety and reproducible output, not cryptography.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced: xorshift would stay at 0).
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Field pools drawn from the real lines, so generated lines follow the same distributions.
struct Pools {
    clients: Vec<(String, String)>,
    requests: Vec<(String, i64, i64)>,
}

fn pools(lines: &[String]) -> Pools {
    let opts = ParseOptions::default();
    let mut clients = Vec::new();
    let mut requests = Vec::new();
    for l in lines {
        let Some(r) = formats::parse(LogFormat::AccessCombined, l, &opts) else { continue };
        let s = |k: &str| r.fields.get(k).map(Value::as_text).unwrap_or_default();
        let n = |k: &str| match r.fields.get(k) {
            Some(Value::Int(i)) => *i,
            _ => 0,
        };
        clients.push((s("remote_addr"), s("http_user_agent")));
        requests.push((s("request"), n("status"), n("body_bytes_sent")));
    }
    Pools { clients, requests }
}

/// One generated line at `now`; during a burst most requests fail with a 5xx.
fn generate(rng: &mut Rng, pools: &Pools, now: Nanos, burst: bool) -> String {
    let (ip, agent) = pools.clients.get(rng.below(pools.clients.len())).cloned().unwrap_or_default();
    let (request, mut status, mut bytes) = pools.requests.get(rng.below(pools.requests.len())).cloned().unwrap_or_default();
    if burst && rng.below(10) < 7 {
        status = [500, 502, 503, 504][rng.below(4)];
        bytes = [157, 166, 173, 537][rng.below(4)];
    }
    format!("{ip} - - [{}] \"{request}\" {status} {bytes} \"-\" \"{agent}\"", time_local(now))
}

/// Appends generated lines until the source is dropped.
pub(super) fn spawn_generator(inner: Weak<Inner>, store: Arc<FileStore>) {
    let lines = restamped_lines(logsleuth_core::time::now_nanos());
    let _ = std::thread::Builder::new().name("demo generator".into()).spawn(move || {
        let pools = pools(&lines);
        let seed = logsleuth_core::time::now_nanos() as u64 | 1;
        let mut rng = Rng(seed);
        let mut next_burst = logsleuth_core::time::now_nanos() + (60 + rng.below(60) as Nanos) * logsleuth_core::time::NS_PER_SEC;
        let mut burst_end = 0;
        loop {
            let pause = 150 + rng.below(700) as u64;
            std::thread::sleep(Duration::from_millis(pause));
            let Some(inner) = inner.upgrade() else { return };
            let now = logsleuth_core::time::now_nanos();
            if now >= next_burst {
                burst_end = now + (10 + rng.below(15) as Nanos) * logsleuth_core::time::NS_PER_SEC;
                next_burst = burst_end + (90 + rng.below(120) as Nanos) * logsleuth_core::time::NS_PER_SEC;
            }
            let burst = now < burst_end;
            let count = if burst { 3 + rng.below(8) } else { 1 + rng.below(3) };
            let mut data = Vec::new();
            for _ in 0..count {
                data.extend_from_slice(generate(&mut rng, &pools, now, burst).as_bytes());
                data.push(b'\n');
            }
            let _ = flush_stream(&store, data, false);
            inner.notify.bump();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_lines_end_now_and_parse() {
        let now = logsleuth_core::time::parse_absolute("2026-01-01T12:00:00Z", None).unwrap();
        let lines = restamped_lines(now);
        assert_eq!(lines.len(), 4000);
        let opts = ParseOptions { now };
        let times: Vec<Nanos> = lines
            .iter()
            .map(|l| formats::parse(LogFormat::AccessCombined, l, &opts).and_then(|r| r.timestamp).expect("parses"))
            .collect();
        let max = *times.iter().max().unwrap();
        let min = *times.iter().min().unwrap();
        assert!(now - max < logsleuth_core::time::NS_PER_SEC, "ends now");
        assert!(now - min <= DEMO_WINDOW + logsleuth_core::time::NS_PER_SEC && now - min > DEMO_WINDOW / 2);
    }

    #[test]
    fn generated_lines_parse_and_bursts_bring_5xx() {
        let lines = restamped_lines(logsleuth_core::time::now_nanos());
        let pools = pools(&lines);
        let mut rng = Rng(42);
        let opts = ParseOptions::default();
        let mut errors = 0;
        for _ in 0..200 {
            let line = generate(&mut rng, &pools, logsleuth_core::time::now_nanos(), true);
            let r = formats::parse(LogFormat::AccessCombined, &line, &opts).expect("generated line parses");
            if matches!(r.fields.get("status"), Some(Value::Int(s)) if *s >= 500) {
                errors += 1;
            }
        }
        assert!(errors > 100, "{errors}");
    }
}

//! Generates an nginx "combined" access log of a given size for the benchmarks.
//!
//! Usage: `cargo run --release --example gen_access_log -- SIZE OUT [SEED]`, SIZE in bytes with
//! an optional K/M/G suffix (binary units), e.g. `1G`.
//!
//! Lines are drawn, whole, at random from the real elastic/examples `nginx_logs` (51,462 lines,
//! bundled gzipped in `tests/fixtures/local/`), so the joint distribution of client IPs, methods,
//! paths, statuses, sizes, referrers and agents is the real one. Two changes, because that
//! sample has no server errors and no POSTs and the benchmark queries need some: 0.5% of lines
//! get a 500/502/503 status and 3% the POST method. Times are rewritten to increase steadily
//! (about 4 lines a second from 2015-05-17), so the file is sorted like a real log. The output
//! depends only on SIZE and SEED.

use std::io::{BufWriter, Read, Write};

use logsleuth::sources::local::Rng;

static REAL_LOG_GZ: &[u8] = include_bytes!("../tests/fixtures/local/nginx_logs.gz");

/// 2015-05-17T08:05:32Z, the first line of the real sample.
const START_EPOCH: i64 = 1_431_849_932;

/// One real line cut at the parts the generator rewrites.
struct Template {
    /// `IP - user ` (up to the `[`).
    client: String,
    /// The request after its method (` /path HTTP/1.1`).
    request_rest: String,
    method: String,
    status: String,
    /// ` BYTES "referrer" "agent"`.
    tail: String,
}

fn parse(line: &str) -> Option<Template> {
    let open = line.find('[')?;
    let close = open + line[open..].find(']')?;
    let after = &line[close + 1..];
    let q1 = after.find('"')?;
    let q2 = q1 + 1 + after[q1 + 1..].find('"')?;
    let request = &after[q1 + 1..q2];
    let (method, rest) = request.split_at(request.find(' ')?);
    let rest_line = &after[q2 + 1..];
    let rest_line = rest_line.strip_prefix(' ')?;
    let sp = rest_line.find(' ')?;
    Some(Template {
        client: line[..open].to_string(),
        request_rest: rest.to_string(),
        method: method.to_string(),
        status: rest_line[..sp].to_string(),
        tail: rest_line[sp..].to_string(),
    })
}

fn parse_size(text: &str) -> Option<u64> {
    let (num, mult) = match text.chars().last()? {
        'k' | 'K' => (&text[..text.len() - 1], 1u64 << 10),
        'm' | 'M' => (&text[..text.len() - 1], 1 << 20),
        'g' | 'G' => (&text[..text.len() - 1], 1 << 30),
        _ => (text, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `17/May/2015:08:05:32 +0000` for a Unix time (civil-from-days, Howard Hinnant's algorithm).
fn time_local(epoch: i64, out: &mut String) {
    use std::fmt::Write as _;
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let _ = write!(
        out,
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(size), Some(out)) = (args.first().and_then(|s| parse_size(s)), args.get(1)) else {
        eprintln!("usage: gen_access_log SIZE[K|M|G] OUT [SEED]");
        std::process::exit(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1095u64) | 1;
    let mut text = String::new();
    if let Err(e) = flate2::read::GzDecoder::new(REAL_LOG_GZ).read_to_string(&mut text) {
        eprintln!("gen_access_log: bundled sample unreadable: {e}");
        std::process::exit(1);
    }
    let templates: Vec<Template> = text.lines().filter_map(parse).collect();
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gen_access_log: {out}: {e}");
            std::process::exit(1);
        }
    };
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut rng = Rng::new(seed);
    let mut written = 0u64;
    let mut lines = 0u64;
    let mut line = String::with_capacity(512);
    while written < size {
        let t = &templates[rng.below(templates.len())];
        let method = if rng.below(1000) < 30 { "POST" } else { &t.method };
        let status = match rng.below(1000) {
            0..=2 => "500",
            3 => "502",
            4 => "503",
            _ => &t.status,
        };
        line.clear();
        line.push_str(&t.client);
        line.push('[');
        time_local(START_EPOCH + (lines / 4) as i64, &mut line);
        line.push_str("] \"");
        line.push_str(method);
        line.push_str(&t.request_rest);
        line.push_str("\" ");
        line.push_str(status);
        line.push_str(&t.tail);
        line.push('\n');
        if let Err(e) = w.write_all(line.as_bytes()) {
            eprintln!("gen_access_log: {out}: {e}");
            std::process::exit(1);
        }
        written += line.len() as u64;
        lines += 1;
    }
    if let Err(e) = w.flush() {
        eprintln!("gen_access_log: {out}: {e}");
        std::process::exit(1);
    }
    eprintln!("gen_access_log: {lines} lines, {written} bytes -> {out}");
}

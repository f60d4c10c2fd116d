//! `Matcher::matches` runs over millions of lines: it must not allocate on the common paths.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use logsleuth::kql::{parse, EvalOptions, Matcher};
use logsleuth::model::{Fields, Record, Value};

struct Counting;

// Counted per thread: the test harness's own threads may allocate at any time, and only this
// thread's allocations are the matcher's.
thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // try_with: the thread-local may already be gone while a thread shuts down.
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn matching_does_not_allocate() {
    let mut fields = Fields::new();
    fields.push("status", Value::Int(503));
    fields.push("method", Value::Str("GET".into()));
    fields.push("path", Value::Str("/api/v1/users".into()));
    fields.push("bytes", Value::Str("5120".into()));
    let record = Record {
        timestamp: Some(1_714_557_600_000_000_000),
        message: "GET /api/v1/users 503 upstream timed out".into(),
        fields,
        ..Record::default()
    };
    let options = EvalOptions { now: 1_714_557_700_000_000_000, time_zone: None, case_insensitive: true };
    for q in [
        "status >= 500 and method:get and path:/api/* and not bytes < 100",
        "timed out or refused",
        "@timestamp >= now-15m and status:(500 or 503)",
        r#""upstream timed" and message:timed and missing:*"#,
    ] {
        let matcher = Matcher::new(&parse(q).unwrap(), &options).unwrap();
        // Warm up regex caches (the regex crate allocates its search cache on first use).
        let expected = matcher.matches(&record);
        let before = allocations();
        for _ in 0..1000 {
            assert_eq!(matcher.matches(&record), expected);
        }
        let after = allocations();
        assert_eq!(after - before, 0, "{q}: {} allocations in 1000 matches", after - before);
    }
}

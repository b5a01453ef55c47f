//! Parse + translate cost of STIX patterns (the pattern corpus), per pattern.
use connector_wazuh::config::options::SearchOptions;
use connector_wazuh::pattern::{parse, query_for_pattern};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

const VALID: &str = include_str!("../tests/fixtures/patterns/valid.tsv");

fn corpus() -> Vec<&'static str> {
    VALID
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split('\t').nth(1))
        .collect()
}

fn bench(c: &mut Criterion) {
    let patterns = corpus();
    let opts = SearchOptions::default();
    c.bench_function("parse corpus (69 patterns)", |b| {
        b.iter(|| {
            for p in &patterns {
                let _ = black_box(parse(black_box(p)));
            }
        })
    });
    c.bench_function("parse+translate corpus (69 patterns)", |b| {
        b.iter(|| {
            for p in &patterns {
                let _ = black_box(query_for_pattern(black_box(p), &opts));
            }
        })
    });
    let cidr = "[ipv4-addr:value ISSUBSET '10.0.0.0/9']";
    c.bench_function("translate /9 CIDR", |b| {
        b.iter(|| query_for_pattern(black_box(cidr), &opts))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

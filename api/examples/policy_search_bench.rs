//! How long one policy search takes inside the server, over 10,000 policies.
//!
//!     cargo run --release -p api --example policy_search_bench
//!
//! Builds the index (in a temporary directory) from the seeded library plus synthetic policies made by
//! recombining its sentences, then times a mix of real queries (with and
//! without a region filter) and prints the distribution.

use std::time::Instant;

use api::{
    domain::{RegionCode, TextType},
    services::policies::{
        PolicyCategory,
        index::{IndexedPolicy, PolicyIndex, Query},
    },
};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};

const POLICIES: usize = 10_000;
const SEARCHES: usize = 20_000;
const QUERIES: &[&str] = &[
    "创业",
    "欠薪",
    "拖欠工资",
    "随迁子女上学",
    "保障性租赁住房",
    "社保转移",
    "培训补贴",
    "落户",
    "租房",
    "技能培训",
    "创业担保贷款",
    "工伤保险",
    "找工作",
    "讨薪",
    "户口",
];
const PROVINCES: &[&str] = &[
    "110000", "120000", "130000", "140000", "210000", "310000", "320000", "330000", "340000", "350000", "360000",
    "370000", "410000", "420000", "430000", "440000", "450000", "500000", "510000", "520000", "530000", "610000",
];

#[derive(serde::Deserialize)]
struct Seed {
    title: String,
    summary: String,
    body: String,
    tags: Vec<String>,
}

fn main() {
    let seeds: Vec<Seed> = serde_json::from_str(include_str!("../../migration/seed/policies.json")).expect("seed JSON");
    let sentences: Vec<&str> = seeds
        .iter()
        .flat_map(|s| s.body.split(['。', '\n']).chain(s.summary.split('。')))
        .map(str::trim)
        .filter(|s| s.chars().count() > 8)
        .collect();
    let categories = [
        PolicyCategory::Employment,
        PolicyCategory::Entrepreneurship,
        PolicyCategory::Training,
        PolicyCategory::WageRights,
        PolicyCategory::SocialInsurance,
        PolicyCategory::Education,
        PolicyCategory::Housing,
        PolicyCategory::Hukou,
        PolicyCategory::PublicService,
    ];
    let mut rng = StdRng::seed_from_u64(2023);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let index = runtime
        .block_on(PolicyIndex::open(dir.path()))
        .expect("the index opens");
    let started = Instant::now();
    for i in 0..POLICIES {
        let seed = &seeds[i % seeds.len()];
        let text: Vec<&str> = (0..rng.random_range(6..14))
            .map(|_| *sentences.choose(&mut rng).unwrap())
            .collect();
        let region = if i % 20 == 0 {
            "000000"
        } else {
            PROVINCES.choose(&mut rng).unwrap()
        };
        let policy = IndexedPolicy {
            id: format!("p{i}"),
            version: 1,
            title: format!("{}（第{}号）", seed.title, i),
            summary: seed.summary.clone(),
            text: text.join("。"),
            category: *categories.choose(&mut rng).unwrap(),
            region: RegionCode::parse(region).unwrap(),
            issuer: "人社部门".to_owned(),
            doc_number: None,
            issued_on: None,
            effective_from: None,
            effective_until: None,
            tags: seed.tags.clone(),
            audience_tags: vec![],
            locality: 1,
        };
        index.stage_upsert(&policy).expect("the policy is staged");
    }
    index.commit(None).expect("the index commits");
    runtime.block_on(index.settle()).expect("the merges finish");
    println!(
        "indexed {} policies in {:.1} s",
        index.len(),
        started.elapsed().as_secs_f64()
    );

    let jiangsu = vec![
        RegionCode::parse("320115").unwrap(),
        RegionCode::parse("320100").unwrap(),
        RegionCode::parse("320000").unwrap(),
        RegionCode::NATIONAL,
    ];
    let mut timings = Vec::with_capacity(SEARCHES);
    let mut hits = 0usize;
    for i in 0..SEARCHES {
        let query = Query {
            text: Some(QUERIES[i % QUERIES.len()]),
            regions: (i % 2 == 0).then(|| jiangsu.clone()),
            in_force_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 22),
            limit: 20,
            ..Default::default()
        };
        let started = Instant::now();
        let results = index.search(&query);
        timings.push(started.elapsed());
        hits += results.total;
    }
    timings.sort_unstable();
    let micros = |q: f64| timings[((timings.len() as f64 * q) as usize).min(timings.len() - 1)].as_secs_f64() * 1e6;
    let mean = timings.iter().map(|t| t.as_secs_f64()).sum::<f64>() / timings.len() as f64 * 1e6;
    println!(
        "{SEARCHES} searches, {} matches on average: mean {mean:.0} µs, p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        hits / SEARCHES,
        micros(0.5),
        micros(0.99),
        micros(1.0)
    );
}

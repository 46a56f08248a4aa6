use super::*;
use crate::domain::TextType;

fn policy(id: &str, title: &str, text: &str, region: &str) -> IndexedPolicy {
    IndexedPolicy {
        id: id.to_owned(),
        version: 1,
        title: title.to_owned(),
        summary: text.to_owned(),
        text: text.to_owned(),
        category: PolicyCategory::WageRights,
        region: RegionCode::parse(region).unwrap(),
        issuer: "测试".to_owned(),
        doc_number: None,
        issued_on: None,
        effective_from: None,
        effective_until: None,
        tags: vec![],
        audience_tags: vec![],
        locality: 1,
    }
}

fn open_index() -> (tempfile::TempDir, PolicyIndex) {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let index = runtime.block_on(PolicyIndex::open(dir.path())).unwrap();
    (dir, index)
}

fn upsert(index: &PolicyIndex, policy: IndexedPolicy) {
    index.upsert(&policy).unwrap();
}

fn ids(index: &PolicyIndex, text: &str) -> Vec<String> {
    let query = Query {
        text: Some(text),
        limit: 10,
        ..Default::default()
    };
    index
        .search(&query)
        .hits
        .into_iter()
        .map(|h| h.policy.id.clone())
        .collect()
}

#[test]
fn synonyms_find_what_workers_mean() {
    let (_dir, index) = open_index();
    upsert(
        &index,
        policy(
            "wage",
            "根治拖欠农民工工资",
            "建立工资专用账户，治理拖欠工资问题。",
            "320000",
        ),
    );
    upsert(
        &index,
        policy("si", "参加社会保险", "推动农民工参加养老保险和医疗保险。", "320000"),
    );
    upsert(&index, policy("house", "住房保障", "筹集保障性租赁住房。", "450000"));
    assert_eq!(ids(&index, "欠薪"), ["wage"]);
    assert_eq!(ids(&index, "讨薪"), ["wage"]);
    assert_eq!(ids(&index, "社保"), ["si"]);
    assert_eq!(ids(&index, "租房"), ["house"]);
    assert!(ids(&index, "火星移民").is_empty());
}

#[test]
fn a_title_match_ranks_above_a_text_match() {
    let (_dir, index) = open_index();
    upsert(
        &index,
        policy(
            "text",
            "稳定就业",
            "也会提供一些创业服务和就业指导，帮助农民工稳定就业。",
            "320000",
        ),
    );
    upsert(&index, policy("title", "支持返乡创业", "提供政策咨询。", "320000"));
    assert_eq!(ids(&index, "创业"), ["title", "text"]);
}

#[test]
fn replacing_and_removing_keep_the_index_consistent() {
    let (_dir, index) = open_index();
    upsert(
        &index,
        policy("p", "随迁子女入学", "随迁子女可以在打工地上学。", "320000"),
    );
    assert_eq!(ids(&index, "随迁子女"), ["p"]);
    let mut changed = policy("p", "住房保障", "租房补贴。", "320000");
    changed.version = 2;
    upsert(&index, changed);
    assert!(ids(&index, "随迁子女").is_empty());
    assert_eq!(index.version_of("p"), Some(2));
    // The replaced version still lies in its segment, marked dead: neither
    // the page nor the total counts it.
    let mut again = policy("p", "住房保障", "租房补贴，住房保障。", "320000");
    again.version = 3;
    upsert(&index, again);
    let query = Query {
        text: Some("住房"),
        limit: 10,
        ..Default::default()
    };
    let results = index.search(&query);
    assert_eq!((results.total, results.hits.len()), (1, 1));
    let everything = index.search(&Query {
        limit: 10,
        ..Default::default()
    });
    assert_eq!((everything.total, everything.hits.len()), (1, 1));
    assert_eq!(index.version_of("p"), Some(3));
    index.remove("p").unwrap();
    assert!(ids(&index, "租房").is_empty());
    assert!(index.is_empty());
}

#[test]
fn filters_apply_to_regions_and_dates() {
    let (_dir, index) = open_index();
    upsert(&index, policy("js", "江苏欠薪治理", "欠薪", "320000"));
    upsert(&index, policy("gx", "广西欠薪治理", "欠薪", "450000"));
    let mut expired = policy("old", "过期欠薪政策", "欠薪", "320000");
    expired.effective_until = NaiveDate::from_ymd_opt(2020, 1, 1);
    upsert(&index, expired);
    let query = Query {
        text: Some("欠薪"),
        regions: Some(vec![RegionCode::parse("320000").unwrap(), RegionCode::NATIONAL]),
        in_force_on: NaiveDate::from_ymd_opt(2026, 11, 22),
        limit: 10,
        ..Default::default()
    };
    let found: Vec<_> = index.search(&query).hits.iter().map(|h| h.policy.id.clone()).collect();
    assert_eq!(found, ["js"]);
    // Without words every policy matches: the filters alone decide.
    let browsing = Query { text: None, ..query };
    let results = index.search(&browsing);
    assert_eq!(results.total, 1);
    assert_eq!(results.hits[0].policy.id, "js");
    let everything = index.search(&Query {
        limit: 10,
        ..Default::default()
    });
    assert_eq!((everything.total, everything.hits.len()), (3, 3));
}

/// Equal scores are ordered by locality, then region, then issue date, then
/// id, whatever the order policies were indexed in and however they are
/// spread over segments: a page that skips the rest of a tie still holds the
/// first ones, whether the filter lets most policies through (searched by
/// WAND) or few (only the runs of its regions scored).
#[test]
fn ties_are_broken_the_same_on_every_page_however_the_index_was_built() {
    let (_dir, index) = open_index();
    let mut everywhere = Vec::new();
    let mut in_jiangsu = Vec::new();
    // Inserted in an order unrelated to the tie-break, committed in batches,
    // so that the tie is spread over several segments.
    for i in (0..260u32).map(|i| (i * 37) % 260) {
        let region = if i % 13 < 3 { "320000" } else { "450000" };
        let mut tied = policy(
            &format!("{:08x}-0000-4000-8000-{:012x}", (i * 7_919) % 104_729, i),
            "欠薪治理",
            "欠薪",
            region,
        );
        tied.locality = (i % 3) as u8;
        tied.issued_on = NaiveDate::from_ymd_opt(2020 + (i % 4) as i32, 1, 1 + (i % 5));
        let key = (
            std::cmp::Reverse(tied.locality),
            region,
            std::cmp::Reverse(tied.issued_on),
            tied.id.clone(),
        );
        if region == "320000" {
            in_jiangsu.push(key.clone());
        }
        everywhere.push(key);
        index.stage_upsert(&tied).unwrap();
        if i % 29 == 0 {
            index.commit(None).unwrap();
        }
    }
    index.commit(None).unwrap();
    for (regions, mut expected) in [
        (None, everywhere),
        (Some(vec![RegionCode::parse("320000").unwrap()]), in_jiangsu),
    ] {
        expected.sort();
        let expected: Vec<String> = expected.into_iter().map(|(_, _, _, id)| id).collect();
        for (offset, limit) in [(0, 5), (5, 5), (0, 1), (17, 9), (55, 10)] {
            let query = Query {
                text: Some("欠薪"),
                regions: regions.clone(),
                offset,
                limit,
                ..Default::default()
            };
            let results = index.search(&query);
            assert_eq!(results.total, expected.len(), "{regions:?}");
            let found: Vec<String> = results.hits.iter().map(|h| h.policy.id.clone()).collect();
            let end = (offset + limit).min(expected.len());
            assert_eq!(
                found,
                expected[offset.min(end)..end],
                "{regions:?}: page at {offset}, {limit} a page"
            );
        }
    }
}

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
}

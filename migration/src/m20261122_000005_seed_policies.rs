//! The policy library's first entries, from `seed/policies.json` (see
//! data/README.md): the national notice, the Jiangsu measures and the Guangxi
//! targets and actions, published.

use sea_orm_migration::prelude::*;
use serde::Deserialize;

use crate::m20261122_000004_create_policy::Policy;

const POLICIES_JSON: &str = include_str!("../seed/policies.json");
/// Seeded policies get the same ids in every deployment: UUIDv5 of the slug
/// under this namespace.
const SEED_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5d1b_8b3e_4c0f_4a57_9a83_7f2e_61c4_d0a9);

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Deserialize)]
struct Seed {
    slug: String,
    parent_slug: Option<String>,
    title: String,
    summary: String,
    body: String,
    category: String,
    region_code: String,
    issuer: String,
    doc_number: Option<String>,
    issued_on: Option<String>,
    effective_from: Option<String>,
    effective_until: Option<String>,
    source_url: Option<String>,
    tags: Vec<String>,
    audience_tags: Vec<String>,
}

fn seed_id(slug: &str) -> String {
    uuid::Uuid::new_v5(&SEED_NAMESPACE, slug.as_bytes()).to_string()
}

fn date(text: &Option<String>) -> Result<Option<sea_orm::prelude::Date>, DbErr> {
    text.as_deref()
        .map(|t| {
            sea_orm::prelude::Date::parse_from_str(t, "%Y-%m-%d")
                .map_err(|_| DbErr::Migration(format!("policies.json: bad date {t}")))
        })
        .transpose()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let seeds: Vec<Seed> =
            serde_json::from_str(POLICIES_JSON).map_err(|e| DbErr::Migration(format!("policies.json: {e}")))?;
        let now = sea_orm::prelude::ChronoUtc::now();
        // Parents first, so the parent foreign key holds after every row.
        let (roots, children): (Vec<&Seed>, Vec<&Seed>) = seeds.iter().partition(|s| s.parent_slug.is_none());
        for seed in roots.into_iter().chain(children) {
            let insert = Query::insert()
                .into_table(Policy::Table)
                .columns([
                    Policy::Id,
                    Policy::Slug,
                    Policy::ParentId,
                    Policy::Title,
                    Policy::Summary,
                    Policy::Body,
                    Policy::Category,
                    Policy::RegionCode,
                    Policy::Issuer,
                    Policy::DocNumber,
                    Policy::IssuedOn,
                    Policy::EffectiveFrom,
                    Policy::EffectiveUntil,
                    Policy::SourceUrl,
                    Policy::Tags,
                    Policy::AudienceTags,
                    Policy::Status,
                    Policy::Version,
                    Policy::CreatedAt,
                    Policy::UpdatedAt,
                    Policy::PublishedAt,
                ])
                .values_panic([
                    seed_id(&seed.slug).into(),
                    seed.slug.clone().into(),
                    seed.parent_slug.as_deref().map(seed_id).into(),
                    seed.title.clone().into(),
                    seed.summary.clone().into(),
                    seed.body.clone().into(),
                    seed.category.clone().into(),
                    seed.region_code.clone().into(),
                    seed.issuer.clone().into(),
                    seed.doc_number.clone().into(),
                    date(&seed.issued_on)?.into(),
                    date(&seed.effective_from)?.into(),
                    date(&seed.effective_until)?.into(),
                    seed.source_url.clone().into(),
                    serde_json::to_string(&seed.tags).expect("strings serialize").into(),
                    serde_json::to_string(&seed.audience_tags)
                        .expect("strings serialize")
                        .into(),
                    "published".into(),
                    1i32.into(),
                    now.into(),
                    now.into(),
                    now.into(),
                ])
                .to_owned();
            manager.exec_stmt(insert).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(Policy::Table)
                    .and_where(Expr::col(Policy::Slug).is_not_null())
                    .to_owned(),
            )
            .await
    }
}

use sea_orm::entity::prelude::*;

/// An unpaid-wage report (欠薪线索).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wage_report")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// e.g. QX-320115-20261122-000045
    #[sea_orm(unique)]
    pub report_no: String,
    pub worker_id: String,
    pub employer_name: String,
    /// The credit code, or the normalised name when there is none: what the
    /// early warnings group by.
    pub employer_key: String,
    pub credit_code: Option<String>,
    pub project_name: Option<String>,
    /// The queue the report is in (the work region, or where it was transferred).
    pub region_code: String,
    pub sector: String,
    pub amount_owed_fen: i64,
    pub owed_from: Date,
    pub owed_to: Date,
    pub workers_affected: i32,
    pub description: String,
    pub contact_phone_cipher: Option<String>,
    pub status: String,
    pub accept_deadline: Date,
    pub close_deadline: Option<Date>,
    /// The close deadline was extended (once only).
    pub extended: bool,
    pub amount_recovered_fen: Option<i64>,
    pub workers_paid: Option<i32>,
    /// Why it was closed or refused.
    pub outcome: Option<String>,
    pub version: i32,
    pub accepted_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Accepted after its accept deadline (set when accepted).
    pub accepted_late: Option<bool>,
    /// When its personal data was removed under the retention policy.
    pub anonymised_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

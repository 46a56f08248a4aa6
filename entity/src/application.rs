use sea_orm::entity::prelude::*;

/// A worker's application to a program.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// e.g. SB-450100-20261122-000123
    #[sea_orm(unique)]
    pub application_no: String,
    pub program_id: String,
    /// Empty while a case filed at a service window waits for its worker.
    pub worker_id: Option<String>,
    pub period: String,
    /// Where the case is reviewed.
    pub region_code: String,
    pub status: String,
    /// JSON object of the program's form fields.
    pub answers: String,
    pub requested_amount_fen: Option<i64>,
    pub approved_amount_fen: Option<i64>,
    pub disbursed_amount_fen: Option<i64>,
    pub disbursement_reference: Option<String>,
    /// The account the disbursement paid, masked, and its bank.
    pub payee_account_masked: Option<String>,
    pub payee_bank_name: Option<String>,
    pub version: i32,
    pub submitted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When its personal data was removed under the retention policy.
    pub anonymised_at: Option<DateTimeUtc>,
    /// The electronic certificate (电子证照) the application carries.
    pub certificate_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

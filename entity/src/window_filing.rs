use sea_orm::entity::prelude::*;

/// How an application was filed at a service window (窗口代办), and the
/// person as the window recorded them until their account joins the case.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "window_filing")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub application_id: String,
    pub staff_id: String,
    pub window_name: String,
    /// The staff member's region when filing.
    pub region_code: String,
    /// `id_card_reader`, `id_card_visual` or `face_check`.
    pub identity_check: String,
    /// `signed_form` or `phone_code`.
    pub consent_kind: String,
    pub consent_upload_id: Option<String>,
    /// The person as recorded; emptied once their account joins the case.
    pub applicant_name: Option<String>,
    pub id_number_cipher: Option<String>,
    pub id_number_hash: String,
    pub phone_cipher: Option<String>,
    pub phone_hash: Option<String>,
    pub hukou_type: Option<String>,
    pub residence_region_code: Option<String>,
    pub work_region_code: Option<String>,
    pub claim_code_hash: Option<String>,
    pub claim_expires_at: Option<DateTimeUtc>,
    pub linked_at: Option<DateTimeUtc>,
    /// What proved the case the worker's: `claim_code`, `phone`, `verified_identity`.
    pub link_evidence: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

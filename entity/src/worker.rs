use sea_orm::entity::prelude::*;

/// A migrant worker signed in through the mini-program. ID and phone numbers
/// are stored only encrypted, with a keyed hash for exact lookups.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "worker")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub openid: String,
    pub unionid: Option<String>,
    pub real_name: Option<String>,
    pub id_number_cipher: Option<String>,
    #[sea_orm(unique)]
    pub id_number_hash: Option<String>,
    pub phone_cipher: Option<String>,
    pub phone_hash: Option<String>,
    pub hukou_region_code: Option<String>,
    pub hukou_type: Option<String>,
    pub residence_region_code: Option<String>,
    pub work_region_code: Option<String>,
    pub consent_version: Option<String>,
    pub consented_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    /// When the ID number was proven (an identity check, or a case linked
    /// with an agency's evidence); a proven number is never released.
    pub id_verified_at: Option<DateTimeUtc>,
    /// When the worker closed the account; its personal data is gone and
    /// `openid` no longer names a WeChat user.
    pub closed_at: Option<DateTimeUtc>,
    /// Where subsidies are paid: `bank_card` or `social_security_card`
    /// (its financial account), the bank, the number (encrypted, and
    /// masked for display), and the consent under which it was given.
    pub payee_kind: Option<String>,
    pub payee_bank_name: Option<String>,
    pub payee_account_cipher: Option<String>,
    pub payee_account_masked: Option<String>,
    pub payee_consent_version: Option<String>,
    pub payee_updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

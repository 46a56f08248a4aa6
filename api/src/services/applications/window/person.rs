//! The person a service window filed for, as the window recorded them:
//! what the rules read (birth date, household registration, where they live
//! and work) and what reviewers see (name, ID number, phone). Kept only
//! until the person's account joins the case; from then on their profile
//! speaks for them, and the recorded copy is emptied.

use entity::window_filing;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::{
    domain::{HukouType, IdNumber, PhoneNumber, RegionCode, TextType},
    error::{AppError, AppResult},
    infra::crypto::{DataProtector, Field},
    services::{applications::read::ApplicantInClear, programs::rules::Facts},
};

/// The person as the staff member recorded them from the ID card and asked.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub id_number: IdNumber,
    pub phone: PhoneNumber,
    pub hukou_type: Option<HukouType>,
    pub residence: Option<RegionCode>,
    pub work: Option<RegionCode>,
}

impl Person {
    /// What the eligibility rules know of them.
    pub fn facts(&self) -> Facts<'static> {
        Facts {
            birth_date: Some(self.id_number.birth_date()),
            hukou_type: self.hukou_type,
            residence: self.residence,
            work: self.work,
            ..Facts::default()
        }
    }
}

fn region(code: &Option<String>) -> Option<RegionCode> {
    code.as_deref().and_then(|c| RegionCode::parse(c).ok())
}

async fn recorded(db: &impl ConnectionTrait, application_id: &str) -> AppResult<window_filing::Model> {
    window_filing::Entity::find_by_id(application_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "application {application_id} has no worker and no filing"
            ))
        })
}

/// The facts of a case no account has joined yet.
pub async fn facts(
    db: &impl ConnectionTrait,
    protector: &DataProtector,
    application_id: &str,
) -> AppResult<Facts<'static>> {
    let row = recorded(db, application_id).await?;
    let birth_date = row
        .id_number_cipher
        .as_deref()
        .and_then(|sealed| {
            protector
                .decrypt(Field::WindowIdNumber, &row.application_id, sealed)
                .ok()
        })
        .and_then(|plain| IdNumber::parse(&plain).ok())
        .map(|id| id.birth_date());
    Ok(Facts {
        birth_date,
        hukou_type: row.hukou_type.as_deref().and_then(HukouType::parse),
        residence: region(&row.residence_region_code),
        work: region(&row.work_region_code),
        ..Facts::default()
    })
}

/// The applicant of a case no account has joined yet, decrypted.
pub async fn applicant(
    db: &impl ConnectionTrait,
    protector: &DataProtector,
    application_id: &str,
) -> AppResult<ApplicantInClear> {
    let row = recorded(db, application_id).await?;
    let clear = |field, cipher: &Option<String>| {
        cipher
            .as_deref()
            .and_then(|sealed| protector.decrypt(field, &row.application_id, sealed).ok())
    };
    Ok(ApplicantInClear {
        id_number: clear(Field::WindowIdNumber, &row.id_number_cipher),
        phone: clear(Field::WindowPhone, &row.phone_cipher),
        name: row.applicant_name.clone(),
    })
}

/// The columns of the recorded person, to empty once the case is linked or
/// its personal data is removed. The ID number's keyed hash stays: it names
/// nobody without the lookup key, as on an agency's case.
pub fn forgotten() -> window_filing::ActiveModel {
    window_filing::ActiveModel {
        applicant_name: Set(None),
        id_number_cipher: Set(None),
        phone_cipher: Set(None),
        phone_hash: Set(None),
        hukou_type: Set(None),
        residence_region_code: Set(None),
        work_region_code: Set(None),
        claim_code_hash: Set(None),
        claim_expires_at: Set(None),
        ..Default::default()
    }
}

/// Empties the recorded person of one case (retention, account closure).
pub async fn forget(db: &impl ConnectionTrait, application_id: &str) -> AppResult<()> {
    window_filing::Entity::update_many()
        .set(forgotten())
        .filter(window_filing::Column::ApplicationId.eq(application_id))
        .exec(db)
        .await?;
    Ok(())
}

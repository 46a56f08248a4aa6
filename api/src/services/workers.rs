//! Migrant workers: sign-in through WeChat, the profile with its protected
//! personal data, and the phone number bound through WeChat.

use chrono::Utc;
use entity::{application, si_transfer, wage_report, worker};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, SqlErr,
};
use serde_json::json;

use crate::{
    access,
    auth::{Audience, Principal, Role, sessions::Issued},
    context::RequestContext,
    domain::{HukouType, IdNumber, PhoneNumber, RegionCode, TextType},
    error::{AppError, AppResult, ErrorCode, Localized},
    infra::{
        crypto::{DataProtector, Field, Purpose},
        identity::{IdentityClaim, Verdict},
        wechat::WechatError,
    },
    services::{
        audit::{self, Actor, Event, Outcome},
        programs::rules::Facts,
    },
    state::AppState,
};

/// The version of the personal-data notice (《个人信息保护说明》) a worker must
/// accept before giving an ID number. Raise it when the notice changes.
pub const CONSENT_VERSION: &str = "2026-11";
const SESSION_KEY_TTL: std::time::Duration = std::time::Duration::from_secs(3 * 24 * 3600);
const MAX_NAME_CHARS: usize = 32;

impl From<WechatError> for AppError {
    fn from(error: WechatError) -> Self {
        match error {
            WechatError::InvalidCode => AppError::new(ErrorCode::WechatCodeInvalid),
            WechatError::ForeignApp => AppError::new(ErrorCode::WechatCodeInvalid).with_message(Localized::fixed(
                "这个手机号授权不是本小程序发出的，请重新授权。",
                "The phone-number code was issued to another app.",
            )),
            WechatError::RateLimited => AppError::new(ErrorCode::WechatRateLimited),
            WechatError::RiskyUser => AppError::new(ErrorCode::WechatRiskyUser),
            WechatError::Unavailable(reason) => AppError {
                source: Some(anyhow::anyhow!("WeChat: {reason}")),
                ..AppError::new(ErrorCode::WechatUnavailable)
            },
        }
    }
}

/// A worker's profile as the worker sees it: personal data masked.
#[derive(Debug, Clone)]
pub struct Profile {
    pub id: String,
    pub real_name: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub hukou_region_code: Option<RegionCode>,
    pub hukou_type: Option<HukouType>,
    pub residence_region_code: Option<RegionCode>,
    pub work_region_code: Option<RegionCode>,
    pub consent_version: Option<String>,
    /// The ID number was proven: an identity check, or a case linked with
    /// an agency's claim code or recorded phone.
    pub id_number_proven: bool,
    pub created_at: chrono::DateTime<Utc>,
}

/// What a profile update may change; fields left out keep their value.
#[derive(Debug, Default)]
pub struct ProfileChange {
    pub real_name: Option<String>,
    pub id_number: Option<IdNumber>,
    pub hukou_region_code: Option<RegionCode>,
    pub hukou_type: Option<HukouType>,
    pub residence_region_code: Option<RegionCode>,
    pub work_region_code: Option<RegionCode>,
    pub consent_version: Option<String>,
}

fn stored_region(code: &Option<String>) -> Option<RegionCode> {
    code.as_deref().and_then(|c| RegionCode::parse(c).ok())
}

/// The profile of a stored worker, personal data decrypted only to be masked.
fn profile_of(protector: &DataProtector, row: &worker::Model) -> Profile {
    let masked = |field, cipher: &Option<String>, mask: fn(&str) -> Option<String>| {
        cipher
            .as_deref()
            .and_then(|c| protector.decrypt(field, &row.id, c).ok())
            .and_then(|plain| mask(&plain))
    };
    Profile {
        id: row.id.clone(),
        real_name: row.real_name.clone(),
        id_number_masked: masked(Field::WorkerIdNumber, &row.id_number_cipher, |p| {
            IdNumber::parse(p).ok().map(|id| id.masked())
        }),
        phone_masked: masked(Field::WorkerPhone, &row.phone_cipher, |p| {
            PhoneNumber::parse(p).ok().map(|phone| phone.masked())
        }),
        hukou_region_code: stored_region(&row.hukou_region_code),
        hukou_type: row.hukou_type.as_deref().and_then(HukouType::parse),
        residence_region_code: stored_region(&row.residence_region_code),
        work_region_code: stored_region(&row.work_region_code),
        consent_version: row.consent_version.clone(),
        id_number_proven: row.id_verified_at.is_some(),
        created_at: row.created_at,
    }
}

async fn find_or_create(db: &DatabaseConnection, openid: &str, unionid: Option<String>) -> AppResult<worker::Model> {
    let now = Utc::now();
    let existing = worker::Entity::find()
        .filter(worker::Column::Openid.eq(openid))
        .one(db)
        .await?;
    let row = match existing {
        Some(row) => row,
        None => {
            let fresh = worker::ActiveModel {
                id: Set(uuid::Uuid::new_v4().to_string()),
                openid: Set(openid.to_owned()),
                unionid: Set(unionid.clone()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
            match fresh.insert(db).await {
                Ok(row) => row,
                // Two first logins of one user raced; the other one created the row.
                Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    worker::Entity::find()
                        .filter(worker::Column::Openid.eq(openid))
                        .one(db)
                        .await?
                        .ok_or_else(|| AppError::internal(err))?
                }
                Err(err) => return Err(err.into()),
            }
        }
    };
    let mut active = row.into_active_model();
    active.last_login_at = Set(Some(now));
    if unionid.is_some() {
        active.unionid = Set(unionid);
    }
    Ok(active.update(db).await?)
}

/// Signs a worker in; answers the tokens, the profile and who signed in.
pub async fn login(state: &AppState, request: &RequestContext, code: &str) -> AppResult<(Issued, Profile, Principal)> {
    let session = match state.wechat.code_to_session(code).await {
        Ok(session) => session,
        Err(error) => {
            let error = AppError::from(error);
            audit::record(
                &state.db,
                Some(request),
                Event {
                    actor: Actor::Anonymous { claimed: None },
                    action: "worker.login",
                    target: None,
                    region: None,
                    outcome: Outcome::Failure,
                    details: Some(json!({ "reason": error.code.as_str() })),
                },
            )
            .await?;
            return Err(error);
        }
    };
    let row = find_or_create(&state.db, &session.openid, session.unionid.clone()).await?;
    state
        .store
        .set(
            &format!("wechat:session_key:{}", row.id),
            secrecy::ExposeSecret::expose_secret(&session.session_key),
            SESSION_KEY_TTL,
        )
        .await?;
    let (principal, issued) = state
        .sessions
        .open(Principal {
            audience: Audience::Worker,
            subject: row.id.clone(),
            session_id: String::new(),
            roles: Vec::new(),
            region: None,
            scopes: Vec::new(),
            acting: None,
        })
        .await?;
    let login = Event::success(&principal, "worker.login", ("worker", &row.id), None, None);
    audit::record(&state.db, Some(request), login).await?;
    Ok((issued, profile_of(&state.protector, &row), principal))
}

async fn load(db: &impl sea_orm::ConnectionTrait, worker_id: &str) -> AppResult<worker::Model> {
    worker::Entity::find_by_id(worker_id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::SessionEnded))
}

/// What the eligibility rules know of a worker from the profile.
pub async fn facts(state: &AppState, worker_id: &str) -> AppResult<Facts<'static>> {
    let row = load(&state.db, worker_id).await?;
    Ok(facts_of(&state.protector, &row))
}

/// What the eligibility rules know of a stored worker: the birth date from
/// the ID number (decrypted here and nowhere kept), hukou type and regions.
/// Matching reads many rows at once and asks this of each.
pub fn facts_of(protector: &DataProtector, row: &worker::Model) -> Facts<'static> {
    let birth_date = row
        .id_number_cipher
        .as_deref()
        .and_then(|cipher| protector.decrypt(Field::WorkerIdNumber, &row.id, cipher).ok())
        .and_then(|plain| IdNumber::parse(&plain).ok())
        .map(|id| id.birth_date());
    Facts {
        birth_date,
        hukou_type: row.hukou_type.as_deref().and_then(HukouType::parse),
        residence: stored_region(&row.residence_region_code),
        work: stored_region(&row.work_region_code),
        ..Facts::default()
    }
}

pub async fn profile(state: &AppState, worker_id: &str) -> AppResult<Profile> {
    Ok(profile_of(&state.protector, &load(&state.db, worker_id).await?))
}

/// True when the worker's ID number carries weight beyond their own
/// profile: it was proven, or cases stand on it (applications, transfers,
/// wage reports). Such a number is not the worker's alone to change.
async fn number_is_settled(db: &impl ConnectionTrait, row: &worker::Model) -> AppResult<bool> {
    if row.id_verified_at.is_some() {
        return Ok(true);
    }
    let applications = application::Entity::find()
        .filter(application::Column::WorkerId.eq(&row.id))
        .count(db)
        .await?;
    let transfers = si_transfer::Entity::find()
        .filter(si_transfer::Column::WorkerId.eq(&row.id))
        .count(db)
        .await?;
    let reports = wage_report::Entity::find()
        .filter(wage_report::Column::WorkerId.eq(&row.id))
        .count(db)
        .await?;
    Ok(applications + transfers + reports > 0)
}

/// Checks that the worker is the person the profile's name and ID number
/// belong to (人脸核身 / 实名核验, through `IdentityVerifier`); when the check
/// confirms it, the number is proven: every case agencies open for it joins
/// the account, and it is never released. Audited either way.
pub async fn verify_identity(
    state: &AppState,
    request: &RequestContext,
    principal: &Principal,
    result_token: &str,
) -> AppResult<Profile> {
    let verifier = state
        .identity
        .as_ref()
        .ok_or_else(|| AppError::new(ErrorCode::IdentityCheckUnavailable))?;
    let row = load(&state.db, &principal.subject).await?;
    let id_number = row
        .id_number_cipher
        .as_deref()
        .and_then(|cipher| state.protector.decrypt(Field::WorkerIdNumber, &row.id, cipher).ok())
        .and_then(|plain| IdNumber::parse(&plain).ok());
    let (Some(real_name), Some(id_number)) = (row.real_name.as_deref(), id_number) else {
        let missing: Vec<&str> = [
            ("real_name", row.real_name.is_none()),
            ("id_number", row.id_number_cipher.is_none()),
        ]
        .into_iter()
        .filter_map(|(field, absent)| absent.then_some(field))
        .collect();
        return Err(AppError::new(ErrorCode::ProfileIncomplete).with_details(json!({ "missing": missing })));
    };
    let claim = IdentityClaim {
        real_name,
        id_number: &id_number,
        result_token,
    };
    let verdict = verifier.verify(&claim).await.map_err(|error| AppError {
        source: Some(error.into()),
        ..AppError::new(ErrorCode::IdentityCheckUnavailable)
    })?;
    let confirmed = verdict == Verdict::Confirmed;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let row = if confirmed {
        let mut active = load(&transaction, &principal.subject).await?.into_active_model();
        active.id_verified_at = Set(Some(Utc::now()));
        active.updated_at = Set(Utc::now());
        active.update(&transaction).await?
    } else {
        row
    };
    audit::record(
        &transaction,
        Some(request),
        Event {
            actor: Actor::Principal(principal),
            action: "worker.identity.verify",
            target: Some(("worker", &row.id)),
            region: None,
            outcome: if confirmed { Outcome::Success } else { Outcome::Failure },
            details: None,
        },
    )
    .await?;
    transaction.commit().await?;
    if !confirmed {
        return Err(AppError::new(ErrorCode::IdentityCheckFailed));
    }
    Ok(profile_of(&state.protector, &row))
}

/// Why staff release an ID number from an account.
pub struct Release {
    pub id_number: IdNumber,
    pub reason: String,
}

/// Staff take an ID number away from the account holding it, when that
/// account never proved it (a squatter, or a typing mistake that cases now
/// stand on), so that its owner can set it. An administrator of the region
/// the number was issued in (its first six digits) decides; the release is
/// audited with the reason. The account keeps its cases.
pub async fn release_id_number(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    release: Release,
) -> AppResult<()> {
    access::require_role(staff, Role::Admin)?;
    let issued_in = RegionCode::parse(&release.id_number.as_str()[..6])
        .map_err(|_| AppError::invalid_field("id_number", ErrorCode::RegionNotFound.default_message()))?;
    access::require_region(&state.regions, staff, issued_in)?;
    let hashes = state
        .protector
        .lookup_hashes(Purpose::IdNumber, release.id_number.as_str());
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let holder = worker::Entity::find()
        .filter(worker::Column::IdNumberHash.is_in(hashes))
        .one(&transaction)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    if holder.id_verified_at.is_some() {
        return Err(AppError::new(ErrorCode::IdNumberProven));
    }
    let mut active = holder.clone().into_active_model();
    active.id_number_cipher = Set(None);
    active.id_number_hash = Set(None);
    active.updated_at = Set(Utc::now());
    active.update(&transaction).await?;
    audit::record(
        &transaction,
        Some(request),
        Event {
            actor: Actor::Principal(staff),
            action: "worker.id_number.release",
            target: Some(("worker", &holder.id)),
            region: Some(issued_in),
            outcome: Outcome::Success,
            details: Some(json!({ "reason": release.reason })),
        },
    )
    .await?;
    transaction.commit().await?;
    Ok(())
}

fn clean_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    let length = name.chars().count();
    if length == 0 || length > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AppError::invalid_field(
            "real_name",
            Localized::fixed(
                "请填写真实姓名（不超过32个字）。",
                "Give your real name (at most 32 characters).",
            ),
        ));
    }
    Ok(name.to_owned())
}

/// The regions exist, the consent is to the current notice, the name is
/// clean: checked before the transaction. Returns the cleaned name.
fn check_change(state: &AppState, change: &ProfileChange) -> AppResult<Option<String>> {
    for (field, code) in [
        ("hukou_region_code", change.hukou_region_code),
        ("residence_region_code", change.residence_region_code),
        ("work_region_code", change.work_region_code),
    ] {
        if let Some(code) = code
            && state.regions.get(code).is_none()
        {
            return Err(AppError::invalid_field(
                field,
                ErrorCode::RegionNotFound.default_message(),
            ));
        }
    }
    if let Some(version) = &change.consent_version
        && version != CONSENT_VERSION
    {
        return Err(
            AppError::new(ErrorCode::ConsentRequired).with_details(json!({ "current_version": CONSENT_VERSION }))
        );
    }
    change.real_name.as_deref().map(clean_name).transpose()
}

/// 409 `ID_NUMBER_IN_USE` when another account holds the number.
async fn ensure_number_free(
    state: &AppState,
    transaction: &sea_orm::DatabaseTransaction,
    worker_id: &str,
    id_number: &IdNumber,
) -> AppResult<()> {
    // The unique index sees only the active key's hash: during a key
    // rotation another account may hold the number under an older one.
    let held_elsewhere = worker::Entity::find()
        .filter(
            worker::Column::IdNumberHash.is_in(state.protector.lookup_hashes(Purpose::IdNumber, id_number.as_str())),
        )
        .filter(worker::Column::Id.ne(worker_id))
        .one(transaction)
        .await?;
    if held_elsewhere.is_some() {
        return Err(AppError::new(ErrorCode::IdNumberInUse));
    }
    Ok(())
}

/// The regions and hukou type the change gives, noting each in `changed`.
fn set_places(active: &mut worker::ActiveModel, change: &ProfileChange, changed: &mut Vec<&str>) {
    let regions = [
        (
            change.hukou_region_code,
            &mut active.hukou_region_code,
            "hukou_region_code",
        ),
        (
            change.residence_region_code,
            &mut active.residence_region_code,
            "residence_region_code",
        ),
        (
            change.work_region_code,
            &mut active.work_region_code,
            "work_region_code",
        ),
    ];
    for (code, column, name) in regions {
        if let Some(code) = code {
            *column = Set(Some(code.as_str().to_owned()));
            changed.push(name);
        }
    }
    if let Some(hukou_type) = change.hukou_type {
        active.hukou_type = Set(Some(hukou_type.as_str().to_owned()));
        changed.push("hukou_type");
    }
}

pub async fn update_profile(
    state: &AppState,
    request: &RequestContext,
    principal: &Principal,
    change: ProfileChange,
) -> AppResult<Profile> {
    let real_name = check_change(state, &change)?;

    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let row = load(&transaction, &principal.subject).await?;
    let consented = change.consent_version.is_some() || row.consent_version.as_deref() == Some(CONSENT_VERSION);
    // The stored hash may be under an older lookup key: the same number is
    // no replacement whichever key hashed it.
    let replaces_number = match (&row.id_number_hash, &change.id_number) {
        (Some(stored), Some(id)) => !state
            .protector
            .lookup_hashes(Purpose::IdNumber, id.as_str())
            .contains(stored),
        _ => false,
    };
    if replaces_number && number_is_settled(&transaction, &row).await? {
        return Err(AppError::new(ErrorCode::IdNumberLocked));
    }
    let mut changed: Vec<&str> = Vec::new();
    let mut active = row.into_active_model();
    if let Some(id_number) = &change.id_number {
        if !consented {
            return Err(
                AppError::new(ErrorCode::ConsentRequired).with_details(json!({ "current_version": CONSENT_VERSION }))
            );
        }
        ensure_number_free(state, &transaction, &principal.subject, id_number).await?;
        active.id_number_cipher = Set(Some(state.protector.encrypt(
            Field::WorkerIdNumber,
            &principal.subject,
            id_number.as_str(),
        )));
        active.id_number_hash = Set(Some(state.protector.lookup_hash(Purpose::IdNumber, id_number.as_str())));
        changed.push("id_number");
    }
    if let Some(version) = change.consent_version.clone() {
        active.consent_version = Set(Some(version));
        active.consented_at = Set(Some(Utc::now()));
        changed.push("consent_version");
    }
    if let Some(name) = real_name {
        active.real_name = Set(Some(name));
        changed.push("real_name");
    }
    set_places(&mut active, &change, &mut changed);
    active.updated_at = Set(Utc::now());
    let row = match active.update(&transaction).await {
        Ok(row) => row,
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(AppError::new(ErrorCode::IdNumberInUse));
        }
        Err(err) => return Err(err.into()),
    };
    audit::record(
        &transaction,
        Some(request),
        Event {
            actor: Actor::Principal(principal),
            action: "worker.profile.update",
            target: Some(("worker", &row.id)),
            region: None,
            outcome: Outcome::Success,
            details: Some(json!({ "fields": changed })),
        },
    )
    .await?;
    transaction.commit().await?;
    Ok(profile_of(&state.protector, &row))
}

pub async fn bind_phone(
    state: &AppState,
    request: &RequestContext,
    principal: &Principal,
    code: &str,
) -> AppResult<Profile> {
    let phone = state.wechat.phone_number(code).await?;
    let transaction = crate::infra::db::begin_write(&state.db).await?;
    let mut active = load(&transaction, &principal.subject).await?.into_active_model();
    active.phone_cipher = Set(Some(state.protector.encrypt(
        Field::WorkerPhone,
        &principal.subject,
        phone.as_str(),
    )));
    active.phone_hash = Set(Some(state.protector.lookup_hash(Purpose::Phone, phone.as_str())));
    active.updated_at = Set(Utc::now());
    let row = active.update(&transaction).await?;
    audit::record(
        &transaction,
        Some(request),
        Event {
            actor: Actor::Principal(principal),
            action: "worker.phone.bind",
            target: Some(("worker", &row.id)),
            region: None,
            outcome: Outcome::Success,
            details: None,
        },
    )
    .await?;
    transaction.commit().await?;
    Ok(profile_of(&state.protector, &row))
}

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    auth::{password::PasswordPool, sessions::Sessions},
    config::Config,
    infra::{
        certificates::CertificateProvider, crypto::DataProtector, files::FileStore, identity::IdentityVerifier,
        store::KeyValueStore, wechat::WechatClient,
    },
    regions::RegionDirectory,
    services::{
        calendar::CalendarCache,
        export_slots::ExportSlots,
        policies::{answers::SearchAnswers, index::PolicyIndex},
    },
};

/// What every request may use; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    /// Where reads that tolerate a replica's lag go: statistics and
    /// exports. The primary itself when no replica is configured.
    pub replica: DatabaseConnection,
    pub store: Arc<dyn KeyValueStore>,
    pub regions: Arc<RegionDirectory>,
    pub sessions: Arc<Sessions>,
    pub protector: Arc<DataProtector>,
    pub wechat: Arc<WechatClient>,
    /// None when identity checks are off.
    pub identity: Option<Arc<dyn IdentityVerifier>>,
    /// None when electronic certificates are off.
    pub certificates: Option<Arc<dyn CertificateProvider>>,
    pub policies: Arc<PolicyIndex>,
    pub policy_answers: Arc<SearchAnswers>,
    pub files: Arc<dyn FileStore>,
    pub exports: ExportSlots,
    /// Every argon2 hash and verification runs here.
    pub passwords: Arc<PasswordPool>,
    pub calendars: Arc<CalendarCache>,
}

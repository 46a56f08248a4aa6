//! HTTP handlers: extract, validate, call a service, map to a DTO. No rules here.

pub mod admin;
pub mod applications;
pub mod auth;
pub mod exports;
pub mod health;
pub mod identity;
pub mod integrations;
pub mod me;
pub mod policies;
pub mod programs;
pub mod regions;
pub mod stats;
pub mod transfers;
pub mod uploads;
pub mod wage_reports;

use poem_openapi::{
    Object, Tags,
    types::{ParseFromJSON, ToJSON, Type},
};

use crate::error::{AppError, AppResult, ErrorCode};

#[derive(Tags)]
pub enum ApiTags {
    /// Liveness, readiness and metrics, for operators and load balancers.
    Operations,
    /// China's administrative divisions (GB/T 2260).
    Regions,
    /// Signing in and out: workers (WeChat), staff (password), integrators (client credentials).
    Auth,
    /// The signed-in worker's own profile.
    Me,
    /// Staff accounts and integrator clients, for administrators.
    Administration,
    /// For third-party systems (social-insurance agencies, county platforms).
    Integrations,
    /// The policy library: search for workers, editing for policy editors.
    Policies,
    /// Subsidy programs: what each region offers, who qualifies, how much.
    Programs,
    /// Subsidy applications: workers apply, reviewers decide, finance pays.
    Applications,
    /// Documents workers upload for their applications.
    Uploads,
    /// Social-insurance transfers (社保关系转移接续), step by step.
    SiTransfers,
    /// Unpaid-wage reports (欠薪线索) and the inspectors' work on them.
    WageReports,
    /// Figures for the programme office.
    Statistics,
}

/// The API as one tuple of resource groups.
pub type Apis = (
    health::HealthApi,
    regions::RegionApi,
    auth::AuthApi,
    me::MeApi,
    admin::AdminApi,
    identity::IdentityAdminApi,
    integrations::IntegrationsApi,
    policies::PolicyApi,
    programs::ProgramApi,
    applications::ApplicationApi,
    uploads::UploadApi,
    transfers::TransferApi,
    transfers::TransferIntegrationApi,
    wage_reports::WageReportApi,
    stats::StatsApi,
    exports::ExportApi,
);

pub fn apis() -> Apis {
    (
        health::HealthApi,
        regions::RegionApi,
        auth::AuthApi,
        me::MeApi,
        admin::AdminApi,
        identity::IdentityAdminApi,
        integrations::IntegrationsApi,
        policies::PolicyApi,
        programs::ProgramApi,
        applications::ApplicationApi,
        uploads::UploadApi,
        transfers::TransferApi,
        transfers::TransferIntegrationApi,
        wage_reports::WageReportApi,
        stats::StatsApi,
        exports::ExportApi,
    )
}

pub fn first_page() -> u32 {
    1
}

pub fn default_page_size() -> u32 {
    DEFAULT_PAGE_SIZE
}

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;

/// How deep a list pages: its pages reach the first 10,000 rows. A deeper
/// page makes the database step over every row before it; narrower filters
/// reach the same rows for the cost of page 1.
pub const MAX_PAGED_ROWS: u64 = 10_000;

/// The check every paged list makes of its `page` and `page_size` before it
/// queries (their single ranges are in each route's validators).
pub fn check_page(page: u32, page_size: u32) -> AppResult<()> {
    if u64::from(page) * u64::from(page_size) > MAX_PAGED_ROWS {
        return Err(AppError::new(ErrorCode::PageTooDeep).with_details(serde_json::json!({
            "max_rows": MAX_PAGED_ROWS,
            "page": page,
            "page_size": page_size,
        })));
    }
    Ok(())
}

/// One page of a list.
#[derive(Debug, Object)]
pub struct Page<T: Type + ParseFromJSON + ToJSON> {
    pub items: Vec<T>,
    /// How many items match, over all pages.
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

impl<T: Type + ParseFromJSON + ToJSON> Page<T> {
    /// Cuts one page out of a list already held in memory.
    pub fn slice<S>(all: &[S], page: u32, page_size: u32, map: impl Fn(&S) -> T) -> Self {
        let start = (page.saturating_sub(1) as usize).saturating_mul(page_size as usize);
        Page {
            items: all.iter().skip(start).take(page_size as usize).map(map).collect(),
            total: all.len() as u64,
            page,
            page_size,
        }
    }

    /// A page the service has already cut, with how many match in all.
    pub fn of<S>(items: Vec<S>, total: u64, page: u32, page_size: u32, map: impl FnMut(S) -> T) -> Self {
        Page {
            items: items.into_iter().map(map).collect(),
            total,
            page,
            page_size,
        }
    }
}

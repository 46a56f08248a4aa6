//! HTTP handlers: extract, validate, call a service, map to a DTO. No rules here.

pub mod admin;
pub mod applications;
pub mod auth;
pub mod certificates;
pub mod complaints;
mod examples;
pub mod exports;
pub mod follow_ups;
pub mod health;
pub mod identity;
pub mod integrations;
pub mod me;
pub mod notifications;
pub mod payees;
pub mod payments;
pub mod personal_data;
pub mod policies;
pub mod programs;
pub mod ratings;
pub mod recommendations;
pub mod regions;
pub mod relatives;
pub mod stats;
pub mod transfers;
pub mod uploads;
pub mod wage_reports;
pub mod window;

use poem_openapi::{
    Object, Tags,
    param::Header,
    types::{ParseFromJSON, ToJSON, Type},
};
use serde::Serialize;

use crate::{
    error::AppResult,
    http::{
        json_body::JsonBody,
        params::{IdempotencyKey, PageCursor, PageNumber, PageSize, Paging},
    },
    services::{
        idempotency,
        keyset::{Cut, Window},
    },
};

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
    /// 亲情代办: relatives a worker trusts to act for them, and whom a relative acts for.
    Relatives,
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
    /// 好差评: workers rate their closed cases; low ratings are followed up
    /// (回访); complaints and suggestions (投诉建议) are answered by a deadline.
    Feedback,
    /// Figures for the programme office.
    Statistics,
    /// Filing at a service window (窗口代办) for workers present in person.
    ServiceWindow,
}

/// The API as one tuple of resource groups.
pub type Apis = (
    health::HealthApi,
    regions::RegionApi,
    auth::AuthApi,
    (
        me::MeApi,
        notifications::NotificationApi,
        payees::PayeeApi,
        relatives::RelativeApi,
        certificates::CertificateApi,
    ),
    admin::AdminApi,
    identity::IdentityAdminApi,
    integrations::IntegrationsApi,
    policies::PolicyApi,
    (programs::ProgramApi, recommendations::RecommendationApi),
    (applications::ApplicationApi, payments::PaymentApi, window::WindowApi),
    uploads::UploadApi,
    transfers::TransferApi,
    transfers::TransferIntegrationApi,
    (
        wage_reports::WageReportApi,
        (ratings::RatingApi, follow_ups::FollowUpApi, complaints::ComplaintApi),
    ),
    stats::StatsApi,
    exports::ExportApi,
);

pub fn apis() -> Apis {
    (
        health::HealthApi,
        regions::RegionApi,
        auth::AuthApi,
        (
            me::MeApi,
            notifications::NotificationApi,
            payees::PayeeApi,
            relatives::RelativeApi,
            certificates::CertificateApi,
        ),
        admin::AdminApi,
        identity::IdentityAdminApi,
        integrations::IntegrationsApi,
        policies::PolicyApi,
        (programs::ProgramApi, recommendations::RecommendationApi),
        (applications::ApplicationApi, payments::PaymentApi, window::WindowApi),
        uploads::UploadApi,
        transfers::TransferApi,
        transfers::TransferIntegrationApi,
        (
            wage_reports::WageReportApi,
            (ratings::RatingApi, follow_ups::FollowUpApi, complaints::ComplaintApi),
        ),
        stats::StatsApi,
        exports::ExportApi,
    )
}

/// A create made idempotent: its key, and the hash of what it asks, which a
/// retry with the same key must match.
pub struct Idempotent {
    pub key: IdempotencyKey,
    pub hash: String,
}

/// Takes a create's `Idempotency-Key` and body apart: the key with the hash of
/// the operation and body, and the body itself.
pub fn idempotent<T: Serialize>(operation: &str, key: Header<IdempotencyKey>, body: JsonBody<T>) -> (Idempotent, T) {
    let hash = idempotency::request_hash(operation, &body.0);
    (Idempotent { key: key.0, hash }, body.0)
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
    /// The page `paging` asked for, holding `items` of `total`.
    pub fn new(items: Vec<T>, total: u64, paging: Paging) -> Self {
        Page {
            items,
            total,
            page: paging.page,
            page_size: paging.page_size,
        }
    }

    /// A page the service has already cut, with how many match in all.
    pub fn of<S>(items: Vec<S>, total: u64, paging: Paging, map: impl FnMut(S) -> T) -> Self {
        Page::new(items.into_iter().map(map).collect(), total, paging)
    }

    /// Cuts one page out of a list already held in memory.
    pub fn slice<S>(all: &[S], paging: Paging, map: impl Fn(&S) -> T) -> Self {
        let start = (paging.page.saturating_sub(1) as usize).saturating_mul(paging.page_size as usize);
        let items = all
            .iter()
            .skip(start)
            .take(paging.page_size as usize)
            .map(map)
            .collect();
        Page::new(items, all.len() as u64, paging)
    }
}

/// The page a queue's `page`, `page_size` and `cursor` ask for. With a
/// cursor, `page` is ignored and no depth is too deep; without one, a page
/// past the first `MAX_PAGED_ROWS` rows is 400 `PAGE_TOO_DEEP`.
pub fn queue_window(page: PageNumber, page_size: PageSize, cursor: Option<PageCursor>) -> AppResult<Window> {
    let page = match cursor {
        Some(_) => 1,
        None => Paging::new(page, page_size)?.page,
    };
    Ok(Window {
        page,
        page_size: page_size.get(),
        cursor: cursor.map(PageCursor::into_inner),
    })
}

/// One page of a long staff queue, asked for by number or by cursor.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct QueuePage<T: Type + ParseFromJSON + ToJSON> {
    pub items: Vec<T>,
    /// How many items match, over all pages.
    pub total: u64,
    /// The page's number: as asked, or after a cursor, counted from the rows
    /// before it.
    pub page: u32,
    pub page_size: u32,
    /// Pass as `cursor` to read the next page (keyset paging: any page costs
    /// what the first costs); absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T: Type + ParseFromJSON + ToJSON> QueuePage<T> {
    /// The page a service cut, its items mapped for the wire.
    pub fn of<S>(cut: Cut<S>, map: impl FnMut(S) -> T) -> Self {
        QueuePage {
            items: cut.items.into_iter().map(map).collect(),
            total: cut.total,
            page: cut.page,
            page_size: cut.page_size,
            next_cursor: cut.next_cursor,
        }
    }
}

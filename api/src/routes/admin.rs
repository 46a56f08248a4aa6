use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::Example,
};
use serde::Deserialize;

use super::{ApiTags, Page, QueuePage, auth::StaffView, queue_window};
use crate::http::params::{PageCursor, PageNumber, PageSize, Paging, RecordId};
use crate::{
    auth::{Role, Scope, schemes::StaffAuth},
    context::RequestContext,
    domain::{BoundedText, RegionCode, TextType, Username},
    http::{
        json_body::{JsonBody, present},
        problem::{ApiResult, status},
    },
    services::{
        audit::{self, AuditEntry},
        calendar::{self, CalendarDay, DayKind, DayList},
        clients::{self, Client, NewClient},
        staff::{self, NewStaff, StaffChange},
    },
    state::AppState,
};

pub struct AdminApi;

#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct StaffCreate {
    pub username: Username,
    pub display_name: BoundedText<1, 64>,
    /// At least 10 characters, and not the username.
    pub password: BoundedText<10, 128>,
    #[oai(validator(min_items = 1, max_items = 7, unique_items))]
    pub roles: Vec<Role>,
    /// Inside the administrator's own region.
    pub region_code: RegionCode,
}

#[derive(Debug, Object, Deserialize)]
#[oai(example)]
pub struct ClientCreate {
    /// Who the client is, e.g. 南京市江宁区社保中心.
    pub name: BoundedText<1, 128>,
    #[oai(validator(min_items = 1, max_items = 10, unique_items))]
    pub scopes: Vec<Scope>,
    /// The region it serves, inside the administrator's own (which it is by
    /// default): it reads, changes and hears of the transfers with either end
    /// there. `000000` (national) only by a national administrator.
    #[serde(default, deserialize_with = "present")]
    pub region_code: Option<RegionCode>,
}

impl Example for ClientCreate {
    fn example() -> Self {
        ClientCreate {
            name: BoundedText::parse("南京市江宁区社保中心").expect("a valid name"),
            scopes: vec![Scope::SiTransferRead, Scope::SiTransferWrite],
            region_code: RegionCode::parse("320115").ok(),
        }
    }
}

/// A new integrator client. The secret is shown this once and never again.
#[derive(Debug, Object)]
pub struct ClientCreated {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub region_code: RegionCode,
}

#[derive(ApiResponse)]
pub enum StaffCreated {
    /// The account was created.
    #[oai(status = 201)]
    Created(Json<StaffView>),
}

#[derive(ApiResponse)]
pub enum ClientCreatedResponse {
    /// The client was created; keep the secret now.
    #[oai(status = 201)]
    Created(Json<ClientCreated>),
}

/// A day that breaks the weekday rule.
#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct CalendarDayWrite {
    /// `holiday` (a day off, even on a weekday) or `workday` (an adjusted working weekend).
    pub kind: DayKind,
    /// e.g. 国庆节 or 国庆调休.
    pub name: BoundedText<1, 64>,
}

#[derive(Debug, Object)]
pub struct CalendarDayView {
    pub day: chrono::NaiveDate,
    /// The province whose day it is, or `000000` for the national schedule.
    pub region_code: RegionCode,
    pub kind: DayKind,
    pub name: String,
}

impl From<CalendarDay> for CalendarDayView {
    fn from(day: CalendarDay) -> Self {
        CalendarDayView {
            day: day.day,
            region_code: day.region,
            kind: day.kind,
            name: day.name,
        }
    }
}

/// The documented province: Guangxi, whose 壮族三月三 is its own holiday.
fn example_province() -> Option<RegionCode> {
    RegionCode::parse("450000").ok()
}

#[derive(ApiResponse)]
pub enum CalendarChanged {
    /// Recorded (or, for DELETE, removed).
    #[oai(status = 204)]
    Done,
}

/// What to change about a staff account; fields left out stay.
#[derive(Debug, Object, Deserialize)]
#[oai(example, skip_serializing_if_is_none)]
pub struct StaffPatch {
    #[serde(default, deserialize_with = "present")]
    pub display_name: Option<BoundedText<1, 64>>,
    #[serde(default, deserialize_with = "present")]
    #[oai(validator(min_items = 1, max_items = 7, unique_items))]
    pub roles: Option<Vec<Role>>,
    #[serde(default, deserialize_with = "present")]
    pub region_code: Option<RegionCode>,
    /// `true` ends every session of the account at once.
    #[serde(default, deserialize_with = "present")]
    pub disabled: Option<bool>,
    /// A new password (resets a lock); ends every session of the account.
    #[serde(default, deserialize_with = "present")]
    pub password: Option<BoundedText<10, 128>>,
}

/// An integrator client, without its secret.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ClientView {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// The region it serves (`000000`: national).
    pub region_code: RegionCode,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    pub webhook_url: Option<String>,
}

impl From<Client> for ClientView {
    fn from(client: Client) -> Self {
        ClientView {
            id: client.id,
            client_id: client.client_id,
            name: client.name,
            scopes: client.scopes,
            region_code: client.region_code,
            created_at: client.created_at,
            revoked_at: client.revoked_at,
            webhook_url: client.webhook_url,
        }
    }
}

#[derive(Debug, Object)]
pub struct ClientSecret {
    pub client_id: String,
    /// Shown this once.
    pub client_secret: String,
}

#[derive(ApiResponse)]
pub enum ClientRevoked {
    /// Revoked: its credentials and tokens no longer work.
    #[oai(status = 204)]
    Done,
}

/// One audit record.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditRecord {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor_type: String,
    pub actor_id: Option<String>,
    /// For a staff actor: their display name and username, e.g.
    /// 李审核（xn.reviewer）, as the account reads now.
    pub actor_name: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// The region the event concerns. Absent for events of no region
    /// (workers' sign-ins, the calendar), which only
    /// national administrators see.
    pub region_code: Option<RegionCode>,
    pub outcome: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub details: Option<serde_json::Value>,
}

impl From<AuditEntry> for AuditRecord {
    fn from(entry: AuditEntry) -> Self {
        AuditRecord {
            id: entry.id,
            at: entry.at,
            actor_type: entry.actor_type,
            actor_id: entry.actor_id,
            actor_name: entry.actor_name,
            action: entry.action,
            target_type: entry.target_type,
            target_id: entry.target_id,
            region_code: entry.region_code,
            outcome: entry.outcome,
            ip: entry.ip,
            request_id: entry.request_id,
            details: entry.details,
        }
    }
}

impl From<StaffCreate> for NewStaff {
    fn from(body: StaffCreate) -> Self {
        NewStaff {
            username: body.username,
            display_name: body.display_name.into_inner(),
            password: body.password.into_inner(),
            roles: body.roles,
            region_code: body.region_code,
        }
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Administration")]
impl AdminApi {
    /// Create a staff account
    ///
    /// Administrators create accounts inside their own region.
    #[oai(path = "/admin/staff", method = "post", operation_id = "createStaff")]
    async fn create_staff(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        body: JsonBody<StaffCreate>,
    ) -> ApiResult<
        StaffCreated,
        { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let new = NewStaff::from(body.0);
        let member = staff::create(
            &state.db,
            &state.regions,
            &state.passwords,
            Some(&context),
            Some(&auth.0),
            new,
        )
        .await?;
        Ok(StaffCreated::Created(Json(member.into())))
    }

    /// List staff accounts
    ///
    /// The accounts of the administrator's region and below.
    #[oai(path = "/admin/staff", method = "get", operation_id = "listStaff")]
    async fn list_staff(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<StaffView>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (members, total) = staff::list(&state, &auth.0, paging.page, paging.page_size).await?;
        Ok(Json(Page::new(
            members.into_iter().map(StaffView::from).collect(),
            total,
            paging,
        )))
    }

    /// Change a staff account
    ///
    /// Roles, region, display name, disabled, password. Disabling it (or
    /// changing its roles, region or password) ends its sessions at once: its
    /// current token is refused on the next request.
    #[oai(path = "/admin/staff/:id", method = "patch", operation_id = "changeStaff")]
    async fn change_staff(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
        body: JsonBody<StaffPatch>,
    ) -> ApiResult<Json<StaffView>, { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN }> {
        let body = body.0;
        let change = StaffChange {
            display_name: body.display_name.map(BoundedText::into_inner),
            roles: body.roles,
            region_code: body.region_code,
            disabled: body.disabled,
            password: body.password.map(BoundedText::into_inner),
        };
        Ok(Json(
            staff::change(&state, &context, &auth.0, &id.0, change).await?.into(),
        ))
    }

    /// List integrator clients
    ///
    /// The clients of the administrator's region and below, oldest first, a
    /// page at a time.
    #[oai(path = "/admin/clients", method = "get", operation_id = "listClients")]
    async fn list_clients(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<ClientView>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let (clients, total) = clients::list(&state, &auth.0, paging.page, paging.page_size).await?;
        Ok(Json(Page::of(clients, total, paging, ClientView::from)))
    }

    /// Rotate a client's secret
    ///
    /// The new secret is shown once; the old one and every token issued with
    /// it stop working. A client outside the administrator's region is 404.
    #[oai(
        path = "/admin/clients/:id/rotate",
        method = "post",
        operation_id = "rotateClientSecret"
    )]
    async fn rotate_client(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
    ) -> ApiResult<
        Json<ClientSecret>,
        { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::CONFLICT | status::SIGNED_IN },
    > {
        let (client_id, secret) = clients::rotate(&state, &context, &auth.0, &id.0).await?;
        Ok(Json(ClientSecret {
            client_id,
            client_secret: secret,
        }))
    }

    /// Revoke a client
    ///
    /// Its credentials and every token it holds stop working at once. A
    /// client outside the administrator's region is 404.
    #[oai(path = "/admin/clients/:id", method = "delete", operation_id = "revokeClient")]
    async fn revoke_client(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        id: Path<RecordId>,
    ) -> ApiResult<ClientRevoked, { status::BAD_REQUEST | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN }>
    {
        clients::revoke(&state, &context, &auth.0, &id.0).await?;
        Ok(ClientRevoked::Done)
    }

    /// Query the audit log
    ///
    /// Newest first; filter by actor id, action and time (`from` inclusive, `to` exclusive).
    ///
    /// Pages by number, or by `cursor`: the `next_cursor` of the page
    /// before, at any depth for the cost of the first (`page` is then
    /// ignored).
    #[oai(path = "/admin/audit-logs", method = "get", operation_id = "listAuditLogs")]
    #[allow(clippy::too_many_arguments)]
    async fn audit_logs(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(max_length = 64))] actor: Query<Option<String>>,
        #[oai(validator(max_length = 64))] action: Query<Option<String>>,
        from: Query<Option<chrono::DateTime<chrono::Utc>>>,
        to: Query<Option<chrono::DateTime<chrono::Utc>>>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
        /// The `next_cursor` of the page before (opaque); `page` is then ignored.
        cursor: Query<Option<PageCursor>>,
    ) -> ApiResult<Json<QueuePage<AuditRecord>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let window = queue_window(page.0, page_size.0, cursor.0)?;
        let filter = audit::Filter {
            actor: actor.0,
            action: action.0,
            from: from.0,
            to: to.0,
        };
        let cut = audit::query(&state, &auth.0, filter, window).await?;
        Ok(Json(QueuePage::of(cut, AuditRecord::from)))
    }

    /// The working-day calendar
    ///
    /// Holidays and adjusted working weekends, of `year` when given, by
    /// day, a page at a time; other days follow the weekday rule. Without
    /// `region_code` (or with `000000`): the national schedule, whose State
    /// Council notices are seeded for the years they are cited for (see the
    /// README). With a province's `region_code` (450000 for Guangxi): that
    /// province's own days alone, or with `with_national=true` the days as
    /// they count in the province, its own and the national ones it does not
    /// override, each with the `region_code` that recorded it. A code that
    /// is not a province's is 400.
    #[oai(path = "/admin/calendar", method = "get", operation_id = "listCalendarDays")]
    #[allow(clippy::too_many_arguments)]
    async fn calendar(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(minimum(value = "2000"), maximum(value = "2100")))] year: Query<Option<i32>>,
        /// A province's code; the national schedule when left out.
        #[oai(example = "example_province")]
        region_code: Query<Option<RegionCode>>,
        /// With a province: add the national days it does not override.
        #[oai(default)]
        with_national: Query<bool>,
        page: Query<PageNumber>,
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<CalendarDayView>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let list = DayList {
            region: region_code.0,
            with_national: with_national.0,
            year: year.0,
        };
        let (days, total) = calendar::list_days(&state, &auth.0, list, paging.page, paging.page_size).await?;
        Ok(Json(Page::of(days, total, paging, CalendarDayView::from)))
    }

    /// Record a holiday or an adjusted working day
    ///
    /// Legal deadlines count working days by this calendar. Without
    /// `region_code` the day is the national schedule's, for the whole
    /// country: national administrators only. With a province's
    /// `region_code` (450000 for Guangxi's 壮族三月三) it is that province's
    /// own, over the national schedule for the cases there: national
    /// administrators and the province's own administrators. Others get 403
    /// `OUT_OF_REGION_SCOPE`; a code that is not a province's is 400.
    #[oai(path = "/admin/calendar/:day", method = "put", operation_id = "setCalendarDay")]
    async fn set_calendar_day(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        day: Path<chrono::NaiveDate>,
        /// A province's code; the national schedule when left out.
        #[oai(example = "example_province")]
        region_code: Query<Option<RegionCode>>,
        body: JsonBody<CalendarDayWrite>,
    ) -> ApiResult<CalendarChanged, { status::BODY | status::FORBIDDEN | status::SIGNED_IN }> {
        let CalendarDayWrite { kind, name } = body.0;
        calendar::set_day(&state, &context, &auth.0, region_code.0, day.0, kind, name.as_str()).await?;
        Ok(CalendarChanged::Done)
    }

    /// Remove a calendar exception
    ///
    /// A national day removed follows the weekday rule again; a province's
    /// removed follows the national schedule again there. Who may, and the
    /// `region_code`, as for recording one.
    #[oai(path = "/admin/calendar/:day", method = "delete", operation_id = "clearCalendarDay")]
    async fn clear_calendar_day(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        day: Path<chrono::NaiveDate>,
        /// A province's code; the national schedule when left out.
        #[oai(example = "example_province")]
        region_code: Query<Option<RegionCode>>,
    ) -> ApiResult<CalendarChanged, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        calendar::clear_day(&state, &context, &auth.0, region_code.0, day.0).await?;
        Ok(CalendarChanged::Done)
    }

    /// Create an integrator client
    ///
    /// Returns the client id and secret; the secret is shown only here. The
    /// client serves `region_code` (by default the administrator's region),
    /// which must lie inside the administrator's (403 `OUT_OF_REGION_SCOPE`).
    #[oai(path = "/admin/clients", method = "post", operation_id = "createClient")]
    async fn create_client(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        body: JsonBody<ClientCreate>,
    ) -> ApiResult<ClientCreatedResponse, { status::BODY | status::FORBIDDEN | status::NOT_FOUND | status::SIGNED_IN }>
    {
        let new = NewClient {
            name: body.0.name.into_inner(),
            scopes: body.0.scopes,
            region_code: body.0.region_code,
        };
        let created = clients::create(&state, &context, &auth.0, new).await?;
        Ok(ClientCreatedResponse::Created(Json(ClientCreated {
            id: created.id,
            client_id: created.client_id,
            client_secret: created.client_secret,
            name: created.name,
            scopes: created.scopes,
            region_code: created.region_code,
        })))
    }
}

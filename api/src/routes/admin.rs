use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use serde::Deserialize;

use super::{ApiTags, auth::StaffView};
use crate::{
    auth::{Role, Scope, schemes::StaffAuth},
    domain::{BoundedText, RegionCode, Username},
    http::{
        gateway::RequestContext,
        json_body::JsonBody,
        problem::{ApiResult, status},
    },
    services::{
        calendar::{self, DayKind},
        clients::{self, NewClient},
        staff::{self, NewStaff},
    },
    state::AppState,
};

pub struct AdminApi;

#[derive(Debug, Object, Deserialize)]
pub struct StaffCreate {
    pub username: Username,
    pub display_name: BoundedText<1, 64>,
    /// At least 10 characters, and not the username.
    pub password: BoundedText<10, 128>,
    #[oai(validator(min_items = 1, max_items = 5, unique_items))]
    pub roles: Vec<Role>,
    /// Inside the administrator's own region.
    pub region_code: RegionCode,
}

#[derive(Debug, Object, Deserialize)]
pub struct ClientCreate {
    /// Who the client is, e.g. 南京市江宁区社保中心.
    pub name: BoundedText<1, 128>,
    #[oai(validator(min_items = 1, max_items = 10, unique_items))]
    pub scopes: Vec<Scope>,
}

/// A new integrator client. The secret is shown this once and never again.
#[derive(Debug, Object)]
pub struct ClientCreated {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    pub scopes: Vec<Scope>,
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
pub struct CalendarDayWrite {
    /// `holiday` (a day off, even on a weekday) or `workday` (an adjusted working weekend).
    pub kind: DayKind,
    /// e.g. 国庆节 or 国庆调休.
    pub name: BoundedText<1, 64>,
}

#[derive(Debug, Object)]
pub struct CalendarDayView {
    pub day: chrono::NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

#[derive(ApiResponse)]
pub enum CalendarChanged {
    /// Recorded (or, for DELETE, removed).
    #[oai(status = 204)]
    Done,
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
        let body = body.0;
        let new = NewStaff {
            username: body.username,
            display_name: body.display_name.into_inner(),
            password: body.password.into_inner(),
            roles: body.roles,
            region_code: body.region_code,
        };
        let member = staff::create(&state.db, &state.regions, Some(&context), Some(&auth.0), new).await?;
        Ok(StaffCreated::Created(Json(member.into())))
    }

    /// The working-day calendar of a year
    ///
    /// Holidays and adjusted working weekends; other days follow the weekday rule.
    #[oai(path = "/admin/calendar", method = "get", operation_id = "listCalendarDays")]
    async fn calendar(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        #[oai(validator(minimum(value = "2000"), maximum(value = "2100")))] year: Query<i32>,
    ) -> ApiResult<Json<Vec<CalendarDayView>>, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        staff::require_role(&auth.0, Role::Admin)?;
        let days = calendar::list_year(&state.db, year.0).await?;
        Ok(Json(
            days.into_iter()
                .filter_map(|d| {
                    DayKind::parse(&d.kind).map(|kind| CalendarDayView {
                        day: d.day,
                        kind,
                        name: d.name,
                    })
                })
                .collect(),
        ))
    }

    /// Record a holiday or an adjusted working day
    ///
    /// Legal deadlines count working days by this calendar.
    #[oai(path = "/admin/calendar/:day", method = "put", operation_id = "setCalendarDay")]
    async fn set_calendar_day(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        day: Path<chrono::NaiveDate>,
        body: JsonBody<CalendarDayWrite>,
    ) -> ApiResult<CalendarChanged, { status::BODY | status::FORBIDDEN | status::SIGNED_IN }> {
        staff::require_role(&auth.0, Role::Admin)?;
        calendar::set_day(&state.db, day.0, body.0.kind, body.0.name.as_str()).await?;
        Ok(CalendarChanged::Done)
    }

    /// Remove a calendar exception
    #[oai(path = "/admin/calendar/:day", method = "delete", operation_id = "clearCalendarDay")]
    async fn clear_calendar_day(
        &self,
        state: Data<&AppState>,
        auth: StaffAuth,
        day: Path<chrono::NaiveDate>,
    ) -> ApiResult<CalendarChanged, { status::BAD_REQUEST | status::FORBIDDEN | status::SIGNED_IN }> {
        staff::require_role(&auth.0, Role::Admin)?;
        calendar::clear_day(&state.db, day.0).await?;
        Ok(CalendarChanged::Done)
    }

    /// Create an integrator client
    ///
    /// Returns the client id and secret; the secret is shown only here.
    #[oai(path = "/admin/clients", method = "post", operation_id = "createClient")]
    async fn create_client(
        &self,
        state: Data<&AppState>,
        context: Data<&RequestContext>,
        auth: StaffAuth,
        body: JsonBody<ClientCreate>,
    ) -> ApiResult<ClientCreatedResponse, { status::BODY | status::FORBIDDEN | status::SIGNED_IN }> {
        let new = NewClient {
            name: body.0.name.into_inner(),
            scopes: body.0.scopes,
        };
        let created = clients::create(&state, &context, &auth.0, new).await?;
        Ok(ClientCreatedResponse::Created(Json(ClientCreated {
            id: created.id,
            client_id: created.client_id,
            client_secret: created.client_secret,
            name: created.name,
            scopes: created.scopes,
        })))
    }
}

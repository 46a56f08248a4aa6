//! The recorded days, as administrators list and change them: the national
//! schedule, and each province's own days.

use chrono::NaiveDate;
use entity::calendar_day;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};
use serde_json::json;

use super::{DayKind, year_bounds};
use crate::{
    access,
    auth::{Principal, Role},
    context::RequestContext,
    domain::{RegionCode, TextType},
    error::{AppError, AppResult, Localized},
    infra::db::begin_write,
    regions::{RegionDirectory, RegionLevel},
    services::audit::{self, Event, Outcome},
    state::AppState,
};

/// A recorded exception to the weekday rule.
#[derive(Debug, Clone)]
pub struct CalendarDay {
    pub day: NaiveDate,
    /// The province that recorded it, or `000000` for the national schedule.
    pub region: RegionCode,
    pub kind: DayKind,
    pub name: String,
}

/// Which recorded days a list shows.
#[derive(Debug, Clone, Copy)]
pub struct DayList {
    /// A province's days; the national schedule when none (or `000000`).
    pub region: Option<RegionCode>,
    /// With a province: the days as they count there, its own and the
    /// national ones it does not override; without, its own days alone.
    pub with_national: bool,
    pub year: Option<i32>,
}

/// The calendar a request names: a province's, by the province's code
/// (450000 for Guangxi), or the national schedule when none or `000000` is
/// given. A city's, a county's or an unknown code is bad input (400, as for
/// every region code a request carries), as days are recorded for whole
/// provinces.
fn calendar_of(regions: &RegionDirectory, region: Option<RegionCode>) -> AppResult<RegionCode> {
    let Some(region) = region.filter(|region| !region.is_national()) else {
        return Ok(RegionCode::NATIONAL);
    };
    if regions
        .get(region)
        .is_some_and(|known| known.level == RegionLevel::Province)
    {
        return Ok(region);
    }
    Err(AppError::invalid_field(
        "region_code",
        Localized::new(
            format!("节假日按省份录入，请填写省级地区代码（例如广西壮族自治区为450000），{region}不是省级代码。"),
            format!("Days are recorded for a whole province; {region} is not a province's code (e.g. 450000)."),
        ),
    ))
}

/// The days of `calendar` (a province's or the national schedule), and with
/// `with_national` the national days the province does not override.
fn days_of(calendar: RegionCode, with_national: bool) -> Condition {
    let own = calendar_day::Column::RegionCode.eq(calendar.as_str());
    if !with_national || calendar.is_national() {
        return Condition::all().add(own);
    }
    let overridden = sea_orm::sea_query::Query::select()
        .column(calendar_day::Column::Day)
        .from(calendar_day::Entity)
        .and_where(calendar_day::Column::RegionCode.eq(calendar.as_str()))
        .to_owned();
    Condition::any().add(own).add(
        Condition::all()
            .add(calendar_day::Column::RegionCode.eq(RegionCode::NATIONAL.as_str()))
            .add(calendar_day::Column::Day.not_in_subquery(overridden)),
    )
}

/// One page of the recorded days `list` asks for, by day, with how many
/// match: the database filters, counts and cuts the page. Any administrator
/// reads any calendar.
pub async fn list_days(
    state: &AppState,
    admin: &Principal,
    list: DayList,
    page: u32,
    page_size: u32,
) -> AppResult<(Vec<CalendarDay>, u64)> {
    access::require_role(admin, Role::Admin)?;
    let calendar = calendar_of(&state.regions, list.region)?;
    let mut query = calendar_day::Entity::find()
        .filter(days_of(calendar, list.with_national))
        .order_by_asc(calendar_day::Column::Day)
        .order_by_asc(calendar_day::Column::RegionCode);
    if let Some(year) = list.year {
        let (first, last) = year_bounds(year);
        query = query.filter(calendar_day::Column::Day.between(first, last));
    }
    let paginator = query.paginate(&state.db, u64::from(page_size));
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(u64::from(page.saturating_sub(1))).await?;
    let days = rows
        .into_iter()
        .filter_map(|row| {
            Some(CalendarDay {
                day: row.day,
                region: RegionCode::parse(&row.region_code).ok()?,
                kind: DayKind::parse(&row.kind)?,
                name: row.name,
            })
        })
        .collect();
    Ok((days, total))
}

/// Records (or replaces) an exception of the national schedule or, with
/// `region`, of that province. It moves every deadline that spans the day
/// there, so it is audited with the change.
pub async fn set_day(
    state: &AppState,
    request: &RequestContext,
    admin: &Principal,
    region: Option<RegionCode>,
    day: NaiveDate,
    kind: DayKind,
    name: &str,
) -> AppResult<()> {
    let calendar = calendar_of(&state.regions, region)?;
    access::require_calendar_keeper(admin, calendar)?;
    let transaction = begin_write(&state.db).await?;
    calendar_day::Entity::insert(calendar_day::ActiveModel {
        day: Set(day),
        region_code: Set(calendar.as_str().to_owned()),
        kind: Set(kind.as_str().to_owned()),
        name: Set(name.to_owned()),
    })
    .on_conflict(
        OnConflict::columns([calendar_day::Column::Day, calendar_day::Column::RegionCode])
            .update_columns([calendar_day::Column::Kind, calendar_day::Column::Name])
            .to_owned(),
    )
    .exec_without_returning(&transaction)
    .await?;
    let details = json!({ "region_code": calendar, "kind": kind.as_str(), "name": name });
    record(&transaction, request, admin, "calendar.set", (calendar, day), details).await?;
    transaction.commit().await?;
    state.calendars.forget();
    Ok(())
}

/// Removes an exception of the national schedule or of a province: the day
/// follows the weekday rule again there (or, for a province, the national
/// schedule).
pub async fn clear_day(
    state: &AppState,
    request: &RequestContext,
    admin: &Principal,
    region: Option<RegionCode>,
    day: NaiveDate,
) -> AppResult<bool> {
    let calendar = calendar_of(&state.regions, region)?;
    access::require_calendar_keeper(admin, calendar)?;
    let transaction = begin_write(&state.db).await?;
    let removed = calendar_day::Entity::delete_by_id((day, calendar.as_str().to_owned()))
        .exec(&transaction)
        .await?
        .rows_affected
        > 0;
    if removed {
        let details = json!({ "region_code": calendar });
        record(&transaction, request, admin, "calendar.clear", (calendar, day), details).await?;
    }
    transaction.commit().await?;
    state.calendars.forget();
    Ok(removed)
}

/// The audit row of a change to `calendar`'s `day`: a province's change is
/// seen by the administrators over the province, a national one by national
/// administrators only.
async fn record(
    transaction: &impl ConnectionTrait,
    request: &RequestContext,
    admin: &Principal,
    action: &'static str,
    (calendar, day): (RegionCode, NaiveDate),
    details: serde_json::Value,
) -> AppResult<()> {
    let day = day.to_string();
    audit::record(
        transaction,
        Some(request),
        Event {
            actor: audit::Actor::Principal(admin),
            action,
            target: Some(("calendar_day", &day)),
            region: Some(calendar).filter(|region| !region.is_national()),
            outcome: Outcome::Success,
            details: Some(details),
        },
    )
    .await
}

//! Cases that reach a worker without their own filing: 免申即享 offers a
//! reviewer confirms, and applications a service window files for a worker
//! present in person. Each rule one pure function, as every rule of `access`.

use serde_json::json;

use super::{covers, require_role};
use crate::{
    auth::{Principal, Role},
    domain::RegionCode,
    error::{AppError, AppResult, ErrorCode, Localized},
    regions::RegionDirectory,
};

/// Who confirms 免申即享 offers for the workers: reviewers.
pub fn require_offer_reviewer(staff: &Principal) -> AppResult<()> {
    require_role(staff, Role::Reviewer)
}

/// A reviewer works a 免申即享 program's offers when their region covers
/// the program's (every offer of it), or lies inside it (the offers of
/// their own region); another region's program is refused, 403.
pub fn require_offer_region(regions: &RegionDirectory, reviewer: &Principal, program: RegionCode) -> AppResult<()> {
    let inside = reviewer.region.is_some_and(|own| regions.covers(program, own));
    if covers(regions, reviewer, program) || inside {
        return Ok(());
    }
    Err(AppError::new(ErrorCode::OutOfRegionScope)
        .with_message(Localized::fixed(
            "这项补贴不在您的辖区内，不能查看或确认它的免申即享名单。",
            "This program is outside your region: its offers are not yours to confirm.",
        ))
        .with_details(json!({ "region_code": program })))
}

/// Who files applications at a service window for workers present in person.
pub fn require_window_clerk(staff: &Principal) -> AppResult<()> {
    require_role(staff, Role::ServiceWindow)
}

/// Where a case a service window files is reviewed: where the person lives
/// or works when the window's region covers it, else the window's own
/// region when the program is open there. A window outside the program's
/// region (another province's) is 403 `OUT_OF_REGION_SCOPE`.
pub fn window_filing_region(
    regions: &RegionDirectory,
    clerk: &Principal,
    program_region: RegionCode,
    routed: RegionCode,
) -> AppResult<RegionCode> {
    let scope = clerk.region.ok_or_else(|| AppError::new(ErrorCode::OutOfRegionScope))?;
    if regions.covers(scope, routed) {
        Ok(routed)
    } else if regions.covers(program_region, scope) {
        Ok(scope)
    } else {
        Err(AppError::new(ErrorCode::OutOfRegionScope)
            .with_message(Localized::fixed(
                "这项补贴不在您所在窗口的受理范围内，请申请人到补贴所在地的窗口办理。",
                "This program is outside the window's region.",
            ))
            .with_details(json!({ "region_code": program_region })))
    }
}

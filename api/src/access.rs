//! Who may do what: every role, scope and region rule, each one function.
//! The rules are pure: they take the caller and plain values (and the region
//! directory when a rule asks about regions), never the database, so a
//! service loads what a rule needs, asks it, and acts on the answer.

use serde_json::json;

mod delegation;

pub use delegation::{Delegable, delegable, require_delegated};

use crate::{
    auth::{Audience, Principal, Role, Scope},
    domain::RegionCode,
    error::{AppError, AppResult, ErrorCode, Localized},
    regions::RegionDirectory,
};

// ---- roles and scopes ------------------------------------------------------

/// 403 `ROLE_REQUIRED` unless the caller holds `role`.
pub fn require_role(principal: &Principal, role: Role) -> AppResult<()> {
    if principal.has_role(role) {
        Ok(())
    } else {
        Err(AppError::new(ErrorCode::RoleRequired).with_details(json!({ "role": role.as_str() })))
    }
}

/// Passes when the principal holds at least one of `roles`.
pub fn require_any_role(principal: &Principal, roles: &[Role]) -> AppResult<()> {
    if roles.iter().any(|role| principal.has_role(*role)) {
        Ok(())
    } else {
        let names: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
        Err(AppError::new(ErrorCode::RoleRequired).with_details(json!({ "role": names.join(" | ") })))
    }
}

/// 403 `INSUFFICIENT_SCOPE` unless the integrator client holds `scope`.
pub fn require_scope(principal: &Principal, scope: Scope) -> AppResult<()> {
    if principal.has_scope(scope) {
        Ok(())
    } else {
        Err(AppError::new(ErrorCode::InsufficientScope).with_details(json!({ "scope": scope.as_str() })))
    }
}

/// Who takes an action on a case. Each lifecycle's `status.rs` names the
/// taker of every action; `require_taker` is the one check of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taker {
    /// The worker whose case it is (ownership is checked when the case is loaded).
    Worker,
    Staff(Role),
    Agency(Scope),
}

/// 403 unless the caller is the kind of principal that takes the action.
pub fn require_taker(principal: &Principal, taker: Taker) -> AppResult<()> {
    match taker {
        Taker::Worker if principal.audience == Audience::Worker => Ok(()),
        Taker::Worker => Err(AppError::new(ErrorCode::Forbidden)),
        Taker::Staff(role) => require_role(principal, role),
        Taker::Agency(scope) => require_scope(principal, scope),
    }
}

// ---- regions -----------------------------------------------------------------

/// True when the principal's region scope includes `region`; a caller
/// without a region covers nothing.
pub fn covers(regions: &RegionDirectory, principal: &Principal, region: RegionCode) -> bool {
    principal.region.is_some_and(|scope| regions.covers(scope, region))
}

/// 403 `OUT_OF_REGION_SCOPE`, naming `region`, unless the caller covers it.
pub fn require_region(regions: &RegionDirectory, principal: &Principal, region: RegionCode) -> AppResult<()> {
    if covers(regions, principal, region) {
        Ok(())
    } else {
        Err(AppError::new(ErrorCode::OutOfRegionScope).with_details(json!({ "region_code": region })))
    }
}

/// The region codes a staff member's query covers: `wanted` (which must
/// lie inside the member's region) or, by default, the member's whole
/// region, each with everything below it. `None` means everywhere (a
/// national scope), so no filter at all.
pub fn staff_scope(
    regions: &RegionDirectory,
    staff: &Principal,
    wanted: Option<RegionCode>,
) -> AppResult<Option<Vec<String>>> {
    let scope = staff.region.ok_or_else(|| AppError::new(ErrorCode::OutOfRegionScope))?;
    let root = match wanted {
        Some(region) if !regions.covers(scope, region) => {
            return Err(AppError::new(ErrorCode::OutOfRegionScope).with_details(json!({ "region_code": region })));
        }
        Some(region) => region,
        None => scope,
    };
    if root.is_national() {
        return Ok(None);
    }
    let mut codes = vec![root.as_str().to_owned()];
    codes.extend(
        regions
            .descendants(root)
            .into_iter()
            .map(|r| r.code.as_str().to_owned()),
    );
    Ok(Some(codes))
}

/// An administrator whose region covers `region` (programmes, integrator
/// clients, released ID numbers there).
pub fn require_admin_of(regions: &RegionDirectory, admin: &Principal, region: RegionCode) -> AppResult<()> {
    require_role(admin, Role::Admin)?;
    require_region(regions, admin, region)
}

/// Who records the days of `calendar` (`000000` for the national schedule,
/// or a province's code): the national schedule sets legal deadlines across
/// the country, so only national administrators change it; a province's own
/// days (Guangxi's 壮族三月三) are recorded by national administrators and by
/// that province's administrators, whose region is the province itself. A
/// city's or county's administrator, or another province's, is refused (403,
/// as every region rule: the calendar is no secret to hide behind a 404).
pub fn require_calendar_keeper(admin: &Principal, calendar: RegionCode) -> AppResult<()> {
    require_role(admin, Role::Admin)?;
    let keeps = admin
        .region
        .is_some_and(|own| own.is_national() || (own == calendar && own.province() == own));
    if keeps {
        return Ok(());
    }
    let message = if calendar.is_national() {
        Localized::fixed(
            "全国的节假日和调休安排只能由全国管理员录入。",
            "Only national administrators change the national schedule.",
        )
    } else {
        Localized::fixed(
            "省里的节假日只能由全国管理员或本省的省级管理员录入。",
            "A province's days are changed by national administrators and that province's administrators only.",
        )
    };
    Err(AppError::new(ErrorCode::OutOfRegionScope)
        .with_message(message)
        .with_details(json!({ "region_code": calendar })))
}

/// The region a new integrator client is registered for: the one asked for,
/// which must lie inside the administrator's region, or by default the
/// administrator's own.
pub fn new_client_region(
    regions: &RegionDirectory,
    admin: &Principal,
    wanted: Option<RegionCode>,
) -> AppResult<RegionCode> {
    require_role(admin, Role::Admin)?;
    let region = wanted
        .or(admin.region)
        .ok_or_else(|| AppError::new(ErrorCode::OutOfRegionScope))?;
    require_region(regions, admin, region)?;
    Ok(region)
}

// ---- applications --------------------------------------------------------------

/// The staff who work applications: reviewers decide them, finance pays
/// them. Nobody else reads a case or the queue.
pub fn require_case_worker(staff: &Principal) -> AppResult<()> {
    require_any_role(staff, &[Role::Reviewer, Role::Finance])
}

/// Whether a case worker reaches an application: past its draft (a draft is
/// the worker's own) and in their region. One they do not reach is not found.
pub fn reaches_application(regions: &RegionDirectory, staff: &Principal, region: RegionCode, draft: bool) -> bool {
    !draft && covers(regions, staff, region)
}

/// Who sees a payee account in clear: finance, who pays it.
pub fn require_payee_reader(staff: &Principal) -> AppResult<()> {
    require_role(staff, Role::Finance)
}

/// Who pays approved cases through the bank: finance gathers them into
/// batches, reads the batches of its region and records the bank's answers.
pub fn require_paymaster(staff: &Principal) -> AppResult<()> {
    require_role(staff, Role::Finance)
}

/// Who sees an applicant in clear (and the documents they attached):
/// reviewers, for the cases they reach.
pub fn require_applicant_reader(staff: &Principal) -> AppResult<()> {
    require_role(staff, Role::Reviewer)
}

// ---- wage reports ----------------------------------------------------------------

/// Whether an inspector reaches a wage report: it is in the queue of their
/// region or one below (where the work was done, or where it was
/// transferred). One they do not reach is not found.
pub fn reaches_wage_report(regions: &RegionDirectory, inspector: &Principal, region: RegionCode) -> bool {
    inspector.has_role(Role::Inspector) && covers(regions, inspector, region)
}

/// Who sees a reporter in clear (and the documents attached to the
/// report): the labour inspectors, for the reports they reach.
pub fn require_reporter_reader(staff: &Principal) -> AppResult<()> {
    require_role(staff, Role::Inspector)
}

// ---- transfers -------------------------------------------------------------------

/// Staff who follow the transfers of their region: administrators,
/// reviewers and inspectors (finance and policy editors have no part in them).
pub fn require_transfer_follower(staff: &Principal) -> AppResult<()> {
    require_any_role(staff, &[Role::Admin, Role::Reviewer, Role::Inspector])
}

/// The staff who record a step's outcome for an office without its own
/// system: the administrators of the office's region (see the caller's
/// `require_region` on the step's office).
pub fn require_transfer_clerk(staff: &Principal) -> AppResult<()> {
    require_role(staff, Role::Admin)
}

/// An integrator or a staff member reaches the cases with either end in
/// their region: an integrator opens, reads, moves and hears of those only,
/// staff follow those only.
pub fn client_reaches(regions: &RegionDirectory, client: &Principal, from: RegionCode, to: RegionCode) -> bool {
    covers(regions, client, from) || covers(regions, client, to)
}

/// Who sees the person of a transfer in clear (name, ID number, phone): a
/// client with the read scope, bound to a region that reaches the case. A
/// national client reaches every case but is bound to no office that moves
/// one, so it reads the case without the person.
pub fn client_sees_person(regions: &RegionDirectory, client: &Principal, from: RegionCode, to: RegionCode) -> bool {
    client.has_scope(Scope::SiTransferRead)
        && client.region.is_some_and(|region| !region.is_national())
        && client_reaches(regions, client, from, to)
}

// ---- follow-ups and complaints -----------------------------------------------------

mod feedback;
mod filing;

pub use feedback::{follow_up_kinds, follow_up_role, reaches_complaint, reaches_follow_up, require_complaint_handler};
pub use filing::{require_offer_region, require_offer_reviewer, require_window_clerk, window_filing_region};

// ---- figures and policies ----------------------------------------------------------

/// Who reads the overview: the staff who run the region or work its cases
/// (administrators, reviewers, inspectors, finance); a policy editor has no
/// part in the figures.
pub fn require_overview_reader(staff: &Principal) -> AppResult<()> {
    require_any_role(staff, &[Role::Admin, Role::Reviewer, Role::Inspector, Role::Finance])
}

/// Who reads a policy: everyone once it is published; before (a draft) and
/// after (archived), only the policy editors whose region covers it.
pub fn may_read_policy(
    regions: &RegionDirectory,
    reader: Option<&Principal>,
    published: bool,
    region: RegionCode,
) -> bool {
    published || reader.is_some_and(|staff| staff.has_role(Role::PolicyEditor) && covers(regions, staff, region))
}

/// A policy editor whose region covers `region`.
pub fn require_policy_editor(regions: &RegionDirectory, editor: &Principal, region: RegionCode) -> AppResult<()> {
    require_role(editor, Role::PolicyEditor)?;
    require_region(regions, editor, region)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        auth::Audience,
        domain::TextType,
        regions::{Region, RegionLevel},
    };

    fn code(text: &str) -> RegionCode {
        RegionCode::parse(text).unwrap()
    }

    fn jiangsu() -> RegionDirectory {
        let region = |c: &str, level, parent: Option<&str>| Region {
            code: code(c),
            name: c.to_owned(),
            level,
            parent: parent.map(code),
            kind: String::new(),
        };
        RegionDirectory::from_regions(vec![
            region("320000", RegionLevel::Province, None),
            region("320100", RegionLevel::City, Some("320000")),
            region("320115", RegionLevel::County, Some("320100")),
            region("320116", RegionLevel::County, Some("320100")),
        ])
    }

    fn staff(roles: &[Role], region: Option<&str>) -> Principal {
        Principal {
            audience: Audience::Staff,
            subject: "staff-1".to_owned(),
            session_id: String::new(),
            roles: roles.to_vec(),
            region: region.map(code),
            scopes: Vec::new(),
            acting: None,
        }
    }

    fn client(scopes: &[Scope], region: &str) -> Principal {
        Principal {
            audience: Audience::Integrator,
            subject: "cli_1".to_owned(),
            session_id: String::new(),
            roles: Vec::new(),
            region: Some(code(region)),
            scopes: scopes.to_vec(),
            acting: None,
        }
    }

    fn refused(outcome: AppResult<impl std::fmt::Debug>) -> ErrorCode {
        outcome.expect_err("refused").code
    }

    #[test]
    fn a_role_is_held_or_refused_by_name() {
        let reviewer = staff(&[Role::Reviewer], Some("320100"));
        assert!(require_role(&reviewer, Role::Reviewer).is_ok());
        let refusal = require_role(&reviewer, Role::Admin).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::RoleRequired);
        assert_eq!(refusal.details, Some(json!({ "role": "admin" })));
    }

    #[test]
    fn any_of_several_roles_will_do() {
        let finance = staff(&[Role::Finance], Some("320100"));
        assert!(require_any_role(&finance, &[Role::Reviewer, Role::Finance]).is_ok());
        let refusal = require_any_role(&finance, &[Role::Admin, Role::Inspector]).unwrap_err();
        assert_eq!(refusal.details, Some(json!({ "role": "admin | inspector" })));
    }

    #[test]
    fn a_scope_is_held_or_refused() {
        let reader = client(&[Scope::SiTransferRead], "320100");
        assert!(require_scope(&reader, Scope::SiTransferRead).is_ok());
        assert_eq!(
            refused(require_scope(&reader, Scope::SiTransferWrite)),
            ErrorCode::InsufficientScope
        );
    }

    #[test]
    fn a_region_covers_itself_and_below_and_nothing_without_one() {
        let d = jiangsu();
        let city = staff(&[Role::Admin], Some("320100"));
        assert!(covers(&d, &city, code("320100")));
        assert!(covers(&d, &city, code("320115")));
        assert!(!covers(&d, &city, code("320000")));
        assert!(covers(&d, &staff(&[], Some("000000")), code("320116")));
        assert!(!covers(&d, &staff(&[Role::Admin], None), code("320115")));
        assert_eq!(
            refused(require_region(&d, &city, code("320000"))),
            ErrorCode::OutOfRegionScope
        );
    }

    #[test]
    fn a_staff_scope_is_the_region_and_below_and_none_when_national() {
        let d = jiangsu();
        let city = staff(&[Role::Reviewer], Some("320100"));
        let mut codes = staff_scope(&d, &city, None).unwrap().unwrap();
        codes.sort();
        assert_eq!(codes, ["320100", "320115", "320116"]);
        assert_eq!(
            staff_scope(&d, &city, Some(code("320115"))).unwrap().unwrap(),
            ["320115"]
        );
        assert_eq!(
            refused(staff_scope(&d, &city, Some(code("320000")))),
            ErrorCode::OutOfRegionScope
        );
        assert_eq!(
            refused(staff_scope(&d, &staff(&[Role::Reviewer], None), None)),
            ErrorCode::OutOfRegionScope
        );
        assert_eq!(
            staff_scope(&d, &staff(&[Role::Reviewer], Some("000000")), None).unwrap(),
            None
        );
    }

    #[test]
    fn an_administrator_acts_in_their_region_only() {
        let d = jiangsu();
        let admin = staff(&[Role::Admin], Some("320115"));
        assert!(require_admin_of(&d, &admin, code("320115")).is_ok());
        assert_eq!(
            refused(require_admin_of(&d, &admin, code("320116"))),
            ErrorCode::OutOfRegionScope
        );
        let editor = staff(&[Role::PolicyEditor], Some("320000"));
        assert_eq!(
            refused(require_admin_of(&d, &editor, code("320115"))),
            ErrorCode::RoleRequired
        );
    }

    #[test]
    fn the_nation_keeps_every_calendar_and_a_province_its_own() {
        let national = RegionCode::NATIONAL;
        let guangxi = code("450000");
        let nation = staff(&[Role::Admin], Some("000000"));
        assert!(require_calendar_keeper(&nation, national).is_ok());
        assert!(require_calendar_keeper(&nation, guangxi).is_ok());
        let guangxi_admin = staff(&[Role::Admin], Some("450000"));
        assert!(require_calendar_keeper(&guangxi_admin, guangxi).is_ok());
        let refused_to = |region: &str, calendar: RegionCode| {
            refused(require_calendar_keeper(&staff(&[Role::Admin], Some(region)), calendar))
        };
        assert_eq!(refused_to("450000", national), ErrorCode::OutOfRegionScope);
        assert_eq!(refused_to("320000", guangxi), ErrorCode::OutOfRegionScope);
        assert_eq!(refused_to("450100", guangxi), ErrorCode::OutOfRegionScope);
        assert_eq!(refused_to("450103", guangxi), ErrorCode::OutOfRegionScope);
        assert_eq!(
            refused_to("450103", code("450103")),
            ErrorCode::OutOfRegionScope,
            "a county keeps no calendar of its own"
        );
        assert_eq!(
            refused(require_calendar_keeper(&staff(&[Role::Admin], None), guangxi)),
            ErrorCode::OutOfRegionScope
        );
        assert_eq!(
            refused(require_calendar_keeper(
                &staff(&[Role::Reviewer], Some("000000")),
                guangxi
            )),
            ErrorCode::RoleRequired
        );
    }

    #[test]
    fn a_new_client_is_registered_inside_the_administrators_region() {
        let d = jiangsu();
        let admin = staff(&[Role::Admin], Some("320100"));
        assert_eq!(new_client_region(&d, &admin, None).unwrap(), code("320100"));
        assert_eq!(
            new_client_region(&d, &admin, Some(code("320116"))).unwrap(),
            code("320116")
        );
        assert_eq!(
            refused(new_client_region(&d, &admin, Some(code("320000")))),
            ErrorCode::OutOfRegionScope
        );
        assert_eq!(
            refused(new_client_region(&d, &staff(&[Role::Admin], None), None)),
            ErrorCode::OutOfRegionScope
        );
        assert_eq!(
            refused(new_client_region(&d, &staff(&[Role::Reviewer], Some("320100")), None)),
            ErrorCode::RoleRequired
        );
    }

    #[test]
    fn applications_are_for_reviewers_and_finance_past_the_draft_in_region() {
        let d = jiangsu();
        let reviewer = staff(&[Role::Reviewer], Some("320115"));
        let finance = staff(&[Role::Finance], Some("320115"));
        assert!(require_case_worker(&reviewer).is_ok());
        assert!(require_case_worker(&finance).is_ok());
        assert_eq!(
            refused(require_case_worker(&staff(&[Role::Inspector], Some("320115")))),
            ErrorCode::RoleRequired
        );
        assert!(reaches_application(&d, &reviewer, code("320115"), false));
        assert!(!reaches_application(&d, &reviewer, code("320115"), true));
        assert!(!reaches_application(&d, &reviewer, code("320116"), false));
        assert!(require_applicant_reader(&reviewer).is_ok());
        assert_eq!(refused(require_applicant_reader(&finance)), ErrorCode::RoleRequired);
    }

    #[test]
    fn a_reporter_is_seen_by_the_inspectors_who_reach_the_report() {
        let d = jiangsu();
        let county = staff(&[Role::Inspector], Some("320115"));
        let city = staff(&[Role::Inspector], Some("320100"));
        let reviewer = staff(&[Role::Reviewer], Some("320115"));
        assert!(reaches_wage_report(&d, &county, code("320115")));
        assert!(reaches_wage_report(&d, &city, code("320115")));
        assert!(!reaches_wage_report(&d, &county, code("320116")));
        assert!(!reaches_wage_report(&d, &reviewer, code("320115")));
        assert!(require_reporter_reader(&county).is_ok());
        for role in [Role::Reviewer, Role::Admin, Role::Finance, Role::PolicyEditor] {
            assert_eq!(
                refused(require_reporter_reader(&staff(&[role], Some("320115")))),
                ErrorCode::RoleRequired
            );
        }
    }

    #[test]
    fn transfers_are_followed_by_admins_reviewers_and_inspectors() {
        for role in [Role::Admin, Role::Reviewer, Role::Inspector] {
            assert!(require_transfer_follower(&staff(&[role], Some("320000"))).is_ok());
        }
        for role in [Role::Finance, Role::PolicyEditor] {
            assert_eq!(
                refused(require_transfer_follower(&staff(&[role], Some("320000")))),
                ErrorCode::RoleRequired
            );
        }
    }

    #[test]
    fn a_client_reaches_a_transfer_by_either_end() {
        let d = jiangsu();
        let client = client(&[Scope::SiTransferRead], "320115");
        assert!(client_reaches(&d, &client, code("320115"), code("320000")));
        assert!(client_reaches(&d, &client, code("320000"), code("320115")));
        assert!(!client_reaches(&d, &client, code("320116"), code("320100")));
    }

    #[test]
    fn only_a_region_bound_reader_of_the_case_sees_its_person() {
        let d = jiangsu();
        let reader = client(&[Scope::SiTransferRead], "320115");
        assert!(client_sees_person(&d, &reader, code("320000"), code("320115")));
        assert!(!client_sees_person(&d, &reader, code("320116"), code("320100")));
        let writer = client(&[Scope::SiTransferWrite], "320115");
        assert!(!client_sees_person(&d, &writer, code("320000"), code("320115")));
        let national = client(&[Scope::SiTransferRead], "000000");
        assert!(client_reaches(&d, &national, code("320000"), code("320115")));
        assert!(!client_sees_person(&d, &national, code("320000"), code("320115")));
    }

    #[test]
    fn the_overview_is_not_for_policy_editors() {
        for role in [Role::Admin, Role::Reviewer, Role::Inspector, Role::Finance] {
            assert!(require_overview_reader(&staff(&[role], Some("320000"))).is_ok());
        }
        assert_eq!(
            refused(require_overview_reader(&staff(&[Role::PolicyEditor], Some("320000")))),
            ErrorCode::RoleRequired
        );
    }

    #[test]
    fn an_unpublished_policy_is_for_its_regions_editors() {
        let d = jiangsu();
        let editor = staff(&[Role::PolicyEditor], Some("320100"));
        let reviewer = staff(&[Role::Reviewer], Some("320100"));
        assert!(may_read_policy(&d, None, true, code("320115")));
        assert!(!may_read_policy(&d, None, false, code("320115")));
        assert!(may_read_policy(&d, Some(&editor), false, code("320115")));
        assert!(!may_read_policy(&d, Some(&editor), false, code("320000")));
        assert!(!may_read_policy(&d, Some(&reviewer), false, code("320115")));
        assert!(require_policy_editor(&d, &editor, code("320116")).is_ok());
        assert_eq!(
            refused(require_policy_editor(&d, &editor, code("320000"))),
            ErrorCode::OutOfRegionScope
        );
        assert_eq!(
            refused(require_policy_editor(&d, &reviewer, code("320100"))),
            ErrorCode::RoleRequired
        );
    }
}

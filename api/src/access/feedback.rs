//! Who works the follow-up (回访) of a low rating and who answers a
//! complaint or suggestion (投诉建议), each one pure function, as every rule
//! of `access`.

use super::{covers, require_any_role, require_role};
use crate::{
    auth::{Principal, Role},
    domain::{CaseType, RegionCode},
    error::AppResult,
    regions::RegionDirectory,
};

/// Who works the follow-up (回访) a low rating opens: the role that works
/// the case rated, in the office that worked it. Reviewers call back about
/// applications, labour inspectors about wage reports, and administrators
/// (the transfer clerks of the office where a transfer arrives) about
/// transfers.
pub fn follow_up_role(kind: CaseType) -> Role {
    match kind {
        CaseType::Application => Role::Reviewer,
        CaseType::WageReport => Role::Inspector,
        CaseType::Transfer => Role::Admin,
    }
}

/// The kinds of follow-up a staff member works (their queue shows those
/// only); 403 `ROLE_REQUIRED` when they work none.
pub fn follow_up_kinds(staff: &Principal) -> AppResult<Vec<CaseType>> {
    let roles: Vec<Role> = CaseType::ALL.iter().map(|kind| follow_up_role(*kind)).collect();
    require_any_role(staff, &roles)?;
    Ok(CaseType::ALL
        .iter()
        .copied()
        .filter(|kind| staff.has_role(follow_up_role(*kind)))
        .collect())
}

/// Whether a staff member reaches a follow-up: they work its kind and its
/// office is in their region. One they do not reach is not found.
pub fn reaches_follow_up(regions: &RegionDirectory, staff: &Principal, kind: CaseType, region: RegionCode) -> bool {
    staff.has_role(follow_up_role(kind)) && covers(regions, staff, region)
}

/// Who answers complaints and suggestions (投诉建议): the administrators of
/// the office they are addressed to, who run it.
pub fn require_complaint_handler(staff: &Principal) -> AppResult<()> {
    require_role(staff, Role::Admin)
}

/// Whether an administrator reaches a complaint: it is addressed to their
/// region or one below. One they do not reach is not found.
pub fn reaches_complaint(regions: &RegionDirectory, staff: &Principal, region: RegionCode) -> bool {
    staff.has_role(Role::Admin) && covers(regions, staff, region)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        auth::Audience,
        domain::TextType,
        error::ErrorCode,
        regions::{Region, RegionLevel},
    };

    fn code(text: &str) -> RegionCode {
        RegionCode::parse(text).unwrap()
    }

    fn nanjing() -> RegionDirectory {
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

    fn staff(roles: &[Role], region: &str) -> Principal {
        Principal {
            audience: Audience::Staff,
            subject: "staff-1".to_owned(),
            session_id: String::new(),
            roles: roles.to_vec(),
            region: Some(code(region)),
            scopes: Vec::new(),
            acting: None,
        }
    }

    fn refused(outcome: AppResult<impl std::fmt::Debug>) -> ErrorCode {
        outcome.expect_err("refused").code
    }

    #[test]
    fn a_follow_up_is_worked_by_the_role_that_works_its_case_in_region() {
        let d = nanjing();
        let reviewer = staff(&[Role::Reviewer], "320115");
        let inspector = staff(&[Role::Inspector], "320100");
        let admin = staff(&[Role::Admin], "320115");
        assert_eq!(follow_up_kinds(&reviewer).unwrap(), [CaseType::Application]);
        assert_eq!(follow_up_kinds(&inspector).unwrap(), [CaseType::WageReport]);
        assert_eq!(follow_up_kinds(&admin).unwrap(), [CaseType::Transfer]);
        let both = staff(&[Role::Reviewer, Role::Inspector], "320115");
        assert_eq!(
            follow_up_kinds(&both).unwrap(),
            [CaseType::Application, CaseType::WageReport]
        );
        for role in [Role::Finance, Role::PolicyEditor] {
            assert_eq!(
                refused(follow_up_kinds(&staff(&[role], "320115"))),
                ErrorCode::RoleRequired
            );
        }
        assert!(reaches_follow_up(&d, &reviewer, CaseType::Application, code("320115")));
        assert!(!reaches_follow_up(&d, &reviewer, CaseType::Application, code("320116")));
        assert!(!reaches_follow_up(&d, &reviewer, CaseType::WageReport, code("320115")));
        assert!(reaches_follow_up(&d, &inspector, CaseType::WageReport, code("320116")));
        assert!(reaches_follow_up(&d, &admin, CaseType::Transfer, code("320115")));
    }

    #[test]
    fn complaints_are_answered_by_the_administrators_of_their_region() {
        let d = nanjing();
        let admin = staff(&[Role::Admin], "320100");
        assert!(require_complaint_handler(&admin).is_ok());
        assert!(reaches_complaint(&d, &admin, code("320115")));
        assert!(!reaches_complaint(&d, &admin, code("320000")));
        let reviewer = staff(&[Role::Reviewer], "320100");
        assert_eq!(refused(require_complaint_handler(&reviewer)), ErrorCode::RoleRequired);
        assert!(!reaches_complaint(&d, &reviewer, code("320115")));
    }
}

//! 亲情代办: what a relative acting for a worker may do, in one list. The
//! guard (`auth::acting`) asks it on every request that carries
//! `X-Acting-For`, after checking the grant itself is live.

use serde_json::json;

use crate::{
    auth::{Acting, Right},
    error::{AppError, AppResult, ErrorCode},
};

/// What a relative may do for a worker through one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delegable {
    /// Any one of these rights opens the operation.
    pub rights: &'static [Right],
    /// It shows the worker's personal data in clear (an uploaded ID card):
    /// only to a relative the worker lets see it.
    pub shows_personal_data: bool,
    /// What it does, in the worker's words, for their list of acts.
    pub what: &'static str,
}

const APPLICATIONS: &[Right] = &[Right::Applications];
const WAGE_REPORTS: &[Right] = &[Right::WageReports];
const TRANSFERS: &[Right] = &[Right::Transfers];
/// Documents are attached to applications and to wage reports.
const DOCUMENTS: &[Right] = &[Right::Applications, Right::WageReports];

/// The one list of what a relative may do for a worker, by operation id:
/// the worker's cases, within the rights granted. Everything else a worker
/// does is theirs alone (the profile, consents, the phone, the payee
/// account, notifications, relatives, closing the account, and any
/// operation added later until it is listed here).
pub fn delegable(operation_id: &str) -> Option<Delegable> {
    let (rights, shows_personal_data, what) = match operation_id {
        "checkEligibility" => (APPLICATIONS, false, "查看补贴申请条件"),
        "createApplication" => (APPLICATIONS, false, "填写补贴申请"),
        "listMyApplications" => (APPLICATIONS, false, "查看补贴申请列表"),
        "getMyApplication" => (APPLICATIONS, false, "查看补贴申请"),
        "updateMyApplication" => (APPLICATIONS, false, "修改补贴申请"),
        "submitMyApplication" => (APPLICATIONS, false, "提交补贴申请"),
        "withdrawMyApplication" => (APPLICATIONS, false, "撤回补贴申请"),
        "uploadDocument" => (DOCUMENTS, false, "上传材料"),
        "downloadDocument" => (DOCUMENTS, true, "查看上传的材料"),
        "fileWageReport" => (WAGE_REPORTS, false, "提交欠薪线索"),
        "listMyWageReports" => (WAGE_REPORTS, false, "查看欠薪线索列表"),
        "getMyWageReport" => (WAGE_REPORTS, false, "查看欠薪线索"),
        "supplementWageReport" => (WAGE_REPORTS, false, "补充欠薪线索"),
        "openTransfer" => (TRANSFERS, false, "申请社保关系转移"),
        "listMyTransfers" => (TRANSFERS, false, "查看社保转移列表"),
        "getMyTransfer" => (TRANSFERS, false, "查看社保转移"),
        "claimTransfer" => (TRANSFERS, false, "用认领码认领社保转移"),
        "linkMyTransfers" => (TRANSFERS, false, "查找经办机构办理的社保转移"),
        "answerTransferMaterials" => (TRANSFERS, false, "补充社保转移材料"),
        _ => return None,
    };
    Some(Delegable {
        rights,
        shows_personal_data,
        what,
    })
}

/// 403 unless a relative acting under `acting` may call `operation_id`:
/// `ACTING_NOT_DELEGABLE` for what only the worker does,
/// `ACTING_RIGHT_MISSING` (naming the rights that would open it) beyond the
/// rights granted, `PERSONAL_DATA_NOT_SHARED` for personal data in clear the
/// worker does not let the relative see.
pub fn require_delegated(acting: &Acting, operation_id: Option<&str>) -> AppResult<Delegable> {
    let delegable = operation_id
        .and_then(delegable)
        .ok_or_else(|| AppError::new(ErrorCode::ActingNotDelegable))?;
    if !delegable.rights.iter().any(|right| acting.rights.contains(right)) {
        let names: Vec<&str> = delegable.rights.iter().map(|right| right.as_str()).collect();
        return Err(AppError::new(ErrorCode::ActingRightMissing).with_details(json!({ "right": names.join(" | ") })));
    }
    if delegable.shows_personal_data && !acting.may_see_personal_data {
        return Err(AppError::new(ErrorCode::PersonalDataNotShared));
    }
    Ok(delegable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(outcome: AppResult<impl std::fmt::Debug>) -> ErrorCode {
        outcome.expect_err("refused").code
    }

    fn acting(rights: &[Right], may_see_personal_data: bool) -> Acting {
        Acting {
            relative_id: "relative-1".to_owned(),
            grant_id: "grant-1".to_owned(),
            rights: rights.to_vec(),
            may_see_personal_data,
        }
    }

    #[test]
    fn a_relative_acts_on_the_cases_granted_and_nothing_of_the_workers_own() {
        let reports = acting(&[Right::WageReports], false);
        assert!(require_delegated(&reports, Some("fileWageReport")).is_ok());
        assert!(require_delegated(&reports, Some("uploadDocument")).is_ok());
        let refusal = require_delegated(&reports, Some("createApplication")).unwrap_err();
        assert_eq!(refusal.code, ErrorCode::ActingRightMissing);
        assert_eq!(refusal.details, Some(json!({ "right": "applications" })));
        let everything = acting(Right::ALL, true);
        for own in [
            "getMe",
            "updateMyProfile",
            "bindMyPhone",
            "verifyMyIdentity",
            "exportMyData",
            "closeMyAccount",
            "saveMyPayeeAccount",
            "getMyPayeeAccount",
            "listMyNotifications",
            "inviteRelative",
            "revokeRelative",
            "acceptRelativeInvitation",
            "logout",
        ] {
            assert_eq!(
                refused(require_delegated(&everything, Some(own))),
                ErrorCode::ActingNotDelegable,
                "{own}"
            );
        }
        assert_eq!(
            refused(require_delegated(&everything, None)),
            ErrorCode::ActingNotDelegable
        );
    }

    #[test]
    fn documents_in_clear_only_for_a_relative_allowed_to_see_them() {
        assert_eq!(
            refused(require_delegated(
                &acting(&[Right::Applications], false),
                Some("downloadDocument")
            )),
            ErrorCode::PersonalDataNotShared
        );
        assert!(require_delegated(&acting(&[Right::Applications], true), Some("downloadDocument")).is_ok());
        assert_eq!(
            refused(require_delegated(
                &acting(&[Right::Transfers], true),
                Some("downloadDocument")
            )),
            ErrorCode::ActingRightMissing
        );
    }
}

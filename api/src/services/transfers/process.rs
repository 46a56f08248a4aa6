//! The legal steps of each kind of transfer and their time limits, by
//! version: a case is opened under the current version and keeps that
//! version's limits when the law changes (a new version is added, the old
//! ones stay).

crate::text_enum! {
    /// Which insurance moves.
    InsuranceType {
        Pension => "pension",
        Medical => "medical",
        Unemployment => "unemployment",
    }
}

crate::text_enum! {
    /// Which office acts on a step.
    Office {
        /// The old insured place (转出地 / 原参保地).
        From => "from",
        /// The new insured place (转入地 / 新参保地).
        To => "to",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepSpec {
    pub key: &'static str,
    pub office: Office,
    /// Working days from the previous step's completion (for the first, from
    /// the request); none for no limit.
    pub limit_days: Option<u32>,
    /// What happens, in plain Chinese.
    pub label: &'static str,
}

const ACCEPTED: &str = "application_accepted";

const fn step(key: &'static str, office: Office, limit_days: Option<u32>, label: &'static str) -> StepSpec {
    StepSpec {
        key,
        office,
        limit_days,
        label,
    }
}

/// Pension (国办发〔2009〕66号): the new place accepts, issues the contact
/// letter within 15 working days; the old place sends the funds and the
/// information sheet within 15; the new place completes within 15.
const PENSION: &[StepSpec] = &[
    step(ACCEPTED, Office::To, None, "新参保地受理转移申请"),
    step("contact_letter_issued", Office::To, Some(15), "新参保地出具联系函"),
    step(
        "funds_transferred",
        Office::From,
        Some(15),
        "原参保地转出基金和参保信息表",
    ),
    step("continuation_completed", Office::To, Some(15), "新参保地办结接续"),
];

/// The steps of an insurance that moves in two offices' acts: the new place
/// accepts, the old place completes the transfer out within `out_days`
/// working days, the new place the continuation within `in_days`.
const fn out_then_in(out_days: u32, in_days: u32) -> [StepSpec; 3] {
    [
        step(ACCEPTED, Office::To, None, "转入地受理转移申请"),
        step("transfer_out_completed", Office::From, Some(out_days), "转出地办结转出"),
        step("continuation_completed", Office::To, Some(in_days), "转入地办结接续"),
    ]
}

/// Medical insurance (医保办发〔2021〕43号): the old place completes the
/// transfer out within 10 working days, the new place the continuation within 5.
const MEDICAL: &[StepSpec] = &out_then_in(10, 5);

/// Unemployment insurance: no national limits are stated in the programme's
/// documents; 15 working days per office are used until a region sets its own.
const UNEMPLOYMENT: &[StepSpec] = &out_then_in(15, 15);

/// Working days the new place has to accept a request (or say which
/// materials are missing), as an administrative office must under 行政许可法
/// 第三十二条 (five days to tell an applicant everything to complete).
const ACCEPT_WITHIN: u32 = 5;

/// `process` with the acceptance limit on its first step.
const fn with_acceptance_limit<const N: usize>(process: [StepSpec; N]) -> [StepSpec; N] {
    let mut steps = process;
    steps[0].limit_days = Some(ACCEPT_WITHIN);
    steps
}

const PENSION_V2: &[StepSpec] = &with_acceptance_limit([PENSION[0], PENSION[1], PENSION[2], PENSION[3]]);
const MEDICAL_V2: &[StepSpec] = &with_acceptance_limit(out_then_in(10, 5));
const UNEMPLOYMENT_V2: &[StepSpec] = &with_acceptance_limit(out_then_in(15, 15));

/// The version new cases are opened under.
pub const CURRENT_VERSION: i32 = 2;

/// One version of the law: the steps of each insurance.
struct Process {
    version: i32,
    pension: &'static [StepSpec],
    medical: &'static [StepSpec],
    unemployment: &'static [StepSpec],
}

/// Every version a case may have been opened under, oldest first. Version
/// 1 had no limit on acceptance; version 2 adds it.
const VERSIONS: &[Process] = &[
    Process {
        version: 1,
        pension: PENSION,
        medical: MEDICAL,
        unemployment: UNEMPLOYMENT,
    },
    Process {
        version: 2,
        pension: PENSION_V2,
        medical: MEDICAL_V2,
        unemployment: UNEMPLOYMENT_V2,
    },
];

/// The steps of `insurance` under process `version`; none for a version
/// this build does not know.
pub fn steps(insurance: InsuranceType, version: i32) -> Option<&'static [StepSpec]> {
    steps_in(VERSIONS, insurance, version)
}

/// The steps of a case opened now.
pub fn current(insurance: InsuranceType) -> &'static [StepSpec] {
    steps(insurance, CURRENT_VERSION).expect("the current version is in the table")
}

fn steps_in(versions: &[Process], insurance: InsuranceType, version: i32) -> Option<&'static [StepSpec]> {
    let process = versions.iter().find(|p| p.version == version)?;
    Some(match insurance {
        InsuranceType::Pension => process.pension,
        InsuranceType::Medical => process.medical,
        InsuranceType::Unemployment => process.unemployment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_process_starts_with_acceptance_and_ends_with_continuation() {
        for insurance in InsuranceType::ALL {
            let process = current(*insurance);
            assert_eq!(process[0].key, ACCEPTED);
            assert_eq!(process.last().unwrap().key, "continuation_completed");
            assert!(process.iter().all(|s| s.limit_days.is_some()), "{insurance:?}");
        }
        assert_eq!(steps(InsuranceType::Medical, 1).unwrap()[1].limit_days, Some(10));
    }

    #[test]
    fn acceptance_is_due_from_version_two_and_nothing_else_changed() {
        for insurance in InsuranceType::ALL {
            let (first, second) = (steps(*insurance, 1).unwrap(), steps(*insurance, 2).unwrap());
            assert_eq!(first[0].limit_days, None, "{insurance:?}");
            assert_eq!(second[0].limit_days, Some(ACCEPT_WITHIN), "{insurance:?}");
            assert_eq!(first.len(), second.len());
            let unchanged = |spec: &StepSpec| (spec.key, spec.office, spec.limit_days, spec.label);
            assert!(first[1..].iter().map(unchanged).eq(second[1..].iter().map(unchanged)));
        }
    }

    #[test]
    fn a_case_keeps_the_limits_of_the_version_it_was_opened_under() {
        const SHORTER_MEDICAL: &[StepSpec] = &[
            MEDICAL[0],
            StepSpec {
                limit_days: Some(7),
                ..MEDICAL[1]
            },
            MEDICAL[2],
        ];
        let amended = [
            Process {
                version: 1,
                pension: PENSION,
                medical: MEDICAL,
                unemployment: UNEMPLOYMENT,
            },
            Process {
                version: 2,
                pension: PENSION,
                medical: SHORTER_MEDICAL,
                unemployment: UNEMPLOYMENT,
            },
        ];
        let limit = |version| steps_in(&amended, InsuranceType::Medical, version).unwrap()[1].limit_days;
        assert_eq!(limit(1), Some(10), "a case opened before the change");
        assert_eq!(limit(2), Some(7), "a case opened after it");
        assert_eq!(
            steps_in(&amended, InsuranceType::Medical, 3),
            None,
            "no version is guessed"
        );
    }
}

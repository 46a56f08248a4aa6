//! The legal steps of each kind of transfer and their time limits.

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
    /// Working days from the previous step's completion; none for the first.
    pub limit_days: Option<u32>,
    /// What happens, in plain Chinese.
    pub label: &'static str,
}

const ACCEPTED: &str = "application_accepted";

/// Pension (国办发〔2009〕66号): the new place accepts, issues the contact
/// letter within 15 working days; the old place sends the funds and the
/// information sheet within 15; the new place completes within 15.
const PENSION: &[StepSpec] = &[
    StepSpec {
        key: ACCEPTED,
        office: Office::To,
        limit_days: None,
        label: "新参保地受理转移申请",
    },
    StepSpec {
        key: "contact_letter_issued",
        office: Office::To,
        limit_days: Some(15),
        label: "新参保地出具联系函",
    },
    StepSpec {
        key: "funds_transferred",
        office: Office::From,
        limit_days: Some(15),
        label: "原参保地转出基金和参保信息表",
    },
    StepSpec {
        key: "continuation_completed",
        office: Office::To,
        limit_days: Some(15),
        label: "新参保地办结接续",
    },
];

/// Medical insurance (医保办发〔2021〕43号): the old place completes the
/// transfer out within 10 working days, the new place the continuation within 5.
const MEDICAL: &[StepSpec] = &[
    StepSpec {
        key: ACCEPTED,
        office: Office::To,
        limit_days: None,
        label: "转入地受理转移申请",
    },
    StepSpec {
        key: "transfer_out_completed",
        office: Office::From,
        limit_days: Some(10),
        label: "转出地办结转出",
    },
    StepSpec {
        key: "continuation_completed",
        office: Office::To,
        limit_days: Some(5),
        label: "转入地办结接续",
    },
];

/// Unemployment insurance: no national limits are stated in the programme's
/// documents; 15 working days per office are used until a region sets its own.
const UNEMPLOYMENT: &[StepSpec] = &[
    StepSpec {
        key: ACCEPTED,
        office: Office::To,
        limit_days: None,
        label: "转入地受理转移申请",
    },
    StepSpec {
        key: "transfer_out_completed",
        office: Office::From,
        limit_days: Some(15),
        label: "转出地办结转出",
    },
    StepSpec {
        key: "continuation_completed",
        office: Office::To,
        limit_days: Some(15),
        label: "转入地办结接续",
    },
];

pub fn steps(insurance: InsuranceType) -> &'static [StepSpec] {
    match insurance {
        InsuranceType::Pension => PENSION,
        InsuranceType::Medical => MEDICAL,
        InsuranceType::Unemployment => UNEMPLOYMENT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_process_starts_with_acceptance_and_ends_with_continuation() {
        for insurance in InsuranceType::ALL {
            let process = steps(*insurance);
            assert_eq!(process[0].key, ACCEPTED);
            assert_eq!(process[0].limit_days, None);
            assert_eq!(process.last().unwrap().key, "continuation_completed");
            assert!(process[1..].iter().all(|s| s.limit_days.is_some()));
        }
        assert_eq!(steps(InsuranceType::Medical)[1].limit_days, Some(10));
    }
}

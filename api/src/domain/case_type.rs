crate::text_enum! {
    /// Which lifecycle a worker's case belongs to, as a rating, a follow-up
    /// or a complaint names the case it concerns.
    CaseType {
        /// A subsidy application (SB-…).
        Application => "application",
        /// An unpaid-wage report (QX-…).
        WageReport => "wage_report",
        /// A social-insurance transfer (ZJ-…).
        Transfer => "transfer",
    }
}

impl CaseType {
    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            CaseType::Application => "补贴申请",
            CaseType::WageReport => "欠薪线索",
            CaseType::Transfer => "社保关系转移",
        }
    }
}

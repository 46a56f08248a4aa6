use poem_openapi::Enum;

/// The kind of household registration (户口性质).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize, serde::Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum HukouType {
    /// 农业户口
    Agricultural,
    /// 非农业户口
    NonAgricultural,
    /// 居民户口 (after the household-registration reform)
    Resident,
}

impl HukouType {
    pub fn as_str(self) -> &'static str {
        match self {
            HukouType::Agricultural => "agricultural",
            HukouType::NonAgricultural => "non_agricultural",
            HukouType::Resident => "resident",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [HukouType::Agricultural, HukouType::NonAgricultural, HukouType::Resident]
            .into_iter()
            .find(|h| h.as_str() == text)
    }
}

use crate::error::Localized;

/// Why one input value was refused.
///
/// The parsers of the OpenAPI and serde layers only carry strings, so an issue
/// travels through them as its stable code and is turned back into a
/// localized message by [`FieldIssue::find_in`] when the problem body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldIssue {
    RegionCodeFormat,
}

impl FieldIssue {
    const ALL: &'static [FieldIssue] = &[FieldIssue::RegionCodeFormat];

    pub fn code(self) -> &'static str {
        match self {
            FieldIssue::RegionCodeFormat => "REGION_CODE_FORMAT",
        }
    }

    pub fn message(self) -> Localized {
        match self {
            FieldIssue::RegionCodeFormat => Localized::fixed(
                "地区代码应为6位数字，例如 320115。",
                "A region code is six digits, e.g. 320115.",
            ),
        }
    }

    /// Finds the issue whose code a parser's error text carries.
    pub fn find_in(text: &str) -> Option<FieldIssue> {
        Self::ALL.iter().copied().find(|issue| text.contains(issue.code()))
    }
}

impl std::fmt::Display for FieldIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issue_is_found_again_in_a_wrapped_parser_message() {
        for issue in FieldIssue::ALL {
            let wrapped = format!(r#"failed to parse "x": {issue} (occurred while parsing "y")"#);
            assert_eq!(FieldIssue::find_in(&wrapped), Some(*issue));
        }
        assert_eq!(FieldIssue::find_in("Expected input type \"integer\""), None);
    }
}

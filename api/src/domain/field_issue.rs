use crate::error::Localized;

macro_rules! field_issues {
    ($($variant:ident => ($code:literal, $zh:literal, $en:literal),)*) => {
        /// Why one input value was refused.
        ///
        /// The parsers of the OpenAPI and serde layers only carry strings, so an
        /// issue travels through them as its stable code and is turned back into
        /// a localized message by [`FieldIssue::find_in`] when the problem body
        /// is written.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum FieldIssue {
            $($variant,)*
        }

        impl FieldIssue {
            const ALL: &'static [FieldIssue] = &[$(FieldIssue::$variant,)*];

            pub fn code(self) -> &'static str {
                match self {
                    $(FieldIssue::$variant => $code,)*
                }
            }

            pub fn message(self) -> Localized {
                match self {
                    $(FieldIssue::$variant => Localized::fixed($zh, $en),)*
                }
            }
        }
    };
}

field_issues! {
    RegionCodeFormat => ("REGION_CODE_FORMAT",
        "地区代码应为6位数字，例如 320115。", "A region code is six digits, e.g. 320115."),
    IdNumberFormat => ("ID_NUMBER_FORMAT",
        "身份证号应为18位，最后一位可以是数字或X。", "An ID number has 18 characters: 17 digits and a digit or X."),
    IdNumberBirthDate => ("ID_NUMBER_BIRTH_DATE",
        "身份证号里的出生日期不对，请核对后重新填写。", "The birth date inside the ID number is not valid."),
    IdNumberCheckDigit => ("ID_NUMBER_CHECK_DIGIT",
        "身份证号有误（校验位不对），请逐位核对。", "The ID number's check digit is wrong; check each digit."),
    PhoneFormat => ("PHONE_FORMAT",
        "手机号应为11位数字，以1开头。", "A mobile number has 11 digits and starts with 1."),
    AccountNumberFormat => ("ACCOUNT_NUMBER_FORMAT",
        "银行卡号应为16到19位数字。", "A card number has 16 to 19 digits."),
    AccountNumberCheckDigit => ("ACCOUNT_NUMBER_CHECK_DIGIT",
        "银行卡号有误（校验位不对），请对照卡面逐位核对。", "The card number's check digit is wrong; check each digit against the card."),
    TextTooShort => ("TEXT_TOO_SHORT",
        "这一项没有填或填得太短，请补充完整。", "This text is missing or too short."),
    TextTooLong => ("TEXT_TOO_LONG",
        "这一项填得太长了，请删减后再提交。", "This text is too long."),
    TextControlCharacter => ("TEXT_CONTROL_CHARACTER",
        "这一项里有无法识别的字符，请删除后重试。", "This text contains control characters."),
    CreditCodeFormat => ("CREDIT_CODE_FORMAT",
        "统一社会信用代码应为18位数字或大写字母（不含I、O、S、V、Z）。", "A unified social credit code has 18 digits or capital letters (no I, O, S, V, Z)."),
    CreditCodeCheck => ("CREDIT_CODE_CHECK",
        "统一社会信用代码有误（校验位不对），请对照营业执照逐位核对。", "The credit code's check character is wrong."),
    RatingScore => ("RATING_SCORE",
        "评分只能是1到5星，请重新选择。", "A score is a whole number of stars from 1 to 5."),
    RatingTag => ("RATING_TAG",
        "评价标签只能从“办事快、态度好、材料少、回复慢、跑了多次、说明不清”中选择。",
        "Tags are chosen from fast, courteous, few_documents, slow_reply, many_trips, unclear."),
    UsernameFormat => ("USERNAME_FORMAT",
        "用户名为3到64位小写字母、数字或 . _ -", "A username has 3 to 64 lowercase letters, digits, '.', '_' or '-'."),
}

impl FieldIssue {
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

    #[test]
    fn no_code_contains_another() {
        for a in FieldIssue::ALL {
            for b in FieldIssue::ALL {
                assert!(a == b || !a.code().contains(b.code()), "{a} contains {b}");
            }
        }
    }
}

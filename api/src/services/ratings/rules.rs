//! The rules of a rating (好差评), pure: the scores and tags there are, what
//! a rating may say, when it may change, and when it opens a follow-up.
//! Nothing here reads or writes anything.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use crate::{
    domain::FieldIssue,
    error::{AppError, AppResult, ErrorCode, Localized},
};

/// How long after the first rating the worker may change it.
pub const CHANGEABLE_FOR: TimeDelta = TimeDelta::days(7);
/// The longest comment, in characters.
pub const COMMENT_MAX: usize = 500;
/// The highest score that opens a follow-up (回访).
pub const LOW_SCORE: i32 = 2;

crate::text_enum! {
    /// What a worker may say of a case besides the stars, from a fixed list.
    RatingTag {
        /// 办事快
        Fast => "fast",
        /// 态度好
        Courteous => "courteous",
        /// 材料少
        FewDocuments => "few_documents",
        /// 回复慢
        SlowReply => "slow_reply",
        /// 跑了多次
        ManyTrips => "many_trips",
        /// 说明不清
        Unclear => "unclear",
    }
}

impl RatingTag {
    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            RatingTag::Fast => "办事快",
            RatingTag::Courteous => "态度好",
            RatingTag::FewDocuments => "材料少",
            RatingTag::SlowReply => "回复慢",
            RatingTag::ManyTrips => "跑了多次",
            RatingTag::Unclear => "说明不清",
        }
    }
}

/// A score of 1 to 5 stars; anything else is refused with `RATING_SCORE`.
pub fn score(stars: i64) -> Result<i32, FieldIssue> {
    match stars {
        1..=5 => Ok(stars as i32),
        _ => Err(FieldIssue::RatingScore),
    }
}

/// The tags named, each from the list, in the order given, each once;
/// an unknown one is refused with `RATING_TAG`.
pub fn tags(names: &[String]) -> Result<Vec<RatingTag>, FieldIssue> {
    let mut tags = Vec::with_capacity(names.len());
    for name in names {
        let tag = RatingTag::parse(name).ok_or(FieldIssue::RatingTag)?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

/// The tags as stored: their codes, comma-separated.
pub fn tags_text(tags: &[RatingTag]) -> String {
    tags.iter().map(|tag| tag.as_str()).collect::<Vec<_>>().join(",")
}

/// The tags stored as `text`.
pub fn tags_of(text: &str) -> Vec<RatingTag> {
    text.split(',').filter_map(RatingTag::parse).collect()
}

/// What a worker gives: the stars, the tags and perhaps a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    pub score: i32,
    pub tags: Vec<RatingTag>,
    /// Not blank.
    pub comment: Option<String>,
}

/// A rating as it stands, for deciding on a change.
#[derive(Debug, Clone, Copy)]
pub struct Standing<'a> {
    pub given: &'a Given,
    pub created_at: DateTime<Utc>,
}

/// What a rating request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The first rating of the case.
    Create,
    /// A change within the 7 days.
    Change,
    /// The same rating again: nothing to write (a retry of a PUT).
    Unchanged,
}

/// Until when a rating first given at `created_at` may change.
pub fn changeable_until(created_at: DateTime<Utc>) -> DateTime<Utc> {
    created_at + CHANGEABLE_FOR
}

/// 409 `INVALID_STATE` unless the case is closed: a case is rated once it
/// is finished.
pub fn require_closed(closed: bool) -> AppResult<()> {
    if closed {
        return Ok(());
    }
    Err(AppError::new(ErrorCode::InvalidState)
        .with_message(Localized::fixed(
            "这件事还没有办结，办结后才能评价。",
            "A case is rated once it is closed.",
        ))
        .with_details(json!({ "reason": "case_open" })))
}

/// Whether `given` creates, changes or repeats the rating `standing`; 409
/// `INVALID_STATE` for a change 7 days or more after the first rating.
pub fn decide(standing: Option<Standing<'_>>, given: &Given, now: DateTime<Utc>) -> AppResult<Decision> {
    let Some(standing) = standing else {
        return Ok(Decision::Create);
    };
    if standing.given == given {
        return Ok(Decision::Unchanged);
    }
    let until = changeable_until(standing.created_at);
    if now >= until {
        return Err(AppError::new(ErrorCode::InvalidState)
            .with_message(Localized::fixed(
                "评价提交满7天后不能再修改。",
                "A rating can be changed for 7 days after it was first given.",
            ))
            .with_details(json!({ "reason": "rating_locked", "changeable_until": until })));
    }
    Ok(Decision::Change)
}

/// A rating of 1 or 2 opens a follow-up, once per rating: one already
/// opened stays as it is, even when the rating is raised later.
pub fn opens_follow_up(score: i32, followed_up: bool) -> bool {
    score <= LOW_SCORE && !followed_up
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(score: i32) -> Given {
        Given {
            score,
            tags: vec![RatingTag::SlowReply],
            comment: None,
        }
    }

    #[test]
    fn a_score_is_one_to_five_stars() {
        for stars in 1..=5 {
            assert_eq!(score(stars), Ok(stars as i32));
        }
        for stars in [0, 6, -1, 100] {
            assert_eq!(score(stars), Err(FieldIssue::RatingScore));
        }
    }

    #[test]
    fn tags_come_from_the_list_each_once() {
        let names = ["fast", "courteous", "fast"].map(String::from);
        assert_eq!(tags(&names), Ok(vec![RatingTag::Fast, RatingTag::Courteous]));
        assert_eq!(tags(&["办事快".to_owned()]), Err(FieldIssue::RatingTag));
        let all: Vec<RatingTag> = RatingTag::ALL.to_vec();
        assert_eq!(tags_of(&tags_text(&all)), all);
        assert_eq!(tags_of(""), []);
    }

    #[test]
    fn the_refusal_of_a_tag_names_every_tag() {
        let message = FieldIssue::RatingTag.message();
        for tag in RatingTag::ALL {
            assert!(message.zh.contains(tag.label()), "{tag:?}");
            assert!(message.en.contains(tag.as_str()), "{tag:?}");
        }
    }

    #[test]
    fn a_rating_changes_for_seven_days_and_a_repeat_changes_nothing() {
        let first = Utc::now();
        let standing = given(2);
        let held = Some(Standing {
            given: &standing,
            created_at: first,
        });
        assert_eq!(decide(None, &given(2), first).ok(), Some(Decision::Create));
        assert_eq!(decide(held, &given(2), first).ok(), Some(Decision::Unchanged));
        let later = first + TimeDelta::days(6);
        assert_eq!(decide(held, &given(5), later).ok(), Some(Decision::Change));
        let late = first + CHANGEABLE_FOR;
        let refused = decide(held, &given(5), late).unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidState);
        assert_eq!(refused.details.unwrap()["reason"], "rating_locked");
        assert_eq!(decide(held, &given(2), late).ok(), Some(Decision::Unchanged));
    }

    #[test]
    fn only_a_closed_case_is_rated() {
        assert!(require_closed(true).is_ok());
        let refused = require_closed(false).unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidState);
    }

    #[test]
    fn one_or_two_stars_open_one_follow_up() {
        assert!(opens_follow_up(1, false));
        assert!(opens_follow_up(2, false));
        assert!(!opens_follow_up(3, false));
        assert!(!opens_follow_up(1, true), "one follow-up per rating");
    }
}

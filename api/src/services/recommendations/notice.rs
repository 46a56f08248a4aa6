//! What a worker is told of 政策找人: a program found for them (at most once
//! a week), an offer confirmed for them, and what to do next on each
//! recommendation. For a subscribe message, `case_no` is the program's name:
//! map it to a `thing` field.

use chrono::Utc;

use super::offers::{Offer, OfferStatus};
use crate::services::{
    notifications::{CaseNews, Event, Message},
    programs::{Program, rules::Check},
};

/// The topic of a notice of a match.
pub const MATCH_EVENT: &str = "recommendation.match";
/// The topic of a notice of a confirmed offer.
pub const OFFER_EVENT: &str = "recommendation.offer";

/// The events 政策找人 raises, for the subscribe-message templates.
pub fn events() -> Vec<Event> {
    [MATCH_EVENT, OFFER_EVENT]
        .into_iter()
        .map(|name| Event {
            name: name.to_owned(),
            carries_amount: false,
        })
        .collect()
}

fn news(program: &Program, status: &str, next_step: &str) -> CaseNews {
    CaseNews {
        case_kind: "政策找人".to_owned(),
        case_no: program.terms.name.clone(),
        status: status.to_owned(),
        next_step: next_step.to_owned(),
        amount_fen: None,
        changed_at: Utc::now(),
    }
}

/// A program the worker may qualify for was found.
pub fn found(program: &Program) -> Message {
    Message {
        title: "政策找人：为您找到一项补贴".to_owned(),
        body: format!(
            "您可能符合“{}”的条件。打开小程序“为您推荐”，查看还需要满足的条件和怎么申请。",
            program.terms.name
        ),
        link: Some(format!("pages/recommendations/index?program_id={}", program.id)),
        news: Some(news(program, "可申请", "打开小程序查看条件和办法")),
    }
}

/// A reviewer confirmed the worker's 免申即享 offer.
pub fn confirmed(program: &Program, offer_id: &str) -> Message {
    Message {
        title: "免申即享：补贴可以领取了".to_owned(),
        body: format!(
            "您符合“{}”的全部条件，工作人员已经确认。不用填表、不用上传材料，打开小程序一键领取。",
            program.terms.name
        ),
        link: Some(format!("pages/recommendations/offer?id={offer_id}")),
        news: Some(news(program, "待领取", "打开小程序一键领取")),
    }
}

/// What the worker does next about a recommendation.
pub fn next_step(program: &Program, unknown: &[Check], offer: Option<&Offer>) -> String {
    match offer.map(|o| o.status) {
        Some(OfferStatus::Confirmed) => {
            return "免申即享：工作人员已经确认，点“一键领取”即可，不用填表。".to_owned();
        }
        Some(OfferStatus::Proposed) => {
            return "免申即享：您符合全部条件，工作人员确认后会通知您一键领取。".to_owned();
        }
        _ => {}
    }
    let missing: Vec<&str> = unknown.iter().filter(|c| c.missing).map(|c| c.criterion).collect();
    if !missing.is_empty() {
        return "先在“我的资料”里补全还不知道的信息（见“还不确定的条件”），再来看是否符合。".to_owned();
    }
    let documents: Vec<&str> = program
        .terms
        .required_documents
        .iter()
        .map(|d| d.label.as_str())
        .collect();
    let mut step = if unknown.is_empty() {
        "您符合全部条件，可以直接申请".to_owned()
    } else {
        "可以申请：申请表里填写还不确定的几项".to_owned()
    };
    if !documents.is_empty() {
        step.push_str(&format!("，并上传{}", documents.join("、")));
    }
    step.push('。');
    step
}

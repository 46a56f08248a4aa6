//! What staff read of a transfer: the case, the person masked, the history.

use chrono::{DateTime, Utc};
use poem_openapi::Object;

use super::{
    agency_views::{TransferPerson, person_view},
    views::{TransferView, transfer_view},
};
use crate::services::transfers::StaffTransfer;

/// One entry of a transfer's history.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TransferEventView {
    pub at: DateTime<Utc>,
    /// `created`, `step`, `refused`, `materials_needed`, `materials_answered` or `cancelled`.
    pub kind: String,
    pub step: Option<String>,
    /// 本人, 工作人员, 经办机构, or the relative who acted for the worker
    /// (亲情代办): `亲友代办（妻子 王*）`.
    pub by: String,
    /// The reason, the materials asked for, or the person's answer.
    pub note: Option<String>,
}

/// A transfer as staff read it: the case, whose it is (masked, each field
/// absent when not known) and its history.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct StaffTransferDetail {
    #[oai(flatten)]
    pub transfer: TransferView,
    pub person: Option<TransferPerson>,
    pub timeline: Vec<TransferEventView>,
}

pub(super) fn staff_detail(read: StaffTransfer) -> StaffTransferDetail {
    StaffTransferDetail {
        transfer: transfer_view(read.transfer),
        person: read.person.map(person_view),
        timeline: read
            .timeline
            .into_iter()
            .map(|entry| TransferEventView {
                at: entry.at,
                kind: entry.kind,
                step: entry.step,
                by: entry.by,
                note: entry.note,
            })
            .collect(),
    }
}

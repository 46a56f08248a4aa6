//! What the agencies' transfer operations answer beyond the case itself:
//! the person, for the agencies of its regions, and the opening's claim code.

use poem_openapi::{Enum, Object};

use super::views::{AgencyTransferRequest, AgencyTransferView, TransferView, transfer_view};
use crate::services::transfers::{
    AgencyOpened, AgencyOpening, AgencyTransfer, Attested, Opening, Person, Verification,
};

/// How a value about the person was verified: `self_declared` (typed by the
/// worker in the profile, checked by nobody), `proven` (an ID number the
/// worker proved: an identity check, 人脸核身 / 实名核验, or a case linked
/// with an agency's claim code or phone), `wechat` (the phone WeChat
/// verified for the worker) or `agency` (the phone recorded by the agency
/// that opened the case).
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename = "Verification", rename_all = "snake_case")]
pub enum VerificationView {
    SelfDeclared,
    Proven,
    Wechat,
    Agency,
}

/// One value about the person, with how it was verified: in clear for the
/// agencies (`agencyGetTransfer`), masked for staff (`getTransferForStaff`).
#[derive(Debug, Object)]
pub struct AttestedValue {
    pub value: String,
    pub verification: VerificationView,
}

/// Whose insurance moves (in clear for the agencies, masked for staff);
/// each field is absent when it is not known. `name`: as the worker gave it in the profile (`self_declared`).
/// `id_number`: the worker's, `proven` or `self_declared`; absent on a case
/// an agency opened that nobody has linked yet (only a keyed hash of it is
/// kept: the opening agency has it). `phone`: the one WeChat verified for
/// the worker (`wechat`), else the one the opening agency recorded (`agency`).
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TransferPerson {
    pub name: Option<AttestedValue>,
    pub id_number: Option<AttestedValue>,
    pub phone: Option<AttestedValue>,
}

/// A transfer as an agency reads it: `person` is there for a client bound
/// to a region (not national) with either end of the case, when anything
/// is known of them.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AgencyTransferDetail {
    #[oai(flatten)]
    pub transfer: TransferView,
    pub person: Option<TransferPerson>,
}

fn attested(value: Attested) -> AttestedValue {
    AttestedValue {
        value: value.value,
        verification: match value.verification {
            Verification::SelfDeclared => VerificationView::SelfDeclared,
            Verification::Proven => VerificationView::Proven,
            Verification::Wechat => VerificationView::Wechat,
            Verification::Agency => VerificationView::Agency,
        },
    }
}

pub(super) fn person_view(person: Person) -> TransferPerson {
    TransferPerson {
        name: person.name.map(attested),
        id_number: person.id_number.map(attested),
        phone: person.phone.map(attested),
    }
}

pub(super) fn agency_detail(read: AgencyTransfer) -> AgencyTransferDetail {
    AgencyTransferDetail {
        transfer: transfer_view(read.transfer),
        person: read.person.map(person_view),
    }
}

impl From<AgencyTransferRequest> for AgencyOpening {
    fn from(body: AgencyTransferRequest) -> Self {
        AgencyOpening {
            opening: Opening {
                insurance_type: body.insurance_type,
                from: body.from_region_code,
                to: body.to_region_code,
            },
            id_number: body.id_number,
            phone: body.phone,
        }
    }
}

pub(super) fn opened_view(opened: AgencyOpened) -> AgencyTransferView {
    AgencyTransferView {
        transfer: transfer_view(opened.transfer),
        claim_code: opened.claim_code,
        claim_expires_at: opened.claim_expires_at,
    }
}

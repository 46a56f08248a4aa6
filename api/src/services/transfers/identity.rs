//! The person behind a transfer, as the agencies that move their insurance
//! read them: name, ID number and phone in clear, each with how it was
//! verified, only for the clients bound to a region of the case
//! (`access::client_sees_person`), every read audited.
//!
//! The `si_transfer.created` webhook and the change feed carry no person:
//! they are pushed to whoever listens, not read one case at a time and
//! audited.

use entity::{si_transfer, worker};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;

use super::{TimelineEntry, Transfer, reached, reached_by_staff, read, vanished};
use crate::{
    access,
    auth::{Principal, Scope},
    context::RequestContext,
    domain::{IdNumber, PhoneNumber, TextType, masked_name},
    error::AppResult,
    infra::crypto::{DataProtector, Field, Purpose},
    services::audit::{self, Event},
    state::AppState,
};

/// How a value about the person was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Typed by the worker in the profile, checked by nobody.
    SelfDeclared,
    /// An ID number the worker proved: an identity check (人脸核身 /
    /// 实名核验), or a case linked with an agency's claim code or phone.
    Proven,
    /// The phone WeChat verified for the worker (`POST /me/phone`).
    Wechat,
    /// The phone the agency that opened the case recorded.
    Agency,
}

/// One value about the person, with how it was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attested {
    pub value: String,
    pub verification: Verification,
}

impl Attested {
    fn new(verification: Verification) -> impl Fn(String) -> Attested {
        move |value| Attested { value, verification }
    }
}

/// Whose insurance moves, as far as it is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    pub name: Option<Attested>,
    pub id_number: Option<Attested>,
    pub phone: Option<Attested>,
}

impl Person {
    /// The fields shown, for the audit row (the names, never the values).
    fn revealed(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("id_number", self.id_number.is_some()),
            ("phone", self.phone.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, shown)| shown.then_some(field))
        .collect()
    }
}

impl Person {
    /// As staff read the person: every value masked (`张*`,
    /// `4501**********1235`, `138****5678`).
    fn masked(self) -> Person {
        let mask = |masking: fn(&str) -> String| {
            move |attested: Attested| Attested {
                value: masking(&attested.value),
                verification: attested.verification,
            }
        };
        Person {
            name: self.name.map(mask(masked_name)),
            id_number: self.id_number.map(mask(|number| {
                IdNumber::parse(number).map_or_else(|_| "*".repeat(number.chars().count()), |n| n.masked())
            })),
            phone: self.phone.map(mask(|phone| {
                PhoneNumber::parse(phone).map_or_else(|_| "*".repeat(phone.chars().count()), |p| p.masked())
            })),
        }
    }
}

/// A case as staff read it: the person masked, and its history.
pub struct StaffTransfer {
    pub transfer: Transfer,
    pub person: Option<Person>,
    pub timeline: Vec<TimelineEntry>,
}

/// A case of the staff member's region, with the person masked and its
/// history; another region's is not found.
pub async fn get_for_staff(state: &AppState, staff: &Principal, id: &str) -> AppResult<StaffTransfer> {
    let case = reached_by_staff(state, staff, read::by_id(&state.db, id).await?)?;
    let person = person_of(&state.db, &state.protector, id)
        .await?
        .map(Person::masked)
        .filter(|person| *person != Person::default());
    let timeline = read::timeline(&state.db, id).await?;
    Ok(StaffTransfer {
        transfer: case.transfer,
        person,
        timeline,
    })
}

/// A case as an agency reads it: with the person when the client may see them.
pub struct AgencyTransfer {
    pub transfer: Transfer,
    pub person: Option<Person>,
}

/// The case `transfer_no` for an agency that reaches it, with the person in
/// clear for a client bound to a region of the case; that read is audited
/// as `personal_data.reveal`.
pub async fn get_for_agency(
    state: &AppState,
    request: &RequestContext,
    client: &Principal,
    transfer_no: &str,
) -> AppResult<AgencyTransfer> {
    access::require_scope(client, Scope::SiTransferRead)?;
    let case = reached(state, client, read::by_number(&state.db, transfer_no).await?)?;
    let transfer = case.transfer;
    if !access::client_sees_person(
        &state.regions,
        client,
        transfer.from_region_code,
        transfer.to_region_code,
    ) {
        return Ok(AgencyTransfer { transfer, person: None });
    }
    let person = person_of(&state.db, &state.protector, &transfer.id)
        .await?
        .filter(|person| *person != Person::default());
    if let Some(person) = &person {
        let details = json!({
            "transfer_no": transfer.transfer_no,
            "worker_id": case.worker_id,
            "revealed": person.revealed(),
        });
        // Under the client's region: the administrators who gave the client
        // its credentials see what it read.
        let reveal = Event::success(
            client,
            "personal_data.reveal",
            ("si_transfer", &transfer.id),
            client.region,
            Some(details),
        );
        audit::record(&state.db, Some(request), reveal).await?;
    }
    Ok(AgencyTransfer { transfer, person })
}

/// What is known of the case's person, decrypted; none once the case's
/// personal data was removed under the retention policy.
///
/// A case with a worker (opened by them, or linked) shows the worker's
/// profile name, their ID number while it is still the case's, and the
/// phone WeChat verified for them, else the agency's. A case an agency
/// opened that nobody has linked yet shows only the phone the agency
/// recorded: its ID number is kept only as a keyed hash.
async fn person_of(db: &impl ConnectionTrait, protector: &DataProtector, id: &str) -> AppResult<Option<Person>> {
    let case = si_transfer::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(vanished)?;
    if case.anonymised_at.is_some() {
        return Ok(None);
    }
    let clear = |field, row: &str, cipher: Option<&str>| cipher.and_then(|c| protector.decrypt(field, row, c).ok());
    let recorded = clear(Field::TransferAgencyPhone, &case.id, case.phone_cipher.as_deref())
        .map(Attested::new(Verification::Agency));
    let holder = match &case.worker_id {
        Some(worker_id) => worker::Entity::find_by_id(worker_id.clone()).one(db).await?,
        None => None,
    };
    let Some(holder) = holder else {
        return Ok(Some(Person {
            phone: recorded,
            ..Person::default()
        }));
    };
    let id_verification = match holder.id_verified_at {
        Some(_) => Verification::Proven,
        None => Verification::SelfDeclared,
    };
    let id_number = clear(Field::WorkerIdNumber, &holder.id, holder.id_number_cipher.as_deref())
        .filter(|number| {
            protector
                .lookup_hashes(Purpose::IdNumber, number)
                .contains(&case.id_number_hash)
        })
        .map(Attested::new(id_verification));
    let phone = clear(Field::WorkerPhone, &holder.id, holder.phone_cipher.as_deref())
        .map(Attested::new(Verification::Wechat))
        .or(recorded);
    Ok(Some(Person {
        name: holder.real_name.map(Attested::new(Verification::SelfDeclared)),
        id_number,
        phone,
    }))
}

//! The person behind a report, as the inspectors who work it reach them: the
//! reporter's name and contact phone masked in the inspection view, in clear
//! (with the ID number) through an audited reveal, and the documents the
//! reporter attached. One rule, [`report_for_personal_data`], decides who may
//! see any of it in clear.

use entity::worker;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;

use super::{in_region, read::Report};
use crate::{
    access,
    auth::Principal,
    context::RequestContext,
    domain::{PhoneNumber, TextType, masked_name},
    error::AppResult,
    infra::crypto::{DataProtector, Field},
    services::audit::{self, Event},
    state::AppState,
};

/// The reporter as the inspection view shows them: masked.
#[derive(Debug, Clone)]
pub struct Reporter {
    pub name_masked: Option<String>,
    pub phone_masked: Option<String>,
}

/// The reporter in clear, for the inspector who must reach them.
#[derive(Debug, Clone)]
pub struct ReporterInClear {
    pub name: Option<String>,
    /// The contact phone given with the report, else the phone the worker
    /// bound (verified by WeChat).
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

impl ReporterInClear {
    pub fn masked(&self) -> Reporter {
        Reporter {
            name_masked: self.name.as_deref().map(masked_name),
            phone_masked: self
                .phone
                .as_deref()
                .and_then(|phone| PhoneNumber::parse(phone).ok())
                .map(|phone| phone.masked()),
        }
    }
}

/// The reporter of `report`, decrypted; `None` where there is nothing (an
/// anonymised report, a closed account).
pub async fn in_clear(
    db: &impl ConnectionTrait,
    protector: &DataProtector,
    report: &Report,
) -> AppResult<ReporterInClear> {
    let person = worker::Entity::find_by_id(report.worker_id.clone()).one(db).await?;
    let clear = |field, row: &str, cipher: Option<&str>| cipher.and_then(|c| protector.decrypt(field, row, c).ok());
    let contact = clear(
        Field::WageReportContactPhone,
        &report.id,
        report.contact_phone_cipher.as_deref(),
    );
    let Some(person) = person else {
        return Ok(ReporterInClear {
            name: None,
            phone: contact,
            id_number: None,
        });
    };
    Ok(ReporterInClear {
        phone: contact.or_else(|| clear(Field::WorkerPhone, &person.id, person.phone_cipher.as_deref())),
        id_number: clear(Field::WorkerIdNumber, &person.id, person.id_number_cipher.as_deref()),
        name: person.real_name,
    })
}

/// The report whose reporter a staff member may see in clear: an
/// inspector's, in their region. The one rule for revealing the reporter and
/// for fetching the documents attached to the report; any other is not found
/// (403 to staff without the role).
pub async fn report_for_personal_data(state: &AppState, staff: &Principal, id: &str) -> AppResult<Report> {
    access::require_reporter_reader(staff)?;
    let calendars = state.calendars.current(&state.db).await?;
    in_region(&state.db, &calendars, state, staff, id).await
}

/// The reporter's name, phone and ID number in clear, for an inspector who
/// must reach them; every reveal is audited.
pub async fn reveal(
    state: &AppState,
    request: &RequestContext,
    staff: &Principal,
    id: &str,
    reason: &str,
) -> AppResult<ReporterInClear> {
    let report = report_for_personal_data(state, staff, id).await?;
    let reporter = in_clear(&state.db, &state.protector, &report).await?;
    let details = json!({ "worker_id": report.worker_id, "report_no": report.report_no });
    let reveal = Event::reveal(staff, ("wage_report", &report.id), report.region, details, reason);
    audit::record(&state.db, Some(request), reveal).await?;
    Ok(reporter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inspection_view_masks_the_name_and_the_phone() {
        let reporter = ReporterInClear {
            name: Some("韦小宝".to_owned()),
            phone: Some("13812345678".to_owned()),
            id_number: Some("450102198801011235".to_owned()),
        };
        let masked = reporter.masked();
        assert_eq!(masked.name_masked.as_deref(), Some(masked_name("韦小宝").as_str()));
        assert_ne!(masked.name_masked.as_deref(), Some("韦小宝"));
        assert_eq!(masked.phone_masked.as_deref(), Some("138****5678"));
        let nobody = ReporterInClear {
            name: None,
            phone: None,
            id_number: None,
        };
        assert!(nobody.masked().name_masked.is_none() && nobody.masked().phone_masked.is_none());
    }
}

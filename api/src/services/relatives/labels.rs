//! How a relative is named where they acted: by the relation the worker
//! gave and their name masked (`妻子 王*`), never in clear. Case histories
//! keep only the grant's id, so a name is read as it is now: a relative who
//! closed their account is named by the relation alone.

use std::collections::{BTreeSet, HashMap};

use entity::{relative_grant, worker};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::{domain::masked_name, error::AppResult};

/// A relative whose grant is gone from sight.
pub const UNNAMED: &str = "亲友";

/// The real names of the accounts `ids`, for the caller to mask.
pub(super) async fn names(db: &impl ConnectionTrait, ids: Vec<String>) -> AppResult<HashMap<String, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(worker::Entity::find()
        .filter(worker::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|person| Some((person.id, person.real_name?)))
        .collect())
}

/// `妻子 王*` for each grant of `grant_ids`.
pub async fn of_grants(db: &impl ConnectionTrait, grant_ids: BTreeSet<String>) -> AppResult<HashMap<String, String>> {
    if grant_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let grants = relative_grant::Entity::find()
        .filter(relative_grant::Column::Id.is_in(grant_ids))
        .all(db)
        .await?;
    let relatives = grants.iter().filter_map(|grant| grant.relative_id.clone()).collect();
    let names = names(db, relatives).await?;
    Ok(grants
        .into_iter()
        .map(|grant| {
            let name = grant.relative_id.as_ref().and_then(|id| names.get(id));
            let label = match name {
                Some(name) => format!("{} {}", grant.relation, masked_name(name)),
                None => grant.relation,
            };
            (grant.id, label)
        })
        .collect())
}

/// Who made a history entry, as the case's timeline says it: `本人`-like
/// `own` for the worker themself, `亲友代办（妻子 王*）` for a relative.
pub fn acted_by(own: &str, grant_id: Option<&String>, labels: &HashMap<String, String>) -> String {
    match grant_id {
        Some(id) => format!("亲友代办（{}）", labels.get(id).map_or(UNNAMED, String::as_str)),
        None => own.to_owned(),
    }
}

/// The labels of the grants a history names.
pub async fn of_history<'a>(
    db: &impl ConnectionTrait,
    grant_ids: impl Iterator<Item = Option<&'a String>>,
) -> AppResult<HashMap<String, String>> {
    of_grants(db, grant_ids.flatten().cloned().collect()).await
}

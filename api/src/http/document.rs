//! The OpenAPI document as it is served and committed: poem-openapi's, with
//! the wrappers it puts around described references taken out and its own
//! name for dates replaced by the standard one.
//!
//! A field whose type is a named schema (an enum, say) and that has a doc
//! comment comes out of poem-openapi as
//! `{description, allOf: [{$ref}, {description}]}`: the second member only
//! repeats what its parent says. Code generators take `allOf` for object
//! composition and refuse it around an enum (openapi-python-client dropped
//! five schemas for it), so the repeated member goes, leaving
//! `{description, allOf: [{$ref}]}`, which every generator reads as the
//! reference and which keeps the field's description.
//!
//! poem-openapi names a `chrono::NaiveDate` `format: naive-date`, which no
//! generator knows (it makes a plain string of it); the JSON Schema format
//! of a `YYYY-MM-DD` day is `date`. The document is read
//! into `serde_yaml::Value`, whose mappings keep their order, so the served
//! and committed documents stay in poem-openapi's order.
//!
//! The operations a relative may call for a worker (亲情代办,
//! `access::delegable`) say so in their description, with the right that
//! opens them, and document the 403 the guard answers when the grant does
//! not (the header itself is described in the `WorkerAuth` scheme).

use serde_yaml::{Mapping, Value};

use crate::access;

/// The document `raw` (poem-openapi's JSON) made plain.
pub fn plain(raw: &str) -> Value {
    let mut document: Value = serde_json::from_str(raw).expect("poem-openapi writes JSON");
    drop_repeated_members(&mut document);
    name_dates_as_the_standard_does(&mut document);
    document_delegation(&mut document);
    document
}

/// Marks each operation a relative may call for a worker.
fn document_delegation(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_mapping_mut) else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_mapping_mut)
        .flat_map(|item| item.values_mut())
    {
        let Some(operation) = operation.as_mapping_mut() else {
            continue;
        };
        let delegable = operation
            .get("operationId")
            .and_then(Value::as_str)
            .and_then(access::delegable);
        let Some(delegable) = delegable else {
            continue;
        };
        let rights: Vec<String> = delegable.rights.iter().map(|r| format!("`{}`", r.as_str())).collect();
        let mut note = format!(
            "\n\n亲情代办: a relative may call this for the worker with `X-Acting-For` (right: {}).",
            rights.join(" or ")
        );
        if delegable.shows_personal_data {
            note.push_str(" It shows personal data in clear: only a relative the worker lets see it may.");
        }
        if let Some(Value::String(description)) = operation.get_mut("description") {
            description.push_str(&note);
        }
        if let Some(Value::Mapping(responses)) = operation.get_mut("responses") {
            refused_relative(responses);
        }
    }
}

/// The 403 of an operation a relative may call, shaped as its 401.
fn refused_relative(responses: &mut Mapping) {
    let Some(mut refused) = responses.get("401").cloned().filter(|_| !responses.contains_key("403")) else {
        return;
    };
    if let Some(refused) = refused.as_mapping_mut() {
        refused.insert(
            "description".into(),
            "A relative acting for the worker (`X-Acting-For`) whose grant is unknown, revoked, or does not open this."
                .into(),
        );
    }
    responses.insert("403".into(), refused);
    let mut sorted: Vec<(Value, Value)> = std::mem::take(responses).into_iter().collect();
    sorted.sort_by(|(a, _), (b, _)| a.as_str().cmp(&b.as_str()));
    responses.extend(sorted);
}

/// Takes out of every `allOf` the inline members whose every entry its parent
/// already has.
fn drop_repeated_members(value: &mut Value) {
    match value {
        Value::Mapping(mapping) => {
            if let Some(Value::Sequence(members)) = mapping.get("allOf") {
                let kept: Vec<Value> = members
                    .iter()
                    .filter(|member| !repeats(mapping, member))
                    .cloned()
                    .collect();
                mapping.insert("allOf".into(), Value::Sequence(kept));
            }
            mapping.values_mut().for_each(drop_repeated_members);
        }
        Value::Sequence(items) => items.iter_mut().for_each(drop_repeated_members),
        _ => {}
    }
}

/// Every `format: naive-date` becomes `format: date`.
fn name_dates_as_the_standard_does(value: &mut Value) {
    match value {
        Value::Mapping(mapping) => {
            if mapping.get("format").and_then(Value::as_str) == Some("naive-date") {
                mapping.insert("format".into(), "date".into());
            }
            mapping.values_mut().for_each(name_dates_as_the_standard_does);
        }
        Value::Sequence(items) => items.iter_mut().for_each(name_dates_as_the_standard_does),
        _ => {}
    }
}

/// Whether `member` is an inline schema saying only what `parent` says.
fn repeats(parent: &Mapping, member: &Value) -> bool {
    member.as_mapping().is_some_and(|member| {
        !member.contains_key("$ref") && member.iter().all(|(key, value)| parent.get(key) == Some(value))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn plain_json(raw: serde_json::Value) -> serde_json::Value {
        serde_json::to_value(plain(&raw.to_string())).unwrap()
    }

    #[test]
    fn a_described_reference_keeps_its_description_and_loses_the_repeat() {
        let office = json!({"$ref": "#/components/schemas/Office"});
        let field =
            json!({"description": "Which office acts.", "allOf": [office, {"description": "Which office acts."}]});
        assert_eq!(
            plain_json(json!({"properties": {"office": field}})),
            json!({"properties": {"office": {"description": "Which office acts.", "allOf": [office]}}})
        );
    }

    #[test]
    fn members_that_add_something_stay() {
        let composed = json!({"description": "d", "allOf": [
            {"$ref": "#/components/schemas/A"},
            {"description": "d", "type": "object", "properties": {"b": {"type": "string"}}},
            {"$ref": "#/components/schemas/C"}
        ]});
        assert_eq!(plain_json(composed.clone()), composed);
    }

    #[test]
    fn days_have_the_standard_format() {
        let day = json!({"type": "string", "format": "naive-date"});
        assert_eq!(
            plain_json(json!({"properties": {"owed_from": day}})),
            json!({"properties": {"owed_from": {"type": "string", "format": "date"}}})
        );
    }

    #[test]
    fn what_a_relative_may_call_says_so_and_documents_its_403() {
        let unauthorized = json!({"description": "Not signed in.", "content": {}});
        let operation = |id: &str| json!({"operationId": id, "description": "D.", "responses": {"201": {}, "401": unauthorized, "409": {}}});
        let document = plain_json(json!({"paths": {
            "/api/v1/wage-reports": {"post": operation("fileWageReport")},
            "/api/v1/me": {"get": operation("getMe")}
        }}));
        let filing = &document["paths"]["/api/v1/wage-reports"]["post"];
        assert!(
            filing["description"]
                .as_str()
                .unwrap()
                .contains("`X-Acting-For` (right: `wage_reports`)")
        );
        let statuses: Vec<&String> = filing["responses"].as_object().unwrap().keys().collect();
        assert_eq!(statuses, ["201", "401", "403", "409"]);
        assert_eq!(filing["responses"]["403"]["content"], json!({}));
        let own = &document["paths"]["/api/v1/me"]["get"];
        assert_eq!(own["description"], "D.");
        assert!(own["responses"].get("403").is_none());
    }

    #[test]
    fn the_order_of_entries_is_kept() {
        let document = plain(r#"{"openapi": "3.0.0", "info": {"title": "t"}, "components": {}}"#);
        let keys: Vec<&str> = document
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(keys, ["openapi", "info", "components"]);
    }
}

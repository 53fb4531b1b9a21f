//! FHIR R4 interoperability: a client's questionnaires as a Bundle (Patient, Questionnaire
//! with LOINC-coded items and answer weights, QuestionnaireResponse, and an Observation per
//! total score), and importing a QuestionnaireResponse for an enabled instrument.
//! Pure mapping; the handlers in `api.rs` do the I/O.

use serde_json::{Value, json};
use uuid::Uuid;

use super::library::{Instrument, Library};
use super::queries::Response;
use crate::db::Timestamp;

/// LOINC's code system.
const LOINC: &str = "http://loinc.org";
/// Code system for answers that have no LOINC answer code: the scored value itself.
const TEND_ANSWER: &str = "urn:tend:answer-value";
/// The FHIR extension carrying an answer's score.
const ITEM_WEIGHT: &str = "http://hl7.org/fhir/StructureDefinition/itemWeight";

/// The canonical URL of an instrument's Questionnaire: LOINC's where one is published.
pub fn canonical(inst: &Instrument) -> String {
    match &inst.reference.loinc.panel {
        Some(panel) if inst.rules.categorical.is_none() => format!("{LOINC}/q/{panel}"),
        _ => format!("urn:tend:questionnaire:{}", inst.id()),
    }
}

/// FHIR ids allow letters, digits, `-` and `.`.
fn fhir_id(id: &str) -> String {
    format!("tend-{}", id.replace('_', "-"))
}

/// An answer option as a Coding.
fn coding(inst: &Instrument, item_index: usize, value: i64) -> Option<Value> {
    let options = inst.options_for(item_index);
    let (pos, option) = options
        .iter()
        .enumerate()
        .find(|(pos, o)| o.value.unwrap_or(*pos as i64) == value)?;
    let display = option.label.clone().unwrap_or_else(|| value.to_string());
    Some(match &option.loinc_answer {
        Some(code) => json!({"system": LOINC, "code": code, "display": display}),
        None => {
            json!({"system": TEND_ANSWER, "code": option.value.unwrap_or(pos as i64).to_string(), "display": display})
        }
    })
}

/// The Questionnaire resource for an instrument.
pub fn questionnaire(inst: &Instrument) -> Value {
    let items: Vec<Value> = inst
        .reference
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let options: Vec<Value> = inst
                .options_for(i)
                .iter()
                .enumerate()
                .filter_map(|(pos, o)| {
                    let value = o.value.unwrap_or(pos as i64);
                    let mut option = json!({"valueCoding": coding(inst, i, value)?});
                    if let Some(weight) = o.value {
                        option["extension"] = json!([{"url": ITEM_WEIGHT, "valueDecimal": weight}]);
                    }
                    Some(option)
                })
                .collect();
            let mut q = json!({"linkId": item.n, "text": item.text, "type": "choice", "answerOption": options});
            if let Some(code) = &item.loinc {
                q["code"] = json!([{"system": LOINC, "code": code}]);
            }
            q
        })
        .collect();
    let mut resource = json!({
        "resourceType": "Questionnaire",
        "id": fhir_id(inst.id()),
        "url": canonical(inst),
        "status": "active",
        "title": inst.reference.title,
        "item": items,
    });
    if let Some(panel) = &inst.reference.loinc.panel {
        resource["code"] = json!([{"system": LOINC, "code": panel}]);
    }
    resource
}

/// A client's submitted responses as a FHIR R4 `collection` Bundle.
pub fn export_bundle(
    client_id: Uuid,
    client_name: &str,
    responses: &[Response],
    library: &Library,
) -> Value {
    let patient_url = format!("urn:uuid:{client_id}");
    let mut entries = vec![
        json!({"fullUrl": patient_url, "resource": {"resourceType": "Patient", "id": client_id.to_string(), "name": [{"text": client_name}]}}),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for r in responses {
        let Some(inst) = library.instrument(&r.instrument) else {
            continue;
        };
        if seen.insert(inst.id().to_string()) {
            entries.push(json!({"fullUrl": canonical(inst), "resource": questionnaire(inst)}));
        }
        let authored = r.submitted_at.map(rfc3339).unwrap_or_default();
        let answers = r.answer_values();
        let items: Vec<Value> = inst
            .reference
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let value = answers.get(i).copied().flatten()?;
                Some(json!({"linkId": item.n, "text": item.text, "answer": [{"valueCoding": coding(inst, i, value)?}]}))
            })
            .collect();
        let qr_url = format!("urn:uuid:{}", r.id);
        entries.push(json!({"fullUrl": qr_url, "resource": {
            "resourceType": "QuestionnaireResponse",
            "id": r.id.to_string(),
            "questionnaire": canonical(inst),
            "status": "completed",
            "subject": {"reference": patient_url},
            "authored": authored,
            "item": items,
        }}));
        if let Some(total) = r.total {
            let obs_id = Uuid::new_v5(&r.id, b"observation");
            let code = match &inst.reference.loinc.total {
                Some(code) if inst.rules.categorical.is_none() => {
                    json!({"coding": [{"system": LOINC, "code": code}], "text": format!("{} total score", inst.reference.title)})
                }
                _ => json!({"text": format!("{} total score", inst.reference.title)}),
            };
            let mut obs = json!({
                "resourceType": "Observation",
                "id": obs_id.to_string(),
                "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey", "display": "Survey"}]}],
                "code": code,
                "subject": {"reference": patient_url},
                "effectiveDateTime": authored,
                "valueQuantity": {"value": total, "unit": "{score}", "system": "http://unitsofmeasure.org", "code": "{score}"},
                "derivedFrom": [{"reference": qr_url}],
            });
            if let Some(band) = &r.band {
                obs["interpretation"] = json!([{"text": band}]);
            }
            entries.push(json!({"fullUrl": format!("urn:uuid:{obs_id}"), "resource": obs}));
        }
    }
    json!({"resourceType": "Bundle", "type": "collection", "timestamp": rfc3339(Timestamp::now()), "entry": entries})
}

/// RFC 3339 with seconds and `Z`, as FHIR dateTime expects.
fn rfc3339(t: Timestamp) -> String {
    t.inner()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Why an import was refused; each names the part of the resource at fault.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ImportError {
    /// JSON path of the problem.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// An imported response, ready to score.
#[derive(Debug)]
pub struct Imported {
    /// The instrument.
    pub instrument: &'static Instrument,
    /// Answers in item order.
    pub answers: Vec<Option<i64>>,
    /// When it was answered, if given.
    pub authored: Option<Timestamp>,
}

/// Reads a QuestionnaireResponse for one of Tend's instruments.
pub fn import_response(
    resource: &Value,
    library: &'static Library,
) -> Result<Imported, ImportError> {
    let err = |field: &str, message: &str| ImportError {
        field: field.into(),
        message: message.into(),
    };
    if resource["resourceType"] != "QuestionnaireResponse" {
        return Err(err("resourceType", "must be QuestionnaireResponse"));
    }
    if resource["status"] != "completed" {
        return Err(err("status", "only completed responses can be imported"));
    }
    let url = resource["questionnaire"]
        .as_str()
        .ok_or_else(|| err("questionnaire", "is required"))?;
    let instrument = library
        .all()
        .find(|i| canonical(i) == url)
        .ok_or_else(|| err("questionnaire", "is not one of Tend's instruments"))?;
    let mut answers = vec![None; instrument.reference.items.len()];
    for (k, item) in resource["item"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let link = item["linkId"]
            .as_str()
            .ok_or_else(|| err(&format!("item[{k}].linkId"), "is required"))?;
        let index = instrument
            .reference
            .items
            .iter()
            .position(|i| i.n == link)
            .ok_or_else(|| {
                err(
                    &format!("item[{k}].linkId"),
                    "is not an item of this questionnaire",
                )
            })?;
        let Some(answer) = item["answer"].get(0) else {
            continue;
        };
        let value = if let Some(v) = answer["valueInteger"].as_i64() {
            Some(v)
        } else if let Some(c) = answer.get("valueCoding") {
            let code = c["code"].as_str().unwrap_or_default();
            instrument
                .options_for(index)
                .iter()
                .enumerate()
                .find_map(|(pos, o)| {
                    let matches = o.loinc_answer.as_deref() == Some(code)
                        || o.value.unwrap_or(pos as i64).to_string() == code;
                    matches.then(|| o.value.unwrap_or(pos as i64))
                })
        } else {
            None
        };
        answers[index] = Some(value.ok_or_else(|| {
            err(
                &format!("item[{k}].answer[0]"),
                "is not one of the item's answer options",
            )
        })?);
    }
    let authored = resource["authored"]
        .as_str()
        .map(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map(Timestamp::from)
                .map_err(|_| err("authored", "is not a valid dateTime"))
        })
        .transpose()?;
    Ok(Imported {
        instrument,
        answers,
        authored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exported_responses_import_back_to_the_same_answers() {
        let library: &'static Library = Library::get().unwrap();
        let answers = vec![
            Some(1),
            Some(2),
            Some(0),
            Some(3),
            Some(1),
            None,
            Some(0),
            Some(1),
            Some(1),
            Some(2),
        ];
        let response = Response {
            id: Uuid::now_v7(),
            assignment_id: None,
            client_id: Uuid::now_v7(),
            instrument: "phq9".into(),
            answers: serde_json::to_string(&answers).unwrap(),
            status: "submitted".into(),
            version: 2,
            total: Some(10.0),
            band: Some("moderate".into()),
            complete: false,
            risk: Some("urgent".into()),
            flags: "[]".into(),
            submitted_at: Some(Timestamp::now()),
        };
        let bundle = export_bundle(
            response.client_id,
            "Amara",
            std::slice::from_ref(&response),
            library,
        );
        let entries = bundle["entry"].as_array().unwrap();
        let kinds: Vec<&str> = entries
            .iter()
            .map(|e| e["resource"]["resourceType"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "Patient",
                "Questionnaire",
                "QuestionnaireResponse",
                "Observation"
            ]
        );
        assert_eq!(entries[1]["resource"]["url"], "http://loinc.org/q/44249-1");
        assert_eq!(
            entries[1]["resource"]["item"][0]["answerOption"][1]["extension"][0]["valueDecimal"],
            1
        );
        assert_eq!(
            entries[3]["resource"]["code"]["coding"][0]["code"],
            "44261-6"
        );
        assert_eq!(entries[3]["resource"]["valueQuantity"]["value"], 10.0);
        let back = import_response(&entries[2]["resource"], library).unwrap();
        assert_eq!(back.instrument.id(), "phq9");
        assert_eq!(back.answers, answers);
    }

    #[test]
    fn imports_name_what_is_wrong() {
        let library: &'static Library = Library::get().unwrap();
        let bad = json!({"resourceType": "QuestionnaireResponse", "status": "completed", "questionnaire": "http://loinc.org/q/44249-1", "item": [{"linkId": "42", "answer": [{"valueInteger": 1}]}]});
        assert_eq!(
            import_response(&bad, library).unwrap_err().field,
            "item[0].linkId"
        );
        let bad = json!({"resourceType": "QuestionnaireResponse", "status": "in-progress", "questionnaire": "x"});
        assert_eq!(import_response(&bad, library).unwrap_err().field, "status");
        let bad = json!({"resourceType": "QuestionnaireResponse", "status": "completed", "questionnaire": "http://loinc.org/q/44249-1", "item": [{"linkId": "1", "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA-nope"}}]}]});
        assert_eq!(
            import_response(&bad, library).unwrap_err().field,
            "item[0].answer[0]"
        );
    }
}

"""Validates FHIR R4 Bundles that Tend exports, with an independent implementation.

Each resource is parsed by the `fhir.resources` models for FHIR 4.0.1 (R4), and a few rules
the models leave to the caller are checked: required codes from the R4 value sets Tend uses,
references that resolve inside the Bundle, and QuestionnaireResponse items that exist in
their Questionnaire. Usage: python validate_fhir.py bundle.json [bundle.json ...]
"""
import json
import sys

import fhir.resources
from fhir.resources import construct_fhir_element

assert fhir.resources.__fhir_version__ == "4.0.1", fhir.resources.__fhir_version__

OBSERVATION_STATUS = {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}
QR_STATUS = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
QUESTIONNAIRE_STATUS = {"draft", "active", "retired", "unknown"}


def check(path):
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    bundle = construct_fhir_element("Bundle", raw)
    assert bundle.type == "collection", bundle.type
    urls = {e["fullUrl"]: e["resource"] for e in raw["entry"]}
    assert len(urls) == len(raw["entry"]), "duplicate fullUrl"
    counts = {}
    for entry in raw["entry"]:
        res = entry["resource"]
        kind = res["resourceType"]
        construct_fhir_element(kind, res)  # raises on any structural or type error
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "Observation":
            assert res["status"] in OBSERVATION_STATUS
            assert res["subject"]["reference"] in urls
            for d in res.get("derivedFrom", []):
                assert urls[d["reference"]]["resourceType"] == "QuestionnaireResponse"
        if kind == "Questionnaire":
            assert res["status"] in QUESTIONNAIRE_STATUS
        if kind == "QuestionnaireResponse":
            assert res["status"] in QR_STATUS
            assert res["subject"]["reference"] in urls
            q = urls[res["questionnaire"]]
            link_ids = {i["linkId"] for i in q["item"]}
            for item in res.get("item", []):
                assert item["linkId"] in link_ids, item["linkId"]
    print(f"{path}: valid FHIR R4 Bundle: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    return counts


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: validate_fhir.py bundle.json [...]")
    for p in sys.argv[1:]:
        check(p)

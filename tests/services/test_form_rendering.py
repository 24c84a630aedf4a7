"""Every bundled form renders, blank and prefilled from case data stored the way processes store it
(dates as YYYY-MM-DD text, lists of document ids, catalogue options)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask_wtf import FlaskForm

from app.services import forms

FORMS = Path(__file__).resolve().parents[2] / "forms"
SCHEMAS = sorted(p.name for p in FORMS.glob("*.schema.json"))


def case_data(schema: dict) -> dict:
    values: dict = {"office_choices": ["approve", "return", "reject", "recheck"], "allowed_levels": ["员级", "助理级"],
                    "suggested_level": "助理级", "members": 15, "meeting_date": "2022-09-20"}
    for name, prop in schema.get("properties", {}).items():
        if prop.get("format") == "date":
            values[name] = "2022-09-20"
        elif prop.get("type") == "array":
            values[name] = ["00000000-0000-0000-0000-000000000000"]
        elif prop.get("type") in ("integer", "number"):
            values[name] = prop.get("minimum", 0)
        elif prop.get("type") == "boolean":
            values[name] = True
        elif "oneOf" in prop:
            values[name] = prop["oneOf"][0]["const"]
        elif "enum" in prop:
            values[name] = prop["enum"][0]
        else:
            values[name] = "示例内容"
    return values


@pytest.mark.parametrize("schema_file", SCHEMAS)
def test_form_renders_blank_and_prefilled(ctx, schema_file):
    ui_file = schema_file.replace(".schema.json", ".uischema.json")
    files = {f"forms/{schema_file}": (FORMS / schema_file).read_text(encoding="utf-8")}
    if (FORMS / ui_file).exists():
        files[f"forms/{ui_file}"] = (FORMS / ui_file).read_text(encoding="utf-8")
    defn = forms.load_definition(files, schema_file, ui_file if (FORMS / ui_file).exists() else None)
    with ctx.test_request_context():
        for data in ({}, case_data(json.loads(files[f"forms/{schema_file}"]))):
            form = forms.build_form(defn, data, base=FlaskForm)
            for field in form:
                assert str(field())  # renders without raising

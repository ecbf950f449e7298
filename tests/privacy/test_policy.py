"""The classification and masking policy (policy.toml): complete, consistent, strict."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tongban.access.rules import Actor, Role
from tongban.cases.submission import merged_schema, submission_schema
from tongban.catalog import service as catalog_service
from tongban.db import Base, import_all_models
from tongban.demo.cases import sample_form
from tongban.demo.loader import read
from tongban.kit.ids import make_id_number
from tongban.privacy import service
from tongban.privacy.classification import FORM_STORED
from tongban.privacy.crypto import EncryptedJSON, EncryptedText
from tongban.privacy.policy import (
    AUDIENCES,
    POLICY_FILE,
    FormFieldDeclaration,
    RoleRule,
    load_policy,
)
from tongban.web.forms import fields_from_schema

PERSON = make_id_number("640425", date(1988, 8, 8), 21)  # fictional
COLUMN = re.compile(r"\b([a-z_]+)\.([a-z_]+)\b")


def actor(role: str) -> Actor:
    return Actor(user_id=1, username=role, role=Role(role))


def rules() -> list[tuple[str, RoleRule]]:
    policy = load_policy()
    return [*policy.fields.items(), *((f"form.{c}", r) for c, r in policy.form_fields.items())]


def test_every_field_names_every_audience() -> None:
    for name, rule in rules():
        assert set(rule.roles) == set(AUDIENCES), name
        for audience in AUDIENCES:
            assert rule.visibility(audience) in ("plain", "masked", "hidden"), (name, audience)


def test_unmask_only_where_the_role_sees_the_field_masked() -> None:
    unmaskable = 0
    for name, rule in rules():
        for role in rule.unmask:
            assert rule.roles[role] == "masked", (name, role)
            unmaskable += 1
    for name, spec in load_policy().fields.items():
        for role in spec.unmask:
            assert service.may_unmask(name, actor(role)), (name, role)
    assert unmaskable > 0
    # Nobody may unmask what they see plain or not at all.
    assert not service.may_unmask("case.applicant_phone", actor("admin"))
    assert not service.may_unmask("user.id_number", actor("clerk"))
    assert not service.may_unmask("audit.actor_name", actor("auditor"))


def test_a_masked_field_always_has_a_mask() -> None:
    for name, spec in load_policy().fields.items():
        if "masked" in spec.roles.values():
            assert spec.mask != "none", name
    assert "masked" not in load_policy().form_fields["none"].roles.values()


def test_every_audience_sees_each_field_as_the_policy_says() -> None:
    samples = {
        "name": "王小明",
        "id_number": "640425199001011237",
        "phone": "13912345678",
        "free_text": "电话13912345678",
        "full": "10.0.0.8",
        "none": "扫描件.pdf",
    }
    for name, spec in load_policy().fields.items():
        value = samples[spec.mask]
        for audience in AUDIENCES:
            who = None if audience == "anonymous" else actor(audience)
            seen, shown = service.present(name, value, who, own=audience == "applicant")
            assert seen == spec.roles[audience], (name, audience)
            expected = {"plain": value, "hidden": None}.get(seen, shown)
            assert shown == expected, (name, audience)
            if seen == "masked":
                assert shown != value and "*" in shown, (name, audience)


def test_a_citizen_reading_someone_elses_data_is_the_public() -> None:
    citizen = actor("applicant")
    for name in load_policy().fields:
        assert service.visibility(name, citizen) == service.visibility(name, None), name
    assert service.present("case.applicant_id_number", "x", citizen) == ("hidden", None)


def test_form_fields_follow_their_declared_class() -> None:
    income = FormFieldDeclaration(
        category="个人财产信息",
        level="important",
        personal="sensitive",
        mask="full",
        purpose="用于核定保障金额",
    )
    clerk, admin = actor("clerk"), actor("admin")
    assert service.present("form.income", 1800, clerk, declaration=income) == ("masked", "***")
    assert service.present("form.income", 1800, None, declaration=income) == ("hidden", None)
    assert service.present("form.income", 1800, clerk, own=True, declaration=income) == (
        "plain",
        1800,
    )
    assert service.may_unmask("form.income", clerk, declaration=income)
    assert not service.may_unmask("form.income", admin, declaration=income)
    unmasked = service.present(
        "form.income", 1800, clerk, declaration=income, unmasked={"form.income"}
    )
    assert unmasked == ("plain", 1800)


def test_the_shipped_policy_file_loads() -> None:
    policy = load_policy()
    assert {"case.applicant_id_number", "case.applicant_phone", "user.id_number"} <= set(
        policy.fields
    )
    assert set(policy.form_fields) == {"none", "personal", "sensitive"}
    assert policy.unmask_reasons and all(policy.unmask_reasons.values())


PHONE_STORED = 'stored = "cases.applicant_phone (加密)"\n'
PHONE_ROLES = (
    'roles = { applicant = "plain", clerk = "masked", reviewer = "masked", admin = "masked", '
    'auditor = "hidden", anonymous = "hidden" }\n'
)
PHONE_UNMASK = 'unmask = ["clerk", "reviewer"]\n'


def phone_roles(**changes: str) -> str:
    roles = PHONE_ROLES
    for audience, seen in changes.items():
        roles = re.sub(rf"{audience} = \"\w+\"", f'{audience} = "{seen}"', roles)
    return roles


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("[unmask_reasons]", "[retention]\ndays = 30\n\n[unmask_reasons]"),  # unknown table
        (PHONE_STORED, PHONE_STORED + 'colour = "red"\n'),  # unknown key in a field
        (PHONE_ROLES, PHONE_ROLES.replace("anonymous", "clark")),  # unknown audience
        (PHONE_ROLES, PHONE_ROLES.replace(', auditor = "hidden"', "")),  # audience left out
        (PHONE_ROLES, phone_roles(clerk="visible")),  # no such visibility
        (PHONE_ROLES, phone_roles(clerk="plain")),  # unmask of a field seen plain
        (PHONE_UNMASK, 'unmask = ["clerk", "applicant"]\n'),  # not a staff role
        ('level = "important"\npersonal = "personal"', 'level = "secret"\npersonal = "personal"'),
        ('mask = "phone"\nstored = "cases.applicant_phone', 'mask = "none"\nstored = "x'),
        ("[form_fields.sensitive]", "[form_fields.secret]"),  # a class left out
        (
            '[form_fields.none]\nroles = { applicant = "plain", clerk = "plain", '
            'reviewer = "plain", admin = "plain"',
            '[form_fields.none]\nroles = { applicant = "plain", clerk = "plain", '
            'reviewer = "plain", admin = "masked"',
        ),  # "masked" for fields that have no mask
    ],
)
def test_a_broken_policy_file_is_rejected(old: str, new: str, tmp_path: Path) -> None:
    text = POLICY_FILE.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    assert load_policy(path) == load_policy()  # the copy as shipped loads
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises((ValidationError, tomllib.TOMLDecodeError)) as caught:
        load_policy(broken)
    assert caught.type is ValidationError  # valid TOML, refused by the policy's model


def _policy_columns() -> dict[str, tuple[bool, list[tuple[str, str]]]]:
    return {
        name: (spec.encrypted, COLUMN.findall(spec.stored))
        for name, spec in load_policy().fields.items()
    }


def test_what_the_policy_says_about_storage_is_true() -> None:
    import_all_models()
    tables = Base.metadata.tables
    for name, (encrypted, columns) in _policy_columns().items():
        for table, column in columns:
            assert column in tables[table].columns, f"{name}: {table}.{column} does not exist"
            kind = tables[table].columns[column].type
            is_encrypted = isinstance(kind, EncryptedText | EncryptedJSON)
            if column.endswith("_index"):
                assert not is_encrypted  # a blind index is a keyed hash, searchable
            else:
                assert is_encrypted == encrypted, f"{name}: {table}.{column}"
    form_table, form_column = FORM_STORED.split(".")
    assert isinstance(tables[form_table].columns[form_column].type, EncryptedJSON)


def test_every_encrypted_column_is_classified() -> None:
    import_all_models()
    named = {f"{t}.{c}" for _, columns in _policy_columns().values() for t, c in columns}
    named.add(FORM_STORED)
    encrypted = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, EncryptedText | EncryptedJSON)
    }
    assert encrypted and encrypted <= named, sorted(encrypted - named)


def test_demo_forms_declare_every_field_and_still_validate(demo_session: Session) -> None:
    targets = [
        [catalog_service.get_item(demo_session, code=item["code"])] for item in read("items")
    ]
    targets += [bundle.items for bundle in catalog_service.list_bundles(demo_session)]
    for items in targets:
        schema = merged_schema(items)
        for name, spec in schema["properties"].items():
            FormFieldDeclaration.model_validate(spec["x-privacy"])  # declared and valid
            # A bundle asks a shared field once: its items must agree on how to protect it.
            classes = {
                json.dumps({k: v for k, v in p["x-privacy"].items() if k != "purpose"})
                for item in items
                if (p := item.form_schema["properties"].get(name))
            }
            assert len(classes) == 1, (name, [i.name for i in items])
        form = sample_form(items, id_number=PERSON)
        asked = submission_schema(items)  # a bundle does not ask what its items issue
        assert not list(Draft202012Validator(asked).iter_errors(form)), items[0].name
        assert all(f.title != f.name for f in fields_from_schema(schema))

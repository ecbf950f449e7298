"""Catalog contract: what other domains and the web layer read about items and bundles."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tongban.kit.text import MULTILINE, RequestModel

Code = Annotated[str, Field(max_length=64)]
Line = Annotated[str, Field(max_length=500)]
Prose = Annotated[str, MULTILINE]

ItemType = Literal["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "20"]
MaterialForm = Literal["original", "copy", "electronic"]  # 原件 / 复印件 / 电子
Necessity = Literal["required", "conditional", "deferrable"]  # 必要 / 情形必要 / 容缺
OnlineDepth = Literal["offline", "info", "online_apply", "full_online"]
# 无 / 全程网办 / 异地代收代办 / 多地联办
CrossProvinceMode = Literal["none", "full_online", "proxy", "multi_site"]
# Who makes the decision: the (lead) department's reviewer, or the window (窗口即办).
DecidedBy = Literal["department", "window"]
# What kind of value an item's approval issues into the application (checked when issued).
IssuedKind = Literal["credit_code", "text"]


# Where a compared value comes from in the application: the applicant block or a form field.
APPLICATION_SOURCES = ("applicant.name", "applicant.id_number")
APPLICANT_ID = "applicant.id_number"  # for an enterprise applicant: its 统一社会信用代码


class ReplacementSubject(BaseModel):
    """One person (or enterprise) a replaced material concerns, checked on its own.

    ``id_number``: where the lookup key comes from (``applicant.id_number`` or
    ``form.<field>``); ``compare``: what is compared for this subject (default: the
    replacement's ``compare``; a subject other than the applicant compares its own values).
    """

    model_config = ConfigDict(extra="forbid")

    id_number: str = Field(description="applicant.id_number or form.<field>")
    label: str = Field("", max_length=16, description="shown with the check: 男方, 另一方 …")
    compare: dict[str, str] | None = None
    many: bool = Field(
        False,
        description="the form field lists several identity numbers (one per line, or "
        "separated by commas): each is a subject of its own; none listed, none checked",
    )


class SharedDataReplacement(BaseModel):
    """The shared data that replaces a material (免提交): checked by the exchange at submission.

    Either a yes/no ``claim`` of the provider service (``holds``: the answer that
    replaces the document — 无其他住房证明 is "owns_property" not holding), or the
    service's elements compared with what the application declares (``compare``:
    element code → ``applicant.name`` | ``applicant.id_number`` | ``form.<field>``;
    with a claim, they are the claim's values).

    ``subjects``: a material about two or more people (男女双方居民身份证) is checked for
    each of them — it passes only if every one passes; empty: the applicant alone. A
    plain string names where the subject's identity number comes from.
    """

    model_config = ConfigDict(extra="forbid")

    service: str = Field(description="exchange service code, e.g. population.person_basic")
    purpose: str = Field(description="the purpose the item is authorized for (housing_fund_loan)")
    claim: str | None = None
    holds: bool = True
    compare: dict[str, str] = {}
    subjects: list[ReplacementSubject] = Field(
        default_factory=list, description="whom the material concerns; empty: the applicant"
    )

    @field_validator("subjects", mode="before")
    @classmethod
    def _plain_subjects(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"id_number": v} if isinstance(v, str) else v for v in value]
        return value

    def checked_subjects(self) -> list[ReplacementSubject]:
        """Each subject with what is compared for it (the applicant alone by default)."""
        if not self.subjects:
            return [ReplacementSubject(id_number=APPLICANT_ID, compare=dict(self.compare))]
        return [
            s if s.compare is not None else s.model_copy(update={"compare": dict(self.compare)})
            for s in self.subjects
        ]


class MaterialBase(BaseModel):
    code: str = Field(max_length=64, description="stable within the item, e.g. M01")
    name: str = Field(max_length=200)
    form: MaterialForm = "original"
    copies: int = Field(1, ge=0, le=1000)
    necessity: Necessity = "required"
    condition: Prose = Field("", max_length=2000)
    blank_form_ref: str | None = Field(None, max_length=500)
    sample_ref: str | None = Field(None, max_length=500)
    acceptance_standard: Prose = Field("", max_length=4000)
    legal_basis: Prose = Field("", max_length=4000)
    replaced_by: str | None = Field(
        None, max_length=500, description="what replaces it (免提交), as the guide shows it"
    )
    replaced_by_data: SharedDataReplacement | None = Field(
        None, description="the shared data the platform checks instead (免提交, verified)"
    )


class MaterialCreate(RequestModel, MaterialBase):
    pass


class MaterialRead(MaterialBase):
    model_config = ConfigDict(from_attributes=True)

    id: int


class ItemBase(BaseModel):
    code: str = Field(max_length=64, description="实施编码, opaque string")
    basic_code: str = Field("", max_length=64)
    name: str = Field(max_length=200)
    aliases: list[Code] = Field([], max_length=100)
    item_type: ItemType
    department_code: str = Field(max_length=32)
    joint_department_codes: list[Code] = Field([], max_length=50)
    service_objects: list[Code] = Field(["1"], max_length=20)
    legal_basis: Prose = Field(max_length=4000)
    statutory_limit_days: int = Field(ge=0, le=3650)
    promised_limit_days: int = Field(ge=0, le=3650)
    limit_note: Prose = Field("", max_length=2000)
    acceptance_conditions: Prose = Field("", max_length=4000)
    fee_fen: int = Field(0, ge=0, le=2**31 - 1)
    fee_note: Prose = Field("", max_length=2000)
    visits_required: int = Field(0, ge=0, le=100)
    visit_reason: Prose = Field("", max_length=2000)
    channels: list[Code] = Field(["1", "2"], max_length=20)
    online_depth: OnlineDepth = "online_apply"
    cross_province_mode: CrossProvinceMode = "none"
    accepts_mail: bool = False
    process: list[Annotated[str, MULTILINE, Field(max_length=2000)]] = Field([], max_length=100)
    guide: Prose = Field("", max_length=20000)
    location: Line = ""
    hours: Line = ""
    phone: str = Field("", max_length=64)
    result_name: str = Field("", max_length=200)
    faq: Annotated[list[dict[str, str]], MULTILINE] = Field([], max_length=100)
    form_schema: Annotated[dict[str, Any], MULTILINE] = {"type": "object", "properties": {}}
    assurance_level: int = Field(
        2,
        ge=1,
        le=3,
        description="实名认证 level an account needs to apply online: 1 phone confirmed, "
        "2 identity confirmed against the population register, 3 checked in person",
    )
    decided_by: DecidedBy = Field(
        "department", description="who decides: the department's reviewer or the window"
    )
    issues: dict[str, IssuedKind] = Field(
        default_factory=dict,
        description="form fields whose values this item's approval issues, e.g. "
        '{"uscc": "credit_code"}: in a bundle, later items receive them instead of asking',
    )


class ItemCreate(RequestModel, ItemBase):
    materials: list[MaterialCreate] = Field([], max_length=200)


class ItemRead(ItemBase):
    model_config = ConfigDict(from_attributes=True)

    id: int
    department_name: str
    region_code: str
    materials: list[MaterialRead]
    version: int
    active: bool

    @property
    def is_immediate(self) -> bool:
        """即办件: the promised limit is 0 working days."""
        return self.promised_limit_days == 0


class ItemSummary(BaseModel):
    code: str
    name: str
    item_type: ItemType
    department_code: str
    department_name: str
    promised_limit_days: int
    visits_required: int
    online_depth: OnlineDepth
    score: float = 0.0


class ItemPage(BaseModel):
    items: list[ItemSummary]
    total: int
    page: int
    size: int


class BundleCreate(RequestModel):
    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    aliases: list[Code] = Field([], max_length=100)
    description: Prose = Field("", max_length=4000)
    item_codes: list[Code] = Field(max_length=100)
    promised_limit_days: int = Field(ge=0, le=3650)
    statutory_limit_days: int = Field(ge=0, le=3650)
    lead_department_code: str = Field(max_length=32)
    stages: list[list[Code]] = Field(
        default_factory=list,
        description="item codes by stage: a stage's tasks start when the earlier stage is "
        "approved (企业开办: 设立登记 first, then 印章, 发票, 社保, 公积金 together); "
        "empty: every item in parallel",
    )


class BundleRead(BaseModel):
    id: int
    code: str
    name: str
    aliases: list[str]
    description: str
    promised_limit_days: int
    statutory_limit_days: int
    lead_department_code: str
    stages: list[list[str]] = []
    items: list[ItemRead]

"""Data quality of the demo county's files, checked without a database."""

from __future__ import annotations

from collections import Counter
from datetime import date

from tongban.access.rules import Role, password_problems
from tongban.catalog import rules
from tongban.catalog.schemas import BundleCreate, ItemCreate
from tongban.demo.loader import DEMO_LOGINS, read
from tongban.kit.ids import is_valid_id_number, is_valid_uscc
from tongban.regions import rules as region_rules

REQUIRED_ITEMS = {
    "个体工商户登记",
    "企业设立登记",
    "印章刻制备案",
    "发票申领",
    "社会保险登记（单位参保）",
    "住房公积金单位缴存登记",
    "不动产登记（转移登记）",
    "异地就医备案",
    "住房公积金贷款",
    "最低生活保障申请",
    "农机购置补贴申请",
    "出生医学证明",
    "户籍登记（出生登记）",
    "社会保障卡申领",
    "医保参保登记（城乡居民）",
    "城乡居民养老保险参保登记",
    "食品经营许可",
    "特困人员认定",
    "临时救助",
    "新生儿医保参保",
}


def items() -> list[ItemCreate]:
    return [ItemCreate.model_validate(i) for i in read("items")]


def test_regions_form_the_demo_hierarchy() -> None:
    regions = {r["code"]: r["name"] for r in read("regions")}
    assert regions["640000"] == "宁夏回族自治区" and regions["640400"] == "固原市"
    assert {"640402", "640422", "640423", "640424", "640425"} <= set(regions)
    assert regions["640425100000"] == "白阳镇"
    for code in regions:
        assert region_rules.is_valid_code(code)
        parent = region_rules.parent_of(code)
        assert parent is None or parent in regions, code


def test_departments_have_valid_unique_credit_codes() -> None:
    departments = read("departments")
    assert len(departments) >= 12
    codes = [d["code"] for d in departments]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert is_valid_uscc(code), code
        assert code.startswith("11640425MB"), code  # 机关, 彭阳县, fictional organisation part
    names = {d["name"] for d in departments}
    wanted = ["市场监督管理局", "公安局", "税务局", "人力资源和社会保障局", "医疗保障局", "民政局"]
    for word in wanted:
        assert any(word in name for name in names), word


def test_catalog_size_and_required_items() -> None:
    catalog = items()
    assert len(catalog) >= 32
    assert {i.name for i in catalog} >= REQUIRED_ITEMS
    assert len({i.department_code for i in catalog}) >= 10
    assert len({i.code for i in catalog}) == len(catalog)
    assert sum(1 for i in catalog if i.promised_limit_days == 0) >= 3  # 即办件


def test_every_item_passes_the_rules_and_is_complete() -> None:
    departments = {d["code"] for d in read("departments")}
    for item in items():
        assert rules.item_problems(item) == [], item.name
        assert item.department_code in departments
        assert item.code.startswith(item.department_code), item.name  # 实施编码 convention
        assert item.legal_basis and item.guide and item.process and item.result_name, item.name
        assert item.materials, item.name
        assert item.form_schema["properties"], item.name


def test_items_show_the_range_of_national_elements() -> None:
    catalog = items()
    assert Counter(i.cross_province_mode for i in catalog).keys() >= {
        "none",
        "full_online",
        "proxy",
        "multi_site",
    }
    assert {i.online_depth for i in catalog} >= {"info", "online_apply", "full_online"}
    assert any(i.fee_fen > 0 for i in catalog)
    assert any(i.visits_required > 0 for i in catalog)
    necessities = {m.necessity for i in catalog for m in i.materials}
    assert necessities == {"required", "conditional", "deferrable"}


def test_bundles() -> None:
    by_code = {i.code: i for i in items()}
    bundles = [BundleCreate.model_validate(b) for b in read("bundles")]
    assert len(bundles) >= 3
    for bundle in bundles:
        departments = {c: by_code[c].department_code for c in bundle.item_codes}
        assert rules.bundle_problems(bundle, departments) == [], bundle.name
    kaiban = next(b for b in bundles if b.name == "企业开办一件事")
    assert kaiban.promised_limit_days == 1
    assert len({by_code[c].department_code for c in kaiban.item_codes}) == 5
    birth = next(b for b in bundles if b.name == "出生一件事")
    assert {by_code[c].name for c in birth.item_codes} == {
        "出生医学证明",
        "户籍登记（出生登记）",
        "新生儿医保参保",
        "社会保障卡申领",
    }


def test_users_are_fictional_and_valid() -> None:
    users = read("users")
    departments = {d["code"] for d in read("departments")}
    roles = Counter(u["role"] for u in users)
    assert roles[Role.ADMIN] >= 1 and roles[Role.CLERK] >= 1 and roles[Role.APPLICANT] >= 2
    assert {u["department_code"] for u in users if u["role"] == Role.REVIEWER} == departments
    for user in users:
        assert password_problems(user["password"]) == []
        if user.get("id_number"):
            number = user["id_number"]
            assert is_valid_id_number(number)
            # generated numbers: demo area and the rarely issued sequences 998/999
            assert number.startswith("640425") and number[14:17] in {"998", "999"}
            assert date(int(number[6:10]), 1, 1).year < 2010
    assert [login[0] for login in DEMO_LOGINS] == [u["username"] for u in users]
    assert all(len(login) == 4 and login[3] for login in DEMO_LOGINS)

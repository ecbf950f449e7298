"""企业登记库: a fictional market-regulation enterprise register for the exchange demo.

``enterprise.db`` holds two tables of the old registration system:

* ``QY_JBXX`` (企业基本信息) — one row per enterprise: 统一社会信用代码 (GB 32100,
  valid check characters, region 6404xx), 企业名称, 企业类型, 法定代表人 and their
  identity number, 登记状态 in the system's own codes (CX 存续, DX 吊销, ZX 注销,
  QC 迁出; older rows in words), 成立日期 written in Chinese (2015年3月8日), 住所;
* ``QY_JBR`` (经办人 / 联络员) — the people an enterprise has authorized to act for
  it, several per enterprise, with the end of their authorization (a timestamp).

Legal representatives and agents are people of the synthetic population (the same
identity numbers as in the other registers). Every name carries 示范 (demo): no real
company is meant. The register is drawn from its own random generator after the other
sources are written, so theirs stay as they were; it is deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from tongban.demo.legacy_people import (
    ANCHORS,
    AS_OF,
    COUNTIES,
    TOWNSHIPS,
    VILLAGES,
    Person,
    database,
    insert,
    weighted,
)
from tongban.kit.ids import USCC_ALPHABET, make_uscc


@dataclass(frozen=True)
class Agent:
    person: Person
    role: str  # 经办人 or 联络员
    until: date  # the authorization ends at the end of this day


@dataclass(frozen=True)
class Enterprise:
    credit_code: str
    name: str
    kind: str  # 企业类型, as registered
    legal_representative: Person
    status: str  # the platform's code: 1 存续, 2 吊销, 3 注销, 4 迁出
    established: date
    domicile: str
    agents: tuple[Agent, ...] = ()


@dataclass(frozen=True)
class AnchorEnterprise:
    """An enterprise the demo and the tests rely on (with a demo applicant in it)."""

    credit_code: str
    name: str
    legal_representative: str | None  # identity number, when an anchor person is it
    agent: str | None = None  # identity number of an authorized 经办人, if an anchor person


MA, LI = ANCHORS
# 李建军 is the legal representative of a 存续 trading company; 马晓燕 is a registered
# 经办人 (authorized until 2030-12-31) of a 存续 farming company led by someone else.
JIANJUN_TRADING = AnchorEnterprise(
    make_uscc("91640425MA7JJ0001"), "彭阳县建军示范商贸有限公司", LI.id_number
)
RUYUAN_FARMING = AnchorEnterprise(
    make_uscc("91640425MA7RY0002"), "彭阳县茹源示范农业发展有限公司", None, agent=MA.id_number
)
ANCHOR_ENTERPRISES = (JIANJUN_TRADING, RUYUAN_FARMING)
ANCHOR_AGENT_UNTIL = date(2030, 12, 31)

ENTERPRISE_DEFECTS: dict[str, dict[str, int]] = {
    "enterprise": {
        "bad_check_character": 2,
        "unknown_status": 1,
        "missing_established": 1,
        "duplicate_rows": 1,
    },
    "enterprise_agents": {"bad_id_number": 1, "missing_until": 1},
}
STATUS_CODES = {"1": "CX", "2": "DX", "3": "ZX", "4": "QC"}  # the old system's own codes
STATUS_WEIGHTS = (("1", 80), ("2", 8), ("3", 10), ("4", 2))
KINDS = (  # 企业类型 → how the name ends
    ("有限责任公司（自然人独资）", "有限公司", 40),
    ("有限责任公司（自然人投资或控股）", "有限公司", 35),
    ("个人独资企业", "经营部", 12),
    ("普通合伙企业", "中心（普通合伙）", 8),
    ("股份有限公司（非上市、自然人投资或控股）", "股份有限公司", 5),
)
TRADES = (
    "商贸", "农业发展", "建筑工程", "餐饮管理", "物流", "养殖", "农产品加工",
    "文化传媒", "汽车维修", "家政服务", "信息技术", "中药材种植", "建材", "劳务",
)  # fmt: skip
SYLLABLES = "茹阳河塬泉源丰瑞禾安鑫康宏盛顺兴润泽惠明"
AGENT_COUNTS = (("0", 25), ("1", 45), ("2", 22), ("3", 8))


@dataclass
class EnterprisePlan:
    enterprises: list[Enterprise]
    defective: set[str] = field(default_factory=set)  # credit codes with a planted defect
    # (enterprise index, defect) and (enterprise index, agent index, defect)
    row_defects: list[tuple[int, str]] = field(default_factory=list)
    agent_defects: list[tuple[int, int, str]] = field(default_factory=list)


def plan_enterprises(rng: random.Random, people: Sequence[Person]) -> EnterprisePlan:
    """The register's enterprises and where its defects go (pure; ``people``: registered ones)."""
    adults = [p for p in people if p.adult and p not in ANCHORS]
    count = max(30, len(people) // 10)
    leaders = rng.sample(adults, count - len(ANCHOR_ENTERPRISES))
    names: set[str] = {a.name for a in ANCHOR_ENTERPRISES}
    codes: set[str] = {a.credit_code for a in ANCHOR_ENTERPRISES}
    enterprises = _anchors(rng, adults)
    for leader in leaders:
        county = rng.choices(list(COUNTIES), (8, 1, 1, 1))[0]
        kind, ending = _kind(rng)
        name = _unique(names, partial(_name, rng, county, ending))
        code = _unique(codes, partial(_credit_code, rng, county))
        enterprises.append(
            Enterprise(
                credit_code=code,
                name=name,
                kind=kind,
                legal_representative=leader,
                status=weighted(rng, STATUS_WEIGHTS),
                established=AS_OF - timedelta(days=rng.randrange(60, 365 * 28)),
                domicile=_domicile(rng, county),
                agents=_agents(rng, adults, int(weighted(rng, AGENT_COUNTS))),
            )
        )
    return _with_defects(rng, enterprises)


def _anchors(rng: random.Random, adults: list[Person]) -> list[Enterprise]:
    jianjun, ruyuan = JIANJUN_TRADING, RUYUAN_FARMING
    return [
        Enterprise(
            jianjun.credit_code, jianjun.name, "有限责任公司（自然人独资）", LI, "1",
            date(2012, 5, 18), "彭阳县红河镇河湾村1组7号", _agents(rng, adults, 1),
        ),
        Enterprise(
            ruyuan.credit_code, ruyuan.name, "有限责任公司（自然人投资或控股）",
            rng.choice(adults), "1", date(2016, 9, 6), "彭阳县白阳镇东山村3组20号",
            (Agent(MA, "经办人", ANCHOR_AGENT_UNTIL), *_agents(rng, adults, 1)),
        ),
    ]  # fmt: skip


def _with_defects(rng: random.Random, enterprises: list[Enterprise]) -> EnterprisePlan:
    plan = EnterprisePlan(enterprises)
    defects = ENTERPRISE_DEFECTS["enterprise"]
    kinds = ["bad_check_character"] * defects["bad_check_character"] + [
        "unknown_status", "missing_established", "duplicate_rows"
    ]  # fmt: skip
    others = range(len(ANCHOR_ENTERPRISES), len(enterprises))
    for index, kind in zip(rng.sample(others, len(kinds)), kinds, strict=True):
        plan.row_defects.append((index, kind))
        plan.defective.add(enterprises[index].credit_code)
    with_agents = [i for i in others if enterprises[i].agents and i not in plan.defective]
    for index, kind in zip(rng.sample(with_agents, 2), ("bad_id_number", "missing_until"),
                           strict=True):  # fmt: skip
        plan.agent_defects.append((index, 0, kind))
        plan.defective.add(enterprises[index].credit_code)
    return plan


def _kind(rng: random.Random) -> tuple[str, str]:
    kind, ending, _ = rng.choices(KINDS, [w for *_, w in KINDS])[0]
    return kind, ending


def _name(rng: random.Random, county: str, ending: str) -> str:
    word = "".join(rng.sample(SYLLABLES, 2))  # the 字号
    return f"{COUNTIES[county]}{word}示范{rng.choice(TRADES)}{ending}"


def _credit_code(rng: random.Random, county: str) -> str:
    # 9 工商 · 1 企业 · region · organization code (MA + 7) · check character
    return make_uscc(f"91{county}MA" + "".join(rng.choices(USCC_ALPHABET, k=7)))


def _unique(taken: set[str], draw: Callable[[], str]) -> str:
    while (value := draw()) in taken:
        pass
    taken.add(value)
    return value


def _domicile(rng: random.Random, county: str) -> str:
    town = rng.choice(TOWNSHIPS.get(county, ("城关镇",)))
    village = f"{rng.choice(VILLAGES)}村{rng.randint(1, 9)}组{rng.randint(1, 80)}号"
    return f"{COUNTIES[county]}{town}{village}"


def _agents(rng: random.Random, adults: list[Person], count: int) -> tuple[Agent, ...]:
    agents = []
    for person in rng.sample(adults, count):
        expired = rng.random() < 0.15  # the authorization ran out; nobody renewed it
        days = -rng.randrange(30, 900) if expired else rng.randrange(180, 1500)
        agents.append(Agent(person, rng.choice(("经办人", "联络员")), AS_OF + timedelta(days=days)))
    return tuple(agents)


# ---------------------------------------------------------------- writing enterprise.db


def write_enterprise(
    path: Path, plan: EnterprisePlan, rng: random.Random, samples: dict[str, list[Any]]
) -> None:
    """Write ``plan`` as the old system keeps it (untidy, with the planted defects)."""
    rows = [_enterprise_row(rng, e) for e in plan.enterprises]
    agents = [[_agent_row(e, a) for a in e.agents] for e in plan.enterprises]
    for index, kind in plan.row_defects:
        row = rows[index]
        if kind == "bad_check_character":
            code = row["TYSHXYDM"]
            row["TYSHXYDM"] = code[:17] + ("0" if code[17] != "0" else "1")
        elif kind == "unknown_status":
            row["DJZT"] = "9"
        elif kind == "missing_established":
            row["CLRQ"] = ""
    for index, position, kind in plan.agent_defects:
        row = agents[index][position]
        if kind == "bad_id_number":
            number = row["ZJHM"]
            row["ZJHM"] = number[:17] + ("0" if number[17] != "0" else "1")
        else:
            row["SQJZRQ"] = None
    doubled = [dict(rows[i]) for i, kind in plan.row_defects if kind == "duplicate_rows"]
    samples["enterprise_anchor"] = [a.credit_code for a in ANCHOR_ENTERPRISES]
    samples["enterprise_defective"] = sorted(plan.defective)
    samples["enterprise_revoked"] = [
        e.credit_code for e in plan.enterprises if e.status == "2" and e.credit_code not in
        plan.defective
    ][:3]  # fmt: skip
    samples["enterprise_expired_agent"] = [
        [e.credit_code, a.person.id_number]
        for e in plan.enterprises
        if e.credit_code not in plan.defective
        for a in e.agents
        if a.until < AS_OF
    ][:3]
    with database(path) as db:
        db.execute(
            "CREATE TABLE QY_JBXX (QYID INTEGER PRIMARY KEY, TYSHXYDM VARCHAR(18),"
            " QYMC VARCHAR(200), QYLX VARCHAR(60), FDDBR VARCHAR(50), FDDBRZJHM VARCHAR(18),"
            " DJZT VARCHAR(4), CLRQ VARCHAR(20), ZS VARCHAR(200))"
        )
        db.execute(
            "CREATE TABLE QY_JBR (JBRID INTEGER PRIMARY KEY, TYSHXYDM VARCHAR(18),"
            " XM VARCHAR(50), ZJHM VARCHAR(18), JBRLX VARCHAR(10), SQJZRQ VARCHAR(19))"
        )
        db.execute("CREATE INDEX IDX_QY_JBXX_TYSHXYDM ON QY_JBXX (TYSHXYDM)")
        db.execute("CREATE INDEX IDX_QY_JBR_TYSHXYDM ON QY_JBR (TYSHXYDM)")
        insert(db, "QY_JBXX", rows + doubled)
        insert(db, "QY_JBR", [row for per in agents for row in per])


def _enterprise_row(rng: random.Random, enterprise: Enterprise) -> dict[str, Any]:
    anchor = enterprise.credit_code in {a.credit_code for a in ANCHOR_ENTERPRISES}
    status = STATUS_CODES[enterprise.status]
    if status == "CX" and not anchor and rng.random() < 0.06:
        status = rng.choice(("在营", "开业"))  # rows from before the codes were introduced
    name = enterprise.name
    if not anchor and rng.random() < 0.03:
        name = f"{name}\u3000"  # typed with a trailing full-width space
    leader = enterprise.legal_representative.id_number
    day = enterprise.established
    return {
        "TYSHXYDM": enterprise.credit_code,
        "QYMC": name,
        "QYLX": enterprise.kind,
        "FDDBR": enterprise.legal_representative.name,
        "FDDBRZJHM": leader.lower() if leader.endswith("X") and rng.random() < 0.3 else leader,
        "DJZT": status,
        "CLRQ": f"{day.year}年{day.month}月{day.day}日",  # 2015年3月8日
        "ZS": enterprise.domicile,
    }


def _agent_row(enterprise: Enterprise, agent: Agent) -> dict[str, Any]:
    return {
        "TYSHXYDM": enterprise.credit_code,
        "XM": agent.person.name,
        "ZJHM": agent.person.id_number,
        "JBRLX": agent.role,
        "SQJZRQ": f"{agent.until:%Y-%m-%d} 23:59:59",
    }

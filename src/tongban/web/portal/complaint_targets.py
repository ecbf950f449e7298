"""What a complaint is about, chosen from lists instead of typed codes.

The complaint form offers one list per kind of target: the center's service items grouped
by department (narrowed by a search on their names), its departments, and — signed in —
the complainant's own cases. A person never has to know a 事项编码, a 统一社会信用代码 or
a 办件编号. Everything here works without JavaScript: searching re-posts the form, so
nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tongban.access.rules import Actor, Role
from tongban.cases import service as cases_service
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import ItemSummary
from tongban.config import get_settings
from tongban.errors import Invalid, NotFound
from tongban.regions import service as regions_service

# A county's catalog fits in one list; past this many items the person narrows it by search.
MAX_LISTED_ITEMS = 300
MAX_SEARCH_HITS = 50
MAX_LISTED_CASES = 50
TARGET_KINDS = ("item", "department", "case", "platform")


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass
class TargetChoices:
    """The lists the form shows; ``item_groups`` maps a department's name to its items."""

    item_groups: dict[str, list[Choice]] = field(default_factory=dict)
    departments: list[Choice] = field(default_factory=list)
    cases: list[Choice] = field(default_factory=list)
    item_query: str = ""
    items_found: int | None = None  # set when the list is a search result
    items_truncated: bool = False


def choices(
    session: Session, actor: Actor | None, *, item_query: str = "", keep_item: str = ""
) -> TargetChoices:
    """The lists for the form; ``keep_item`` stays listed even when a search leaves it out."""
    query = item_query.strip()
    items, truncated = _items(session, query)
    groups: dict[str, list[Choice]] = {}
    for item in items:
        groups.setdefault(item.department_name, []).append(Choice(item.code, item.name))
    if keep_item and all(item.code != keep_item for item in items):
        _add_known_item(session, groups, keep_item)
    return TargetChoices(
        item_groups=groups,
        departments=_departments(session),
        cases=_own_cases(session, actor),
        item_query=query,
        items_found=len(items) if query else None,
        items_truncated=truncated,
    )


def chosen_ref(form: Mapping[str, object]) -> str:
    """The reference of the target the person chose, read from the list of its kind.

    ``target_ref`` typed directly (an older bookmark, a link from a case page) still counts
    when the kind's own list was left empty.
    """
    kind = str(form.get("target_kind") or "platform")
    if kind not in TARGET_KINDS:
        raise Invalid("invalid_target_kind", "请选择诉求针对的对象。", "Choose what it is about.")
    if kind == "platform":
        return ""
    picked = str(form.get(f"{kind}_ref") or "").strip()
    ref = picked or str(form.get("target_ref") or "").strip()
    if not ref:
        raise Invalid(
            "target_not_chosen",
            "请从列表中选择诉求针对的事项、部门或办件。",
            "Choose the item, department or case from the list.",
        )
    return ref


def _items(session: Session, query: str) -> tuple[list[ItemSummary], bool]:
    if query:
        found = catalog_service.search_items(session, q=query, size=MAX_SEARCH_HITS)
        return list(found.items), found.total > len(found.items)
    listed: list[ItemSummary] = []
    page = 1
    while len(listed) < MAX_LISTED_ITEMS:
        batch = catalog_service.list_items(session, page=page, size=catalog_service.MAX_PAGE_SIZE)
        listed += batch.items
        if page * batch.size >= batch.total:
            return listed, False
        page += 1
    return listed, True


def _add_known_item(session: Session, groups: dict[str, list[Choice]], code: str) -> None:
    try:
        item = catalog_service.get_item(session, code=code)
    except NotFound:
        return  # a stale link: the list simply does not preselect anything
    groups.setdefault(item.department_name, []).insert(0, Choice(item.code, item.name))


def _departments(session: Session) -> list[Choice]:
    center = get_settings().center_region
    return [Choice(d.code, d.name) for d in regions_service.list_departments(session, center)]


def _own_cases(session: Session, actor: Actor | None) -> list[Choice]:
    if actor is None or actor.role != Role.APPLICANT:
        return []
    page = cases_service.my_cases(session, actor=actor, page=1, size=MAX_LISTED_CASES)
    return [Choice(c.case_no, f"{c.case_no} · {c.title}") for c in page.items]

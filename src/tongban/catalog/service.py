"""Catalog use cases: items (事项), bundles (一件事) and search. Never commits."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.audit import service as audit_service
from tongban.catalog import repository, rules, search, version
from tongban.catalog.models import Bundle, BundleItem, MaterialRequirement, ServiceItem
from tongban.catalog.schemas import (
    BundleCreate,
    BundleRead,
    ItemBase,
    ItemCreate,
    ItemPage,
    ItemRead,
    ItemSummary,
    MaterialBase,
    MaterialRead,
)
from tongban.db import utcnow
from tongban.errors import Conflict, Invalid, NotFound, not_found
from tongban.regions import service as regions_service
from tongban.regions.schemas import DepartmentRead

MAX_PAGE_SIZE = 100
BUNDLE_SEARCH_LIMIT = 10
_ITEM_FIELDS = tuple(ItemBase.model_fields)
_MATERIAL_FIELDS = tuple(MaterialBase.model_fields)

_vocabulary_lock = threading.Lock()
_vocabulary_loaded = False

EMPTY_QUERY = Invalid(
    "empty_query", "请输入要搜索的事项名称或关键词。", "Please enter words to search for."
)


class _Departments:
    """Department lookups memoised for one call (a page lists many items of few departments)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[str, DepartmentRead] = {}

    def get(self, code: str) -> DepartmentRead:
        if code not in self.cache:
            self.cache[code] = regions_service.get_department(self.session, code)
        return self.cache[code]


# --- items ---------------------------------------------------------------------------


def get_item(session: Session, *, code: str) -> ItemRead:
    """One item. Every case action reads its item, so reads are cached per item version."""
    stamp = repository.item_version(session, code)
    if stamp is None:
        raise _item_not_found(code)
    key = (str(session.get_bind().engine.url), code, *stamp)
    cached = _item_cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    item = repository.item_by_code(session, code)
    if item is None:
        raise _item_not_found(code)
    read = _item_read(item, _Departments(session))
    with _item_cache_lock:
        if len(_item_cache) > _ITEM_CACHE_SIZE:
            _item_cache.clear()
        _item_cache[key] = (time.monotonic() + _ITEM_CACHE_SECONDS, read)
    return read


# (database, code, id, version, saved at) → (expires, item). The version makes edits visible at
# once; the short expiry bounds how long a renamed department's old name can show.
_item_cache: dict[tuple[object, ...], tuple[float, ItemRead]] = {}
_item_cache_lock = threading.Lock()
_ITEM_CACHE_SIZE = 2048
_ITEM_CACHE_SECONDS = 60.0


def get_item_by_id(session: Session, *, item_id: int) -> ItemRead:
    item = repository.item_by_id(session, item_id)
    if item is None:
        raise _item_not_found(str(item_id))
    return _item_read(item, _Departments(session))


def material_by_id(session: Session, *, material_id: int) -> MaterialRead:
    material = repository.material_by_id(session, material_id)
    if material is None:
        raise NotFound(
            "material_not_found",
            f"申请材料不存在：{material_id}",
            f"Material requirement not found: {material_id}",
            details={"key": material_id},
        )
    return MaterialRead.model_validate(material)


def upsert_item(
    session: Session,
    *,
    data: ItemCreate,
    expected_version: int | None = None,
    actor: Actor | None = None,
) -> ItemRead:
    """Create or replace the item with ``data.code``; unchanged data writes nothing.

    ``expected_version`` (an editor's copy) turns a lost update into a conflict. A
    change is a privileged action, recorded in the audit log (actor None: the CLI).
    """
    rules.raise_problems(
        rules.item_problems(data, offered=_shared_data_offered(session)), "事项", "The item"
    )
    departments = _Departments(session)
    for code in (data.department_code, *data.joint_department_codes):
        _known_department(departments, code)
    item = repository.item_by_code(session, data.code)
    if item is not None:
        if expected_version is not None and item.version != expected_version:
            raise Conflict(
                "item_version_conflict",
                "事项已被他人修改，请刷新后重试。",
                "The item was changed by someone else; reload and try again.",
                details={"expected": expected_version, "current": item.version},
            )
        if _as_create(item).model_dump() == data.model_dump():
            return _item_read(item, departments)
        # Touching the row forces an UPDATE, hence a version bump, for material-only edits.
        item.updated_at = utcnow()
    else:
        item = ServiceItem(code=data.code)
        session.add(item)
    for field in _ITEM_FIELDS:
        if field != "code":
            setattr(item, field, getattr(data, field))
    _sync_materials(item, data)
    session.flush()
    audit_service.record_action(
        session, actor=actor, action="catalog.item.save", subject_kind="item", subject_ref=item.code
    )
    _index_item(session, item)
    version.bump(session)
    session.refresh(item)
    return _item_read(item, departments)


def _shared_data_offered(session: Session) -> dict[str, rules.ServiceOffer] | None:
    """The exchange services this node has registered; None while it has no provider at all
    (a catalog loaded before the exchange is set up: references are then checked for shape)."""
    from tongban.exchange import service as exchange_service  # exchange reads the catalog

    providers = exchange_service.providers(session)
    if not providers:
        return None
    return {
        service.code: rules.ServiceOffer(frozenset(service.elements), frozenset(service.claims))
        for provider in providers
        for service in provider.services
    }


def list_items(
    session: Session, *, department_code: str | None = None, page: int = 1, size: int = 20
) -> ItemPage:
    page, size = _page_bounds(page, size)
    rows, total = repository.list_items(
        session, department_code=department_code, offset=(page - 1) * size, limit=size
    )
    departments = _Departments(session)
    return ItemPage(
        items=[_summary(item, departments, 0.0) for item in rows], total=total, page=page, size=size
    )


def search_items(session: Session, *, q: str, page: int = 1, size: int = 20) -> ItemPage:
    """Items ranked by relevance to ``q``; no hit is an empty page, not an error."""
    page, size = _page_bounds(page, size)
    terms = _query_terms(session, q)
    hits = repository.token_hits(session, [t.token for t in terms])
    ranked = search.rank(terms, hits, repository.count_items(session))
    window = ranked[(page - 1) * size : page * size]
    items = repository.items_by_ids(session, [doc for doc, _ in window])
    departments = _Departments(session)
    return ItemPage(
        items=[_summary(items[doc], departments, score) for doc, score in window],
        total=len(ranked),
        page=page,
        size=size,
    )


# --- bundles ---------------------------------------------------------------------------


def get_bundle(session: Session, *, code: str) -> BundleRead:
    bundle = repository.bundle_by_code(session, code)
    if bundle is None:
        raise not_found("一件事", "Bundle", code)
    return _bundle_read(bundle, _Departments(session))


def list_bundles(session: Session) -> list[BundleRead]:
    departments = _Departments(session)
    return [_bundle_read(b, departments) for b in repository.bundles(session)]


def search_bundles(session: Session, *, q: str) -> list[BundleRead]:
    """Bundles ranked by relevance to ``q`` (开公司 → 企业开办), best first."""
    terms = _query_terms(session, q)
    hits = repository.token_hits(session, [t.token for t in terms], bundles=True)
    ranked = search.rank(terms, hits, repository.count_bundles(session))[:BUNDLE_SEARCH_LIMIT]
    by_id = {b.id: b for b in repository.bundles(session, [doc for doc, _ in ranked])}
    departments = _Departments(session)
    return [_bundle_read(by_id[doc], departments) for doc, _ in ranked]


def upsert_bundle(session: Session, *, data: BundleCreate) -> BundleRead:
    departments = _Departments(session)
    _known_department(departments, data.lead_department_code)
    items = {item.code: item for item in repository.items_by_codes(session, data.item_codes)}
    missing = [code for code in data.item_codes if code not in items]
    if missing:
        raise Invalid(
            "unknown_item",
            f"一件事包含不存在的事项：{'、'.join(missing)}",
            f"The bundle lists unknown items: {', '.join(missing)}",
            details={"missing": missing},
        )
    item_departments = {code: item.department_code for code, item in items.items()}
    rules.raise_problems(rules.bundle_problems(data, item_departments), "一件事", "The bundle")
    bundle = repository.bundle_by_code(session, data.code)
    if bundle is None:
        bundle = Bundle(code=data.code)
        session.add(bundle)
    elif _bundle_as_create(bundle).model_dump() == data.model_dump():
        return _bundle_read(bundle, departments)
    for field in ("name", "aliases", "description", "promised_limit_days"):
        setattr(bundle, field, getattr(data, field))
    bundle.statutory_limit_days = data.statutory_limit_days
    bundle.lead_department_code = data.lead_department_code
    bundle.stages = [list(stage) for stage in data.stages]
    # Entries are keyed by item: keep the rows that stay, so no key is deleted and re-inserted.
    existing = {entry.item_id: entry for entry in bundle.entries}
    entries: list[BundleItem] = []
    for position, code in enumerate(data.item_codes):
        entry = existing.get(items[code].id) or BundleItem(item_id=items[code].id)
        entry.position = position
        entries.append(entry)
    bundle.entries = entries
    session.flush()
    _index_bundle(session, bundle)
    version.bump(session)
    refreshed = repository.bundle_by_code(session, data.code)
    assert refreshed is not None
    session.refresh(refreshed)
    return _bundle_read(refreshed, departments)


def reindex(session: Session) -> int:
    """Rebuild every search entry (after editing synonyms.txt); returns the documents indexed."""
    _ensure_vocabulary(session)
    item_ids = repository.all_item_ids(session)
    for item_id in item_ids:
        item = repository.item_by_id(session, item_id)
        assert item is not None
        _index_item(session, item)
    bundles = repository.bundles(session)
    for bundle in bundles:
        _index_bundle(session, bundle)
    version.bump(session)  # synonyms change what a search finds
    return len(item_ids) + len(bundles)


# --- helpers ---------------------------------------------------------------------------


def _item_not_found(key: str) -> NotFound:
    return NotFound(
        "item_not_found",
        f"事项不存在：{key}",
        f"Service item not found: {key}",
        details={"key": key},
    )


def _known_department(departments: _Departments, code: str) -> DepartmentRead:
    try:
        return departments.get(code)
    except NotFound:
        raise Invalid(
            "unknown_department",
            f"实施部门不存在：{code}",
            f"Unknown department: {code}",
            details={"department_code": code},
        ) from None


def _page_bounds(page: int, size: int) -> tuple[int, int]:
    return max(page, 1), min(max(size, 1), MAX_PAGE_SIZE)


def _query_terms(session: Session, q: str) -> list[search.Term]:
    if not q or not q.strip():
        raise EMPTY_QUERY
    _ensure_vocabulary(session)
    return search.query_terms(q)


def _ensure_vocabulary(session: Session) -> None:
    """Load item and bundle names into the tokenizer once per process (domain words stay whole)."""
    global _vocabulary_loaded
    if _vocabulary_loaded:
        return
    with _vocabulary_lock:
        if not _vocabulary_loaded:
            search.add_words(repository.vocabulary(session))
            _vocabulary_loaded = True


def _sync_materials(item: ServiceItem, data: ItemCreate) -> None:
    # Materials are matched by code so their ids, which cases attach uploads to, survive edits.
    existing = {m.code: m for m in item.materials}
    materials: list[MaterialRequirement] = []
    for position, material in enumerate(data.materials):
        row = existing.get(material.code) or MaterialRequirement(code=material.code)
        row.position = position
        values = material.model_dump()  # nested models as the JSON columns store them
        for field in _MATERIAL_FIELDS:
            setattr(row, field, values[field])
        materials.append(row)
    item.materials = materials


def _index_item(session: Session, item: ServiceItem) -> None:
    search.add_words([item.name, *item.aliases])
    text = "\n".join(
        [
            item.guide,
            item.acceptance_conditions,
            *(m.name for m in item.materials),
            *(entry.get("q", "") for entry in item.faq),
        ]
    )
    weights = search.weighted_tokens(
        [
            (item.name, search.WEIGHT_NAME),
            *((alias, search.WEIGHT_ALIAS) for alias in item.aliases),
            (item.result_name, search.WEIGHT_RESULT),
            (text, search.WEIGHT_TEXT),
        ]
    )
    repository.replace_tokens(session, weights=weights, item_id=item.id)


def _index_bundle(session: Session, bundle: Bundle) -> None:
    search.add_words([bundle.name, *bundle.aliases])
    weights = search.weighted_tokens(
        [
            (bundle.name, search.WEIGHT_NAME),
            *((alias, search.WEIGHT_ALIAS) for alias in bundle.aliases),
            (bundle.description, search.WEIGHT_TEXT),
            # Item names at text weight: 出生登记 should also lead to 出生一件事.
            (" ".join(entry.item.name for entry in bundle.entries), search.WEIGHT_TEXT),
        ]
    )
    repository.replace_tokens(session, weights=weights, bundle_id=bundle.id)


def _fields(item: ServiceItem) -> dict[str, Any]:
    return {field: getattr(item, field) for field in _ITEM_FIELDS}


def _as_create(item: ServiceItem) -> ItemCreate:
    materials = [{f: getattr(m, f) for f in _MATERIAL_FIELDS} for m in item.materials]
    return ItemCreate.model_validate({**_fields(item), "materials": materials})


def _item_read(item: ServiceItem, departments: _Departments) -> ItemRead:
    department = departments.get(item.department_code)
    return ItemRead.model_validate(
        {
            **_fields(item),
            "id": item.id,
            "department_name": department.name,
            "region_code": department.region_code,
            "materials": [MaterialRead.model_validate(m) for m in item.materials],
            "version": item.version,
            "active": item.active,
        }
    )


def _summary(item: ServiceItem, departments: _Departments, score: float) -> ItemSummary:
    return ItemSummary(
        code=item.code,
        name=item.name,
        item_type=item.item_type,
        department_code=item.department_code,
        department_name=departments.get(item.department_code).name,
        promised_limit_days=item.promised_limit_days,
        visits_required=item.visits_required,
        online_depth=item.online_depth,
        score=score,
    )


def _bundle_as_create(bundle: Bundle) -> BundleCreate:
    return BundleCreate(
        code=bundle.code,
        name=bundle.name,
        aliases=list(bundle.aliases),
        description=bundle.description,
        item_codes=[entry.item.code for entry in bundle.entries],
        promised_limit_days=bundle.promised_limit_days,
        statutory_limit_days=bundle.statutory_limit_days,
        lead_department_code=bundle.lead_department_code,
        stages=[list(stage) for stage in bundle.stages or []],
    )


def _bundle_read(bundle: Bundle, departments: _Departments) -> BundleRead:
    return BundleRead(
        id=bundle.id,
        code=bundle.code,
        name=bundle.name,
        aliases=list(bundle.aliases),
        description=bundle.description,
        promised_limit_days=bundle.promised_limit_days,
        statutory_limit_days=bundle.statutory_limit_days,
        lead_department_code=bundle.lead_department_code,
        stages=[list(stage) for stage in bundle.stages or []],
        items=[_item_read(entry.item, departments) for entry in bundle.entries],
    )


def catalog_version(session: Session) -> str:
    """What caches of public catalog pages and answers are keyed by (see catalog/version.py)."""
    return version.current(session)

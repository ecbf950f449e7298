"""Every query of the catalog domain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session, selectinload

from tongban.catalog.models import (
    Bundle,
    BundleItem,
    MaterialRequirement,
    SearchToken,
    ServiceItem,
)

_WITH_MATERIALS = selectinload(ServiceItem.materials)
_WITH_ENTRIES = (
    selectinload(Bundle.entries).selectinload(BundleItem.item).selectinload(ServiceItem.materials)
)


def item_by_code(session: Session, code: str) -> ServiceItem | None:
    return session.scalar(
        select(ServiceItem).where(ServiceItem.code == code).options(_WITH_MATERIALS)
    )


# Built once: every case action checks its item's version, and building the
# statement would cost as much as running it.
# The save time too: a database restored or reloaded brings back (id, version) pairs that
# once stood for other contents, never the same save time.
_ITEM_VERSION = select(ServiceItem.id, ServiceItem.version, ServiceItem.updated_at).where(
    ServiceItem.code == bindparam("code")
)


def item_version(session: Session, code: str) -> tuple[int, int, object] | None:
    row = session.execute(_ITEM_VERSION, {"code": code}).first()
    return (row[0], row[1], row[2]) if row else None


def item_by_id(session: Session, item_id: int) -> ServiceItem | None:
    return session.get(ServiceItem, item_id, options=[_WITH_MATERIALS])


def items_by_codes(session: Session, codes: Sequence[str]) -> list[ServiceItem]:
    if not codes:
        return []
    return list(session.scalars(select(ServiceItem).where(ServiceItem.code.in_(codes))))


def items_by_ids(session: Session, ids: Sequence[int]) -> dict[int, ServiceItem]:
    if not ids:
        return {}
    rows = session.scalars(select(ServiceItem).where(ServiceItem.id.in_(ids)))
    return {item.id: item for item in rows}


def list_items(
    session: Session, *, department_code: str | None, offset: int, limit: int
) -> tuple[list[ServiceItem], int]:
    query = select(ServiceItem).where(ServiceItem.active.is_(True))
    if department_code:
        query = query.where(ServiceItem.department_code == department_code)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(ServiceItem.code).offset(offset).limit(limit))
    return list(rows), total


def all_item_ids(session: Session) -> list[int]:
    return list(session.scalars(select(ServiceItem.id).order_by(ServiceItem.id)))


def count_items(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(ServiceItem).where(ServiceItem.active.is_(True))
        )
        or 0
    )


def count_bundles(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Bundle)) or 0


def material_by_id(session: Session, material_id: int) -> MaterialRequirement | None:
    return session.get(MaterialRequirement, material_id)


def bundle_by_code(session: Session, code: str) -> Bundle | None:
    return session.scalar(select(Bundle).where(Bundle.code == code).options(_WITH_ENTRIES))


def bundles(session: Session, ids: Sequence[int] | None = None) -> list[Bundle]:
    query = select(Bundle).options(_WITH_ENTRIES).order_by(Bundle.code)
    if ids is not None:
        query = query.where(Bundle.id.in_(ids))
    return list(session.scalars(query))


def vocabulary(session: Session) -> list[str]:
    """Names and aliases of every item and bundle: the domain words for the tokenizer."""
    words: list[str] = []
    for name, aliases in session.execute(select(ServiceItem.name, ServiceItem.aliases)):
        words.append(name)
        words.extend(aliases or [])
    for name, aliases in session.execute(select(Bundle.name, Bundle.aliases)):
        words.append(name)
        words.extend(aliases or [])
    return words


def replace_tokens(
    session: Session,
    *,
    weights: dict[str, float],
    item_id: int | None = None,
    bundle_id: int | None = None,
) -> None:
    if item_id is not None:
        session.execute(delete(SearchToken).where(SearchToken.item_id == item_id))
    else:
        session.execute(delete(SearchToken).where(SearchToken.bundle_id == bundle_id))
    session.add_all(
        SearchToken(item_id=item_id, bundle_id=bundle_id, token=token, weight=weight)
        for token, weight in sorted(weights.items())
    )
    session.flush()


def token_hits(
    session: Session, tokens: Iterable[str], *, bundles: bool = False
) -> list[tuple[int, str, float]]:
    """(document id, token, weight) for every indexed occurrence of ``tokens``."""
    wanted = sorted(set(tokens))
    if not wanted:
        return []
    target = SearchToken.bundle_id if bundles else SearchToken.item_id
    query = select(target, SearchToken.token, SearchToken.weight).where(
        SearchToken.token.in_(wanted), target.is_not(None)
    )
    if not bundles:
        query = query.join(ServiceItem, ServiceItem.id == SearchToken.item_id).where(
            ServiceItem.active.is_(True)
        )
    return [
        (int(doc), token, float(weight))
        for doc, token, weight in session.execute(query)
        if doc is not None
    ]

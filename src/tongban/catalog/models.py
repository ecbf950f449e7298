"""Catalog tables: service items (事项), their materials, bundles (一件事) and the search index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tongban.db import Base, IdMixin, TimestampMixin


class ServiceItem(IdMixin, TimestampMixin, Base):
    """One implementation-list entry (实施清单) of a 政务服务事项."""

    __tablename__ = "service_items"

    code: Mapped[str] = mapped_column(String(64), unique=True)  # 实施编码, opaque
    basic_code: Mapped[str] = mapped_column(String(32), default="")  # 基本编码
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    item_type: Mapped[str] = mapped_column(String(2))
    # 统一社会信用代码 of the 实施主体; regions owns departments, so no foreign key.
    department_code: Mapped[str] = mapped_column(String(18), index=True)
    joint_department_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    service_objects: Mapped[list[str]] = mapped_column(JSON, default=list)
    legal_basis: Mapped[str] = mapped_column(Text)
    statutory_limit_days: Mapped[int] = mapped_column(Integer)  # working days
    promised_limit_days: Mapped[int] = mapped_column(Integer)  # working days, 0 = 即办件
    limit_note: Mapped[str] = mapped_column(Text, default="")
    acceptance_conditions: Mapped[str] = mapped_column(Text, default="")
    fee_fen: Mapped[int] = mapped_column(Integer, default=0)
    fee_note: Mapped[str] = mapped_column(Text, default="")
    visits_required: Mapped[int] = mapped_column(Integer, default=0)
    visit_reason: Mapped[str] = mapped_column(Text, default="")
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    online_depth: Mapped[str] = mapped_column(String(16))
    cross_province_mode: Mapped[str] = mapped_column(String(16), default="none")
    accepts_mail: Mapped[bool] = mapped_column(Boolean, default=False)
    process: Mapped[list[str]] = mapped_column(JSON, default=list)
    guide: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(256), default="")
    hours: Mapped[str] = mapped_column(String(256), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    result_name: Mapped[str] = mapped_column(String(200), default="")
    faq: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    form_schema: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    assurance_level: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    decided_by: Mapped[str] = mapped_column(
        String(16), default="department", server_default="department"
    )
    issues: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    materials: Mapped[list[MaterialRequirement]] = relationship(
        back_populates="item",
        order_by="MaterialRequirement.position",
        cascade="all, delete-orphan",
    )

    # Concurrent edits of an item fail with StaleDataError instead of silently overwriting.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class MaterialRequirement(IdMixin, Base):
    """A material the application needs (申请材料); cases attach uploads to its id."""

    __tablename__ = "material_requirements"
    __table_args__ = (UniqueConstraint("item_id", "code"),)

    item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    form: Mapped[str] = mapped_column(String(16), default="original")
    copies: Mapped[int] = mapped_column(Integer, default=1)
    necessity: Mapped[str] = mapped_column(String(16), default="required")
    condition: Mapped[str] = mapped_column(Text, default="")
    blank_form_ref: Mapped[str | None] = mapped_column(String(256))
    sample_ref: Mapped[str | None] = mapped_column(String(256))
    acceptance_standard: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    replaced_by: Mapped[str | None] = mapped_column(String(128))
    # schemas.SharedDataReplacement: the exchange service, claim or compared elements.
    replaced_by_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    item: Mapped[ServiceItem] = relationship(back_populates="materials")


class Bundle(IdMixin, TimestampMixin, Base):
    """一件事一次办: several items from several departments applied for together."""

    __tablename__ = "bundles"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    promised_limit_days: Mapped[int] = mapped_column(Integer)
    statutory_limit_days: Mapped[int] = mapped_column(Integer)
    lead_department_code: Mapped[str] = mapped_column(String(18))
    # Item codes by stage (schemas.BundleCreate.stages); empty: all in parallel.
    stages: Mapped[list[list[str]]] = mapped_column(JSON, default=list)

    entries: Mapped[list[BundleItem]] = relationship(
        back_populates="bundle", order_by="BundleItem.position", cascade="all, delete-orphan"
    )


class BundleItem(Base):
    """An item's place in a bundle; the order is the order shown to the applicant."""

    __tablename__ = "bundle_items"

    bundle_id: Mapped[int] = mapped_column(
        ForeignKey("bundles.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("service_items.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    bundle: Mapped[Bundle] = relationship(back_populates="entries")
    item: Mapped[ServiceItem] = relationship()


class SearchToken(IdMixin, Base):
    """One indexed word of an item or a bundle with its field weight.

    Segmentation happens in the application (jieba), so the index and the
    ranking behave the same on SQLite and PostgreSQL.
    """

    __tablename__ = "search_tokens"
    __table_args__ = (
        CheckConstraint("(item_id IS NULL) <> (bundle_id IS NULL)", name="one_target"),
    )

    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_items.id", ondelete="CASCADE"), index=True
    )
    bundle_id: Mapped[int | None] = mapped_column(
        ForeignKey("bundles.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(64), index=True)
    weight: Mapped[float] = mapped_column(Float)


class CatalogState(Base):
    """One row: the catalog's version, a fresh random token written in the transaction that
    saves an item or a bundle. Pages and API answers that are the same for every visitor are
    cached under it, so a save shows on every app server at its next request (they share the
    database). Random rather than counted: a database restored from a backup never brings
    back a number that later stood for another catalog."""

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(32))

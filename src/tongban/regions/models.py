from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tongban.db import Base, IdMixin


class Region(Base):
    """A GB/T 2260 administrative division (6 digits) or a township (12-digit code)."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer)  # 1 province, 2 city, 3 county, 4 township
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"))


class Department(IdMixin, Base):
    """A government agency (实施主体), identified by its 统一社会信用代码."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    name: Mapped[str] = mapped_column(String(128))
    short_name: Mapped[str] = mapped_column(String(32), default="")
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    phone: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(String(256), default="")

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    level: int
    parent_code: str | None


class DepartmentCreate(BaseModel):
    code: str
    name: str
    short_name: str = ""
    region_code: str
    phone: str = ""
    address: str = ""


class DepartmentRead(DepartmentCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int

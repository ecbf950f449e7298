from __future__ import annotations

from pydantic import BaseModel


class TokenRequest(BaseModel):
    username: str
    password: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


class UserRead(BaseModel):
    id: int
    username: str
    role: str
    display_name: str
    region_code: str | None
    department_code: str | None

"""Bounded path and query parameters shared by the API routers.

No value reaches the database that it cannot take: integer ids fit a 32-bit signed column on
every backend, pages stop at 100,000 (the offset stays small), sizes at 100 and strings are
short. Out-of-range values are refused with 422 before any query runs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_PAGE = 100_000
MAX_PAGE_SIZE = 100
MAX_ID = 2**31 - 1  # INTEGER on PostgreSQL; SQLite takes 64 bits, Python ints have no limit

PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="rows per page")]
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="numeric id")]
CaseNo = Annotated[str, Path(min_length=1, max_length=32, description="办件编号")]
CodePath = Annotated[str, Path(min_length=1, max_length=64)]
SearchWords = Annotated[str | None, Query(max_length=100, description="搜索词 / search words")]

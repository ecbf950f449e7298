"""The request-scoped database session: one transaction per request, held as briefly as
the work allows (docs/concurrency.md).

- The request's body is received in full before its session may begin, and the session
  opens no connection until the endpoint's first query; the actor is looked up in a short
  session of its own (``tongban.access.dependencies``). A slow client holds no lock.
- A GET or HEAD without credentials only reads: on SQLite it runs in a deferred
  transaction, beside the one writer (WAL). Everything else — writes, and signed-in reads,
  which append to the access log — begins ``IMMEDIATE``.
- A request that may write waits for a *write turn* in the event loop, holding no thread,
  before its transaction can begin, and gives it back after the commit. A sync endpoint's
  answer is validated in a further step of the thread pool before the commit; were every
  thread taken by requests waiting for that request's locks, nothing would move until the
  lock timeouts fired. So turns are fewer than threads: one per process on SQLite (writers
  are serial there anyway), ``db_pool_size - 2`` on PostgreSQL — some thread is always
  free for the lock holder.
- The server runs no more threads than the pool has connections (``limit_threads``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Annotated, Any

import anyio
from anyio import to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from tongban.db import read_session_factory

READING_METHODS = frozenset({"GET", "HEAD"})
_HOLDS_TURN = "tongban_holds_write_turn"
_WRITES_ON_READ = "tongban_writes_on_read"


def reads_only(request: Request) -> bool:
    """An anonymous GET or HEAD that does not say it writes (``WritesOnRead``); a signed-in
    read is audited, and the audit entry is a write."""
    if request.method not in READING_METHODS or request.scope.get(_WRITES_ON_READ):
        return False
    if request.headers.get("authorization"):
        return False
    if "session" not in request.scope:
        return True
    return request.session.get("sid") is None and request.session.get("uid") is None


async def writes_on_read(request: Request) -> None:
    """Route dependency of a GET that writes for an anonymous caller (a lookup by query
    code is audited): its transaction begins ``IMMEDIATE``. Without it, such a write fails
    on SQLite every time (``PRAGMA query_only``), so a test of the route shows it."""
    request.scope[_WRITES_ON_READ] = True


WritesOnRead = Depends(writes_on_read)
"""``@router.get(..., dependencies=[WritesOnRead])``: resolved before the session."""


def _turns(app: Any) -> anyio.Semaphore:
    turns: anyio.Semaphore | None = getattr(app.state, "write_turns", None)
    if turns is None:
        settings = app.state.settings
        sqlite = str(app.state.database_url).startswith("sqlite")
        turns = anyio.Semaphore(1 if sqlite else max(1, settings.db_pool_size - 2))
        app.state.write_turns = turns
    return turns


@asynccontextmanager
async def write_turn(request: Request) -> AsyncIterator[None]:
    """This request's turn to write (re-entrant within the request)."""
    if request.scope.get(_HOLDS_TURN):
        yield
        return
    async with _turns(request.app):
        request.scope[_HOLDS_TURN] = True
        try:
            yield
        finally:
            request.scope[_HOLDS_TURN] = False


async def _body_received(request: Request) -> None:
    """The whole body, before any transaction may start (a form endpoint parses it later
    from memory; BodySizeLimit has bounded it)."""
    if request.method in READING_METHODS:
        return
    # "Stream consumed": FastAPI has already parsed the form the endpoint declares.
    with suppress(RuntimeError):
        await request.body()


async def transaction_turn(request: Request) -> AsyncIterator[None]:
    """Dependency of ``get_session``: body received, then a write turn if the request may
    write; the turn is given back after the session's commit (exit order)."""
    await _body_received(request)
    if reads_only(request):
        yield
        return
    async with write_turn(request):
        yield


def get_session(
    request: Request, _turn: Annotated[None, Depends(transaction_turn, scope="function")]
) -> Iterator[Session]:
    """Commit when the endpoint returns, roll back when it raises — before the response is sent."""
    if reads_only(request):
        session = read_session_factory(request.app.state.database_url)()
    else:
        session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def short_read(request: Request) -> Iterator[Session]:
    """A read-only session of its own, closed on leaving the block (the actor lookup):
    never the endpoint's transaction, so checking who is asking locks nothing."""
    session = read_session_factory(request.app.state.database_url)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@contextmanager
def short_write(request: Request) -> Iterator[Session]:
    """A short write transaction of its own, committed on leaving the block (take a
    ``write_turn`` first)."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@asynccontextmanager
async def limit_threads(app: Any) -> AsyncIterator[None]:
    """App lifespan: the thread pool for sync endpoints and dependencies no larger than the
    connection pool (anyio's default is 40 threads), so a thread always finds a connection."""
    to_thread.current_default_thread_limiter().total_tokens = app.state.settings.db_pool_size
    app.state.write_turns = None  # made afresh in this event loop on first use
    yield


SessionDep = Annotated[Session, Depends(get_session, scope="function")]

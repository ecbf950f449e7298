"""SQL adapter: any SQLAlchemy URL, read-only, tables and columns from the mapping.

The legacy schema is reflected once and every mapped table and column is checked
against it, so a mapping that does not fit fails at start, not at the first
request. Queries are built with SQLAlchemy Core (bound parameters only), and the
connection itself is put in read-only mode where the database supports it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    Select,
    Table,
    bindparam,
    create_engine,
    event,
    make_url,
    select,
)
from sqlalchemy.exc import NoSuchTableError, OperationalError
from sqlalchemy.sql.expression import FromClause

from tongban.exchange.adapters import Adapter, MappingError, RawRow, SourceError
from tongban.exchange.cleaning import id_number_variants
from tongban.exchange.mapping import Mapping as SourceMapping

BATCH = 1000


def read_only_engine(url: str) -> Engine:
    """An engine whose connections refuse writes (SQLite, PostgreSQL, MySQL).

    A SQLite file is also opened read-only (mode=ro), so a wrong path fails
    instead of creating an empty database next to the real one.
    """
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:"):
        if not database.startswith("file:"):
            parsed = parsed.set(database=f"file:{database}")
        parsed = parsed.update_query_dict({"mode": "ro", "uri": "true"})
    engine = create_engine(parsed)
    statements = {
        "sqlite": "PRAGMA query_only = ON",
        "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
        "mysql": "SET SESSION TRANSACTION READ ONLY",
    }
    statement = statements.get(engine.dialect.name)
    if statement is not None:

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(statement)
            cursor.close()
            dbapi_connection.commit()  # PostgreSQL rolls back a SET with its transaction

    return engine


class SqlAdapter(Adapter):
    def __init__(self, mapping: SourceMapping, url: str, **options: Any) -> None:
        super().__init__(mapping, **options)
        if mapping.sql is None:
            raise MappingError(f"{mapping.source}: not a SQL mapping")
        self.sql = mapping.sql
        self.engine = read_only_engine(url)
        try:
            self._tables = self._reflect()
        except OperationalError as exc:
            self.engine.dispose()
            raise _unavailable(mapping.source, exc) from exc
        self._columns = {
            code: self._column(origin.column or "")
            for code, origin in mapping.elements.items()
            if origin.column
        }
        self._key_column = self._columns[mapping.key]
        self._key_is_id_number = self.registry.elements[mapping.key].format == "id_number"
        self._query = self._base_query()
        self._lookup = self._query.where(self._key_column.in_(bindparam("keys", expanding=True)))

    def close(self) -> None:
        self.engine.dispose()

    def reachable(self, raw_key: object, clean_key: str) -> bool:
        return raw_key in self._key_forms(clean_key)

    def _rows_for(self, clean_key: str) -> list[RawRow]:
        try:
            with self.engine.connect() as connection:
                result = connection.execute(self._lookup, {"keys": self._key_forms(clean_key)})
                return [dict(row._mapping) for row in result]
        except OperationalError as exc:
            raise _unavailable(self.source, exc) from exc

    def _all_rows(self) -> Iterator[RawRow]:
        primary = list(self._tables[self.sql.table].primary_key)
        query = self._query.order_by(*primary) if primary else self._query
        try:
            with self.engine.connect() as connection:
                result = connection.execution_options(yield_per=BATCH).execute(query)
                for row in result:
                    yield dict(row._mapping)
        except OperationalError as exc:
            raise _unavailable(self.source, exc) from exc

    def _key_forms(self, clean_key: str) -> list[str]:
        # Legacy tables hold keys as they were typed; match the usual forms
        # exactly (an index on the column still serves) rather than wrapping the
        # column in functions. Rows stored some other way are counted by the
        # quality report as unreachable.
        return id_number_variants(clean_key) if self._key_is_id_number else [clean_key]

    # ------------------------------------------------------------ schema

    def _reflect(self) -> dict[str, Table]:
        names = [self.sql.table, *(join.table for join in self.sql.joins)]
        tables: dict[str, Table] = {}
        metadata = MetaData()
        for name in names:
            try:
                tables[name] = Table(name, metadata, autoload_with=self.engine)
            except NoSuchTableError as exc:
                raise MappingError(f"{self.source}: no table {name}") from exc
        return tables

    def _column(self, reference: str) -> Column[Any]:
        table_name, _, column_name = reference.rpartition(".")
        table = self._tables.get(table_name or self.sql.table)
        if table is None or column_name not in table.c:
            raise MappingError(f"{self.source}: no column {reference}")
        return table.c[column_name]

    def _base_query(self) -> Select[Any]:
        sql = self.sql
        source: FromClause = self._tables[sql.table]
        for join in sql.joins:
            left = self._column(f"{sql.table}.{join.left}")
            right = self._column(f"{join.table}.{join.right}")
            source = source.join(self._tables[join.table], left == right)
        labelled = [column.label(code) for code, column in self._columns.items()]
        query = select(*labelled).select_from(source)
        for reference, value in sql.where.items():
            query = query.where(self._column(reference) == value)
        return query


def _unavailable(source: str, exc: Exception) -> SourceError:
    return SourceError(
        "source_unavailable",
        f"数据源{source}暂时无法访问",
        f"Data source {source} is not available",
        details={"source": source, "cause": type(exc).__name__},
    )

"""Statements compiled once and run on the driver's own cursor, inside the caller's transaction.

Executing even a cached statement through SQLAlchemy's Connection costs about 40-60 µs of Python
(execution context, events, result wrapper): several times what SQLite takes to answer an indexed
lookup, and most of a small request's budget. The statements every request runs (the session
check, ref lookups, reads by id, counters, the engagement bump) are therefore compiled by
SQLAlchemy once per dialect and per length of each IN list, and executed with the driver's cursor
(through ``statements``, the store's one statement path, whose hook sees them as it sees the rest).
Values go in and come out through SQLAlchemy's own bind and result processors for each column's
type, so a row reads exactly as ``Connection.execute`` would give it (a test compares the two on
both stores).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from openpws.store import statements

R = TypeVar("R")
Processor = Callable[[Any], Any] | None

# Most ref lists are short; longer ones (a bulk get takes up to 100) are compiled on first use.
_MAX_PLANS = 256


@dataclass(frozen=True)
class _Plan:
    sql: str
    positional: bool
    # (name in the driver's parameters, name passed by the caller or None for a value the statement
    # holds itself, index into a list or None, processor, the statement's own value)
    binds: tuple[tuple[str, str | None, int | None, Processor, Any], ...]


class Prebuilt:
    """One statement; ``expanding`` names its ``bindparam(..., expanding=True)`` lists."""

    def __init__(self, statement: Executable, *, expanding: Sequence[str] = ()) -> None:
        assert isinstance(statement, ClauseElement)
        self.statement = statement
        self.expanding = tuple(expanding)
        self._compiled: dict[str, SQLCompiler] = {}
        self._plans: dict[tuple[str, tuple[int, ...]], _Plan] = {}
        self._results: dict[str, tuple[tuple[int, Callable[[Any], Any]], ...]] = {}  # by dialect

    def _plan(self, dialect: Dialect, params: Mapping[str, Any]) -> _Plan:
        sizes = tuple(len(params[name]) for name in self.expanding)
        key = (dialect.name, sizes)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._build(dialect, params)
            if len(self._plans) < _MAX_PLANS:
                self._plans[key] = plan
        return plan

    def _build(self, dialect: Dialect, params: Mapping[str, Any]) -> _Plan:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            built = self.statement.compile(dialect=dialect)
            assert isinstance(built, SQLCompiler)
            compiled = self._compiled[dialect.name] = built
        for name in self.expanding:
            if not params[name]:
                raise ValueError(f"the list {name!r} is empty: callers skip a lookup of nothing")
        expanded = compiled.construct_expanded_state(dict(params))
        sources: dict[str, tuple[str | None, int | None]] = {}
        for name, names in expanded.parameter_expansion.items():
            for index, item in enumerate(names):
                sources[item] = (name, index)
        order = expanded.positiontup if expanded.positiontup is not None else list(expanded.parameters)
        for item in order:
            if item not in sources:
                sources[item] = (item, None) if item in params else (None, None)
        binds = tuple(
            (item, *sources[item], expanded.processors.get(item), expanded.parameters.get(item)) for item in order
        )
        return _Plan(expanded.statement, expanded.positiontup is not None, binds)

    def _processors(self, dialect: Dialect, description: Sequence[Any]) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
        """The columns whose values need converting, with their converters. Some depend on the
        type the driver reports (PostgreSQL's numeric types), so they are chosen from the first
        cursor's description, as SQLAlchemy does."""
        found = self._results.get(dialect.name)
        if found is None:
            # A SELECT's columns, or the RETURNING columns of an INSERT, UPDATE or DELETE.
            # (A text() statement declares none: its values stay as the driver gives them.)
            columns = list(getattr(self.statement, "exported_columns", ()))
            assert not columns or len(columns) == len(description)
            chosen = (column.type.dialect_impl(dialect).result_processor(dialect, column_description[1])
                      for column, column_description in zip(columns, description, strict=False))
            found = self._results[dialect.name] = tuple(
                (index, processor) for index, processor in enumerate(chosen) if processor is not None)
        return found

    def _parameters(self, tx: Connection, params: Mapping[str, Any]) -> tuple[_Plan, Any]:
        """The plan for these parameters, and its values as the driver takes them."""
        plan = self._plan(tx.dialect, params)
        values: list[Any] = []
        for _name, source, index, processor, own in plan.binds:
            if source is None:
                value = own  # e.g. the 1 of "value + 1"
            else:
                value = params[source] if index is None else params[source][index]
            values.append(processor(value) if processor is not None else value)
        if plan.positional:
            return plan, values
        return plan, {bind[0]: value for bind, value in zip(plan.binds, values, strict=True)}

    def all(self, tx: Connection, **params: Any) -> list[tuple[Any, ...]]:
        """Every row, its values converted as SQLAlchemy would."""
        plan, values = self._parameters(tx, params)
        rows, cursor = statements.cursor_rows(tx, plan.sql, values)
        processors = self._results.get(tx.dialect.name)
        if processors is None:  # (a cursor's description costs a Python object per column)
            processors = self._processors(tx.dialect, cursor.description)
        if not processors:
            return rows  # both drivers give tuples
        converted = []
        for row in rows:
            values = list(row)
            for index, processor in processors:
                values[index] = processor(values[index])
            converted.append(tuple(values))
        return converted

    def scalar(self, tx: Connection, **params: Any) -> Any:
        """The first column of the one row the statement must give."""
        rows = self.all(tx, **params)
        if len(rows) != 1:
            raise LookupError(f"expected one row, got {len(rows)}")
        return rows[0][0]

    def run(self, tx: Connection, **params: Any) -> int:
        """Run a statement that gives no rows: the number of rows it changed."""
        plan, values = self._parameters(tx, params)
        return statements.cursor_change(tx, plan.sql, values)


class PrebuiltRows(Prebuilt, Generic[R]):
    """A SELECT of ``row_type``'s fields, in field order, read into ``row_type`` instances."""

    def __init__(self, statement: Executable, row_type: type[R], *, expanding: Sequence[str] = ()) -> None:
        super().__init__(statement, expanding=expanding)
        self.row_type = row_type

    def rows(self, tx: Connection, **params: Any) -> list[R]:
        make = self.row_type
        return [make(*row) for row in self.all(tx, **params)]

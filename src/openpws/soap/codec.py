"""Decoding request elements and encoding response values, driven by the contract's type table.

Decoding is lenient where WCF is lenient and strict where a silent loss would hurt: elements
the contract does not know are ignored, but a member sent in no namespace or the wrong one, or a
value that is not of its XSD type, is a RequestFault naming the qualified element expected. So is
a member sent out of production's order, when decoding is given the positions to check (strict
reading, ``openpws.contract.order``): WCF would skip it. Omitted and ``i:nil`` members both read as
absent. Encoding follows the contract's member order, writes ``i:nil="true"`` for null nillable
members, and declares prefixes the way WCF does (``a``, ``b``, … on the element that needs them).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from lxml import etree

from openpws.contract import ns
from openpws.contract.order import Positions
from openpws.contract.record import Record
from openpws.contract.schema import ComplexType, Member, TypeTable
from openpws.errors import RequestFault

_NIL = ns.qname(ns.XSI, "nil")
_TYPE = ns.qname(ns.XSI, "type")

# Misspellings the wiki's own pages use for documented members; accepted as the member itself.
ALIASES: Mapping[str, str] = {"IncludeDeletedRolesFla": "IncludeDeletedRolesFlag"}


_INT_RANGES = {
    "int": (-(2**31), 2**31 - 1, "a 32-bit integer"),
    "long": (-(2**63), 2**63 - 1, "a 64-bit integer"),
    "short": (-(2**15), 2**15 - 1, "a 16-bit integer"),
    "unsignedByte": (0, 255, "an integer from 0 to 255"),
}
_DATETIME = re.compile(
    r"^(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$"
)


def _bad(member: Member, text: str, expected: str) -> RequestFault:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return RequestFault(f"Element {member.qname} has the value {shown!r}, which is not {expected}.")


def parse_datetime(text: str) -> datetime | None:
    """xs:dateTime to an aware UTC datetime (values without a zone are taken as UTC)."""
    match = _DATETIME.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        micro = int((fraction or ".0")[1:7].ljust(6, "0"))
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC)
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        try:
            value = value.replace(tzinfo=timezone(sign * offset)).astimezone(UTC)
        except (OverflowError, ValueError):  # before year 1 or after 9999 in UTC, or a zone past ±24:00
            return None
    return value


def _decode_simple(member: Member, base: str, text: str, enumeration: frozenset[str] | None) -> object:
    if base == "string":
        if enumeration is not None and text not in enumeration:
            raise _bad(member, text, "one of " + ", ".join(sorted(enumeration)))
        return text
    value = text.strip()
    if base in _INT_RANGES:
        low, high, words = _INT_RANGES[base]
        try:
            number = int(value)
        except ValueError:
            raise _bad(member, text, words) from None
        if not low <= number <= high or not re.fullmatch(r"[+-]?\d+", value):
            raise _bad(member, text, words)
        return number
    if base == "boolean":
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        raise _bad(member, text, "a boolean (true or false)")
    if base == "dateTime":
        parsed = parse_datetime(value)
        if parsed is None:
            raise _bad(member, text, "an xs:dateTime from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z in UTC, "
                                     "such as 2018-01-19T19:32:35.9700152Z")
        return parsed
    if base == "base64Binary":
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _bad(member, text, "Base64 data") from None
    if base == "double":
        try:
            return float(value.replace("INF", "inf"))
        except ValueError:
            raise _bad(member, text, "a number") from None
    if base == "decimal":
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise _bad(member, text, "a decimal number") from None
        if not amount.is_finite():
            raise _bad(member, text, "a decimal number")
        return amount
    raise AssertionError(f"unhandled built-in type {base}")


def _is_nil(element: etree._Element) -> bool:
    return element.get(_NIL) in ("true", "1")


# Reading in any order (OPENPWS_MEMBER_ORDER=lenient): no positions to check.
ANY_ORDER: Positions = {}


def decode(element: etree._Element, ctype: ComplexType, types: TypeTable, order: Positions = ANY_ORDER) -> Record:
    """Decode the children of ``element`` as a value of ``ctype``, holding the members whose
    position ``order`` gives to that order."""
    record = Record(ctype)
    positions = order.get(ctype.name)
    last, after = -1, None
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        namespace, _, local = tag[1:].partition("}") if tag[0] == "{" else ("", "", tag)
        member = ctype.by_name.get(local)
        if member is None and local in ALIASES:
            member = ctype.by_name.get(ALIASES[local])
        if member is None:
            continue  # unknown to the contract: ignored, as WCF does
        if namespace != member.namespace:
            where = f"in namespace {namespace}" if namespace else "in no namespace"
            raise RequestFault(
                f"Element {local} was sent {where}; the contract expects {member.qname}."
            )
        if positions is not None:
            position = positions.get(member.name)
            if position is not None:
                if position < last:
                    raise _out_of_order(ctype, member, after)
                last, after = position, member
        value = None if _is_nil(child) else decode_value(child, member, types, order)
        if member.repeated:
            record.setdefault(member.name, []).append(value)
        elif member.name in record:
            raise RequestFault(f"Element {member.qname} appears more than once.")
        elif value is not None:
            record[member.name] = value
    return record


def _out_of_order(ctype: ComplexType, member: Member, after: Member | None) -> RequestFault:
    """The first member production would not read: WCF reads a type's members in order and skips
    one that comes after a member it follows in that order."""
    assert after is not None
    name = ctype.name.rpartition("}")[2]
    return RequestFault(
        f"Element {member.qname} comes after {after.qname}, but {name} orders {member.name} before "
        f"{after.name}: production reads the members of {name} in this order and would not read "
        f"{member.name}. The order: {', '.join(m.name for m in ctype.members)}. "
        "(OPENPWS_MEMBER_ORDER=lenient reads members in any order.)"
    )


def decode_value(element: etree._Element, member: Member, types: TypeTable, order: Positions = ANY_ORDER) -> object:
    if member.is_builtin:
        return _decode_text(element, member, member.builtin, None)
    simple = types.simple_types.get(member.type_name)
    if simple is not None:
        return _decode_text(element, member, simple.base, simple.enumeration)
    ctype = types.complex(member.type_name)
    if ctype.is_array:
        return decode(element, ctype, types, order).get(ctype.members[0].name, [])
    sent_type = element.get(_TYPE)
    if sent_type is not None:
        ctype = _sent_as(element, sent_type, ctype, types)
    return decode(element, ctype, types, order)


def _sent_as(element: etree._Element, sent_type: str, declared: ComplexType, types: TypeTable) -> ComplexType:
    """The type an ``xsi:type`` sends a value as, when it is the declared type or one derived from
    it (as WCF reads a known derived type, e.g. a PwsContractLineItemSummary where a
    PwsContractLineItemRef is declared); any other ``xsi:type`` is left unread, as before."""
    prefix, _, local = sent_type.strip().rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    if namespace is None:
        return declared
    return types.derived(ns.qname(namespace, local), declared.name) or declared


def _decode_text(element: etree._Element, member: Member, base: str, enum: frozenset[str] | None) -> object:
    if len(element):
        raise RequestFault(f"Element {member.qname} must hold a value, not child elements.")
    return _decode_simple(member, base, element.text or "", enum)


# ---------------------------------------------------------------------------------------------
# Encoding

def format_datetime(value: datetime) -> str:
    """UTC with seven fractional digits and Z, as WCF writes DateTime."""
    value = value.astimezone(UTC) if value.tzinfo else value
    # Formatted by hand: strftime("%Y") does not zero-pad years before 1000 on every platform.
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:"
            f"{value.second:02d}.{value.microsecond:06d}0Z")


def format_simple(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return repr(value) if math.isfinite(value) else ("INF" if value > 0 else "-INF")
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"cannot write {type(value).__name__} as a simple value")


_LETTERS = "abcdefghjklmnopqrstuvwxyz"  # no "i": it is the XMLSchema-instance prefix


Scope = tuple[tuple[str, str | None], ...]  # namespace URI -> prefix in force (None: the default), sorted

# Characters XML 1.0 cannot carry at all: a value holding one cannot be answered.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape_text(text: str) -> str:
    """Element text as libxml2 writes it (``&``, ``<``, ``>`` and CR escaped)."""
    if _NOT_XML.search(text):
        raise ValueError("All strings must be XML compatible: no NULL bytes or control characters")
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return text


@dataclass(frozen=True)
class _Step:
    """How one member is written under one set of prefixes in force: decided once per (type, scope)
    and replayed for every value, since a response writes the same few shapes thousands of times."""

    name: str
    nillable: bool
    nil: str  # the whole element when the value is null
    open: str  # its start tag with a value (declaring the prefixes its content needs) ...
    close: str  # ... its end tag ...
    empty: str  # ... and the element when that content turns out empty
    kind: int  # _SIMPLE, _ARRAY or _COMPLEX
    ctype: ComplexType | None
    inner: Scope  # the prefixes in force inside the element (with a value)


_SIMPLE, _ARRAY, _COMPLEX = range(3)


class Encoder:
    """Writes values as XML text of the contract's types.

    The text is built directly, not through lxml elements: creating an element costs about 2 µs,
    and a single PwsClientElement has over thirty. Each type's tags, with the prefixes WCF would
    declare where it would declare them, are worked out once per scope (see ``_Step``)."""

    def __init__(self, types: TypeTable) -> None:
        self.types = types
        self._plans: dict[tuple[str, Scope], tuple[_Step, ...]] = {}

    def result(self, tag: str, ctype: ComplexType, value: Mapping[str, Any]) -> str:
        """The PwsXResult element inside a wrapper whose default namespace is ``tag``'s: declares
        ``a`` (its members' namespace) and ``i`` like WCF."""
        namespace, _, local = tag[1:].partition("}")
        own = [m.namespace for m in ctype.members if m.namespace != ns.COMMON_SERVICES]
        nsmap: dict[str | None, str] = {ns.NIL_PREFIX: ns.XSI}
        if own:
            nsmap = {"a": own[0], **nsmap}
        scope: dict[str, str | None] = {uri: prefix for prefix, uri in nsmap.items()}
        scope[namespace] = None
        return self._element(local, _declarations(nsmap), self._plan(ctype, _scope(scope)), value)

    def standalone(self, tag: str, ctype: ComplexType, value: Mapping[str, Any]) -> str:
        """An element of ``ctype`` that is its own document (a fault's detail): its namespace is the
        default one, as WCF writes PwsFault."""
        namespace, _, local = tag[1:].partition("}")
        nsmap: dict[str | None, str] = {None: namespace, ns.NIL_PREFIX: ns.XSI}
        scope: dict[str, str | None] = {namespace: None, ns.XSI: ns.NIL_PREFIX}
        return self._element(local, _declarations(nsmap), self._plan(ctype, _scope(scope)), value)

    def _element(self, name: str, declarations: str, plan: tuple[_Step, ...], value: Mapping[str, Any]) -> str:
        out: list[str] = []
        self._members(out, plan, value)
        if not out:
            return f"<{name}{declarations}/>"
        return f"<{name}{declarations}>{''.join(out)}</{name}>"

    def _plan(self, ctype: ComplexType, scope: Scope) -> tuple[_Step, ...]:
        plan = self._plans.get((ctype.name, scope))
        if plan is None:
            plan = tuple(self._step(member, dict(scope)) for member in ctype.members)
            self._plans[(ctype.name, scope)] = plan
        return plan

    def _step(self, member: Member, scope: dict[str, str | None]) -> _Step:
        nsmap: dict[str | None, str] = {}
        if member.namespace not in scope:
            if member.namespace == ns.COMMON_SERVICES:
                nsmap[None] = member.namespace  # WCF writes the base members with a default namespace
            else:
                nsmap[_free_letter(scope)] = member.namespace
        own = dict(nsmap)
        ctype = None if member.is_builtin else self.types.complex_types.get(member.type_name)
        if ctype is not None:
            for child_ns in _child_namespaces(ctype):
                if child_ns not in scope and child_ns not in nsmap.values():
                    nsmap[_free_letter(scope, nsmap)] = child_ns
        inner = dict(scope)
        for prefix, uri in nsmap.items():
            inner[uri] = prefix
        prefix = inner[member.namespace]
        name = f"{prefix}:{member.name}" if prefix else member.name
        nil_prefix = inner[ns.XSI]
        declared = _declarations(nsmap)
        kind = _SIMPLE if ctype is None else _ARRAY if ctype.is_array else _COMPLEX
        # A null member still declares the prefix of its content's namespace, after i:nil, as WCF
        # writes it: <a:LockStolenFromUserIdentity i:nil="true" xmlns:b="…Common/"/> (seed 004).
        content = _declarations({prefix: uri for prefix, uri in nsmap.items() if prefix not in own})
        return _Step(
            name=member.name, nillable=member.nillable,
            nil=f'<{name}{_declarations(own)} {nil_prefix}:nil="true"{content}/>',
            open=f"<{name}{declared}>", close=f"</{name}>", empty=f"<{name}{declared}/>",
            kind=kind, ctype=ctype, inner=_scope(inner),
        )

    def _members(self, out: list[str], plan: tuple[_Step, ...], value: Mapping[str, Any]) -> None:
        get = value.get
        for step in plan:
            member = get(step.name)
            # The two common cases inline, as _write has them too (for an array's items): a response
            # is mostly nil and simple members, and one loop over (step, value) pairs serving both
            # cost about 9% more instructions per PwsGetClient (measured).
            if member is None:
                if step.nillable:
                    out.append(step.nil)
            elif step.kind == _SIMPLE:
                out += (step.open, escape_text(format_simple(member)), step.close)
            else:
                self._write(out, step, member)

    def _write(self, out: list[str], step: _Step, value: Any) -> None:
        if value is None:
            if step.nillable:
                out.append(step.nil)
            return
        if step.kind == _SIMPLE:
            out += (step.open, escape_text(format_simple(value)), step.close)
            return
        assert step.ctype is not None
        plan = self._plan(step.ctype, step.inner)
        mark = len(out)
        out.append(step.open)
        if step.kind == _ARRAY:
            item = plan[0]
            for entry in value:
                self._write(out, item, entry)
        else:
            self._members(out, plan, value)
        if len(out) == mark + 1:
            out[mark] = step.empty
        else:
            out.append(step.close)


def _declarations(nsmap: Mapping[str | None, str]) -> str:
    return "".join(f' xmlns:{prefix}="{uri}"' if prefix else f' xmlns="{uri}"' for prefix, uri in nsmap.items())


def _scope(prefixes: Mapping[str, str | None]) -> Scope:
    return tuple(sorted(prefixes.items(), key=lambda item: item[0]))


def _child_namespaces(ctype: ComplexType) -> list[str]:
    found: list[str] = []
    for member in ctype.members:
        if member.namespace != ns.COMMON_SERVICES and member.namespace not in found:
            found.append(member.namespace)
    return found


def _free_letter(scope: Mapping[str, str | None], extra: Mapping[str | None, str] | None = None) -> str:
    used = set(scope.values()) | set(extra or ())
    for letter in _LETTERS:
        if letter not in used:
            return letter
    raise AssertionError("ran out of namespace prefixes")

"""Hypothesis strategies that write request envelopes for any operation of the contract.

Everything structural comes from the contract itself (``openpws.contract.load_contract()``): the
operation's wrapper element, its request type, each complex type's members with their namespaces,
order, XSD simple types, enumerations, nillable and repeated flags. On top of that the generator
mixes in:

- values of each XSD simple type: valid ones, boundary ones (Int64/Int32/Int16 extremes, the first
  and last instants, empty, whitespace-only and very long strings, odd unicode) and broken ones
  (text that is not of the type: bad integers, booleans, numbers and dateTimes, bad Base64 in
  timestamp tokens);
- real values of the account under test (``Pools``: codes, Uids, timestamp tokens, user and stage
  names, lock set ids, session tickets), chosen by the member's name, so that refs often name real
  rows and requests get past the session check and into the services;
- structural damage: members reordered, duplicated, sent in the wrong namespace or in none,
  ``i:nil`` on anything, child elements where a value belongs, text where members belong, unknown
  elements, comments and CDATA, and a SOAPAction that is right, empty, ``*`` or another's.

How much of each an example gets is itself drawn, and shrinks towards a clean request.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TypeVar
from xml.sax.saxutils import escape, quoteattr

from hypothesis import strategies as st

from openpws.contract import Operation, load_contract, ns
from openpws.contract.schema import ComplexType, Member

T = TypeVar("T")

# Prefixes declared on every envelope's root; other namespaces are declared where they are used.
PREFIXES: Mapping[str, str] = {
    ns.SOAP_ENV: "soapenv", ns.PWS: "pws", ns.REQUESTS: "req", ns.RESPONSES: "rs", ns.COMMON_SERVICES: "cs",
    ns.COMMON: "com", ns.SCHEDULING: "sch", ns.BILLING: "bil", ns.ARRAYS: "arr", ns.XSI: "i",
}
KNOWN_NAMESPACES = [uri for uri in PREFIXES if uri not in (ns.SOAP_ENV, ns.XSI)]
FOREIGN_NAMESPACES = ["urn:example:not-pws", "http://projectorpsa.com/DataContracts/Requests",  # no slash
                      "HTTP://PROJECTORPSA.COM/DataContracts/Shared/Common/"]

INT_RANGES = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1), "short": (-(2**15), 2**15 - 1),
              "unsignedByte": (0, 255)}
UID_BASE = 2**60


@dataclass(frozen=True)
class Pools:
    """Real values of the account under test, by the member names that carry them."""

    texts: Mapping[str, Sequence[str]] = field(default_factory=dict)  # member name -> values
    ints: Mapping[str, Sequence[int]] = field(default_factory=dict)
    tickets: Sequence[str] = ()  # good session tickets, the first the main user's
    closed: frozenset[str] = frozenset()  # names whose pool holds nearly every value they take

    # Whether a member has a pool depends on its name only, never on what the database holds
    # now: hypothesis replays an example's draws, which must not change shape with the data.
    def text_pool(self, name: str) -> Sequence[str] | None:
        return self.texts[name] if name in self.texts else self.texts.get(_family(name))

    def int_pool(self, name: str) -> Sequence[int] | None:
        return self.ints[name] if name in self.ints else self.ints.get(_family(name))


@st.composite
def weighted(draw: st.DrawFn, choices: Sequence[tuple[int, st.SearchStrategy[T]]]) -> T:
    """A value of one of ``choices``, each taken ``weight`` times in the sum of the weights; the
    simplest draw takes the first. (``st.one_of`` cannot weigh: it drops repeated strategies.)"""
    roll = draw(st.integers(0, sum(weight for weight, _ in choices) - 1))
    for weight, strategy in choices:
        if roll < weight:
            return draw(strategy)
        roll -= weight
    raise AssertionError("unreachable")


def pick(pool: Sequence[T], fallback: T) -> st.SearchStrategy[T]:
    """One of ``pool`` (``fallback`` when it is empty), drawn the same way whatever its size."""
    return st.integers(0, 1023).map(lambda i: pool[i % len(pool)] if pool else fallback)


def _family(name: str) -> str:
    """The pool a member falls back to by the end of its name (EntityUid -> Uid)."""
    for suffix in ("Timestamp", "Uid", "Code", "Number", "DisplayName", "ReferenceSystemId", "ShortName", "Name",
                   "LockSetId", "Mode", "LockType"):
        if name.endswith(suffix):
            return suffix
    return name


# ---------------------------------------------------------------------------------------------
# Members the messages layer reads: drawn far more often than the many the contract has and no
# service models (a PwsProjectRoleDetail has 30 members, a service reads a dozen of them).

@cache
def modelled_names() -> frozenset[str]:
    folder = Path(__file__).resolve().parent.parent / "src" / "openpws" / "messages"
    found: set[str] = set()
    for source in folder.glob("*.py"):
        text = source.read_text()
        found.update(re.findall(r'"([A-Z][A-Za-z0-9]+)"', text))
        found.update(re.findall(r'\}([A-Z][A-Za-z0-9]+)"', text))  # f"{prefix}DisplayName"
    return frozenset(found)


def _modelled(member: Member) -> bool:
    names = modelled_names()
    return member.name in names or any(member.name.endswith(n) for n in names if len(n) > 6)


# ---------------------------------------------------------------------------------------------
# Values of the XSD simple types, as element text

XML_CHARS = st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters="\ufffe\uffff") | \
    st.sampled_from("\t\n\r \u0085\u00a0")
ODD_TEXTS = [
    "", " ", "   ", "\t\n", "\r\n", "\u00a0", "\u200b", "\u202eevil", "e\u0301", "\U0001f600" * 3, "ß" * 20, "ﬃ" * 17,
    "İ" * 30, "\u0130stanbul", "ǅ", "Ω", "ﾊﾝｶｸ", "\U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522", "<&>\"'", "]]>",
    "%s%n{0}{field}", "'; DROP TABLE clients; --", "\\", "NULL", "null", "None", "0", "-1", "\ufdd0", "\U0010fffd",
]
LONG_LENGTHS = [15, 16, 20, 21, 24, 25, 30, 31, 50, 51, 90, 91, 100, 101, 255, 256, 1000, 1001, 4000, 4001, 70_000]


# Characters whose other case is longer (ß → SS, ﬃ → FFI, İ → i̇), or that take two UTF-16 units.
RUN_CHARACTERS = ["x", "ß", "ﬃ", "İ", "é", "\U0001f600", " "]


PLAIN = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.", min_size=1, max_size=20)


def texts(pool: Sequence[str] | None = None, closed: bool = False) -> st.SearchStrategy[str]:
    """Any string: real values, plain ones, odd ones, random text and runs of one character around
    the lengths columns and documented limits have. A ``closed`` pool (one-letter modes and types)
    holds nearly every value the member takes."""
    runs = st.builds(lambda n, c: c * n, st.sampled_from(LONG_LENGTHS) | st.integers(1, 60),
                     st.sampled_from(RUN_CHARACTERS))
    odd = st.sampled_from(ODD_TEXTS)
    random = st.text(XML_CHARS, max_size=12)
    if pool is None:
        return weighted([(4, PLAIN), (1, odd), (1, random), (2, runs)])
    real = pick(pool, "X")  # mostly a real value: requests that name real rows get furthest
    if closed:
        return weighted([(12, real), (1, odd), (1, random)])
    return weighted([(8, real), (1, st.builds(_vary, real, st.integers(0, 5))), (1, PLAIN), (1, odd), (1, random),
                     (2, runs)])


def _vary(value: str, how: int) -> str:
    """A real value written differently: other case, padded, or just wrong."""
    return [value.lower(), value.upper(), f"  {value}  ", value + "x", value[:-1], value * 3][how]


def integers(base: str, pool: Sequence[int] | None = None) -> st.SearchStrategy[int]:
    low, high = INT_RANGES[base]
    edges = [low, low + 1, -1, 0, 1, 2, 7, 100, 101, 255, 256, 1440, 1441, 10080, 10081, 86400, 86401,
             2**15 - 1, 2**31 - 1, 2**31, -(2**31), 2**53 + 1, UID_BASE, UID_BASE + 1, high - 1, high]
    choices: list[st.SearchStrategy[int]] = [
        st.sampled_from([e for e in edges if low <= e <= high]), st.integers(low, high), st.integers(-3, 300)]
    if pool is not None:
        return weighted([(3, pick(pool, max(low, min(high, 1)))), *((1, c) for c in choices)])
    return st.one_of(choices)


def integer_texts(base: str, pool: Sequence[int] | None = None) -> st.SearchStrategy[str]:
    return st.builds(lambda n, form: form.format(n), integers(base, pool),
                     st.sampled_from(["{}", "{}", "{}", " {} ", "+{}", "0{}", "\n{}\t"])).map(
        lambda s: s.replace("+-", "-").replace("0-", "-0"))


def broken_integer_texts(base: str) -> st.SearchStrategy[str]:
    low, high = INT_RANGES[base]
    return st.sampled_from([
        "", " ", "abc", "1.5", "1e3", "0x1F", "1_000", "١٢", "\uff11\uff12", "+", "-", "--1", "1 2", "∞", "NaN",
        str(high + 1), str(low - 1), "9" * 40, "-" + "9" * 40, "true", "2147483648", "-9223372036854775809"])


BOOLEAN_TEXTS = ["true", "false", "1", "0", " true ", "\nfalse\n"]
BROKEN_BOOLEANS = ["", "True", "FALSE", "yes", "no", "2", "-1", "t", "on", "truee"]
DOUBLE_TEXTS = ["0", "-0", "1.5", "50", "100", "100.0000001", "101", "-1", "1E3", ".5", "5.", "1e308", "-1e308",
                "5e-324", "1e-400", "1e309", "INF", "-INF", "NaN", "12345678901234567890"]
BROKEN_DOUBLES = ["", "abc", "1,5", "0x1p3", "1.2.3", "e5", "--1", "Infinity ", "1 000"]

FIRST, LAST = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
DATE_TEXTS = [
    "0001-01-01T00:00:00Z", "0001-01-01T00:00:00", "0001-01-01T00:00:00.0000001Z", "0001-01-08T00:00:00Z",
    "9999-12-31T23:59:59.9999999Z", "9999-12-31T00:00:00Z", "9999-12-27T00:00:00Z", "2024-02-29T00:00:00Z",
    "2024-01-01T00:00:00Z", "2024-01-08T00:00:00+00:00", "2024-01-01T00:00:00-00:00", "1970-01-01T00:00:00Z",
    "2024-01-01T00:00:00.1234567890123Z", "0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59+14:00",
    "1900-01-01T00:00:00Z", "2024-01-01T23:59:59-23:59",
]
BROKEN_DATES = [
    "", "now", "2024-01-01", "2024-02-30T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z",
    "2024-01-01T00:00:60Z", "0000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "10000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2024-01-01T00:00:00+99:99",
    "2024-01-01T00:00:00+25:00", "2024-01-01T00:00:00.Z", "2024-01-01 00:00:00Z", "20240101T000000Z",
    "2024-1-1T0:0:0Z", "\uff12\uff10\uff12\uff14-01-01T00:00:00Z",
]


@st.composite
def datetime_texts(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.sampled_from(DATE_TEXTS))
    moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    if draw(st.booleans()):  # a Monday at midnight: the start of an hours bucket
        moment = datetime(moment.year, moment.month, moment.day) - timedelta(days=moment.weekday())
        moment = max(moment, datetime(1, 1, 1))
    digits = draw(st.sampled_from([0, 0, 3, 7, 9]))
    fraction = f".{moment.microsecond:06d}{'0' * 9}"[: digits + 1] if digits else ""
    zone = draw(st.sampled_from(["Z", "Z", "", "+00:00", "+14:00", "-14:00", "+05:30", "-23:59", "+23:59"]))
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}{fraction}{zone}"


TOKEN_TEXTS = ["AAAAAAAAAAA=", "AAAAAA99vU0=", "//////////8=", "gAAAAAAAAAA=", "AAAAAAAAAAAA", "AAAA", "====",
               "not base64!", "AAAAAA99vU0", "AAAAAA 99vU0=", "A" * 400, "AAAAAAAAAAAAAAAAAAAAAA==", "=AAAAAAAAAA"]


def tokens(pool: Sequence[str] | None) -> st.SearchStrategy[str]:
    """Row-version tokens (string members named …Timestamp): real ones, other valid Base64, bad Base64."""
    made = st.binary(max_size=12).map(lambda b: base64.b64encode(b).decode())
    choices = [st.sampled_from(TOKEN_TEXTS), made, texts()]
    if pool is not None:
        return weighted([(3, pick(pool, "AAAAAAAAAAE=")), *((1, c) for c in choices)])
    return st.one_of(choices)


def simple_text(member: Member, base: str, enumeration: frozenset[str] | None, pools: Pools,
                broken: bool) -> st.SearchStrategy[str]:
    """Text for a member of XSD type ``base``: broken (not of the type) when ``broken``."""
    name = member.name
    if base in INT_RANGES:
        return broken_integer_texts(base) if broken else integer_texts(base, pools.int_pool(name))
    if base == "boolean":
        return st.sampled_from(BROKEN_BOOLEANS if broken else BOOLEAN_TEXTS)
    if base == "dateTime":
        return st.sampled_from(BROKEN_DATES) if broken else datetime_texts()
    if base in ("double", "decimal"):
        return st.sampled_from(BROKEN_DOUBLES) if broken else st.one_of(
            st.sampled_from(DOUBLE_TEXTS), st.floats(allow_nan=False, allow_infinity=False).map(repr))
    if base == "base64Binary":
        return st.sampled_from(["not base64!", "AAA", "===="]) if broken else \
            st.binary(max_size=16).map(lambda b: base64.b64encode(b).decode())
    assert base == "string", base
    if enumeration is not None:
        return texts() if broken else st.sampled_from(sorted(enumeration))
    if name.endswith("Timestamp"):
        return tokens(pools.text_pool(name))
    return texts(pools.text_pool(name), closed=name in pools.closed or _family(name) in pools.closed)


# ---------------------------------------------------------------------------------------------
# Elements, written as text so that prefixes and namespace declarations can be anything

@dataclass
class Node:
    namespace: str | None  # None: in no namespace
    local: str
    text: str | None = None
    children: list[Node] = field(default_factory=list)
    nil: str | None = None  # the i:nil attribute's value
    style: int = 0  # 0 root prefix, 1 default namespace declared on it, 2 a prefix of its own
    cdata: bool = False
    comment: bool = False

    def write(self, out: list[str]) -> None:
        if self.namespace is None:
            name, declare = self.local, ' xmlns=""'
        elif self.style == 1:
            name, declare = self.local, f" xmlns={quoteattr(self.namespace)}"
        elif self.style == 2 or self.namespace not in PREFIXES:
            name, declare = f"q:{self.local}", f" xmlns:q={quoteattr(self.namespace)}"
        else:
            name, declare = f"{PREFIXES[self.namespace]}:{self.local}", ""
        attrs = f' i:nil="{self.nil}"' if self.nil is not None else ""
        out.append(f"<{name}{declare}{attrs}>")
        if self.comment:
            out.append("<!-- a comment -->")
        if self.text:
            if self.cdata and "]]>" not in self.text and "\r" not in self.text:
                out.append(f"<![CDATA[{self.text}]]>")
            else:
                out.append(escape(self.text).replace("\r", "&#13;"))
        for child in self.children:
            child.write(out)
        out.append(f"</{name}>")


@dataclass(frozen=True)
class Knobs:
    """How much damage one example gets, in percent per element."""

    broken: int  # a value not of its type
    nil: int
    wrong_namespace: int
    duplicate: int
    misplaced: int  # children where a value belongs, text where members belong
    unknown: int
    shuffle: bool
    density: int  # how many of the members the services do not read are sent
    style: int  # how prefixes are written


@st.composite
def knobs(draw: st.DrawFn) -> Knobs:
    clean = draw(st.integers(0, 9)) < 6  # most examples are well-formed requests
    rate = st.just(0) if clean else st.sampled_from([0, 0, 1, 2, 5, 10, 30])
    return Knobs(broken=draw(rate), nil=draw(rate), wrong_namespace=draw(st.sampled_from([0, 0, 0, 1, 2]) if not clean
                                                                         else st.just(0)),
                 duplicate=draw(rate), misplaced=draw(rate), unknown=draw(rate),
                 shuffle=draw(st.booleans()), density=draw(st.sampled_from([2, 5, 15])),
                 style=draw(st.sampled_from([0, 0, 0, 1, 2, 3])))


def _hit(draw: st.DrawFn, percent: int) -> bool:
    """True ``percent`` times in 100; the simplest draw (0, which examples shrink to) is False."""
    return percent > 0 and draw(st.integers(0, 99)) >= 100 - percent


MAX_DEPTH = 5


@st.composite
def member_nodes(draw: st.DrawFn, member: Member, pools: Pools, k: Knobs, depth: int) -> list[Node]:
    """The element(s) one member is sent as (several for a repeated member)."""
    if member.repeated:
        count = draw(st.sampled_from([0, 1, 1, 1, 2, 3, 7, 8, 101]) if depth > 1 else st.integers(0, 3))
        if count > 20:  # many copies of one item: cheap to write, checks every "at most N" rule
            one = draw(member_node(member, pools, k, depth))
            return [one] * count
        return [draw(member_node(member, pools, k, depth)) for _ in range(count)]
    node = draw(member_node(member, pools, k, depth))
    return [node, node] if _hit(draw, k.duplicate) else [node]


@st.composite
def member_node(draw: st.DrawFn, member: Member, pools: Pools, k: Knobs, depth: int) -> Node:
    types = load_contract().types
    namespace: str | None = member.namespace
    if _hit(draw, k.wrong_namespace):
        namespace = draw(st.sampled_from([None, *[u for u in KNOWN_NAMESPACES if u != member.namespace],
                                          *FOREIGN_NAMESPACES]))
    style = k.style if k.style < 3 else draw(st.integers(0, 2))
    node = Node(namespace, member.name, style=style, comment=_hit(draw, k.misplaced))
    if _hit(draw, k.nil):
        node.nil = draw(st.sampled_from(["true", "true", "1", "false", "0"]))
        if node.nil in ("true", "1") and draw(st.booleans()):
            return node  # nil, and nothing else
    simple = types.simple_types.get(member.type_name)
    if member.is_builtin or simple is not None:
        base = member.builtin if member.is_builtin else simple.base  # type: ignore[union-attr]
        enumeration = simple.enumeration if simple is not None else None
        node.text = draw(simple_text(member, base, enumeration, pools, _hit(draw, k.broken)))
        node.cdata = _hit(draw, k.misplaced)
        if _hit(draw, k.misplaced):
            node.children.append(Node(member.namespace, member.name, text="1"))
        return node
    ctype = types.complex(member.type_name)
    if depth >= MAX_DEPTH:
        return node
    node.children = draw(complex_children(ctype, pools, k, depth + 1))
    if _hit(draw, k.misplaced):
        node.text = draw(texts())
    return node


def _frequency(member: Member, small: bool, k: Knobs) -> int:
    """How often a member is sent, in percent: members the services read more often than the rest;
    a ref's Uid less often than its code (with both, they must name the same row, and most drawn
    pairs do not)."""
    if member.name.endswith(("Uid", "Timestamp")):  # a timestamp must be the current one: most are not
        return 35
    if not small and member.name in ("ProjectorLockSetId", "LocksToSteal"):  # most writes assert no lock set
        return 25
    return 85 if _modelled(member) else 50 if small else k.density


@st.composite
def complex_children(draw: st.DrawFn, ctype: ComplexType, pools: Pools, k: Knobs, depth: int) -> list[Node]:
    """The members of one value of ``ctype``: the ones services read often, the rest seldom."""
    small = len(ctype.members) <= 8
    chosen = [m for m in ctype.members if ctype.is_array or _hit(draw, _frequency(m, small, k))]
    nodes: list[Node] = []
    for member in chosen:
        nodes.extend(draw(member_nodes(member, pools, k, depth)))
    if _hit(draw, k.unknown):
        unknown_ns = draw(st.sampled_from([ctype.members[0].namespace if ctype.members else ns.REQUESTS,
                                           "urn:example:extension"]))
        nodes.insert(draw(st.integers(0, len(nodes))),
                     Node(unknown_ns, draw(st.sampled_from(["Unknown", "ExtensionData", "pwsX", "Mode2"])),
                          text=draw(texts())))
    if k.shuffle and len(nodes) > 1:
        nodes = draw(st.permutations(nodes))
    return nodes


@dataclass(frozen=True)
class Fuzzed:
    operation: str
    body: bytes
    soap_action: str | None


@st.composite
def soap_actions(draw: st.DrawFn, operation: Operation) -> str | None:
    """Mostly one a client would send for the operation; now and then another operation's."""
    if draw(st.integers(0, 29)) == 29:
        return draw(st.sampled_from([op.soap_action for op in load_contract().operations.values()
                                     if op.name != operation.name]))
    return draw(st.sampled_from([operation.soap_action, None, "", "*", f'"{operation.soap_action}"']))


@st.composite
def envelopes(draw: st.DrawFn, operation_name: str, pools: Pools) -> Fuzzed:
    """A request envelope for ``operation_name``, built from the contract."""
    contract = load_contract()
    operation = contract.operations[operation_name]
    k = draw(knobs())
    request_type = contract.types.complex(operation.request_type)
    children = draw(complex_children(request_type, pools, k, 1))
    # The session ticket: a real one most of the time, so that the request reaches the services.
    ticket = next((m for m in request_type.members if m.name == "SessionTicket"), None)
    if ticket is not None:
        children = [c for c in children if c.local != "SessionTicket"]
        choice = draw(st.integers(0, 19))
        if choice < 16:
            value = pools.tickets[0] if choice < 13 else draw(pick(pools.tickets, ""))
            children.insert(draw(st.integers(0, 1)) if k.shuffle else 0, Node(ticket.namespace, ticket.name, text=value))
        elif choice < 19:
            children.insert(0, draw(member_node(ticket, pools, k, 1)))
    wrapper = contract.types.complex(operation.input_element)
    service_request = wrapper.members[0]
    request = Node(service_request.namespace, service_request.name, children=children)
    if _hit(draw, k.nil // 5):
        request.nil = "true"
    payload = Node(ns.PWS, operation.input_element.rpartition("}")[2], children=[request])
    out = [f'<soapenv:Envelope {" ".join(f"xmlns:{p}={quoteattr(u)}" for u, p in PREFIXES.items())}>']
    if draw(st.booleans()):
        out.append("<soapenv:Header/>" if draw(st.booleans()) else
                   "<soapenv:Header><req:Anything>x</req:Anything></soapenv:Header>")
    out.append("<soapenv:Body>")
    payload.write(out)
    out.append("</soapenv:Body></soapenv:Envelope>")
    text = "".join(out)
    encoding = draw(st.sampled_from(["utf-8"] * 8 + ["utf-8-declared", "utf-16"]))
    if encoding == "utf-8":
        body = text.encode()
    elif encoding == "utf-8-declared":
        body = ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode()
    else:
        body = ('<?xml version="1.0" encoding="utf-16"?>' + text).encode("utf-16")
    return Fuzzed(operation_name, body, draw(soap_actions(operation)))

"""Reads the hand-written XSD files into a table of types that drives decoding and encoding.

The contract is written in the small subset of XML Schema that WCF's DataContractSerializer
produces: named complex types holding one ``xs:sequence`` of ``xs:element`` members, optionally
``xs:complexContent/xs:extension`` of a base type, anonymous complex types under the operation
wrapper elements, and ``xs:simpleType`` string enumerations. Anything outside that subset is
refused when the contract loads, so an addition to the contract cannot be silently misread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from lxml import etree

from openpws.contract import ns

# XSD built-in simple types the contract may use, by local name.
BUILTIN_TYPES: frozenset[str] = frozenset(
    {"string", "int", "long", "short", "unsignedByte", "boolean", "dateTime", "base64Binary",
     "double", "decimal"}
)


class ContractError(Exception):
    """Raised when the contract files use XML Schema outside the subset openpws understands."""


@dataclass(frozen=True)
class Member:
    """One ``xs:element`` of a complex type's sequence."""

    name: str
    namespace: str
    type_name: str  # Clark notation; built-ins are in the XSD namespace
    nillable: bool
    repeated: bool  # maxOccurs="unbounded"

    # Cached: the codec asks for these for every member of every message.
    @cached_property
    def qname(self) -> str:
        return ns.qname(self.namespace, self.name)

    @cached_property
    def is_builtin(self) -> bool:
        return self.type_name.startswith("{" + ns.XSD + "}")

    @cached_property
    def builtin(self) -> str:
        return self.type_name[len(ns.XSD) + 2:]


@dataclass(frozen=True)
class ComplexType:
    """A complex type with its members in contract order, base-type members first."""

    name: str  # Clark notation
    members: tuple[Member, ...]
    by_name: Mapping[str, Member] = field(compare=False, repr=False)
    base: str | None = None  # the type it extends (Clark notation)
    declared: tuple[str, ...] = ()  # its own members' names, in order (``members`` without the base's)
    named: bool = True  # False for the anonymous type of an operation's wrapper element

    @property
    def is_array(self) -> bool:
        """WCF's ``ArrayOfX``: a single repeated member."""
        return len(self.members) == 1 and self.members[0].repeated


@dataclass(frozen=True)
class SimpleType:
    """A named restriction of a built-in type, here always a string enumeration."""

    name: str
    base: str  # built-in local name
    enumeration: frozenset[str] | None


@dataclass(frozen=True)
class TypeTable:
    complex_types: Mapping[str, ComplexType]
    simple_types: Mapping[str, SimpleType]
    elements: Mapping[str, str]  # global element Clark name -> type Clark name

    def complex(self, name: str) -> ComplexType:
        return self.complex_types[name]

    def derived(self, name: str, base: str) -> ComplexType | None:
        """The complex type ``name`` when it is ``base`` or extends it (at any depth), else None:
        what a value declared as ``base`` may be sent as, with ``xsi:type``."""
        found = self.complex_types.get(name)
        current = found
        while current is not None:
            if current.name == base:
                return found
            current = self.complex_types.get(current.base) if current.base else None
        return None


_XS = "{" + ns.XSD + "}"


def _resolve_qname(element: etree._Element, value: str) -> str:
    prefix, _, local = value.rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    if namespace is None:
        raise ContractError(f"unbound prefix in type reference {value!r} (line {element.sourceline})")
    return ns.qname(namespace, local)


@dataclass
class _RawComplex:
    name: str
    base: str | None
    own: list[Member]
    named: bool = True


def _read_sequence(parent: etree._Element, target: str, where: str) -> list[Member]:
    members: list[Member] = []
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        if child.tag == _XS + "annotation":
            continue
        if child.tag != _XS + "sequence":
            raise ContractError(f"{where}: unsupported construct {child.tag}")
        for item in child:
            if not isinstance(item.tag, str) or item.tag == _XS + "annotation":
                continue
            if item.tag != _XS + "element" or "type" not in item.attrib:
                raise ContractError(f"{where}: only typed xs:element members are supported")
            max_occurs = item.get("maxOccurs", "1")
            if max_occurs not in ("1", "unbounded"):
                raise ContractError(f"{where}: maxOccurs must be 1 or unbounded")
            members.append(
                Member(
                    name=item.attrib["name"],
                    namespace=target,
                    type_name=_resolve_qname(item, item.attrib["type"]),
                    nillable=item.get("nillable") == "true",
                    repeated=max_occurs == "unbounded",
                )
            )
    return members


def _read_complex(node: etree._Element, name: str, target: str) -> _RawComplex:
    content = [c for c in node if isinstance(c.tag, str) and c.tag != _XS + "annotation"]
    if content and content[0].tag == _XS + "complexContent":
        extension = content[0].find(_XS + "extension")
        if extension is None:
            raise ContractError(f"{name}: complexContent must hold xs:extension")
        base = _resolve_qname(extension, extension.attrib["base"])
        return _RawComplex(name, base, _read_sequence(extension, target, name))
    return _RawComplex(name, None, _read_sequence(node, target, name))


def read_schemas(documents: list[etree._Element]) -> TypeTable:
    """Build the type table from the parsed ``xs:schema`` roots."""
    raw: dict[str, _RawComplex] = {}
    simple: dict[str, SimpleType] = {}
    elements: dict[str, str] = {}
    for root in documents:
        target = root.attrib["targetNamespace"]
        for node in root:
            if not isinstance(node.tag, str) or node.tag in (_XS + "import", _XS + "annotation"):
                continue
            name = ns.qname(target, node.attrib["name"])
            if node.tag == _XS + "complexType":
                raw[name] = _read_complex(node, name, target)
            elif node.tag == _XS + "simpleType":
                restriction = node.find(_XS + "restriction")
                if restriction is None:
                    raise ContractError(f"{name}: simple types must be restrictions")
                base = _resolve_qname(restriction, restriction.attrib["base"])
                values = [e.attrib["value"] for e in restriction.findall(_XS + "enumeration")]
                simple[name] = SimpleType(name, base[len(ns.XSD) + 2:], frozenset(values) or None)
            elif node.tag == _XS + "element":
                if "type" in node.attrib:
                    elements[name] = _resolve_qname(node, node.attrib["type"])
                else:
                    inner = node.find(_XS + "complexType")
                    if inner is None:
                        raise ContractError(f"{name}: element needs a type")
                    raw[name] = _read_complex(inner, name, target)
                    raw[name].named = False
                    elements[name] = name
            else:
                raise ContractError(f"unsupported top-level construct {node.tag}")

    resolved: dict[str, ComplexType] = {}

    def resolve(type_name: str, seen: tuple[str, ...] = ()) -> ComplexType:
        if type_name in resolved:
            return resolved[type_name]
        if type_name in seen:
            raise ContractError(f"circular extension at {type_name}")
        entry = raw.get(type_name)
        if entry is None:
            raise ContractError(f"unknown complex type {type_name}")
        members = list(resolve(entry.base, (*seen, type_name)).members) if entry.base else []
        members.extend(entry.own)
        complex_type = ComplexType(type_name, tuple(members), {m.name: m for m in members}, entry.base,
                                   tuple(m.name for m in entry.own), entry.named)
        resolved[type_name] = complex_type
        return complex_type

    for type_name in raw:
        resolve(type_name)
    table = TypeTable(resolved, simple, elements)
    _check_references(table)
    return table


def _check_references(table: TypeTable) -> None:
    for complex_type in table.complex_types.values():
        for member in complex_type.members:
            if member.is_builtin:
                if member.builtin not in BUILTIN_TYPES:
                    raise ContractError(f"{complex_type.name}/{member.name}: unsupported xs:{member.builtin}")
            elif member.type_name not in table.complex_types and member.type_name not in table.simple_types:
                raise ContractError(f"{complex_type.name}/{member.name}: unknown type {member.type_name}")

"""What production's reader makes of a request's member order: an oracle for the tests, written
apart from the codec. WCF's DataContractSerializer reads a type's members in the contract's order
and skips a member that comes after one it follows in that order; the contract's ``positions``
say which members have a documented place."""

from __future__ import annotations

from lxml import etree

from openpws.contract import load_contract, ns
from openpws.contract.schema import ComplexType

_NIL = ns.qname(ns.XSI, "nil")
_TYPE = ns.qname(ns.XSI, "type")
# The wiki's misspelling that openpws reads as IncludeDeletedRolesFlag (openpws.soap.codec.ALIASES).
_ALIASES = {"IncludeDeletedRolesFla": "IncludeDeletedRolesFlag"}


def first_misplaced(body: bytes) -> str | None:
    """The qualified name of the first member (depth first, in document order) that production
    would not read because it comes out of order; None when every member is in order, or ``body``
    is not a request of the contract."""
    contract = load_contract()
    try:
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return None
    payload = next((e for e in root.iterfind(f"{{{ns.SOAP_ENV}}}Body/*")), None)
    operation = contract.by_element.get(payload.tag) if payload is not None else None
    if payload is None or operation is None:
        return None
    return _walk(payload, contract.types.complex(operation.input_element))


def _walk(element: etree._Element, ctype: ComplexType) -> str | None:
    contract = load_contract()
    positions = contract.positions.get(ctype.name, {})
    last = -1
    for child in element:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        member = ctype.by_name.get(_ALIASES.get(local, local))
        if member is None:
            continue  # unknown to the type: not read, does not move the reader
        position = positions.get(member.name)
        if position is not None:
            if position < last:
                return member.qname
            last = position
        inner = contract.types.complex_types.get(member.type_name)
        if inner is not None and not inner.is_array and child.get(_TYPE) is not None:
            inner = _sent_as(child, inner)
        if inner is not None and child.get(_NIL) not in ("true", "1"):
            found = _walk(child, inner)
            if found is not None:
                return found
    return None


def _sent_as(element: etree._Element, declared: ComplexType) -> ComplexType:
    """The type an ``xsi:type`` names, when it is ``declared`` or derives from it (as WCF reads a
    known derived type); else ``declared``."""
    prefix, _, local = (element.get(_TYPE) or "").strip().rpartition(":")
    namespace = element.nsmap.get(prefix or None)
    types = load_contract().types.complex_types
    sent = types.get(f"{{{namespace}}}{local}") if namespace else None
    current = sent
    while current is not None:
        if current.name == declared.name:
            return sent if sent is not None else declared
        current = types.get(current.base) if current.base else None
    return declared

"""The PWS contract: the hand-written WSDL and XSD files shipped in ``files/``, read once.

Everything the server knows about operations, element names, types and namespaces comes from
these files; nothing here generates contract text. ``?singleWsdl`` is the same files assembled
into one document (the schemas inlined in place of their imports). ``member-order.json`` beside
them records where each type's member order comes from (``openpws.contract.order``).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from openpws.contract import ns
from openpws.contract.order import Positions, TypeOrder, checked_positions, read_member_order
from openpws.contract.schema import TypeTable, read_schemas

WSDL_FILE = "PwsProjectorServices.wsdl"
ORDER_FILE = "member-order.json"
# The address written in the WSDL file, rewritten when it is served to the address the client used.
PLACEHOLDER_ADDRESS = "http://localhost/OpsProjectorWcfSvc/PwsProjectorServices.svc"
# How the files import each other's schemas; served, the import names the address the client used,
# as WCF writes it (tools that fetch the schemas themselves cannot resolve a relative location).
_SCHEMA_LOCATION = b'schemaLocation="PwsProjectorServices.svc?xsd='
_XSD_NAME = re.compile(r"^xsd\d+$")


@dataclass(frozen=True)
class Operation:
    """One WSDL operation with the element and type names that carry it."""

    name: str
    soap_action: str
    input_element: str  # Clark name of the Body child, e.g. {pws}PwsAuthenticate
    request_type: str  # type of its serviceRequest member, e.g. {req}PwsAuthenticateRq
    output_element: str
    result_member: str  # local name of the result element, e.g. PwsAuthenticateResult
    response_type: str


@dataclass(frozen=True)
class Contract:
    wsdl: bytes
    single_wsdl: bytes
    schemas: dict[str, bytes]  # "xsd0" -> file bytes, served as ?xsd=xsd0
    types: TypeTable
    operations: dict[str, Operation]  # by operation name
    by_element: dict[str, Operation]  # by Clark name of the input element
    member_order: dict[str, TypeOrder]  # by Clark name of the complex type
    positions: Positions  # what strict reading checks (see ``openpws.contract.order``)

    def served_wsdl(self, address: str, single: bool = False) -> bytes:
        """The WSDL with its soap:address, and the locations of the schemas it imports, set to the
        address the client used."""
        document = self.single_wsdl if single else self.wsdl
        return _locate_schemas(_rewrite_address(document, address), address)

    def served_schema(self, name: str, address: str) -> bytes | None:
        """Schema part ``name`` (xsd0 …) with the locations of the schemas it imports set to the
        address the client used; None if there is no such part."""
        schema = self.schemas.get(name)
        return None if schema is None else _locate_schemas(schema, address)


def _rewrite_address(document: bytes, address: str) -> bytes:
    needle = b"location=" + quoteattr(PLACEHOLDER_ADDRESS).encode()
    return document.replace(needle, b"location=" + quoteattr(address).encode(), 1)


def _locate_schemas(document: bytes, address: str) -> bytes:
    located = b'schemaLocation="' + escape(address, {'"': "&quot;"}).encode() + b"?xsd="
    return document.replace(_SCHEMA_LOCATION, located)


def _files() -> dict[str, bytes]:
    folder = resources.files("openpws.contract") / "files"
    return {entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.is_file()}


def _parse(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)
    return etree.fromstring(data, parser)


_W = "{" + ns.WSDL + "}"
_WS = "{" + ns.WSDL_SOAP + "}"


def _read_operations(wsdl: etree._Element, types: TypeTable) -> dict[str, Operation]:
    messages = {m.attrib["name"]: m.find(_W + "part") for m in wsdl.iter(_W + "message")}
    actions = {
        op.attrib["name"]: op.find(_WS + "operation").attrib["soapAction"]
        for binding in wsdl.iter(_W + "binding")
        for op in binding.findall(_W + "operation")
    }
    operations: dict[str, Operation] = {}
    for port_type in wsdl.iter(_W + "portType"):
        for op in port_type.findall(_W + "operation"):
            name = op.attrib["name"]

            def element_of(kind: str, op: etree._Element = op) -> str:
                io = op.find(_W + kind)
                assert io is not None, f"{kind} missing"
                part = messages[io.attrib["message"].rpartition(":")[2]]
                assert part is not None
                prefix, _, local = part.attrib["element"].rpartition(":")
                return ns.qname(part.nsmap[prefix or None], local)

            input_element, output_element = element_of("input"), element_of("output")
            request_member = types.complex(input_element).members[0]
            result_member = types.complex(output_element).members[0]
            operations[name] = Operation(
                name=name,
                soap_action=actions[name],
                input_element=input_element,
                request_type=request_member.type_name,
                output_element=output_element,
                result_member=result_member.name,
                response_type=result_member.type_name,
            )
    return operations


_IMPORTS_BLOCK = re.compile(rb"<xsd:schema targetNamespace=\"[^\"]*/Imports\">.*?</xsd:schema>", re.DOTALL)


def _single_wsdl(wsdl: bytes, schema_roots: list[etree._Element]) -> bytes:
    """The WSDL with its block of schema imports replaced by the schemas themselves.

    Assembled as text so that each schema keeps its own prefix declarations (the WSDL binds
    the XML Schema namespace to another prefix, and QName values like xs:int depend on them).
    """
    inlined: list[bytes] = []
    for root in schema_roots:
        schema = copy.deepcopy(root)
        for imported in schema.findall("{" + ns.XSD + "}import"):
            imported.attrib.pop("schemaLocation", None)
        inlined.append(etree.tostring(schema))
    document, count = _IMPORTS_BLOCK.subn(lambda _m: b"\n    ".join(inlined), wsdl, count=1)
    if count != 1:
        raise ValueError("the WSDL has no block of schema imports to inline")
    _parse(document)  # the assembled document must still be well-formed
    return document


@cache
def load_contract() -> Contract:
    files = _files()
    schemas = {name[:-4]: data for name, data in files.items() if _XSD_NAME.match(name[:-4])}
    ordered = sorted(schemas, key=lambda name: int(name[3:]))
    roots = [_parse(schemas[name]) for name in ordered]
    types = read_schemas(roots)
    wsdl_root = _parse(files[WSDL_FILE])
    operations = _read_operations(wsdl_root, types)
    member_order = read_member_order((resources.files("openpws.contract") / ORDER_FILE).read_bytes(), types)
    return Contract(
        wsdl=files[WSDL_FILE],
        single_wsdl=_single_wsdl(files[WSDL_FILE], roots),
        schemas={name: schemas[name] for name in ordered},
        types=types,
        operations=operations,
        by_element={op.input_element: op for op in operations.values()},
        member_order=member_order,
        positions=checked_positions(types, member_order),
    )


def compile_schema() -> etree.XMLSchema:
    """The contract as an lxml XMLSchema, resolving the schemaLocations to the packaged files.

    Used to check that responses conform to the contract; requests are not validated against it
    (see ``openpws.soap.codec``): WCF ignores unknown members, and reads members out of order by
    skipping them, which strict reading reports instead.
    """
    contract = load_contract()

    class _Resolver(etree.Resolver):  # type: ignore[misc]
        def resolve(self, url, pubid, context):  # type: ignore[no-untyped-def]
            name = url.rpartition("?xsd=")[2]
            if name in contract.schemas:
                return self.resolve_string(contract.schemas[name], context)
            return None

    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_Resolver())
    imports = "".join(
        f'<xs:import namespace="{_target(data)}" schemaLocation="PwsProjectorServices.svc?xsd={name}"/>'
        for name, data in contract.schemas.items()
    )
    driver = (
        f'<xs:schema xmlns:xs="{ns.XSD}" targetNamespace="urn:openpws:all" elementFormDefault="qualified">'
        f"{imports}</xs:schema>"
    ).encode()
    return etree.XMLSchema(etree.fromstring(driver, parser))


def _target(data: bytes) -> str:
    return str(_parse(data).attrib["targetNamespace"])

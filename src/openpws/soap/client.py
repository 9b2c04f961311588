"""PWS spoken from inside the server: requests written from wire-name values, answers read back
into them, both by the contract's types. The control plane loads fixtures this way, sending each
request through the dispatcher as an integrator's client would send it over HTTP, so every rule
of the services holds.

Requests list each type's members in the order of its XSD sequence (production does not read a
member that arrives out of order) and leave out the members they do not send, as a careful client
does. Answers are decoded with the codec against the response type: ``Answer.result`` holds the
response's own members, ``Answer.messages`` its PwsMessages (or those of a lock conflict's
PwsFault, which is ``Answer.detail``), ``Answer.fault`` a SOAP fault's text.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from openpws.contract import Contract, ns
from openpws.contract.record import Record
from openpws.contract.schema import ComplexType, Member
from openpws.soap.codec import decode, decode_value, escape_text, format_simple
from openpws.soap.envelope import body_payload
from openpws.soap.xml import parse_message

Handle = Callable[[bytes], tuple[int, bytes]]

# Prefixes for the namespaces a request uses (the wiki's examples' where they have one).
_PREFIXES = {ns.PWS: "pws", ns.REQUESTS: "req", ns.SCHEDULING: "sch", ns.COMMON: "com", ns.BILLING: "bil",
             ns.ARRAYS: "arr", ns.COMMON_SERVICES: "cs", ns.RESPONSES: "rs", ns.XSI: ns.NIL_PREFIX}
_FAULT = ns.qname(ns.SOAP_ENV, "Fault")
_NIL = ns.qname(ns.XSI, "nil")
_PWS_FAULT = ns.qname(ns.COMMON, "PwsFault")


@dataclass(frozen=True)
class Answer:
    http_status: int
    status: str | None  # the response's Status; None for a SOAP fault
    result: Record | None = None
    messages: tuple[Record, ...] = ()
    fault: str | None = None  # a SOAP fault's faultstring
    fault_code: str | None = None  # its faultcode without the prefix: Client or Server
    detail: Record | None = None  # a lock conflict's PwsFault

    @property
    def ok(self) -> bool:
        return self.status in ("Ok", "OkWithWarnings")

    def describe(self) -> str:
        """What was wrong, as a sentence: each message's number, code, text and detail, or the fault."""
        shown = [f"{m.get('ErrorNumber')} {m.get('ErrorCode')}: {m.get('ErrorText')}"
                 + (f" ({m['AdditionalErrorText']})" if m.get("AdditionalErrorText") else "")
                 for m in self.messages if m.get("Type") != "Information"]
        return "; ".join(shown) or self.fault or f"Status {self.status}"


@dataclass
class _Writer:
    contract: Contract
    out: list[str] = field(default_factory=list)
    used: dict[str, str] = field(default_factory=dict)  # namespace -> prefix

    def prefix(self, namespace: str) -> str:
        found = self.used.get(namespace)
        if found is None:
            found = self.used[namespace] = _PREFIXES.get(namespace, f"ns{len(self.used)}")
        return found

    def members(self, ctype: ComplexType, values: Mapping[str, Any]) -> None:
        unknown = set(values) - set(ctype.by_name)
        if unknown:
            raise KeyError(f"{ctype.name} has no member {', '.join(sorted(unknown))}")
        for member in ctype.members:  # the XSD's order
            value = values.get(member.name)
            if value is not None:
                self.value(member, value)

    def value(self, member: Member, value: Any) -> None:
        name = f"{self.prefix(member.namespace)}:{member.name}"
        types = self.contract.types
        ctype = None if member.is_builtin else types.complex_types.get(member.type_name)
        if ctype is None:
            self.out.append(f"<{name}>{escape_text(format_simple(value))}</{name}>")
            return
        self.out.append(f"<{name}>")
        if ctype.is_array:
            item = ctype.members[0]
            for entry in value:
                if entry is None:
                    self.out.append(f'<{self.prefix(item.namespace)}:{item.name} {self.prefix(ns.XSI)}:nil="true"/>')
                else:
                    self.value(item, entry)
        else:
            self.members(ctype, value)
        self.out.append(f"</{name}>")


def request(contract: Contract, operation: str, members: Mapping[str, Any]) -> bytes:
    """The envelope of ``operation`` whose serviceRequest holds ``members`` (wire names; nested
    mappings for complex values, sequences for arrays, None for a member not sent)."""
    op = contract.operations[operation]
    ctype = contract.types.complex(op.request_type)
    writer = _Writer(contract)
    wrapper = writer.prefix(ns.PWS)
    writer.members(ctype, members)
    declared = "".join(f' xmlns:{prefix}="{uri}"' for uri, prefix in writer.used.items())
    local = op.input_element[1:].partition("}")[2]
    return (f'<s:Envelope xmlns:s="{ns.SOAP_ENV}"{declared}><s:Body><{wrapper}:{local}><{wrapper}:serviceRequest>'
            f"{''.join(writer.out)}</{wrapper}:serviceRequest></{wrapper}:{local}></s:Body></s:Envelope>").encode()


def _some(element: Any, ctype: ComplexType, types: Any, wanted: Collection[str]) -> Record:
    """The members named ``wanted`` of a value (the others are not decoded: a response to a write
    holds whole views its caller may not need)."""
    record = Record(ctype)
    for child in element:
        if not isinstance(child.tag, str):
            continue
        member = ctype.by_name.get(child.tag.rpartition("}")[2])
        if member is None or member.name not in wanted or child.get(_NIL) in ("true", "1"):
            continue
        value = decode_value(child, member, types)
        if member.repeated:
            record.setdefault(member.name, []).append(value)
        else:
            record[member.name] = value
    return record


def answer(contract: Contract, operation: str, http_status: int, body: bytes,
           wanted: Collection[str] | None = None) -> Answer:
    """The response to ``operation`` read back: its result members (only those ``wanted``, with
    Status and Messages, when it names some), or the fault it was."""
    payload = body_payload(parse_message(body))
    types = contract.types
    if payload.tag == _FAULT:
        text = payload.findtext("faultstring") or ""
        found = payload.find(f"detail/{_PWS_FAULT}")
        detail = None if found is None else decode(found, types.complex(_PWS_FAULT), types)
        messages = tuple(detail.get("Messages") or ()) if detail is not None else ()
        code = (payload.findtext("faultcode") or "").rpartition(":")[2]
        return Answer(http_status, None, messages=messages, fault=text, fault_code=code, detail=detail)
    op = contract.operations[operation]
    result = payload.find(ns.qname(ns.PWS, op.result_member))
    if result is None:
        raise ValueError(f"the answer to {operation} has no {op.result_member}")
    ctype = types.complex(op.response_type)
    if wanted is None:
        values = decode(result, ctype, types)
    else:
        values = _some(result, ctype, types, {*wanted, "Status", "Messages"})
    return Answer(http_status, values.get("Status"), values, tuple(values.get("Messages") or ()))


class LocalClient:
    """Calls operations through ``handle`` (the dispatcher's), with a session ticket once given."""

    def __init__(self, contract: Contract, handle: Handle, ticket: str | None = None) -> None:
        self.contract = contract
        self.handle = handle
        self.ticket = ticket
        self.sent = 0

    def call(self, operation: str, members: Mapping[str, Any], wanted: Collection[str] | None = None) -> Answer:
        """The answer to ``operation`` with ``members``: all its members, or those ``wanted``."""
        values = dict(members)
        if self.ticket is not None:
            values["SessionTicket"] = self.ticket
        status, body = self.handle(request(self.contract, operation, values))
        self.sent += 1
        return answer(self.contract, operation, status, body, wanted)


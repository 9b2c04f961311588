"""The one place where errors become SOAP.

- A PwsError becomes the operation's normal response with Status=Fail (FailSessionInvalid when
  a session entry is among its messages) and one PwsMessage per problem (HTTP 200).
- A RequestFault becomes a SOAP 1.1 Fault with faultcode s:Client and the fault's text (HTTP 500).
- Anything unexpected becomes a Fault with faultcode s:Server and a fixed text: no traceback ever
  leaves the server; the error is logged instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpws.contract import ns
from openpws.errors import Message, MessageType, PwsError
from openpws.soap.codec import escape_text
from openpws.soap.envelope import envelope

INTERNAL_ERROR_TEXT = (
    "The server was unable to process the request due to an internal error. The error has been logged."
)


def message_values(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """PwsMessage members in wire form."""
    return [
        {
            "AdditionalErrorText": m.additional_text,
            "ErrorCode": m.entry.code,
            "ErrorNumber": m.entry.number,
            "ErrorText": m.text,
            "Type": m.entry.type.value,
            "ReferenceId1": m.reference_id1,
            "ReferenceId2": m.reference_id2,
        }
        for m in messages
    ]


def status_of(messages: Iterable[Message]) -> str:
    """The RequestStatus of a response that did its work."""
    if any(m.entry.type is not MessageType.INFORMATION for m in messages):
        return "OkWithWarnings"
    return "Ok"


def failure(error: PwsError) -> tuple[str, list[dict[str, Any]]]:
    """Status and Messages of the in-band answer to a business failure."""
    status = "FailSessionInvalid" if error.session_invalid else "Fail"
    return status, message_values(error.messages)


def fault(code: str, text: str, detail: str | None = None) -> bytes:
    """A SOAP 1.1 Fault; ``detail`` is the XML text of the detail's element."""
    prefix = ns.ENVELOPE_PREFIX
    content = f'<faultcode>{prefix}:{code}</faultcode><faultstring xml:lang="en-US">{escape_text(text)}</faultstring>'
    if detail is not None:
        content += f"<detail>{detail}</detail>"
    return envelope(f"<{prefix}:Fault>{content}</{prefix}:Fault>")


def pws_fault(detail: str, text: str) -> bytes:
    """A typed fault (a lock conflict, a rate-limit error): faultcode s:Client (WCF's default for
    a typed fault) and the PwsFault."""
    return fault("Client", text, detail)


def client_fault(text: str) -> bytes:
    return fault("Client", text)


def server_fault() -> bytes:
    return fault("Server", INTERNAL_ERROR_TEXT)

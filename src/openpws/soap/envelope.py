"""SOAP 1.1 envelopes: finding the operation element of a request, and wrapping a response."""

from __future__ import annotations

from lxml import etree

from openpws.contract import ns
from openpws.errors import RequestFault

_ENVELOPE = ns.qname(ns.SOAP_ENV, "Envelope")
_BODY = ns.qname(ns.SOAP_ENV, "Body")


def body_payload(root: etree._Element) -> etree._Element:
    """The single element inside ``Envelope/Body``; any prefixes and declarations are fine."""
    if root.tag != _ENVELOPE:
        if root.tag == ns.qname(ns.SOAP12_ENV, "Envelope"):
            raise RequestFault(
                f"SOAP 1.2 envelopes are not supported: send a SOAP 1.1 envelope ({ns.SOAP_ENV})."
            )
        raise RequestFault(f"The message is not a SOAP 1.1 envelope: expected {_ENVELOPE}, found {root.tag}.")
    bodies = root.findall(_BODY)
    if len(bodies) != 1:
        raise RequestFault(f"The envelope must contain exactly one {_BODY}.")
    children = [child for child in bodies[0] if isinstance(child.tag, str)]
    if len(children) != 1:
        raise RequestFault(f"{_BODY} must contain exactly one operation element; found {len(children)}.")
    return children[0]


def envelope(body: str) -> bytes:
    """A response envelope around ``body`` (XML text), with WCF's ``s`` prefix."""
    prefix = ns.ENVELOPE_PREFIX
    return (f'<{prefix}:Envelope xmlns:{prefix}="{ns.SOAP_ENV}"><{prefix}:Body>{body}</{prefix}:Body>'
            f"</{prefix}:Envelope>").encode()


def response(tag: str, content: str) -> bytes:
    """An operation's response: its wrapper ``tag`` (its namespace the default one, as WCF writes
    it) around ``content``, the result element's XML text."""
    namespace, _, local = tag[1:].partition("}")
    return envelope(f'<{local} xmlns="{namespace}">{content}</{local}>')

"""The one hardened XML parser every request body goes through.

DTDs are refused outright (SOAP 1.1 forbids them in a message), so no entity is ever defined,
let alone expanded; external resources and the network are never touched; libxml2's depth,
text-size and amplification limits stay on (``huge_tree`` is never set).
"""

from __future__ import annotations

import threading

from lxml import etree

from openpws.errors import RequestFault

_local = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers are not safe to share between threads; keep one per thread.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def parse_message(data: bytes) -> etree._Element:
    """Parse a request body, or raise RequestFault saying why it is not an acceptable XML message."""
    if b"<!DOCTYPE" in data or b"<!doctype" in data:
        raise RequestFault("The message contains a document type declaration (DTD); SOAP 1.1 messages must not.")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        raise RequestFault(f"The message is not well-formed XML: {error.msg}") from None
    if root.getroottree().docinfo.doctype:
        raise RequestFault("The message contains a document type declaration (DTD); SOAP 1.1 messages must not.")
    return root

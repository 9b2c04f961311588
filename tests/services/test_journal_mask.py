"""The journal's masking: what it keeps of a body is what a pass of its pattern over the whole
body keeps, for bodies built from the pieces that make masking hard (prefixes, attributes,
self-closing and empty elements, CDATA, markers in text and in attribute values)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from openpws.services.journal import _SECRET, MASK, mask

PIECES = (b"<req:SessionTicket>", b"</req:SessionTicket>", b"<Password>", b"</Password>", b"<a:OldPassword x=\"1\">",
          b"</a:OldPassword>", b"<SessionTicket/>", b"<Note>", b"</Note>", b"<Note who=\"Password\">",
          b"SessionTicket", b"Password", b"<![CDATA[<Password>x</Password>]]>", b"secret", b" ", b"<", b">", b"/")


def whole_body(xml: bytes) -> bytes:
    return _SECRET.sub(lambda found: found.group(1) + MASK, xml)


@given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_masking_keeps_what_a_pass_over_the_whole_body_keeps(pieces: list[bytes]) -> None:
    xml = b"".join(pieces)
    assert mask(xml) == whole_body(xml)


def test_a_ticket_and_a_password_are_masked_and_their_names_in_text_are_not() -> None:
    xml = (b"<s:Envelope><req:SessionTicket>T0ps3cret==</req:SessionTicket><Note>Password</Note>"
           b"<req:Password><![CDATA[p<w]]></req:Password></s:Envelope>")
    assert mask(xml) == (b"<s:Envelope><req:SessionTicket>***</req:SessionTicket><Note>Password</Note>"
                         b"<req:Password>***</req:Password></s:Envelope>")

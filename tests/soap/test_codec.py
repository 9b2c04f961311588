"""Decoding and encoding against the contract's types: round trips of every simple type."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from openpws.contract import compile_schema, load_contract, ns
from openpws.contract.schema import Member
from openpws.errors import RequestFault
from openpws.soap.codec import Encoder, decode, escape_text, format_datetime, format_simple, parse_datetime
from openpws.soap.codec import _decode_simple as decode_simple
from openpws.soap.envelope import body_payload, response
from openpws.soap.xml import parse_message

TYPES = load_contract().types
AUTH_RQ = TYPES.complex(ns.qname(ns.REQUESTS, "PwsAuthenticateRq"))


def member(builtin: str) -> Member:
    return Member("Value", ns.REQUESTS, ns.qname(ns.XSD, builtin), nillable=True, repeated=False)


xml_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=60)
SIMPLE_VALUES = {
    "string": xml_text,
    "int": st.integers(-(2**31), 2**31 - 1),
    "long": st.integers(-(2**63), 2**63 - 1),
    "short": st.integers(-(2**15), 2**15 - 1),
    "unsignedByte": st.integers(0, 255),
    "boolean": st.booleans(),
    "dateTime": st.datetimes(min_value=datetime(1, 1, 1), timezones=st.just(UTC)),
    "base64Binary": st.binary(max_size=40),
    "double": st.floats(allow_nan=False),
    "decimal": st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**9, max_value=10**9),
}


@pytest.mark.parametrize("builtin", sorted(SIMPLE_VALUES))
def test_simple_values_round_trip(builtin: str) -> None:
    @given(SIMPLE_VALUES[builtin])
    def check(value: object) -> None:
        decoded = decode_simple(member(builtin), builtin, format_simple(value), None)
        if isinstance(value, Decimal):
            assert decoded == value
        else:
            assert decoded == value and type(decoded) is type(value)

    check()


@given(st.integers(2**31, 2**40) | st.integers(-(2**40), -(2**31) - 1))
def test_int32_overflow_is_refused(number: int) -> None:
    with pytest.raises(RequestFault, match="32-bit integer"):
        decode_simple(member("int"), "int", str(number), None)


def test_datetimes_are_written_with_seven_digits_and_read_in_any_zone() -> None:
    moment = datetime(2018, 1, 19, 19, 32, 35, 970015, tzinfo=UTC)
    assert format_datetime(moment) == "2018-01-19T19:32:35.9700150Z"
    assert parse_datetime("2018-01-19T19:32:35.9700152Z") == moment
    assert parse_datetime("2018-01-19T21:32:35.970015+02:00") == moment
    assert parse_datetime("2018-01-19T19:32:35") == moment.replace(microsecond=0)
    assert parse_datetime("2018-02-30T00:00:00Z") is None
    assert parse_datetime("yesterday") is None


@given(
    account=xml_text.filter(bool), user=xml_text.filter(bool), password=xml_text.filter(bool),
    offset=st.none() | st.integers(-(2**15), 2**15 - 1), request_id=st.none() | st.integers(-(2**31), 2**31 - 1),
    order=st.permutations(["AccountCode", "UserName", "Password", "UtcOffsetMinutes", "RequestId"]),
)
def test_requests_decode_in_any_member_order(account: str, user: str, password: str, offset: int | None,
                                            request_id: int | None, order: list[str]) -> None:
    values = {"AccountCode": account, "UserName": user, "Password": password, "UtcOffsetMinutes": offset,
              "RequestId": request_id}
    element = etree.Element("serviceRequest")
    for name in order:
        child = etree.SubElement(element, AUTH_RQ.by_name[name].qname)
        if values[name] is None:
            child.set(ns.qname(ns.XSI, "nil"), "true")
        else:
            child.text = format_simple(values[name])
    decoded = decode(element, AUTH_RQ, TYPES)
    assert decoded == {k: v for k, v in values.items() if v is not None}


@given(
    code=xml_text, uid=st.integers(2**60, 2**63 - 1), name=st.none() | xml_text,
    status=st.sampled_from(["Ok", "OkWithWarnings", "Fail", "FailSessionInvalid"]),
    response_id=st.integers(-(2**31), 2**31 - 1),
)
def test_encoded_responses_conform_to_the_contract(code: str, uid: int, name: str | None, status: str,
                                                   response_id: int) -> None:
    operation = load_contract().operations["PwsAuthenticate"]
    account = {"AccountCode": code, "AccountId": None, "AccountUid": uid}
    text = Encoder(TYPES).result(ns.qname(ns.PWS, operation.result_member), TYPES.complex(operation.response_type), {
        "Messages": [], "ResponseId": response_id, "Status": status,
        "ServerTimestampUtc": datetime.now(UTC), "AccountIdentity": account,
        "Account": {**account, "AccountName": name}, "SuperUserFlag": False,
    })
    wrapper = body_payload(parse_message(response(operation.output_element, text)))
    assert wrapper.tag == operation.output_element
    compile_schema().assertValid(wrapper)
    again = decode(wrapper[0], TYPES.complex(operation.response_type), TYPES)
    assert again["AccountIdentity"] == {"AccountCode": code, "AccountUid": uid}
    assert again["ResponseId"] == response_id and again["Status"] == status
    assert "RedirectUrl" not in again and again["Messages"] == []


# Text as users type it, with what XML must escape and what a parser would otherwise normalise.
markup_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\t\n\r&<>\"'"),
                      max_size=60)


@given(name=markup_text)
def test_written_text_reads_back_exactly(name: str) -> None:
    operation = load_contract().operations["PwsAuthenticate"]
    account = {"AccountCode": "A", "AccountId": None, "AccountUid": 2**60, "AccountName": name}
    text = Encoder(TYPES).result(ns.qname(ns.PWS, operation.result_member), TYPES.complex(operation.response_type), {
        "Messages": [], "ResponseId": 1, "Status": "Ok", "ServerTimestampUtc": datetime.now(UTC),
        "Account": account, "SuperUserFlag": False,
    })
    wrapper = body_payload(parse_message(response(operation.output_element, text)))
    assert decode(wrapper[0], TYPES.complex(operation.response_type), TYPES)["Account"]["AccountName"] == name


def test_text_xml_cannot_carry_is_refused_not_written() -> None:
    for bad in ("a\x00b", "\x1b[0m", "\ufffe"):
        with pytest.raises(ValueError, match="XML compatible"):
            escape_text(bad)
    assert escape_text("R&D <1> \r\n") == "R&amp;D &lt;1&gt; &#13;\n"

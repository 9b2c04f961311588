"""Bad input of every kind gets the SPEC's fault, changes nothing, and the server keeps serving."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from openpws.contract import ns
from tests.conftest import AccountFixture
from tests.pws import Answer, SoapClient, envelope

SECRET = "TOP-SECRET-7f3a9c"
# In-process, and again against the server process over a socket (marked serve), where the
# client may still be sending the body when the 413 comes back.
ON_A_SOCKET_TOO = pytest.mark.parametrize(
    "soap", ["in-process", pytest.param("socket", marks=pytest.mark.serve)], indirect=True)


@pytest.fixture(autouse=True)
def server_still_serves(soap: SoapClient, account: AccountFixture) -> Iterator[None]:
    """After every bad request, a good one still works."""
    yield
    assert soap.authenticate(account.code, account.admin, account.password).status == "Ok"


def assert_client_fault(answer: Answer, *phrases: str, status: int = 500) -> None:
    assert answer.status_code == status, answer.content
    assert answer.faultcode == "s:Client", answer.content
    for phrase in phrases:
        assert phrase in answer.faultstring, answer.faultstring
    assert b"Traceback" not in answer.content


def test_not_xml(soap: SoapClient) -> None:
    assert_client_fault(soap.post(b"this is not xml at all"), "not well-formed XML")


def test_empty_body(soap: SoapClient) -> None:
    assert_client_fault(soap.post(b""), "not well-formed XML")


def test_truncated_xml(soap: SoapClient, account: AccountFixture) -> None:
    whole = envelope("PwsAuthenticate", f"<req:AccountCode>{account.code}</req:AccountCode>")
    assert_client_fault(soap.post(whole[: len(whole) // 2]), "not well-formed XML")


def test_billion_laughs(soap: SoapClient) -> None:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    body = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]>'
        f'<s:Envelope xmlns:s="{ns.SOAP_ENV}"><s:Body><x>&lol9;</x></s:Body></s:Envelope>'
    ).encode()
    assert_client_fault(soap.post(body), "document type declaration")


def test_external_entity_never_reads_the_file(soap: SoapClient, tmp_path: Path, account: AccountFixture) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    body = (
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        f'<soapenv:Envelope xmlns:soapenv="{ns.SOAP_ENV}" xmlns:pws="{ns.PWS}" xmlns:req="{ns.REQUESTS}">'
        f"<soapenv:Body><pws:PwsAuthenticate><pws:serviceRequest><req:AccountCode>&xxe;</req:AccountCode>"
        f"<req:Password>x</req:Password><req:UserName>{account.admin}</req:UserName>"
        f"</pws:serviceRequest></pws:PwsAuthenticate></soapenv:Body></soapenv:Envelope>"
    ).encode()
    answer = soap.post(body)
    assert_client_fault(answer, "document type declaration")
    assert SECRET.encode() not in answer.content


def test_doctype_without_entities_is_refused_too(soap: SoapClient, account: AccountFixture) -> None:
    body = b"<!DOCTYPE Envelope>" + envelope("PwsAuthenticate", "")
    assert_client_fault(soap.post(body), "document type declaration")


@ON_A_SOCKET_TOO
def test_body_over_the_limit(soap: SoapClient) -> None:
    padding = b"<!-- " + b"x" * (10 * 1024 * 1024) + b" -->"
    answer = soap.post(envelope("PwsAuthenticate", "").replace(b"<soapenv:Header/>", padding))
    assert_client_fault(answer, "larger than the limit of 10485760 bytes", status=413)


@ON_A_SOCKET_TOO
def test_body_over_the_limit_without_content_length(soap: SoapClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(11):
            yield b" " * (1024 * 1024)

    response = soap.http.post("/OpsProjectorWcfSvc/PwsProjectorServices.svc", content=chunks(),
                              headers={"Content-Type": "text/xml"})
    assert_client_fault(Answer(response.status_code, response.content), "larger than the limit", status=413)


def test_soap_12_envelope(soap: SoapClient) -> None:
    body = envelope("PwsAuthenticate", "").replace(ns.SOAP_ENV.encode(), ns.SOAP12_ENV.encode())
    assert_client_fault(soap.post(body), "SOAP 1.2")
    assert_client_fault(soap.post(body, headers={"Content-Type": "application/soap+xml; charset=utf-8"}), "SOAP 1.2")


def test_not_an_envelope(soap: SoapClient) -> None:
    assert_client_fault(soap.post(b"<Envelope><Body/></Envelope>"), "not a SOAP 1.1 envelope")


def test_unknown_operation(soap: SoapClient) -> None:
    assert_client_fault(soap.call("PwsLaunchRocket"), f"no operation {{{ns.PWS}}}PwsLaunchRocket")


def test_operation_in_the_wrong_namespace(soap: SoapClient) -> None:
    body = envelope("PwsAuthenticate", "", wrapper_ns="http://example.com/other/")
    assert_client_fault(soap.post(body), "no operation {http://example.com/other/}PwsAuthenticate")


def test_soap_action_naming_another_operation(soap: SoapClient, account: AccountFixture) -> None:
    answer = soap.authenticate(account.code, account.admin, account.password)
    assert answer.status == "Ok"
    wrong = ns.SOAP_ACTION_PREFIX + "PwsUnauthenticate"
    body = envelope("PwsAuthenticate", f"<req:AccountCode>{account.code}</req:AccountCode>")
    assert_client_fault(soap.post(body, action=f'"{wrong}"'), "does not match", "PwsAuthenticate")


@pytest.mark.parametrize("action", ["", "*", '"*"', '""', ns.SOAP_ACTION_PREFIX + "PwsAuthenticate",
                                    f'"{ns.SOAP_ACTION_PREFIX}PwsAuthenticate"'])
def test_accepted_soap_actions(soap: SoapClient, account: AccountFixture, action: str) -> None:
    body = envelope("PwsAuthenticate", f"<req:AccountCode>{account.code}</req:AccountCode>"
                    f"<req:Password>{account.password}</req:Password><req:UserName>{account.admin}</req:UserName>")
    assert soap.post(body, action=action).status == "Ok"


@pytest.mark.parametrize("value", ["abc", "2147483648", "-2147483649", "1.5", "", "0x10"])
def test_request_id_that_is_not_an_int32(soap: SoapClient, value: str) -> None:
    answer = soap.call("PwsUnauthenticate", f"<req:RequestId>{value}</req:RequestId>")
    assert_client_fault(answer, f"{{{ns.REQUESTS}}}RequestId", "32-bit integer")


def test_int16_member_out_of_range(soap: SoapClient, account: AccountFixture) -> None:
    answer = soap.call("PwsAuthenticate", "<req:UtcOffsetMinutes>40000</req:UtcOffsetMinutes>")
    assert_client_fault(answer, f"{{{ns.REQUESTS}}}UtcOffsetMinutes", "16-bit integer")


def test_member_in_no_namespace_names_the_expected_one(soap: SoapClient) -> None:
    answer = soap.call("PwsUnauthenticate", "<SessionTicket xmlns=''>AAAAAAAAAAAAAAAAAAAAAA==</SessionTicket>")
    assert_client_fault(answer, "in no namespace", f"{{{ns.REQUESTS}}}SessionTicket")


def test_member_in_the_wrong_namespace_names_the_expected_one(soap: SoapClient) -> None:
    answer = soap.call("PwsUnauthenticate", "<com:SessionTicket>AAAAAAAAAAAAAAAAAAAAAA==</com:SessionTicket>")
    assert_client_fault(answer, f"in namespace {ns.COMMON}", f"{{{ns.REQUESTS}}}SessionTicket")


def test_missing_service_request(soap: SoapClient) -> None:
    body = (f'<s:Envelope xmlns:s="{ns.SOAP_ENV}"><s:Body><PwsAuthenticate xmlns="{ns.PWS}"/></s:Body>'
            f"</s:Envelope>").encode()
    assert_client_fault(soap.post(body), f"{{{ns.PWS}}}serviceRequest is required")


def test_two_operations_in_one_body(soap: SoapClient) -> None:
    body = envelope("PwsAuthenticate", "").replace(b"</soapenv:Body>", b"<pws:PwsUnauthenticate/></soapenv:Body>")
    assert_client_fault(soap.post(body), "exactly one operation element")


def test_compressed_bodies_are_refused(soap: SoapClient) -> None:
    answer = soap.post(gzip.compress(envelope("PwsAuthenticate", "")), headers={"Content-Encoding": "gzip"})
    assert_client_fault(answer, "Content-Encoding")


def test_deeply_nested_document(soap: SoapClient) -> None:
    body = envelope("PwsAuthenticate", "<x>" * 5000 + "</x>" * 5000)
    answer = soap.post(body)
    assert_client_fault(answer, "not well-formed XML")


def test_unknown_elements_are_ignored(soap: SoapClient, account: AccountFixture) -> None:
    body = envelope(
        "PwsAuthenticate",
        f"<req:AccountCode>{account.code}</req:AccountCode><req:Favourite>blue</req:Favourite>"
        f"<other:Thing xmlns:other='urn:x'><a/></other:Thing>"
        f"<req:Password>{account.password}</req:Password><req:UserName>{account.admin}</req:UserName>",
    )
    assert soap.post(body).status == "Ok"


def reversed_authenticate(account: AccountFixture) -> bytes:
    """PwsAuthenticate with its members backwards and prefixes of its own."""
    return (
        f'<e:Envelope xmlns:e="{ns.SOAP_ENV}"><e:Body><op:PwsAuthenticate xmlns:op="{ns.PWS}">'
        f'<op:serviceRequest><UserName xmlns="{ns.REQUESTS}">{account.admin}</UserName>'
        f'<r:Password xmlns:r="{ns.REQUESTS}">{account.password}</r:Password>'
        f'<q:AccountCode xmlns:q="{ns.REQUESTS}">{account.code}</q:AccountCode>'
        f'<q:RequestId xmlns:q="{ns.REQUESTS}" xmlns:i="{ns.XSI}" i:nil="true"/>'
        f"</op:serviceRequest></op:PwsAuthenticate></e:Body></e:Envelope>"
    ).encode()


def test_lenient_reads_members_in_any_order_with_any_prefixes(lenient_soap: SoapClient, account: AccountFixture) -> None:
    answer = lenient_soap.post(reversed_authenticate(account))
    assert answer.status == "Ok"
    assert answer.text(".//cs:ResponseId") == "0"


def test_strict_names_the_first_member_production_would_not_read(soap: SoapClient, account: AccountFixture) -> None:
    # UserName is read; Password comes after it but before it in the order: production skips it.
    answer = soap.post(reversed_authenticate(account))
    assert_client_fault(answer, f"Element {{{ns.REQUESTS}}}Password comes after {{{ns.REQUESTS}}}UserName")
    assert "OPENPWS_MEMBER_ORDER=lenient" in answer.faultstring


def test_other_http_methods_and_paths(soap: SoapClient) -> None:
    assert soap.http.put("/OpsProjectorWcfSvc/PwsProjectorServices.svc", content=b"x").status_code == 405
    assert soap.http.get("/nothing/here").status_code == 404
    assert soap.get("?xsd=xsd99").status_code == 404

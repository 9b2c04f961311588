"""The hand-written contract: complete, consistent, served unchanged, consumed by zeep."""

from __future__ import annotations

from importlib import resources

import pytest
import zeep
from lxml import etree

from openpws.contract import PLACEHOLDER_ADDRESS, WSDL_FILE, compile_schema, load_contract, ns
from openpws.messages.binding import Binding, Reply
from openpws.messages.operations import OPERATIONS
from openpws.soap.dispatch import ContractMismatch, check_handlers
from tests.conftest import AccountFixture
from tests.pws import SoapClient

FILES = resources.files("openpws.contract") / "files"
W = "{" + ns.WSDL + "}"


def test_every_operation_has_a_handler_and_every_handler_an_operation() -> None:
    contract = load_contract()
    assert set(contract.operations) == set(OPERATIONS)
    check_handlers(contract, OPERATIONS)


def test_a_missing_or_extra_handler_stops_the_server() -> None:
    contract = load_contract()
    fewer = {k: v for k, v in OPERATIONS.items() if k != "PwsUnauthenticate"}
    with pytest.raises(ContractMismatch, match="PwsUnauthenticate"):
        check_handlers(contract, fewer)
    more = {**OPERATIONS, "PwsLaunchRocket": Binding(lambda rq: None, lambda ctx, rq: None, lambda view: Reply())}
    with pytest.raises(ContractMismatch, match="PwsLaunchRocket"):
        check_handlers(contract, more)


def test_schemas_compile_as_xml_schema() -> None:
    compile_schema()


def test_actions_follow_the_wcf_convention() -> None:
    wsdl = etree.fromstring(FILES.joinpath(WSDL_FILE).read_bytes())
    for operation in load_contract().operations.values():
        assert operation.soap_action == ns.SOAP_ACTION_PREFIX + operation.name
        port_op = wsdl.find(f"{W}portType/{W}operation[@name='{operation.name}']")
        assert port_op is not None
        actions = [port_op.find(W + kind).get(f"{{{ns.WSAW}}}Action") for kind in ("input", "output")]  # type: ignore[union-attr]
        assert actions == [operation.soap_action, operation.soap_action + "Response"]
        fault = port_op.find(W + "fault")
        assert fault is not None and fault.get("name") == "PwsFaultFault"
        assert operation.request_type.endswith(operation.name + "Rq")
        assert operation.response_type.endswith(operation.name + "Rs")
        assert operation.result_member == operation.name + "Result"


def test_every_member_is_optional_as_wcf_writes_it() -> None:
    for name in load_contract().schemas:
        schema = etree.fromstring(FILES.joinpath(name + ".xsd").read_bytes())
        for element in schema.iter(f"{{{ns.XSD}}}element"):
            if element.getparent().tag == f"{{{ns.XSD}}}sequence":  # type: ignore[union-attr]
                assert element.get("minOccurs") == "0", etree.tostring(element)


def test_each_prefix_means_one_namespace_across_all_parts() -> None:
    meaning: dict[str, str] = {}
    documents = [FILES.joinpath(WSDL_FILE).read_bytes()] + [
        FILES.joinpath(name + ".xsd").read_bytes() for name in load_contract().schemas
    ]
    for document in documents:
        for element in etree.fromstring(document).iter():
            for prefix, uri in element.nsmap.items():
                if prefix is not None:
                    assert meaning.setdefault(prefix, uri) == uri, (prefix, uri, meaning[prefix])


def absolute(document: bytes, endpoint: str) -> bytes:
    """``document`` with its relative schema imports made absolute, as they are served."""
    return document.replace(b'schemaLocation="PwsProjectorServices.svc?xsd=',
                            b'schemaLocation="' + endpoint.encode() + b"?xsd=")


def test_wsdl_is_served_unchanged_but_for_the_addresses(soap: SoapClient) -> None:
    served = soap.get("?wsdl")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/xml")
    original = FILES.joinpath(WSDL_FILE).read_bytes()
    assert served.content == absolute(original, soap.endpoint).replace(PLACEHOLDER_ADDRESS.encode(),
                                                                       soap.endpoint.encode())
    for name in load_contract().schemas:
        part = soap.get(f"?xsd={name}")
        assert part.status_code == 200
        assert part.content == absolute(FILES.joinpath(name + ".xsd").read_bytes(), soap.endpoint)


def test_schema_imports_are_absolute_urls_that_answer(soap: SoapClient) -> None:
    """As WCF serves them: a tool that loads the schemas itself (not relative to the WSDL's URL)
    finds every part at the location the import names, built like soap:address from the host the
    client used."""
    host = "pws.example.test:8443"
    endpoint = f"http://{host}/OpsProjectorWcfSvc/PwsProjectorServices.svc"
    documents = {"?wsdl": soap.get("?wsdl", headers={"Host": host}).content}
    documents.update({f"?xsd={name}": soap.get(f"?xsd={name}", headers={"Host": host}).content
                      for name in load_contract().schemas})
    seen = set()
    for document in documents.values():
        for element in etree.fromstring(document).iter(f"{{{ns.XSD}}}import"):
            location = element.get("schemaLocation")
            if location is None:
                continue
            assert location.startswith(endpoint + "?xsd="), location
            part = location[len(endpoint):]
            assert part in documents
            target = etree.fromstring(documents[part]).get("targetNamespace")
            assert target == element.get("namespace")
            seen.add(part)
    assert seen == {f"?xsd={name}" for name in load_contract().schemas}


def test_single_wsdl_is_self_contained(soap: SoapClient) -> None:
    served = soap.get("?singleWsdl")
    assert served.status_code == 200
    document = etree.fromstring(served.content)
    assert not [e for e in document.iter(f"{{{ns.XSD}}}import") if e.get("schemaLocation")]
    targets = {s.get("targetNamespace") for s in document.iter(f"{{{ns.XSD}}}schema")}
    assert {ns.PWS, ns.REQUESTS, ns.RESPONSES, ns.COMMON_SERVICES, ns.COMMON} <= targets
    address = document.find(f".//{{{ns.WSDL_SOAP}}}address")
    assert address is not None and address.get("location", "").endswith("/OpsProjectorWcfSvc/PwsProjectorServices.svc")
    assert PLACEHOLDER_ADDRESS.encode() not in served.content


def test_service_page(soap: SoapClient) -> None:
    page = soap.get("")
    assert page.status_code == 200
    assert "?wsdl" in page.text


@pytest.mark.parametrize("form", ["?wsdl", "?singleWsdl"])
def test_zeep_consumes_the_contract_and_calls_every_operation(soap: SoapClient, account: AccountFixture,
                                                               form: str) -> None:
    client = zeep.Client(soap.endpoint + form, transport=soap.zeep_transport())
    operations = set(client.service._binding._operations)
    assert operations == set(load_contract().operations)
    login = client.service.PwsAuthenticate(serviceRequest={
        "RequestId": 12, "AccountCode": account.code, "UserName": account.admin, "Password": account.password,
    })
    assert login.Status == "Ok" and login.ResponseId == 12
    assert login.UserIdentity.UserUid > 2**60 and isinstance(login.UserIdentity.UserUid, int)
    assert login.AccountIdentity.AccountCode == account.code
    assert login.SuperUserFlag is False and login.RedirectUrl is None
    assert login.Messages is None or login.Messages.PwsMessage == []
    out = client.service.PwsUnauthenticate(serviceRequest={"RequestId": 13, "SessionTicket": login.SessionTicket})
    assert out.Status == "Ok" and out.ResponseId == 13
    again = client.service.PwsUnauthenticate(serviceRequest={"SessionTicket": login.SessionTicket})
    assert again.Status == "FailSessionInvalid"
    assert [m.ErrorNumber for m in again.Messages.PwsMessage] == [-101]


def test_zeep_sees_a_client_fault(soap: SoapClient) -> None:
    client = zeep.Client(soap.endpoint + "?wsdl", transport=soap.zeep_transport())
    with pytest.raises(zeep.exceptions.Fault) as raised:
        client.service.PwsUnauthenticate(serviceRequest={"RequestId": 1})
    assert "SessionTicket is required" in raised.value.message
    assert raised.value.code.endswith("Client")

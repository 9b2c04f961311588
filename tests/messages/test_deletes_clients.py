"""PwsDeleteClient over real HTTP: the whole CascadeDeleteFlag by InactivateIfInuseFlag matrix on
client trees of several depths, refs and permissions; every refused call changes nothing."""

from __future__ import annotations

import pytest

from openpws.contract import ns
from openpws.store.transactions import Store
from tests.conftest import AccountFixture
from tests.messages.deletes_common import clients_state, delete_client, engagement_state, other_user, result_text
from tests.pws import NAMESPACES, SoapClient
from tests.tree import Pws, ref

FLAGS = [(False, False), (False, True), (True, False), (True, True)]
NIL = "{" + ns.XSI + "}nil"


@pytest.fixture
def pws(soap: SoapClient, account: AccountFixture) -> Pws:
    return Pws(soap, account)


def numbers(pws: Pws) -> list[str]:
    return [number for number, _, _ in clients_state(pws)]


def inactive(pws: Pws) -> list[str]:
    return [number for number, flag, _ in clients_state(pws) if flag]


def warned(answer_messages: list[dict[str, str | None]]) -> list[str]:
    """The client numbers the 101 warnings name, in order."""
    assert all(m["ErrorNumber"] == "101" and m["Type"] == "Warning" for m in answer_messages), answer_messages
    return [(m["AdditionalErrorText"] or "").split("client ")[1].split(":")[0] for m in answer_messages]


@pytest.mark.parametrize(("cascade", "inactivate"), FLAGS)
def test_a_client_not_in_use_is_deleted_whatever_the_flags(pws: Pws, cascade: bool, inactivate: bool) -> None:
    kept = pws.client("Kept")
    number = pws.client("Leaf")
    answer = delete_client(pws, number, cascade=cascade, inactivate=inactivate)
    assert answer.status == "Ok" and answer.messages() == [], answer.content
    assert result_text(answer, "ClientIdentity", "ClientNumber") == number
    assert int(result_text(answer, "ClientIdentity", "ClientUid") or 0) > 2**60
    client_id = answer.result.find("rs:ClientIdentity/com:ClientId", NAMESPACES)
    assert client_id is not None and client_id.get(NIL) == "true"
    assert numbers(pws) == [kept]
    # The row is gone: its number is free for a new client.
    again = pws.ok("PwsSaveClient", f"<req:Client>{ref('Client', number)}<com:ClientName>Again</com:ClientName>"
                   "</req:Client>")
    assert result_text(again, "ClientIdentity", "ClientNumber") == number
    assert int(result_text(again, "ClientIdentity", "ClientUid") or 0) != int(
        result_text(answer, "ClientIdentity", "ClientUid") or 0)


def test_the_flags_default_to_false(pws: Pws) -> None:
    parent = pws.client("Parent")
    pws.client("Child", parent)
    used = pws.client("Used")
    pws.engagement(used, "Work")
    before = clients_state(pws)
    assert delete_client(pws, parent).error_numbers() == [57624]
    assert delete_client(pws, used).error_numbers() == [990070]
    assert clients_state(pws) == before


@pytest.mark.parametrize("inactivate", [False, True])
def test_without_cascade_child_clients_block(pws: Pws, inactivate: bool) -> None:
    parent = pws.client("Parent")
    child = pws.client("Child", parent)
    pws.engagement(parent, "Work")  # in use too: the children are what is reported
    before = clients_state(pws)
    answer = delete_client(pws, parent, cascade=False, inactivate=inactivate)
    assert answer.status == "Fail" and answer.error_numbers() == [57624]
    assert child in (answer.messages()[0]["AdditionalErrorText"] or "")
    assert clients_state(pws) == before


def test_a_client_in_use_fails_without_inactivate(pws: Pws) -> None:
    number = pws.client("Busy")
    engagement = pws.engagement(number, "Work")
    before = clients_state(pws)
    for cascade in (False, True):
        answer = delete_client(pws, number, cascade=cascade, inactivate=False)
        assert answer.status == "Fail" and answer.error_numbers() == [990070], cascade
        assert number in (answer.messages()[0]["AdditionalErrorText"] or "")
    assert clients_state(pws) == before
    assert engagement_state(pws, engagement) is not None


@pytest.mark.parametrize("cascade", [False, True])
def test_a_client_in_use_is_inactivated_with_inactivate(pws: Pws, cascade: bool) -> None:
    number = pws.client("Busy")
    engagement = pws.engagement(number, "Work")
    [(_, _, old_stamp)] = clients_state(pws)
    answer = delete_client(pws, number, cascade=cascade, inactivate=True)
    assert answer.status == "OkWithWarnings", answer.content
    assert warned(answer.messages()) == [number]
    [message] = answer.messages()
    assert message["ErrorCode"] == "ClientInactivated"
    assert message["ErrorText"] == "The client could not be deleted and instead it was marked inactive"
    assert result_text(answer, "ClientIdentity", "ClientNumber") == number
    [(_, flag, new_stamp)] = clients_state(pws)
    assert flag and new_stamp != old_stamp
    assert engagement_state(pws, engagement) is not None


@pytest.mark.parametrize("inactivate", [False, True])
def test_cascade_deletes_a_whole_tree_not_in_use(pws: Pws, inactivate: bool) -> None:
    other = pws.client("Elsewhere")
    root = pws.client("Root")
    level = [root]
    for depth in range(4):
        level = [pws.client(f"L{depth}-{i}", parent) for parent in level for i in range(2)]
    assert len(numbers(pws)) == 1 + 1 + 2 + 4 + 8 + 16
    answer = delete_client(pws, root, cascade=True, inactivate=inactivate)
    assert answer.status == "Ok" and answer.messages() == [], answer.content
    assert numbers(pws) == [other]


def mixed_tree(pws: Pws) -> dict[str, str]:
    """Root → A → A1 (in use), A2; Root → B → B1 → B11 (in use deep down); Root → C."""
    made = {"Root": pws.client("Root")}
    for name, parent in (("A", "Root"), ("A1", "A"), ("A2", "A"), ("B", "Root"), ("B1", "B"), ("B11", "B1"),
                         ("C", "Root")):
        made[name] = pws.client(name, made[parent])
    for name in ("A1", "B11"):
        pws.engagement(made[name], f"Work of {name}")
    return made


def test_cascade_without_inactivate_fails_when_any_client_is_in_use(pws: Pws) -> None:
    made = mixed_tree(pws)
    before = clients_state(pws)
    answer = delete_client(pws, made["Root"], cascade=True, inactivate=False)
    assert answer.status == "Fail" and answer.error_numbers() == [57625]
    detail = answer.messages()[0]["AdditionalErrorText"] or ""
    assert made["A1"] in detail and made["B11"] in detail and made["A2"] not in detail
    assert clients_state(pws) == before
    # The client itself in use is reported too, each problem in its own message.
    pws.engagement(made["Root"], "Root work")
    before = clients_state(pws)
    assert delete_client(pws, made["Root"], cascade=True, inactivate=False).error_numbers() == [990070, 57625]
    assert clients_state(pws) == before


def test_cascade_with_inactivate_deletes_bottom_up_and_inactivates_the_rest(pws: Pws) -> None:
    made = mixed_tree(pws)
    answer = delete_client(pws, made["Root"], cascade=True, inactivate=True)
    assert answer.status == "OkWithWarnings", answer.content
    # A client is deleted only when everything below it is: the in-use clients and their parents stay.
    kept = ["Root", "A", "A1", "B", "B1", "B11"]
    assert sorted(warned(answer.messages())) == sorted(made[n] for n in kept)
    assert numbers(pws) == sorted(made[n] for n in kept)
    assert inactive(pws) == sorted(made[n] for n in kept)
    assert result_text(answer, "ClientIdentity", "ClientNumber") == made["Root"]


def test_cascade_on_a_subtree_leaves_the_rest_of_the_tree(pws: Pws) -> None:
    made = mixed_tree(pws)
    answer = delete_client(pws, made["B"], cascade=True, inactivate=True)
    assert sorted(warned(answer.messages())) == sorted(made[n] for n in ("B", "B1", "B11"))
    assert delete_client(pws, made["C"]).status == "Ok"
    assert delete_client(pws, made["A2"]).status == "Ok"
    assert numbers(pws) == sorted(made[n] for n in ("Root", "A", "A1", "B", "B1", "B11"))
    assert inactive(pws) == sorted(made[n] for n in ("B", "B1", "B11"))


def test_refs_that_name_no_client(pws: Pws) -> None:
    number = pws.client("Mine")
    uid = int(pws.ok("PwsGetClient", f"<req:ClientIdentities><com:PwsClientRef>{ref('Client', number)}"
                     "</com:PwsClientRef></req:ClientIdentities>").text(".//com:ClientDetail/com:ClientUid") or 0)
    other = pws.client("Other")
    before = clients_state(pws)
    assert pws.call("PwsDeleteClient", "<req:ClientIdentity/>").error_numbers() == [990001]
    assert pws.call("PwsDeleteClient", "").error_numbers() == [990001]
    assert delete_client(pws, "C999999").error_numbers() == [50024]
    mixed = pws.call("PwsDeleteClient", f"<req:ClientIdentity>{ref('Client', other, uid)}</req:ClientIdentity>")
    assert mixed.error_numbers() == [50024]
    assert clients_state(pws) == before
    by_uid = pws.call("PwsDeleteClient", f"<req:ClientIdentity>{ref('Client', uid=uid)}</req:ClientIdentity>")
    assert by_uid.status == "Ok" and result_text(by_uid, "ClientIdentity", "ClientNumber") == number


def test_deleting_needs_clients_update(pws: Pws, soap: SoapClient, store: Store, account: AccountFixture) -> None:
    number = pws.client("Guarded")
    before = clients_state(pws)
    viewer = Pws(soap, account, account.viewer)
    assert delete_client(viewer, number, cascade=True, inactivate=True).error_numbers() == [50046]
    assert clients_state(pws) == before
    assert delete_client(other_user(soap, store, account), number).status == "Ok"


def test_the_seed_example_in_its_envelope(pws: Pws, soap: SoapClient) -> None:
    """The wiki's PwsDeleteClient fragment, placed in an envelope with the documented namespaces."""
    number = pws.client("Seed")
    pws.engagement(number, "Seed work")
    body = f"""<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:pws="http://projectorpsa.com/PwsProjectorServices/" xmlns:req="http://projectorpsa.com/DataContracts/Requests/"
 xmlns:com="http://projectorpsa.com/DataContracts/Shared/Common/">
<soapenv:Header/>
<soapenv:Body>
<pws:PwsDeleteClient>
<pws:serviceRequest>
<req:RequestId>1</req:RequestId>
<req:SessionTicket>{pws.ticket}</req:SessionTicket>
<req:CascadeDeleteFlag>true</req:CascadeDeleteFlag>
<req:ClientIdentity>
<!--com:ClientId>?</com:ClientId-->
<com:ClientNumber>{number}</com:ClientNumber>
<!--com:ClientUid>?</com:ClientUid-->
</req:ClientIdentity>
<req:InactivateIfInuseFlag>true</req:InactivateIfInuseFlag>
</pws:serviceRequest>
</pws:PwsDeleteClient>
</soapenv:Body>
</soapenv:Envelope>""".encode()
    answer = soap.post(body)
    assert answer.status_code == 200 and answer.status == "OkWithWarnings", answer.content
    assert answer.result.findtext("cs:ResponseId", namespaces=NAMESPACES) == "1"
    assert result_text(answer, "ClientIdentity", "ClientNumber") == number
    assert inactive(pws) == [number]

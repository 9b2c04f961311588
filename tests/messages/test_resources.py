"""PwsGetResourceList and PwsGetResource over real HTTP: every user of the account is a resource."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openpws.services import admin
from openpws.services.permissions import Permission
from openpws.store.transactions import Store
from tests.conftest import TEST_SCRYPT_COST, AccountFixture, make_account, make_user
from tests.pws import NAMESPACES, Answer, SoapClient
from tests.tree import Pws, ref, tag

SUMMARY = ".//rs:Resources/com:PwsResourceSummary"
ELEMENT = ".//rs:Resources/com:PwsResourceElement"


def add_user(store: Store, account: AccountFixture, login: str, display_name: str, reference_id: str | None = None,
             email: str | None = None, permissions: frozenset[Permission] = frozenset()) -> None:
    with store.write() as tx:
        admin.create_user(tx, account.code, login=login, display_name=display_name, password=account.password,
                          permissions=permissions, reference_id=reference_id, email=email,
                          scrypt_cost=TEST_SCRYPT_COST, now=datetime.now(UTC).replace(tzinfo=None))


def req(name: str, value: object) -> str:
    return tag(f"req:{name}", value)


def resource_ref(**keys: object) -> str:
    return "".join(tag(f"com:Resource{k}", v) for k, v in keys.items())


def listed(pws: Pws, members: str = "") -> Answer:
    return pws.call("PwsGetResourceList", members)


def get(pws: Pws, *refs: str) -> Answer:
    body = "".join(f"<com:PwsResourceRef>{r}</com:PwsResourceRef>" for r in refs)
    return pws.call("PwsGetResource", f"<req:ResourceIdentities>{body}</req:ResourceIdentities>")


def names(answer: Answer, path: str = SUMMARY + "/com:ResourceDisplayName") -> list[str]:
    return [e.text or "" for e in answer.root.iterfind(path, NAMESPACES)]


@pytest.fixture
def pws(soap: SoapClient, account: AccountFixture) -> Pws:
    return Pws(soap, account)


def test_every_user_of_the_account_is_a_resource(pws: Pws, account: AccountFixture, store: Store) -> None:
    add_user(store, account, f"ada@{account.code}", "Ada Lovelace", "EMP-7", "ada@example.com")
    answer = listed(pws, req("IncludeInactiveFlag", False))
    assert answer.status == "Ok", answer.content
    assert names(answer) == ["Ada Lovelace", f"User {account.admin}", f"User {account.no_web}",
                             f"User {account.viewer}"]
    ada = answer.root.findall(SUMMARY, NAMESPACES)[0]
    fields = {child.tag.rpartition("}")[2]: child for child in ada}
    assert list(fields) == ["ResourceDisplayName", "ResourceId", "ResourceReferenceSystemId", "ResourceUid",
                            "EmailAddress", "FirstName", "LastName", "MiddleName", "InactiveFlag"]
    assert fields["ResourceReferenceSystemId"].text == "EMP-7"
    assert fields["EmailAddress"].text == "ada@example.com"
    assert fields["InactiveFlag"].text == "false"
    assert fields["ResourceId"].get(f"{{{NAMESPACES['i']}}}nil") == "true"
    uid = int(fields["ResourceUid"].text or 0)
    assert uid > 2**60 and str(uid) == fields["ResourceUid"].text  # Int64, written exactly
    # The reference a client finds here is the one it puts on a role.
    client = pws.client("Acme")
    project = pws.project(pws.engagement(client, "Rollout"), "Phase 1")
    role = pws.ok("PwsSaveProjectRole", tag("Mode", "A") + f"<sch:ProjectIdentity>{ref('Project', project)}"
                  "</sch:ProjectIdentity><sch:ProjectRole><com:ResourceIdentity>"
                  f"{resource_ref(Uid=uid)}</com:ResourceIdentity>{tag('com:RoleName', 'Analyst')}"
                  f"</sch:ProjectRole>{tag('FullDetailFlag', True)}")
    assert role.text(".//com:ProjectRoleDetail/com:ResourceIdentity/com:ResourceUid") == str(uid)
    assert role.text(".//com:ProjectRoleDetail/com:ResourceIdentity/com:ResourceReferenceSystemId") == "EMP-7"


def test_query_string_rows_and_identity(pws: Pws, account: AccountFixture, store: Store) -> None:
    add_user(store, account, f"ada@{account.code}", "Ada Lovelace", "EMP-7")
    add_user(store, account, f"alan@{account.code}", "Alan Turing", "emp-8")
    assert names(listed(pws, req("QueryString", "LOVE"))) == ["Ada Lovelace"]
    assert names(listed(pws, req("QueryString", "Emp-"))) == ["Ada Lovelace", "Alan Turing"]
    assert names(listed(pws, req("QueryString", "%"))) == []
    assert names(listed(pws, req("QueryString", "  "))) == names(listed(pws))
    capped = listed(pws, req("MaxRowsToReturn", 2))
    assert capped.status == "OkWithWarnings" and capped.error_numbers() == [104]
    assert names(capped) == ["Ada Lovelace", "Alan Turing"]
    assert listed(pws, req("MaxRowsToReturn", 5)).status == "Ok"
    # An identity overrides every other criterion; one that names nobody lists nobody.
    only = listed(pws, req("MaxRowsToReturn", 1) + req("QueryString", "nobody") +
                  f"<req:ResourceIdentity>{resource_ref(ReferenceSystemId='EMP-8')}</req:ResourceIdentity>")
    assert only.status == "Ok" and names(only) == ["Alan Turing"]
    nobody = listed(pws, f"<req:ResourceIdentity>{resource_ref(ReferenceSystemId='EMP-9')}</req:ResourceIdentity>")
    assert nobody.status == "Ok" and names(nobody) == []
    assert listed(pws, req("QueryString", "x" * 256)).error_numbers() == [990008]


def test_last_updated_since(pws: Pws, account: AccountFixture, store: Store) -> None:
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert names(listed(pws, req("LastUpdatedSinceTimestamp", later.strftime("%Y-%m-%dT%H:%M:%S.%fZ")))) == []
    before = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(names(listed(pws, req("LastUpdatedSinceTimestamp", before)))) == 3


def test_get_resources_in_request_order(pws: Pws, account: AccountFixture, store: Store) -> None:
    add_user(store, account, f"ada@{account.code}", "Ada Lovelace", "EMP-7", "ada@example.com")
    add_user(store, account, f"ada2@{account.code}", "Ada Lovelace", "EMP-9")
    viewer = names(listed(pws, f"<req:ResourceIdentity>{resource_ref(ReferenceSystemId='e2')}</req:ResourceIdentity>"),
                   SUMMARY + "/com:ResourceUid")
    answer = get(pws, resource_ref(ReferenceSystemId="emp-7"), resource_ref(Uid=viewer[0]),
                 resource_ref(DisplayName="ada lovelace", ReferenceSystemId="EMP-9"))
    assert answer.status == "Ok", answer.content
    assert names(answer, ELEMENT + "/com:ResourceDetail/com:ResourceReferenceSystemId") == ["EMP-7", "E2", "EMP-9"]
    first = answer.root.find(ELEMENT, NAMESPACES)
    assert first is not None
    assert [child.tag.rpartition("}")[2] for child in first] == ["LastUpdatedTimestamp", "ResourceDetail"]
    assert first.findtext("com:ResourceDetail/com:EmailAddress", namespaces=NAMESPACES) == "ada@example.com"
    assert (first.findtext("com:LastUpdatedTimestamp", namespaces=NAMESPACES) or "").endswith("Z")
    # A display name two users share names neither; keys that disagree name nobody.
    missing = get(pws, resource_ref(DisplayName="Ada Lovelace"), resource_ref(ReferenceSystemId="EMP-7"),
                  resource_ref(ReferenceSystemId="EMP-7", Uid=viewer[0]), "")
    assert missing.status == "OkWithWarnings" and missing.error_numbers() == [105]
    detail = missing.messages()[0]["AdditionalErrorText"] or ""
    assert "ResourceDisplayName=Ada Lovelace" in detail and f"ResourceUid={viewer[0]}" in detail
    assert "(no key)" in detail
    assert names(missing, ELEMENT + "/com:ResourceDetail/com:ResourceReferenceSystemId") == ["EMP-7"]


def test_get_needs_one_to_a_hundred_refs(pws: Pws) -> None:
    assert get(pws).error_numbers() == [990021]
    assert get(pws, *[resource_ref(ReferenceSystemId="E1")] * 101).error_numbers() == [990030]
    assert get(pws, *[resource_ref(ReferenceSystemId="E1")] * 100).status == "Ok"


def test_reading_resources_needs_projects_view(soap: SoapClient, account: AccountFixture, store: Store) -> None:
    login = f"clients-only@{account.code}"
    make_user(store, account.code, login, frozenset({Permission.WEB_SERVICES, Permission.CLIENTS_VIEW}))
    blocked = Pws(soap, account, login)
    assert listed(blocked).error_numbers() == [50045]
    assert get(blocked, resource_ref(ReferenceSystemId="E1")).error_numbers() == [50045]
    viewer = Pws(soap, account, account.viewer)
    assert listed(viewer).status == "Ok"


def test_nothing_of_another_account_is_a_resource(soap: SoapClient, store: Store, pws: Pws) -> None:
    other = make_account(store, "other")
    stranger = Pws(soap, other)
    uids = names(listed(pws), SUMMARY + "/com:ResourceUid")
    assert names(listed(stranger), SUMMARY + "/com:ResourceUid") != uids
    assert get(stranger, resource_ref(Uid=uids[0])).error_numbers() == [105]
    assert names(listed(stranger, f"<req:ResourceIdentity>{resource_ref(Uid=uids[0])}</req:ResourceIdentity>")) == []


def test_the_wikis_request_examples_work_verbatim(soap: SoapClient, account: AccountFixture, store: Store,
                                                  pws: Pws) -> None:
    add_user(store, account, f"ws@{account.code}", "Web Services", "WS01")
    listing = soap.call("PwsGetResourceList", f"<req:RequestId>1</req:RequestId>"
                        f"<req:SessionTicket>{pws.ticket}</req:SessionTicket>"
                        "<req:IncludeInactiveFlag>false</req:IncludeInactiveFlag>"
                        "<req:MaxRowsToReturn>5</req:MaxRowsToReturn>")
    assert listing.status == "Ok" and len(names(listing)) == 4
    assert listing.text(".//cs:ResponseId") == "1"
    got = soap.call("PwsGetResource", f"<req:RequestId>1</req:RequestId><req:SessionTicket>{pws.ticket}"
                    "</req:SessionTicket><req:ResourceIdentities><com:PwsResourceRef>"
                    "<com:ResourceDisplayName>Web Services</com:ResourceDisplayName>"
                    "<com:ResourceReferenceSystemId>WS01</com:ResourceReferenceSystemId>"
                    "</com:PwsResourceRef></req:ResourceIdentities>")
    assert got.status == "Ok", got.content
    assert names(got, ELEMENT + "/com:ResourceDetail/com:ResourceDisplayName") == ["Web Services"]

"""PwsCreateInvoice and PwsGetInvoice over real HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from xml.sax.saxutils import escape

import pytest
import zeep
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from openpws.contract import ns
from openpws.services.permissions import Permission
from openpws.store.schema import accounts, engagements, projects
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_account, make_user
from tests.pws import Answer, SoapClient
from tests.tree import Pws, ref

BIL = "{" + ns.BILLING + "}"
XSI_NIL = "{" + ns.XSI + "}nil"
INVOICE = f".//{BIL}Invoice/{BIL}"
REQUIRED = ("ClientIdentity", "EngagementIdentity", "CostCenterIdentity", "EngagementCurrencyIdentity",
            "BillingCultureIdentity", "InvoiceName", "InvoiceContent")


def bil(name: str, inner: str) -> str:
    """A member of the Billing namespace (declared on the element itself: the envelope does not)."""
    return f'<bil:{name} xmlns:bil="{ns.BILLING}">{inner}</bil:{name}>'


@dataclass(frozen=True)
class Tree:
    client: str
    engagement: str


def spec(tree: Tree, *, project: str | None = None, name: str = "March invoice", content: str = "B",
         omit: tuple[str, ...] = (), client: str | None = None, engagement: str | None = None, **extra: str) -> str:
    """A PwsCandidateInvoiceSpec's members, every required one present unless ``omit`` names it, and
    ``extra`` (member name: its content), in the type's order (its members are alphabetical)."""
    members = {
        "ClientIdentity": ref("Client", client or tree.client),
        "EngagementIdentity": ref("Engagement", engagement or tree.engagement),
        "CostCenterIdentity": "<com:CostCenterName>Consulting</com:CostCenterName>"
                              "<com:CostCenterNumber>CC-10</com:CostCenterNumber>",
        "EngagementCurrencyIdentity": "<com:CurrencyCode>USD</com:CurrencyCode>",
        "BillingCultureIdentity": "<com:CultureName>en-US</com:CultureName>",
        "InvoiceName": escape(name),
        "InvoiceContent": escape(content),
        **extra,
    }
    if project is not None:
        members["ProjectIdentity"] = ref("Project", project)
    return "".join(f"<bil:{k}>{v}</bil:{k}>" for k, v in sorted(members.items()) if k not in omit)


def create(pws: Pws, body: str) -> Answer:
    return pws.call("PwsCreateInvoice", bil("InvoiceSpec", body))


def created(pws: Pws, body: str) -> Answer:
    answer = create(pws, body)
    assert answer.status == "Ok", answer.content.decode()
    return answer


def get(pws: Pws, number: str | None = None, uid: int | str | None = None, extra: str = "") -> Answer:
    """``extra``: the members that precede InvoiceIdentity in PwsGetInvoiceRq (its flags)."""
    keys = (f"<com:InvoiceNumber>{number}</com:InvoiceNumber>" if number is not None else "") + (
        f"<com:InvoiceUid>{uid}</com:InvoiceUid>" if uid is not None else "")
    return pws.call("PwsGetInvoice", extra + bil("InvoiceIdentity", keys))


def identity(answer: Answer) -> tuple[str, int]:
    return (answer.text(f".//{BIL}InvoiceIdentity/com:InvoiceNumber") or "",
            int(answer.text(f".//{BIL}InvoiceIdentity/com:InvoiceUid") or 0))


def is_nil(answer: Answer, path: str) -> bool:
    element = answer.find(path)
    return element is not None and element.get(XSI_NIL) == "true"


def engagement_timestamp(pws: Pws, code: str) -> str | None:
    answer = pws.ok("PwsGetEngagement", f"<sch:EngagementIdentities><com:PwsEngagementRef>{ref('Engagement', code)}"
                    "</com:PwsEngagementRef></sch:EngagementIdentities>")
    return answer.text(".//com:EngagementDetail/com:EngagementTimestamp")


def ever_invoiced(store: Store, account: AccountFixture, table: str, code: str) -> bool:
    # Read from the table: the delete services that refuse on this flag are not there yet, so no
    # operation shows it to a caller today.
    chosen = {"engagements": engagements, "projects": projects}[table]
    with store.read() as tx:
        return bool(tx.execute(
            select(chosen.c.ever_invoiced).join(accounts, accounts.c.id == chosen.c.account_id)
            .where(accounts.c.code_key == account.code.lower(), chosen.c.code_key == code.upper())).scalar_one())


@pytest.fixture
def pws(soap: SoapClient, account: AccountFixture) -> Pws:
    return Pws(soap, account)


@pytest.fixture
def tree(pws: Pws) -> Tree:
    client = pws.client("Acme")
    return Tree(client, pws.engagement(client, "Website rebuild"))


def test_create_numbers_drafts_and_answers_the_invoice(pws: Pws, tree: Tree) -> None:
    first = created(pws, spec(tree, PurchaseOrderNumber="PO-9", InvoiceScope="E", EngagementInvoiceContent="B"))
    number, uid = identity(first)
    assert number == "DRAFT00001" and uid > 2**60
    assert first.text(INVOICE + "InvoiceStatus") == "Draft"
    assert first.text(INVOICE + "DraftInvoiceNumber") == "DRAFT00001"
    assert first.text(INVOICE + "InvoiceIdentity/com:InvoiceUid") == str(uid)
    assert first.text(INVOICE + "InvoiceName") == "March invoice"
    assert first.text(INVOICE + "InvoiceContent") == "B"
    assert first.text(INVOICE + "InvoiceScope") == "E"
    assert first.text(INVOICE + "PurchaseOrderNumber") == "PO-9"
    assert first.text(INVOICE + "Engagement/com:EngagementCode") == tree.engagement
    assert first.text(INVOICE + "Engagement/com:EngagementName") == "Website rebuild"
    assert first.text(INVOICE + "Engagement/com:ClientIdentity/com:ClientNumber") == tree.client
    assert first.text(INVOICE + "Client/com:ClientNumber") == tree.client
    assert first.text(INVOICE + "Client/com:ClientName") == "Acme"
    assert first.text(INVOICE + "CostCenterIdentity/com:CostCenterNumber") == "CC-10"
    assert first.text(INVOICE + "CostCenterIdentity/com:CostCenterName") == "Consulting"
    assert is_nil(first, INVOICE + "CostCenterIdentity/com:CostCenterUid")
    assert first.text(INVOICE + "InvoiceCurrencyIdentity/com:CurrencyCode") == "USD"
    assert first.text(INVOICE + "BillingCultureIdentity/com:CultureName") == "en-US"
    assert first.text(INVOICE + "GrossInvoiceAmount") in ("0", "0.0")
    assert first.text(INVOICE + "DeletedFlag") == "false"
    assert first.text(INVOICE + "ApprovedByManagementFlag") == "false"
    assert first.text(INVOICE + "InvoiceTimestamp")
    assert first.text(INVOICE + "CreatedTimestamp")
    assert is_nil(first, INVOICE + "IssuedTimestamp")
    assert is_nil(first, INVOICE + "ProjectIdentity")
    second = created(pws, spec(tree, name="April invoice"))
    assert identity(second)[0] == "DRAFT00002"
    assert identity(second)[1] != uid
    assert second.text(INVOICE + "InvoiceTimestamp") != first.text(INVOICE + "InvoiceTimestamp")


def test_each_required_member_is_named_when_missing(pws: Pws, tree: Tree) -> None:
    for member in REQUIRED:
        answer = create(pws, spec(tree, omit=(member,)))
        assert answer.status == "Fail" and answer.error_numbers() == [990004], member
        assert member in (answer.messages()[0]["AdditionalErrorText"] or ""), member
    every = create(pws, "")
    assert every.error_numbers() == [990004] * len(REQUIRED)
    blank_name = create(pws, spec(tree, name="   "))
    assert blank_name.error_numbers() == [990004]
    # A cost centre, currency or culture ref without a key is as good as none.
    keyless = create(pws, spec(tree, CostCenterIdentity="<com:CostCenterNumber></com:CostCenterNumber>"))
    assert keyless.error_numbers() == [990004]
    assert "CostCenterIdentity" in (keyless.messages()[0]["AdditionalErrorText"] or "")
    # None of the refused requests used up a draft number.
    assert identity(created(pws, spec(tree)))[0] == "DRAFT00001"


def test_invoice_spec_itself_is_required(pws: Pws) -> None:
    answer = pws.call("PwsCreateInvoice")
    assert answer.status_code == 500 and answer.faultcode == "s:Client"
    assert "InvoiceSpec" in answer.faultstring


def test_invoice_content_must_be_a_documented_letter(pws: Pws, tree: Tree) -> None:
    for bad in ("X", "b", "BF"):
        answer = create(pws, spec(tree, content=bad))
        assert answer.status == "Fail" and answer.error_numbers() == [10126], bad
        assert "InvoiceContent" in (answer.messages()[0]["ErrorText"] or "")
    for letter in ("B", "F", "A", "M", "S", "C", "T"):
        assert created(pws, spec(tree, content=letter)).text(INVOICE + "InvoiceContent") == letter


def test_lengths_are_checked(pws: Pws, tree: Tree) -> None:
    assert create(pws, spec(tree, name="n" * 101)).error_numbers() == [990008]
    assert created(pws, spec(tree, name="n" * 100)).text(INVOICE + "InvoiceName") == "n" * 100
    too_long_po = create(pws, spec(tree, PurchaseOrderNumber="p" * 51))
    assert too_long_po.error_numbers() == [990008]


def test_engagement_must_exist_and_belong_to_the_client(pws: Pws, tree: Tree) -> None:
    other_client = pws.client("Globex")
    mismatch = create(pws, spec(tree, client=other_client))
    assert mismatch.status == "Fail" and mismatch.error_numbers() == [990022]
    assert tree.engagement in (mismatch.messages()[0]["ErrorText"] or "")
    assert create(pws, spec(tree, engagement="E-NOPE")).error_numbers() == [54061]
    keyless = create(pws, spec(tree, EngagementIdentity=""))
    assert keyless.error_numbers() == [54059]
    assert create(pws, spec(tree, client="C-NOPE")).error_numbers() == [50024]


def test_project_must_belong_to_the_engagement(pws: Pws, tree: Tree) -> None:
    own = pws.project(tree.engagement, "Design")
    elsewhere = pws.project(pws.engagement(tree.client, "Other work"), "Elsewhere")
    refused = create(pws, spec(tree, project=elsewhere))
    assert refused.status == "Fail" and refused.error_numbers() == [990022]
    assert elsewhere in (refused.messages()[0]["ErrorText"] or "")
    assert create(pws, spec(tree, project="P-NOPE")).error_numbers() == [50024]
    accepted = created(pws, spec(tree, project=own))
    assert accepted.text(INVOICE + "ProjectIdentity/com:ProjectCode") == own
    assert accepted.text(INVOICE + "ProjectIdentity/com:ProjectUid")


def test_management_approval_needs_finance_and_project_manager_first(pws: Pws, tree: Tree) -> None:
    def flags(finance: bool, manager: bool, management: bool) -> dict[str, str]:
        return {"ApprovedByFinanceFlag": str(finance).lower(), "ApprovedByProjectManagerFlag": str(manager).lower(),
                "ApprovedByManagementFlag": str(management).lower()}
    for finance, manager in ((False, False), (True, False), (False, True)):
        refused = create(pws, spec(tree, **flags(finance, manager, True)))
        assert refused.status == "Fail" and refused.error_numbers() == [990050], (finance, manager)
    approved = created(pws, spec(tree, **flags(True, True, True)))
    for member in ("ApprovedByFinanceFlag", "ApprovedByProjectManagerFlag", "ApprovedByManagementFlag"):
        assert approved.text(INVOICE + member) == "true"
    partly = created(pws, spec(tree, **flags(True, False, False)))
    assert partly.text(INVOICE + "ApprovedByFinanceFlag") == "true"
    assert partly.text(INVOICE + "ApprovedByManagementFlag") == "false"


def test_card_dates_must_be_in_order(pws: Pws, tree: Tree) -> None:
    backwards = create(pws, spec(tree, CardBeginDate="2024-03-31T00:00:00Z", CardEndDate="2024-03-01T00:00:00Z"))
    assert backwards.status == "Fail" and backwards.error_numbers() == [990020]
    ordered = created(pws, spec(tree, CardBeginDate="2024-03-01T00:00:00Z", CardEndDate="2024-03-31T00:00:00Z"))
    assert (ordered.text(INVOICE + "CardBeginDate") or "").startswith("2024-03-01T00:00:00")
    assert (ordered.text(INVOICE + "CardEndDate") or "").startswith("2024-03-31T00:00:00")


def test_get_by_number_uid_or_both(pws: Pws, tree: Tree) -> None:
    number, uid = identity(created(pws, spec(tree, name="First")))
    other_number, other_uid = identity(created(pws, spec(tree, name="Second")))
    for answer in (get(pws, number), get(pws, uid=uid), get(pws, number, uid), get(pws, number.lower()),
                   get(pws, number, extra=bil("IncludeAdjustmentHistoryFlag", "true")
                       + bil("IncludeFullAdjustmentHistoryFlag", "true"))):
        assert answer.status == "Ok", answer.content.decode()
        assert answer.text(INVOICE + "InvoiceName") == "First"
        assert answer.text(INVOICE + "InvoiceIdentity/com:InvoiceNumber") == number
        assert answer.text(INVOICE + "InvoiceIdentity/com:InvoiceUid") == str(uid)
    for refused in (get(pws, number, other_uid), get(pws, other_number, uid), get(pws, "DRAFT09999"),
                    get(pws, uid=2**60 + 987654321), get(pws)):
        assert refused.status == "Fail" and refused.error_numbers() == [50024]
        assert "PwsInvoiceRef" in (refused.messages()[0]["ErrorText"] or "")
    assert get(pws, uid=other_uid).text(INVOICE + "InvoiceName") == "Second"
    missing = pws.call("PwsGetInvoice")
    assert missing.status_code == 500 and missing.faultcode == "s:Client"


def test_get_answers_what_create_answered(pws: Pws, tree: Tree) -> None:
    made = created(pws, spec(tree, project=pws.project(tree.engagement, "Build")))
    got = get(pws, uid=identity(made)[1])
    assert got.status == "Ok"
    made_invoice, got_invoice = made.find(f".//{BIL}Invoice"), got.find(f".//{BIL}Invoice")
    assert made_invoice is not None and got_invoice is not None
    assert [(e.tag, e.text) for e in made_invoice.iter()] == [(e.tag, e.text) for e in got_invoice.iter()]


def test_invoicing_marks_engagement_and_project_for_good_without_a_new_timestamp(
        pws: Pws, account: AccountFixture, tree: Tree, store: Store) -> None:
    project = pws.project(tree.engagement, "Billable work")
    untouched = pws.project(tree.engagement, "Never invoiced")
    assert not ever_invoiced(store, account, "engagements", tree.engagement)
    before = engagement_timestamp(pws, tree.engagement)
    created(pws, spec(tree))
    assert ever_invoiced(store, account, "engagements", tree.engagement)
    assert not ever_invoiced(store, account, "projects", project)
    assert engagement_timestamp(pws, tree.engagement) == before
    created(pws, spec(tree, project=project))
    assert ever_invoiced(store, account, "projects", project)
    assert not ever_invoiced(store, account, "projects", untouched)
    assert engagement_timestamp(pws, tree.engagement) == before
    # Sticky: later saves of the engagement and the project leave the flags set.
    pws.ok("PwsSaveEngagement", f"<sch:Engagement>{ref('Engagement', tree.engagement)}"
           "<com:EngagementName>Renamed</com:EngagementName></sch:Engagement>")
    assert ever_invoiced(store, account, "engagements", tree.engagement)
    assert ever_invoiced(store, account, "projects", project)


def test_a_refused_invoice_marks_nothing(pws: Pws, account: AccountFixture, tree: Tree, store: Store) -> None:
    elsewhere = pws.project(pws.engagement(tree.client, "Other"), "Elsewhere")
    assert create(pws, spec(tree, project=elsewhere)).error_numbers() == [990022]
    assert not ever_invoiced(store, account, "engagements", tree.engagement)
    assert not ever_invoiced(store, account, "projects", elsewhere)


def test_viewers_read_but_do_not_create(soap: SoapClient, account: AccountFixture, store: Store,
                                        pws: Pws, tree: Tree) -> None:
    number, uid = identity(created(pws, spec(tree)))
    viewer = Pws(soap, account, account.viewer)
    refused = create(viewer, spec(tree))
    assert refused.status == "Fail" and refused.error_numbers() == [50046]
    assert get(viewer, number).text(INVOICE + "InvoiceName") == "March invoice"
    make_user(store, account.code, f"blind@{account.code}", frozenset({Permission.WEB_SERVICES}))
    blind = Pws(soap, account, f"blind@{account.code}")
    assert get(blind, uid=uid).error_numbers() == [50045]
    assert identity(created(pws, spec(tree)))[0] == "DRAFT00002"


def test_no_invoice_of_another_account_resolves(soap: SoapClient, store: Store, pws: Pws, tree: Tree) -> None:
    number, uid = identity(created(pws, spec(tree)))
    stranger = Pws(soap, make_account(store, "other"))
    assert get(stranger, number).error_numbers() == [50024]
    assert get(stranger, uid=uid).error_numbers() == [50024]
    assert get(stranger, number, uid).error_numbers() == [50024]
    # Numbering is per account: the stranger's first invoice is DRAFT00001 too, and a different one.
    client = stranger.client("Own client")
    theirs = created(stranger, spec(Tree(client, stranger.engagement(client, "Own engagement"))))
    assert identity(theirs)[0] == "DRAFT00001" and identity(theirs)[1] != uid
    assert get(pws, number).text(INVOICE + "Engagement/com:EngagementName") == "Website rebuild"


@pytest.mark.serve  # concurrent connections to the server process
def test_concurrent_creates_take_distinct_numbers(soap: SoapClient, account: AccountFixture, pws: Pws,
                                                  tree: Tree) -> None:
    # Invoices of different engagements share nothing but the account's numbering: racing creates
    # must still each get their own draft number, and none may fail.
    trees = [Tree(tree.client, pws.engagement(tree.client, f"Parallel {n}")) for n in range(6)]

    def one(target: Tree) -> str:
        own = soap.another()
        try:
            return identity(created(Pws(own, account), spec(target)))[0]
        finally:
            own.close()

    with ThreadPoolExecutor(max_workers=len(trees)) as pool:
        numbers = list(pool.map(one, trees))
    assert sorted(numbers) == [f"DRAFT{n:05d}" for n in range(1, len(trees) + 1)]


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=100)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=text.filter(str.strip), po=st.none() | text.map(lambda s: s[:50]),
       content=st.sampled_from("BFAMSCT"), finance=st.booleans(), manager=st.booleans())
def test_create_then_get_round_trips_modelled_fields(pws: Pws, tree: Tree, name: str, po: str | None, content: str,
                                                     finance: bool, manager: bool) -> None:
    management = finance and manager
    extra = {"ApprovedByFinanceFlag": str(finance).lower(), "ApprovedByProjectManagerFlag": str(manager).lower(),
             "ApprovedByManagementFlag": str(management).lower()}
    if po is not None:
        extra["PurchaseOrderNumber"] = escape(po)
    made = created(pws, spec(tree, name=name, content=content, **extra))
    got = get(pws, uid=identity(made)[1])
    assert got.status == "Ok"
    assert got.text(INVOICE + "InvoiceName") == name
    assert (got.text(INVOICE + "PurchaseOrderNumber") or "") == (po or "")
    assert got.text(INVOICE + "InvoiceContent") == content
    assert got.text(INVOICE + "ApprovedByFinanceFlag") == str(finance).lower()
    assert got.text(INVOICE + "ApprovedByProjectManagerFlag") == str(manager).lower()
    assert got.text(INVOICE + "ApprovedByManagementFlag") == str(management).lower()


def test_zeep_creates_and_reads_an_invoice(soap: SoapClient, account: AccountFixture, pws: Pws, tree: Tree) -> None:
    client = zeep.Client(soap.endpoint + "?wsdl", transport=soap.zeep_transport())
    ticket = client.service.PwsAuthenticate(serviceRequest={
        "AccountCode": account.code, "UserName": account.admin, "Password": account.password}).SessionTicket
    made = client.service.PwsCreateInvoice(serviceRequest={"SessionTicket": ticket, "InvoiceSpec": {
        "ClientIdentity": {"ClientNumber": tree.client},
        "EngagementIdentity": {"EngagementCode": tree.engagement},
        "CostCenterIdentity": {"CostCenterUid": 2**60 + 42},
        "EngagementCurrencyIdentity": {"CurrencyCode": "EUR"},
        "BillingCultureIdentity": {"CultureName": "de-DE"},
        "InvoiceName": "Zeep invoice",
        "InvoiceContent": "T",
        "ApprovedByFinanceFlag": True,
    }})
    assert made.Status == "Ok"
    assert made.InvoiceIdentity.InvoiceNumber == "DRAFT00001"
    assert made.Invoice.InvoiceStatus == "Draft"
    got = client.service.PwsGetInvoice(serviceRequest={
        "SessionTicket": ticket, "InvoiceIdentity": {"InvoiceUid": made.InvoiceIdentity.InvoiceUid}})
    assert got.Status == "Ok"
    invoice = got.Invoice
    assert invoice.InvoiceName == "Zeep invoice" and invoice.InvoiceContent == "T"
    assert invoice.CostCenterIdentity.CostCenterUid == 2**60 + 42
    assert invoice.InvoiceCurrencyIdentity.CurrencyCode == "EUR"
    assert invoice.BillingCultureIdentity.CultureName == "de-DE"
    assert invoice.ApprovedByFinanceFlag is True and invoice.ApprovedByManagementFlag is False
    assert invoice.Engagement.EngagementCode == tree.engagement
    assert invoice.Client.ClientNumber == tree.client
    assert invoice.GrossInvoiceAmount == 0.0 and invoice.IssuedTimestamp is None

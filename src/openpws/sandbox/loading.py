"""Loading a fixture's tree into an account: PWS requests, written in the contract's member order
and sent through the dispatcher (``soap.client``), exactly as an integrator's client would build
the same tree, so every rule of the services holds. Whatever a request is refused for becomes an
``Invalid`` naming the fixture's item at fault (``clients[0].engagements[1].projects[0].name``).

The order: clients (each parent before its children, all active), then per engagement its
contract line items, projects and roles; then the hours and allocation notes of every role, the
requested side and then the booked one, a few dozen roles a request; then the invoices, in the
order of their draft numbers; last, the clients that are inactive become so (an inactive client
takes no new engagement). Locks are taken afterwards, through the lock services, as their users.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpws.sandbox.fixtures import (
    Bucket,
    Client,
    ContractLineItem,
    Engagement,
    Fixture,
    Invoice,
    Kept,
    NotesWeek,
    Project,
    Role,
    Side,
    When,
    for_account,
)
from openpws.services.sandbox import Invalid
from openpws.soap.client import Answer, LocalClient

# Roles per PwsRequestOrBookRoleHours request.
HOURS_BATCH = 50
# Where, below an item, each refusal points (by error number); absent: the item itself.
_CLIENT = {990005: "number"}
_ENGAGEMENT = {990005: "code"}
_CONTRACT_LINE_ITEM = {990005: "code", 990095: "name", 990094: "code"}
_PROJECT = {990005: "code", 990015: "code", 990090: "contract_line_item", 990093: "contract_line_item",
            990020: "close_date", 990030: "percent_likelihood"}
_ROLE = {990005: "external_id", 990016: "name", 990018: "external_id", 990020: "end_date",
         990021: "name", 10126: "scheduling_mode"}
_INVOICE = {990022: "project", 990009: "project", 990050: "approved_by_management", 990020: "card_end_date",
            10126: "content"}
# 50024 (not found) names the ref whose keys found nothing: where that ref is in the fixture.
_NOT_FOUND = {"PwsUserRef": "manager", "PwsEngagementStageRef": "stage", "PwsProjectStageRef": "stage",
              "PwsContractLineItemRef": "contract_line_item", "PwsProjectRef": "project",
              "PwsResourceRef": "requested.resource"}
_POSITION = re.compile(r"ProjectRoles\[(\d+)\] (HoursBuckets|NotesBuckets)\[(\d+)\]")


def _ref(**keys: Any) -> dict[str, Any] | None:
    """A ref's members, or None (the member is not sent) when it has no key."""
    given = {name: value for name, value in keys.items() if value is not None}
    return given or None


def _flag(value: bool) -> bool | None:
    return True if value else None


def _as_made(item: ContractLineItem, engagement: Engagement) -> bool:
    """Whether the contract line item is as PWS makes it with its engagement: its name, time and
    materials terms, nothing else."""
    return (item.name == engagement.name and item.time_terms in (None, "T") and item.cost_terms in (None, "T")
            and item.purchase_order_number is None and item.contract_type is None)


@dataclass(frozen=True)
class _HoursOrder:
    role_uid: int
    side: Side
    resource_uid: int | None  # the resource to set with the hours (else set by the role's save)


class Loader:
    """Loads one fixture's tree through ``pws`` (a client whose session holds every permission)."""

    def __init__(self, pws: LocalClient, fixture: Fixture, code: str, users: Mapping[str, int],
                 week_base: datetime) -> None:
        self.pws = pws
        self.fixture = fixture
        self.code = code
        self.users = users  # Uids by lower-cased login, as in the account
        self.week_base = week_base
        # Codes PWS generated for items that named none, by kind: a later item naming one would
        # change that item instead of making another.
        self.generated: dict[str, dict[str, str]] = {}
        self.declared_items = {item.code.upper(): engagement.path for engagement in fixture.engagements()
                               for item in engagement.contract_line_items or () if item.code}
        self.hours: dict[str, list[_HoursOrder]] = {"R": [], "A": []}
        self.invoices: list[tuple[Invoice, int, int]] = []  # with its client's and engagement's Uids
        self.inactive: list[tuple[Client, int]] = []

    # --- sending ------------------------------------------------------------------------------------

    def send(self, operation: str, members: Mapping[str, Any], path: str,
             where: Mapping[int, str | None] | None = None,
             locate: Callable[[Answer], str | None] | None = None, wanted: tuple[str, ...] = ()) -> Answer:
        answer = self.pws.call(operation, members, wanted)
        if answer.ok:
            return answer
        if answer.fault_code == "Server":  # a bug, which the dispatcher has logged
            raise RuntimeError(f"loading a fixture: {operation} met an internal error")
        at = locate(answer) if locate is not None else None
        if at is None:
            at = path
            number = int(answer.messages[0].get("ErrorNumber") or 0) if answer.messages else 0
            below = (where or {}).get(number)
            if number == 50024:
                below = next((member for ref, member in _NOT_FOUND.items()
                              if ref in str(answer.messages[0].get("ErrorText"))), below)
            if below:
                at = f"{path}.{below}"
        raise Invalid(f"{operation} refused it: {answer.describe()}", at)

    def uid(self, login: str | None) -> int | None:
        return None if login is None else self.users[for_account(login, self.code).lower()]

    def when(self, value: When | None) -> datetime | None:
        return None if value is None else value.at(self.week_base)

    def check_free(self, kind: str, code: str | None, path: str) -> None:
        taken = self.generated.get(kind, {}).get((code or "").upper())
        if taken is not None:
            raise Invalid(f"{code!r} is already the code PWS gave {taken}, which names none: give it a code of its "
                          "own", path)

    def note_generated(self, kind: str, declared: str | None, made: str, path: str) -> None:
        if declared is None:
            self.generated.setdefault(kind, {})[made.upper()] = path

    # --- the tree -----------------------------------------------------------------------------------

    def load(self) -> None:
        for client in self.fixture.clients:
            self.client(client, None)
        for mode, orders in self.hours.items():  # requested, then booked
            for start in range(0, len(orders), HOURS_BATCH):
                self.write_hours(mode, orders[start:start + HOURS_BATCH])
        for invoice, client_uid, engagement_uid in sorted(self.invoices, key=lambda entry: (
                entry[0].number is None, len(entry[0].number or ""), entry[0].number or "")):
            self.invoice(invoice, client_uid, engagement_uid)
        for client, uid in self.inactive:
            self.send("PwsSaveClient", {"Client": {"ClientUid": uid, "InactiveFlag": True}}, client.path, _CLIENT)

    def client(self, client: Client, parent_uid: int | None) -> None:
        self.check_free("client", client.number, f"{client.path}.number")
        answer = self.send("PwsSaveClient", {"Client": {
            "ClientNumber": client.number, "ClientName": client.name,
            "ParentClientIdentity": _ref(ClientUid=parent_uid), "BillingInstructions": client.billing_instructions,
            "PurchaseOrderNumber": client.purchase_order_number}}, client.path, _CLIENT, wanted=("ClientIdentity",))
        assert answer.result is not None
        identity = answer.result["ClientIdentity"]
        self.note_generated("client", client.number, identity["ClientNumber"], client.path)
        uid = int(identity["ClientUid"])
        for child in client.children:
            self.client(child, uid)
        for engagement in client.engagements:
            self.engagement(engagement, uid)
        if client.inactive:
            self.inactive.append((client, uid))

    def made_with(self, engagement: Engagement) -> ContractLineItem | None:
        """The fixture's first contract line item of ``engagement`` when it is the one PWS makes
        with the engagement (CODE-CL1, a code no other engagement of the fixture declares)."""
        items = engagement.contract_line_items
        if not items or engagement.code is None or items[0].code is None:
            return None
        code = f"{engagement.code}-CL1".upper()
        first = items[0]
        if first.code is None or first.code.upper() != code or self.declared_items.get(code) != engagement.path:
            return None
        return first

    def engagement(self, engagement: Engagement, client_uid: int) -> None:
        self.check_free("engagement", engagement.code, f"{engagement.path}.code")
        first = self.made_with(engagement)
        # Listed contract line items are made one by one, unless the first is the one PWS makes.
        suppress = engagement.contract_line_items is not None and first is None
        answer = self.send("PwsSaveEngagement", {"Engagement": {
            "EngagementCode": engagement.code, "ClientIdentity": {"ClientUid": client_uid},
            "EngagementName": engagement.name, "EngagementStageIdentity": _ref(EngagementStageName=engagement.stage),
            "ManagerIdentity": _ref(UserUid=self.uid(engagement.manager)),
            "BillingInstructions": engagement.billing_instructions,
            "PurchaseOrderNumber": engagement.purchase_order_number},
            "SuppressCliCreationOnInsertFlag": _flag(suppress)},
            engagement.path, _ENGAGEMENT, wanted=("EngagementIdentity",))
        assert answer.result is not None
        identity = answer.result["EngagementIdentity"]
        self.note_generated("engagement", engagement.code, identity["EngagementCode"], engagement.path)
        uid = int(identity["EngagementUid"])
        for item in engagement.contract_line_items or ():
            if item is first and _as_made(item, engagement):
                continue
            self.contract_line_item(item, uid)
        for project in engagement.projects:
            self.project(project, uid)
        for invoice in engagement.invoices:
            self.invoices.append((invoice, client_uid, uid))

    def contract_line_item(self, item: ContractLineItem, engagement_uid: int) -> None:
        self.check_free("contract line item", item.code, f"{item.path}.code")
        kept = item.contract_type
        answer = self.send("PwsSaveContractLineItem", {"ContractLineItem": {
            "ContractLineItemCode": item.code, "ContractLineItemName": item.name,
            "EngagementIdentity": {"EngagementUid": engagement_uid}, "TimeContractTerms": item.time_terms,
            "CostContractTerms": item.cost_terms, "PurchaseOrderNumber": item.purchase_order_number,
            "ContractTypeIdentity": _ref(ContractTypeName=kept.name, ContractTypeUid=kept.uid) if kept else None,
        }}, item.path, _CONTRACT_LINE_ITEM, wanted=("ContractLineItemIdentity",))
        assert answer.result is not None
        self.note_generated("contract line item", item.code,
                            answer.result["ContractLineItemIdentity"]["ContractLineItemCode"], item.path)

    def project(self, project: Project, engagement_uid: int) -> None:
        self.check_free("project", project.code, f"{project.path}.code")
        answer = self.send("PwsSaveProject", {"Mode": "R", "Project": {
            "ProjectCode": project.code, "EngagementIdentity": {"EngagementUid": engagement_uid},
            "ProjectName": project.name, "ProjectStageIdentity": _ref(ProjectStageName=project.stage),
            "ManagerIdentity": _ref(UserUid=self.uid(project.manager)), "OpenDate": self.when(project.open_date),
            "CloseDate": self.when(project.close_date), "Description": project.description,
            "PercentLikelihood": project.percent_likelihood,
            "ContractLineItemIdentity": _ref(ContractLineItemCode=project.contract_line_item),
        }}, project.path, _PROJECT, wanted=("ProjectIdentity",))
        assert answer.result is not None
        identity = answer.result["ProjectIdentity"]
        self.note_generated("project", project.code, identity["ProjectCode"], project.path)
        uid = int(identity["ProjectUid"])
        for role in project.roles:
            self.role(role, uid)

    def role(self, role: Role, project_uid: int) -> None:
        requested, booked = self.uid(role.requested.resource), self.uid(role.booked.resource)
        answer = self.send("PwsSaveProjectRole", {"Mode": "R", "ProjectIdentity": {"ProjectUid": project_uid},
                                                  "ProjectRole": {
            "ExternalSystemIdentifier": role.external_id, "RoleName": role.name, "Description": role.description,
            "ResourceIdentity": _ref(ResourceUid=requested), "RoleStartDate": self.when(role.start_date),
            "RoleEndDate": self.when(role.end_date), "DefaultSchedulingMode": role.scheduling_mode,
        }}, role.path, _ROLE, wanted=("ProjectRoleIdentity",))
        assert answer.result is not None
        uid = int(answer.result["ProjectRoleIdentity"]["ProjectRoleUid"])
        if booked is not None and not role.booked.written:
            self.send("PwsSaveProjectRole", {"Mode": "A", "ProjectIdentity": {"ProjectUid": project_uid},
                                             "ProjectRole": {"ProjectRoleUid": uid,
                                                             "ResourceIdentity": {"ResourceUid": booked}}},
                      role.path, {50024: "booked.resource"})
        orders = [("R", _HoursOrder(uid, role.requested, None)), ("A", _HoursOrder(uid, role.booked, booked))]
        orders = [(mode, order) for mode, order in orders if order.side.written]
        if not role.deleted:
            for mode, order in orders:
                self.hours[mode].append(order)
            return
        # A deleted role is deleted as soon as it is made (a later role may take its name); hours
        # given to it are written first, for PWS to refuse the delete on them as it would.
        for mode, order in orders:
            self.write_hours(mode, [order])
        self.send("PwsDeleteProjectRole", {"ProjectRoleIdentity": {"ProjectRoleUid": uid}}, role.path,
                  {54074: "deleted"})

    # --- hours, invoices ----------------------------------------------------------------------------

    def bucket(self, bucket: Bucket) -> dict[str, Any]:
        start = self.when(bucket.week)
        if bucket.daily is not None:
            return {"BucketStartDate": start, "DailyMinutes": list(bucket.daily), "SchedulingMode": "D"}
        return {"BucketStartDate": start, "SchedulingMode": "W", "WeeklyMinutes": bucket.minutes}

    def notes(self, week: NotesWeek) -> dict[str, Any]:
        return {"BucketStartDate": self.when(week.week), "Notes": list(week.notes)}

    def write_hours(self, mode: str, orders: Sequence[_HoursOrder]) -> None:
        def locate(answer: Answer) -> str | None:
            for message in answer.messages:
                found = _POSITION.search(str(message.get("AdditionalErrorText") or ""))
                if found:
                    side = orders[int(found.group(1))].side
                    kind = "hours" if found.group(2) == "HoursBuckets" else "notes"
                    return f"{side.path}.{kind}[{found.group(3)}].week"
            return None

        self.send("PwsRequestOrBookRoleHours", {"Mode": mode, "ProjectRoles": [{
            "CandidateResourceIdentity": _ref(ResourceUid=order.resource_uid),
            "HoursBuckets": [self.bucket(b) for b in order.side.hours] or None,
            "NotesBuckets": [self.notes(n) for n in order.side.notes] or None,
            "ProjectRoleIdentity": {"ProjectRoleUid": order.role_uid},
        } for order in orders]}, orders[0].side.path, locate=locate)

    def invoice(self, invoice: Invoice, client_uid: int, engagement_uid: int) -> None:
        def kept(value: Kept, **names: str) -> dict[str, Any] | None:
            return _ref(**{wire: getattr(value, member) for member, wire in names.items()})

        answer = self.send("PwsCreateInvoice", {"InvoiceSpec": {
            "ApprovedByFinanceFlag": _flag(invoice.approved_by_finance),
            "ApprovedByManagementFlag": _flag(invoice.approved_by_management),
            "ApprovedByProjectManagerFlag": _flag(invoice.approved_by_project_manager),
            "BillingCultureIdentity": kept(invoice.culture, name="CultureName", uid="CultureUid"),
            "CardBeginDate": self.when(invoice.card_begin_date), "CardEndDate": self.when(invoice.card_end_date),
            "ClientIdentity": {"ClientUid": client_uid},
            "CostCenterIdentity": kept(invoice.cost_center, name="CostCenterName", number="CostCenterNumber",
                                       uid="CostCenterUid"),
            "EngagementCurrencyIdentity": kept(invoice.currency, code="CurrencyCode", uid="CurrencyUid"),
            "EngagementIdentity": {"EngagementUid": engagement_uid}, "InvoiceContent": invoice.content,
            "InvoiceName": invoice.name, "InvoiceScope": invoice.scope,
            "ProjectIdentity": _ref(ProjectCode=invoice.project), "PurchaseOrderNumber": invoice.purchase_order_number,
        }}, invoice.path, _INVOICE, wanted=("InvoiceIdentity",))
        assert answer.result is not None
        number = answer.result["InvoiceIdentity"]["InvoiceNumber"]
        if invoice.number is not None and invoice.number != number:
            raise Invalid(f"the invoice is numbered {number}, not {invoice.number}: draft numbers are given in "
                          "the order invoices are made (DRAFT00001 first), those the fixture numbers first, "
                          "in their order", f"{invoice.path}.number")

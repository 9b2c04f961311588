"""Driving the whole application in-process: ``create_app`` on the test store, requests handed to its
dispatcher (SOAP → messages → services → store, synchronously), the errors it logs captured, and a
cheap fingerprint of an account's rows to show that a request changed nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, func, select

from openpws.app import create_app
from openpws.config import LENIENT, Settings
from openpws.contract import load_contract, ns
from openpws.messages.tokens import encode_rowversion
from openpws.soap.http import SoapApp
from openpws.store import schema
from openpws.store.transactions import Store
from tests.conftest import TEST_SCRYPT_COST, AccountFixture
from tests.contract_strategies import Pools
from tests.pws import Answer, envelope
from tests.tree import ref, tag


class Captured(logging.Handler):
    """Records of the ``openpws`` logger at WARNING and above (an internal error logs at ERROR)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        taken = [f"{r.levelname} {r.getMessage()}\n{self.format(r) if r.exc_info else ''}" for r in self.records]
        self.records.clear()
        return taken


@contextmanager
def captured_log() -> Iterator[Captured]:
    logger = logging.getLogger("openpws")
    handler = Captured()
    handler.setFormatter(logging.Formatter())
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


class InProcess:
    """One account's users talking to an in-process application."""

    def __init__(self, store: Store, account: AccountFixture) -> None:
        self.store = store
        self.account = account
        url = store.engine.url.render_as_string(hide_password=False)
        settings = Settings(database_url=url, threads=1, scrypt_cost=TEST_SCRYPT_COST)
        self.app: SoapApp = create_app(settings, store)
        # The same application reading members in any order (OPENPWS_MEMBER_ORDER=lenient).
        self.lenient_app: SoapApp = create_app(settings.with_changes(member_order=LENIENT), store)
        self.account_id = self._scalar(select(schema.accounts.c.id).where(schema.accounts.c.code == account.code))
        self.ticket = self.login(account.admin)

    def close(self) -> None:
        self.app.on_shutdown()
        self.lenient_app.on_shutdown()

    def _scalar(self, query: Any) -> Any:
        with self.store.engine.connect() as connection:
            return connection.execute(query).scalar_one()

    def handle(self, body: bytes, soap_action: str | None = None, *, lenient: bool = False) -> Answer:
        status, content = (self.lenient_app if lenient else self.app).dispatcher.handle(body, soap_action)
        return Answer(status, content)

    def call(self, operation: str, members: str = "", *, ticket: str | None = None) -> Answer:
        ticket = self.ticket if ticket is None else ticket
        return self.handle(envelope(operation, f"<req:SessionTicket>{ticket}</req:SessionTicket>{members}"))

    def ok(self, operation: str, members: str = "") -> Answer:
        answer = self.call(operation, members)
        assert answer.status in ("Ok", "OkWithWarnings"), answer.content.decode()
        return answer

    def login(self, user: str) -> str:
        answer = self.handle(envelope("PwsAuthenticate", tag("req:AccountCode", self.account.code)
                                      + tag("req:Password", self.account.password) + tag("req:UserName", user)))
        assert answer.status == "Ok", answer.content
        return answer.text(".//rs:SessionTicket") or ""

    # -----------------------------------------------------------------------------------------
    # A small tree to aim at: client → engagement → project → role with hours, an invoice, and a
    # second engagement whose project another user has locked.

    def seed(self, other_user: str | None = None) -> None:
        client = self.ok("PwsSaveClient", "<req:Client><com:ClientName>Fuzz client</com:ClientName></req:Client>"
                         ).text(".//{*}ClientIdentity/com:ClientNumber") or ""
        for index in range(2):
            engagement = self.ok("PwsSaveEngagement", (
                f"<sch:Engagement><com:ClientIdentity>{ref('Client', client)}</com:ClientIdentity>"
                f"<com:EngagementName>Fuzz {index}</com:EngagementName></sch:Engagement>")
            ).text(".//sch:EngagementIdentity/com:EngagementCode") or ""
            project = self.ok("PwsSaveProject", (
                f"<sch:Mode>R</sch:Mode><sch:Project><com:EngagementIdentity>{ref('Engagement', engagement)}"
                "</com:EngagementIdentity><com:ProjectName>Phase</com:ProjectName></sch:Project>")
            ).text(".//sch:ProjectIdentity/com:ProjectCode") or ""
            uid = self.ok("PwsSaveProjectRole", (
                f"<sch:Mode>R</sch:Mode><sch:ProjectIdentity>{ref('Project', project)}</sch:ProjectIdentity>"
                f"<sch:ProjectRole><com:ExternalSystemIdentifier>X-{engagement}</com:ExternalSystemIdentifier>"
                "<com:RoleName>Dev</com:RoleName></sch:ProjectRole>")
            ).text(".//sch:ProjectRoleIdentity/com:ProjectRoleUid")
            self.ok("PwsRequestOrBookRoleHours", (
                "<sch:Mode>R</sch:Mode><sch:ProjectRoles><com:PwsProjectRoleHours><com:HoursBuckets>"
                "<com:PwsProjectRoleHoursBucket><com:BucketStartDate>2024-01-01T00:00:00Z</com:BucketStartDate>"
                "<com:WeeklyMinutes>600</com:WeeklyMinutes></com:PwsProjectRoleHoursBucket></com:HoursBuckets>"
                f"<com:ProjectRoleIdentity><com:ProjectRoleUid>{uid}</com:ProjectRoleUid></com:ProjectRoleIdentity>"
                "</com:PwsProjectRoleHours></sch:ProjectRoles>"))
            if index == 0:
                spec = {"ClientIdentity": ref("Client", client), "EngagementIdentity": ref("Engagement", engagement),
                        "InvoiceName": "Fuzz invoice", "InvoiceContent": "B",
                        "CostCenterIdentity": "<com:CostCenterNumber>CC1</com:CostCenterNumber>",
                        "EngagementCurrencyIdentity": "<com:CurrencyCode>USD</com:CurrencyCode>",
                        "BillingCultureIdentity": "<com:CultureName>en-US</com:CultureName>"}
                members = "".join(f"<bil:{k}>{v}</bil:{k}>" for k, v in sorted(spec.items()))  # the type's order
                self.ok("PwsCreateInvoice", f'<bil:InvoiceSpec xmlns:bil="{ns.BILLING}">{members}</bil:InvoiceSpec>')
            elif other_user is not None:
                other = self.login(other_user)
                answer = self.call("PwsAcquireProjectorLocks", (
                    "<req:LockDurationSeconds>86400</req:LockDurationSeconds><req:Locks><com:PwsProjectorLockRequest>"
                    f"<com:EntityIdentity><com:EntityCode>{project}</com:EntityCode><com:LockType>P</com:LockType>"
                    "</com:EntityIdentity></com:PwsProjectorLockRequest></req:Locks>"), ticket=other)
                assert answer.status == "Ok", answer.content

    def has_live_role(self) -> bool:
        roles = schema.project_roles
        return bool(self._scalar(select(func.count()).select_from(roles).where(
            roles.c.account_id == self.account_id, roles.c.deleted.is_(False))))

    # -----------------------------------------------------------------------------------------
    # Real values to draw from

    def pools(self, extra_tickets: tuple[str, ...] = ()) -> Pools:
        s = schema
        texts: dict[str, list[str]] = {}
        ints: dict[str, list[int]] = {}
        with self.store.engine.connect() as connection:
            def column(table: Table, name: str) -> list[Any]:
                return [v for v in connection.execute(
                    select(table.c[name]).where(table.c.account_id == self.account_id).limit(30)).scalars()
                    if v is not None]

            clients, engagements = column(s.clients, "number"), column(s.engagements, "code")
            projects, roles = column(s.projects, "code"), column(s.project_roles, "external_id")
            invoices = column(s.invoices, "draft_number")
            lines = column(s.contract_line_items, "code")
            texts.update(ClientNumber=clients, EngagementCode=engagements, ProjectCode=projects,
                         ExternalSystemIdentifier=roles, NewExternalSystemIdentifier=roles, InvoiceNumber=invoices,
                         ContractLineItemCode=lines, NewContractLineItemCode=lines,
                         ContractLineItemName=column(s.contract_line_items, "name"),
                         EntityCode=engagements + projects + roles, Code=engagements + lines + projects,
                         Number=clients + invoices)
            texts["Timestamp"] = [encode_rowversion(v) for table in (s.clients, s.engagements, s.contract_line_items,
                                                                     s.projects, s.project_roles, s.invoices)
                                  for v in column(table, "rowversion")]
            texts["DisplayName"] = column(s.users, "display_name")
            texts["ReferenceSystemId"] = column(s.users, "reference_id")
            stages, short = column(s.stages, "name"), column(s.stages, "short_name")
            texts["Name"] = stages + column(s.project_roles, "name") + column(s.clients, "name")
            texts["ShortName"] = short
            uids = {table.name: column(table, "uid") for table in (s.clients, s.engagements, s.contract_line_items,
                                                                   s.projects, s.project_roles, s.invoices, s.users,
                                                                   s.stages)}
            ints.update(ClientUid=uids["clients"], EngagementUid=uids["engagements"], ProjectUid=uids["projects"],
                        ContractLineItemUid=uids["contract_line_items"],
                        ProjectRoleUid=uids["project_roles"], InvoiceUid=uids["invoices"], UserUid=uids["users"],
                        ResourceUid=uids["users"], EngagementStageUid=uids["stages"], ProjectStageUid=uids["stages"],
                        EntityUid=uids["engagements"] + uids["projects"] + uids["project_roles"],
                        Uid=[uid for values in uids.values() for uid in values])
            ints["LockSetId"] = column(s.lock_sets, "id")
        texts.update(
            Mode=["R", "A", "R", "A", "E", "r", " A "], SchedulingMode=["D", "W", "d"],
            DefaultSchedulingMode=["D", "W", "d"], LockType=["E", "P", "R", "e", "C", "RT", "I", "Z"],
            AccountCode=[self.account.code], Password=[self.account.password],
            UserName=[self.account.admin, self.account.viewer, self.account.no_web],
            InvoiceContent=["B", "F", "A", "M", "S", "C", "T", "Z"], InvoiceScope=["P", "E", "X"],
            ConstraintType=["N", "W", "H", "T", "A", "n", "X"],
            TimeContractTerms=["F", "T", "C", "N", "t", "X"], CostContractTerms=["F", "T", "C", "N", "t", "X"],
        )
        ints.update(LockDurationSeconds=[1, 60, 86400, 86401, 0], MaxRowsToReturn=[0, 1, 2],
                    WeeklyMinutes=[0, 60, 600, 10080, 10081], short=[0, 60, 1440, 1441, -1])
        closed = frozenset({"Mode", "SchedulingMode", "DefaultSchedulingMode", "LockType", "InvoiceContent",
                            "InvoiceScope", "ConstraintType", "TimeContractTerms", "CostContractTerms"})
        return Pools(texts, ints, (self.ticket, *extra_tickets), closed)

    # -----------------------------------------------------------------------------------------
    # What a request may not change when it fails

    def fingerprint(self) -> dict[str, tuple[Any, ...]]:
        """Per table of the account: row count and the aggregates that move when a row is written."""
        s = schema
        account = self.account_id
        found: dict[str, tuple[Any, ...]] = {}
        with self.store.engine.connect() as connection:
            def aggregate(label: str, table: Table, *columns: Any, where: Any = None) -> None:
                query = select(func.count(), *columns).select_from(table).where(
                    where if where is not None else table.c.account_id == account)
                found[label] = tuple(connection.execute(query).one())

            for table in (s.clients, s.engagements, s.contract_line_items, s.projects, s.project_roles, s.invoices):
                aggregate(table.name, table, func.max(table.c.rowversion), func.sum(table.c.rowversion))
            aggregate("stages", s.stages, func.max(s.stages.c.id))
            aggregate("users", s.users, func.max(s.users.c.id))
            aggregate("sessions", s.sessions, func.count(s.sessions.c.ended_at), func.max(s.sessions.c.id))
            aggregate("lock_sets", s.lock_sets, func.count(s.lock_sets.c.released_at),
                      func.count(s.lock_sets.c.stolen_at), func.max(s.lock_sets.c.expires_at))
            aggregate("locks", s.locks, func.max(s.locks.c.id), func.max(s.locks.c.acquired_at))
            roles = select(s.project_roles.c.id).where(s.project_roles.c.account_id == account)
            aggregate("role_hours", s.role_hours, func.sum(s.role_hours.c.weekly_minutes),
                      func.max(s.role_hours.c.bucket_start), where=s.role_hours.c.role_id.in_(roles))
            notes = s.role_allocation_notes
            aggregate("role_allocation_notes", notes, func.max(notes.c.bucket_start), func.max(notes.c.notes),
                      where=notes.c.role_id.in_(roles))
            aggregate("role_notes", s.role_notes, func.max(s.role_notes.c.id))
        return found


RESULT_STATUSES = ("Ok", "OkWithWarnings", "Fail", "FailSessionInvalid")
PWS_FAULT = ns.qname(ns.COMMON, "PwsFault")


def operation_names() -> list[str]:
    return sorted(load_contract().operations)

"""A hypothesis state machine builds random trees over real HTTP, deletes with random flags, and
checks every answer and the resulting tree against the in-memory model (tests/deletes_model.py).

Each run is one fresh account. After every step the answer's Status and error numbers (and the
clients its 101 warnings name) must be the model's; a refused call must leave every row of the
account as it was, row versions included; and what PwsGetClientList, PwsGetEngagementList,
PwsGetProjectList and PwsGetProjectRoles show (with the tables for invoiced flags and hours) must be
the model's tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from openpws.store.transactions import Store
from tests import deletes_model as wire
from tests.conftest import make_account
from tests.deletes_model import Model, Outcome
from tests.pws import NAMESPACES, Answer, SoapClient
from tests.tree import Pws

ROLE_NAMES = ("Developer", "Tester", "Analyst")  # few, so that names collide now and then (990016)


class DeleteMachine(RuleBasedStateMachine):
    def __init__(self, soap: SoapClient, store: Store) -> None:
        super().__init__()
        self.store = store
        self.pws = Pws(soap, make_account(store, "model"))
        self.model = Model()
        # Everything ever made, deleted or not: a delete may name what is gone (its not-found answer).
        self.clients: set[str] = set()
        self.engagements: set[str] = set()
        self.projects: set[str] = set()
        self.roles: set[int] = set()

    def expect(self, send: Callable[[], Answer], model: Callable[[Answer], Outcome], identity: str | None = None,
               key: object = None) -> Answer:
        """Send a request, and check its answer (and, when refused, that nothing changed) against the model."""
        before = wire.snapshot(self.store, self.pws.account.code)
        answer = send()
        expected = model(answer)
        got = wire.outcome(answer, self.clients)
        assert got == expected, f"expected {expected}, got {got}:\n{answer.content.decode()}"
        if expected.status == "Fail":
            assert wire.snapshot(self.store, self.pws.account.code) == before, "a refused call changed rows"
        elif identity is not None:
            assert answer.result.findtext(identity, namespaces=NAMESPACES) == str(key), answer.content
        return answer

    @staticmethod
    def pick(data: st.DataObject, items: Iterable[str | int]) -> str | int:
        return data.draw(st.sampled_from(sorted(items, key=str)))

    @staticmethod
    def target(data: st.DataObject, live: Iterable[str | int], seen: set[str] | set[int]) -> str | int:
        """What a delete names: more often something that is there, sometimes anything ever made."""
        there: list[str | int] = sorted(live, key=str)
        anything: list[str | int] = sorted(seen, key=str)
        return data.draw(st.sampled_from(there) | st.sampled_from(anything) if there else st.sampled_from(anything))

    # --- building -------------------------------------------------------------------------------

    def _client(self, parent: str | None) -> None:
        answer = self.expect(lambda: wire.save_client(self.pws, parent),
                             lambda a: self.model.add_client(wire.code(a, "ClientIdentity", "ClientNumber") or "",
                                                             parent))
        self.clients.add(wire.code(answer, "ClientIdentity", "ClientNumber") or "")

    def _engagement(self, client: str) -> None:
        answer = self.expect(lambda: wire.save_engagement(self.pws, client),
                             lambda a: self.model.add_engagement(
                                 client, wire.code(a, "EngagementIdentity", "EngagementCode") or ""))
        if answer.status == "Ok":
            self.engagements.add(wire.code(answer, "EngagementIdentity", "EngagementCode") or "")

    def _project(self, engagement: str) -> None:
        answer = self.expect(lambda: wire.save_project(self.pws, engagement, "Project"),
                             lambda a: self.model.add_project(
                                 engagement, wire.code(a, "ProjectIdentity", "ProjectCode") or "",
                                 int(wire.code(a, "ProjectIdentity", "ProjectUid") or 0), "Project"))
        if answer.status == "Ok":
            self.projects.add(wire.code(answer, "ProjectIdentity", "ProjectCode") or "")

    def _role(self, project: str, name: str) -> None:
        answer = self.expect(lambda: wire.save_role(self.pws, project, name),
                             lambda a: self.model.add_role(
                                 project, name, int(wire.code(a, "ProjectRoleIdentity", "ProjectRoleUid") or 0)))
        if answer.status == "Ok":
            self.roles.add(int(wire.code(answer, "ProjectRoleIdentity", "ProjectRoleUid") or 0))

    def _hours(self, uid: int, mode: str) -> None:
        self.expect(lambda: wire.request_hours(self.pws, uid, mode), lambda _: self.model.request_hours(uid, mode))

    def _invoice(self, data: st.DataObject) -> None:
        engagement = str(self.pick(data, self.model.engagements))
        projects = self.model.projects_of(engagement)
        project = data.draw(st.none() | st.sampled_from(projects)) if projects else None
        client = self.model.engagements[engagement].client
        self.expect(lambda: wire.create_invoice(self.pws, client, engagement, project),
                    lambda _: self.model.invoice(engagement, project))

    @initialize(data=st.data(), clients=st.integers(2, 5), engagements=st.integers(1, 4), projects=st.integers(1, 5),
                roles=st.integers(1, 6), hours=st.integers(0, 4), invoices=st.integers(0, 1))
    def a_tree_to_start_from(self, data: st.DataObject, clients: int, engagements: int, projects: int, roles: int,
                             hours: int, invoices: int) -> None:
        """A random tree first, so that the steps that follow have something deep to delete."""
        for _ in range(clients):
            self._client(data.draw(st.none() | st.sampled_from(sorted(self.model.clients)))
                         if self.model.clients else None)
        for _ in range(engagements):
            self._engagement(str(self.pick(data, self.model.clients)))
        for _ in range(projects if self.model.engagements else 0):
            self._project(str(self.pick(data, self.model.engagements)))
        for _ in range(roles if self.model.projects else 0):
            self._role(str(self.pick(data, self.model.projects)), data.draw(st.sampled_from(ROLE_NAMES)))
        for _ in range(hours if self.roles else 0):
            self._hours(int(self.pick(data, self.roles)), data.draw(st.sampled_from(("R", "A"))))
        for _ in range(invoices):
            self._invoice(data)

    # One rule adds any kind of entity, so that most steps are deletes.
    @rule(data=st.data(), kind=st.sampled_from(("client", "child client", "engagement", "project", "role")))
    def add(self, data: st.DataObject, kind: str) -> None:
        if kind == "child client" and self.model.clients:
            self._client(str(self.pick(data, self.model.clients)))
        elif kind == "engagement" and self.model.clients:
            self._engagement(str(self.pick(data, self.model.clients)))
        elif kind == "project" and self.model.engagements:
            self._project(str(self.pick(data, self.model.engagements)))
        elif kind == "role" and self.model.projects:
            self._role(str(self.pick(data, self.model.projects)), data.draw(st.sampled_from(ROLE_NAMES)))
        else:
            self._client(None)

    # Hours three times as often as invoices, which make whatever they touch undeletable for good.
    @precondition(lambda self: self.roles)
    @rule(data=st.data(), kind=st.sampled_from(("R", "A", "R", "invoice")))
    def hours_or_invoice(self, data: st.DataObject, kind: str) -> None:
        if kind != "invoice" or not self.model.engagements:
            self._hours(int(self.pick(data, self.roles)), "A" if kind == "A" else "R")
        else:
            self._invoice(data)

    # --- deleting -------------------------------------------------------------------------------

    @precondition(lambda self: self.clients)
    @rule(data=st.data(), cascade=st.booleans(), inactivate=st.booleans())
    def delete_client(self, data: st.DataObject, cascade: bool, inactivate: bool) -> None:
        number = str(self.target(data, self.model.clients, self.clients))
        self.expect(lambda: wire.delete_client(self.pws, number, cascade, inactivate),
                    lambda _: self.model.delete_client(number, cascade, inactivate),
                    "rs:ClientIdentity/com:ClientNumber", number)

    @precondition(lambda self: self.engagements)
    @rule(data=st.data(), cascade=st.booleans())
    def delete_engagement(self, data: st.DataObject, cascade: bool) -> None:
        code = str(self.target(data, self.model.engagements, self.engagements))
        self.expect(lambda: wire.delete_engagement(self.pws, code, cascade),
                    lambda _: self.model.delete_engagement(code, cascade),
                    "sch:EngagementIdentity/com:EngagementCode", code)

    @precondition(lambda self: self.projects)
    @rule(data=st.data(), cascade=st.booleans(), delete_empty_engagement=st.booleans())
    def delete_project(self, data: st.DataObject, cascade: bool, delete_empty_engagement: bool) -> None:
        code = str(self.target(data, self.model.projects, self.projects))
        self.expect(lambda: wire.delete_project(self.pws, code, cascade, delete_empty_engagement),
                    lambda _: self.model.delete_project(code, cascade, delete_empty_engagement),
                    "sch:ProjectIdentity/com:ProjectCode", code)

    @precondition(lambda self: self.roles)
    @rule(data=st.data(), zero_out_hours=st.booleans())
    def delete_role(self, data: st.DataObject, zero_out_hours: bool) -> None:
        uid = int(self.target(data, (u for u, r in self.model.roles.items() if not r.deleted), self.roles))
        self.expect(lambda: wire.delete_role(self.pws, uid, zero_out_hours),
                    lambda _: self.model.delete_role(uid, zero_out_hours),
                    "sch:ProjectRoleIdentity/com:ProjectRoleUid", uid)

    @precondition(lambda self: self.roles)
    @rule(data=st.data(), make_name_unique=st.booleans())
    def undelete_role(self, data: st.DataObject, make_name_unique: bool) -> None:
        uid = int(self.target(data, (u for u, r in self.model.roles.items() if r.deleted), self.roles))
        self.expect(lambda: wire.undelete_role(self.pws, uid, make_name_unique),
                    lambda _: self.model.undelete_role(uid, make_name_unique),
                    "sch:ProjectRoleIdentity/com:ProjectRoleUid", uid)

    # --- the tree -------------------------------------------------------------------------------

    @invariant()
    def server_shows_the_models_tree(self) -> None:
        assert wire.observe(self.pws, self.store) == self.model.view()


@pytest.mark.slow
def test_deletes_follow_the_model(soap: SoapClient, store: Store) -> None:
    # About 20 seconds a store: PostgreSQL's commits cost more than SQLite's.
    examples = 20 if store.dialect == "sqlite" else 10

    class OnThisServer(DeleteMachine):
        def __init__(self) -> None:
            super().__init__(soap, store)

    run_state_machine_as_test(
        OnThisServer,
        settings=settings(max_examples=examples, stateful_step_count=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]),
    )

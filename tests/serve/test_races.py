"""Two calls on overlapping trees, fired at the same moment from two sessions on their own
connections, end as one serial order of the two would: the answers and the tree are those the
in-memory model gives for one of the two orders, and neither answer is a server fault.

Every write that can meet a delete in the same tree is paired with each delete it can meet: saves
of engagements, projects and roles (inserts and renames), hours, invoices and lock acquires, against
deletes of clients, engagements, projects and roles.

The server runs with two worker processes, so the calls may reach different processes: on
PostgreSQL they meet only in the database, and on SQLite writers take turns on the one file.
The same server has six users race for one engagement lock: exactly one gets it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from openpws.services import admin, lock_sets
from openpws.services.permissions import ALL
from openpws.store.transactions import Store
from tests import deletes_model as wire
from tests.conftest import Server, make_account, make_user, start_server, stop_server
from tests.deletes_model import Model, Outcome
from tests.messages.test_locks import acquire, entity, fault_numbers, set_of
from tests.pws import Answer, SoapClient
from tests.tree import Pws, ref

pytestmark = [pytest.mark.serve, pytest.mark.slow]

ROUNDS = 6


@pytest.fixture(scope="module")
def workers(store: Store, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(database_url, tmp_path_factory.mktemp("workers"), "--workers", "2")
    yield running
    stop_server(running)


@dataclass(frozen=True)
class Call:
    """One side of a race: the request, and what it does to the model."""

    send: Callable[[Pws], Answer]
    apply: Callable[[Model], Outcome]


@dataclass
class Round:
    """A fresh account with two users, each on its own connection, and the tree built in it."""

    store: Store
    first: Pws
    second: Pws
    model: Model = field(default_factory=Model)

    @classmethod
    def open(cls, server: Server, store: Store) -> Round:
        account = make_account(store, "race")
        other = f"other@{account.code}"
        make_user(store, account.code, other, ALL, reference_id="OTHER")
        return cls(store, Pws(SoapClient(server.base_url), account), Pws(SoapClient(server.base_url), account, other))

    def close(self) -> None:
        self.first.soap.close()
        self.second.soap.close()

    def _built(self, answer: Answer, member: str, path: str) -> str:
        assert answer.status == "Ok", answer.content.decode()
        return wire.code(answer, member, path) or ""

    def client(self) -> str:
        number = self._built(wire.save_client(self.first, None), "ClientIdentity", "ClientNumber")
        self.model.add_client(number, None)
        return number

    def engagement(self, client: str) -> str:
        answer = wire.save_engagement(self.first, client)
        code = self._built(answer, "EngagementIdentity", "EngagementCode")
        self.model.add_engagement(client, code, int(wire.code(answer, "EngagementIdentity", "EngagementUid") or 0))
        return code

    def engagement_uid(self, code: str) -> int:
        return self.model.engagements[code].uid

    def project(self, engagement: str) -> tuple[str, int]:
        answer = wire.save_project(self.first, engagement, "Project")
        code = self._built(answer, "ProjectIdentity", "ProjectCode")
        uid = int(wire.code(answer, "ProjectIdentity", "ProjectUid") or 0)
        self.model.add_project(engagement, code, uid, "Project")
        return code, uid

    def role(self, project: str, *hours: str) -> int:
        uid = int(self._built(wire.save_role(self.first, project, "Engineer"), "ProjectRoleIdentity", "ProjectRoleUid"))
        self.model.add_role(project, "Engineer", uid)
        for mode in hours:
            assert wire.request_hours(self.first, uid, mode).status == "Ok"
            self.model.request_hours(uid, mode)
        return uid

    def race(self, one: Call, other: Call) -> None:
        """Fire both calls at once, then check the answers and the tree against both serial orders."""
        barrier = threading.Barrier(2)

        def fire(call: Call, pws: Pws) -> Answer:
            barrier.wait()
            return call.send(pws)

        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(fire, one, self.first), pool.submit(fire, other, self.second)]
            answers = [f.result() for f in futures]
        clients = list(self.model.clients)
        got = (wire.outcome(answers[0], clients), wire.outcome(answers[1], clients))  # a server fault fails here
        serial = []
        for order in ((0, 1), (1, 0)):
            model = self.model.copy()
            results: list[Outcome] = [wire.OK, wire.OK]
            for index in order:
                results[index] = (one, other)[index].apply(model)
            serial.append(((results[0], results[1]), model.view()))
        observed = wire.observe(self.first, self.store)
        assert (got, observed) in serial, (
            f"answers {got} and tree {observed} are neither order's:\n{serial[0]}\n{serial[1]}\n"
            + "\n".join(a.content.decode() for a in answers))


def rounds(server: Server, store: Store) -> Iterator[tuple[int, Round]]:
    for number in range(ROUNDS):
        opened = Round.open(server, store)
        try:
            yield number, opened
        finally:
            opened.close()


def cascade_engagement_delete(code: str) -> Call:
    return Call(lambda pws: wire.delete_engagement(pws, code, cascade=True),
                lambda model: model.delete_engagement(code, cascade=True))


def rename_project(uid: int) -> Call:
    return Call(lambda pws: wire.rename_project(pws, uid, "Renamed"), lambda model: model.rename_project(uid, "Renamed"))


def rename_role(uid: int) -> Call:
    return Call(lambda pws: wire.rename_role(pws, uid, "Renamed"), lambda model: model.rename_role(uid, "Renamed"))


def insert_project(engagement: str, code: str) -> Call:
    # The code is sent, so that the model knows it whichever order wins.
    return Call(lambda pws: wire.save_project(pws, engagement, "New", code=code),
                lambda model: model.add_project(engagement, code, 0, "New"))


def delete_project(code: str, empty: bool) -> Call:
    return Call(lambda pws: wire.delete_project(pws, code, cascade=True, delete_empty_engagement=empty),
                lambda model: model.delete_project(code, cascade=True, delete_empty_engagement=empty))


def delete_role(uid: int, zero_out: bool) -> Call:
    return Call(lambda pws: wire.delete_role(pws, uid, zero_out), lambda model: model.delete_role(uid, zero_out))


def request_hours(uid: int, mode: str) -> Call:
    # The week after the one the tree's own hours are in: a new bucket either way.
    return Call(lambda pws: wire.request_hours(pws, uid, mode, week=1), lambda model: model.request_hours(uid, mode))


def insert_engagement(client: str, code: str) -> Call:
    return Call(lambda pws: wire.save_engagement(pws, client, code), lambda model: model.add_engagement(client, code))


def rename_engagement(uid: int) -> Call:
    return Call(lambda pws: wire.rename_engagement(pws, uid, "Renamed"), lambda model: model.rename_engagement(uid))


def insert_role(project: str) -> Call:
    """A new role: its Uid is the server's pick, so the model learns it from the answer (a role the
    model adds where the server refused it has Uid 0, which no tree shows)."""
    sent: list[Answer] = []

    def send(pws: Pws) -> Answer:
        sent.append(wire.save_role(pws, project, "Tester"))
        return sent[-1]

    def apply(model: Model) -> Outcome:
        return model.add_role(project, "Tester", int(wire.code(sent[-1], "ProjectRoleIdentity", "ProjectRoleUid") or 0))

    return Call(send, apply)


def delete_client(number: str, cascade: bool, inactivate: bool) -> Call:
    return Call(lambda pws: wire.delete_client(pws, number, cascade, inactivate),
                lambda model: model.delete_client(number, cascade, inactivate))


def invoice(client: str, engagement: str, project: str | None) -> Call:
    return Call(lambda pws: wire.create_invoice(pws, client, engagement, project),
                lambda model: model.invoice(engagement, project))


def take_lock(lock_type: str, key: str) -> Call:
    return Call(lambda pws: wire.acquire(pws, lock_type, key), lambda model: model.acquire(lock_type, key))


def test_delete_engagement_against_saving_a_project_in_it(workers: Server, store: Store) -> None:
    """Renaming one of its projects or one of their roles, or inserting a new project, races the
    engagement's cascade delete: the save either lands first (and is deleted with the rest) or finds
    nothing left."""
    for number, race in rounds(workers, store):
        engagement = race.engagement(race.client())
        project, uid = race.project(engagement)
        role = race.role(project, "R", "A")
        race.project(engagement)
        save = (rename_project(uid), insert_project(engagement, f"NEW-{number}"), rename_role(role))[number % 3]
        race.race(cascade_engagement_delete(engagement), save)


def test_delete_engagement_against_deleting_one_of_its_projects(workers: Server, store: Store) -> None:
    """An engagement's cascade delete against a delete of one of its projects (with and without
    DeleteEmptyEngagementFlag, as the only project or one of two)."""
    for number, race in rounds(workers, store):
        engagement = race.engagement(race.client())
        project, _ = race.project(engagement)
        race.role(project, "R")
        if number % 3:
            race.project(engagement)
        race.race(cascade_engagement_delete(engagement), delete_project(project, empty=number % 2 == 0))


def test_delete_role_against_requesting_or_booking_its_hours(workers: Server, store: Store) -> None:
    """A role delete (with and without ZeroOutHoursFlag) against PwsRequestOrBookRoleHours on it."""
    for number, race in rounds(workers, store):
        project, _ = race.project(race.engagement(race.client()))
        role = race.role(project, *(("A",) if number % 3 == 2 else ()))
        race.race(delete_role(role, zero_out=number % 2 == 1), request_hours(role, "A" if number % 4 < 2 else "R"))


def test_cascade_delete_against_booking_hours_on_a_role_below(workers: Server, store: Store) -> None:
    """Booking or requesting hours on a role while its project, or its engagement, is cascade-deleted:
    the hours land first (and go with the role) or the role is no longer found."""
    for number, race in rounds(workers, store):
        engagement = race.engagement(race.client())
        project, _ = race.project(engagement)
        role = race.role(project, "R")
        delete = cascade_engagement_delete(engagement) if number % 2 else delete_project(project, empty=False)
        race.race(delete, request_hours(role, "A" if number % 4 < 2 else "R"))


def test_concurrent_acquirers_of_one_entity_exactly_one_wins(workers: Server, store: Store) -> None:
    """Separate connections to two server processes: the engagement row lock lets one through."""
    base_url = workers.base_url
    account = make_account(store)
    owner = Pws(SoapClient(base_url), account)
    engagement = owner.engagement(owner.client("Race"), "Contested")
    racers = []
    for n in range(6):
        login = f"racer{n}@{account.code}"
        make_user(store, account.code, login, ALL)
        racers.append(Pws(SoapClient(base_url), account, login))
    start = threading.Barrier(len(racers))
    answers: dict[int, Answer] = {}

    def race(n: int) -> None:
        start.wait()
        answers[n] = acquire(racers[n], entity("E", engagement))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(len(racers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == len(racers)
    winners = [a for a in answers.values() if a.status_code == 200]
    assert len(winners) == 1 and winners[0].status == "Ok", [a.content for a in answers.values()]
    assert all(fault_numbers(a) == [54076] for a in answers.values() if a.status_code != 200)
    with store.read() as tx:
        live = lock_sets.list_locks(tx, admin.require_account(tx, account.code).id, datetime.now(UTC))
    assert len(live) == 1 and live[0].lock.lock_set_id == set_of(winners[0])


def test_saving_an_engagement_against_deleting_its_client_or_its_last_project(workers: Server, store: Store) -> None:
    """A new engagement under a client that is deleted (or inactivated, as it becomes in use) at the same
    moment; an engagement renamed while its last project goes with DeleteEmptyEngagementFlag, or
    while it is cascade-deleted."""
    for number, race in rounds(workers, store):
        client = race.client()
        variant = number % 4
        if variant < 2:
            race.race(delete_client(client, cascade=variant == 1, inactivate=variant == 1),
                      insert_engagement(client, f"NEW-{number}"))
            continue
        engagement = race.engagement(client)
        project, _ = race.project(engagement)
        race.role(project, "R")
        delete = (delete_project(project, empty=True) if variant == 2 else cascade_engagement_delete(engagement))
        race.race(delete, rename_engagement(race.engagement_uid(engagement)))


def test_saving_a_project_or_a_role_against_deleting_it(workers: Server, store: Store) -> None:
    """A project renamed, or a role inserted into it, while it is cascade-deleted; a role renamed
    while it is deleted, or while its project is; a project inserted while its client is inactivated
    (in use, so not deleted)."""
    for number, race in rounds(workers, store):
        client = race.client()
        engagement = race.engagement(client)
        project, uid = race.project(engagement)
        role = race.role(project)
        race.project(engagement)
        save, delete = ((rename_project(uid), delete_project(project, empty=False)),
                        (insert_role(project), delete_project(project, empty=True)),
                        (rename_role(role), delete_role(role, zero_out=False)),
                        (rename_role(role), delete_project(project, empty=False)),
                        (insert_project(engagement, f"NEW-{number}"),
                         delete_client(client, cascade=True, inactivate=True)))[number % 5]
        race.race(delete, save)


def test_an_invoice_against_deleting_what_it_bills(workers: Server, store: Store) -> None:
    """An invoice on an engagement (or one of its projects) while the engagement, the project, or the
    client is deleted: the invoice first makes the delete refuse (or keeps the engagement), the
    delete first leaves nothing to bill."""
    for number, race in rounds(workers, store):
        client = race.client()
        engagement = race.engagement(client)
        project, _ = race.project(engagement)
        race.role(project, "A")
        bill, delete = ((invoice(client, engagement, None), cascade_engagement_delete(engagement)),
                        (invoice(client, engagement, project), delete_project(project, empty=False)),
                        (invoice(client, engagement, None), delete_project(project, empty=True)),
                        (invoice(client, engagement, project), delete_client(client, cascade=True, inactivate=True))
                        )[number % 4]
        race.race(delete, bill)


def test_a_lock_against_deleting_what_it_locks(workers: Server, store: Store) -> None:
    """Another user locks an engagement, a project or a role while it (or the tree above it) is
    deleted: the lock first makes the delete answer the PwsFault, the delete first leaves nothing to
    lock (a deleted role can still be locked: it is there to be undeleted)."""
    for number, race in rounds(workers, store):
        engagement = race.engagement(race.client())
        project, _ = race.project(engagement)
        role = race.role(project)
        race.project(engagement)
        lock, delete = ((take_lock("E", engagement), cascade_engagement_delete(engagement)),
                        (take_lock("P", project), delete_project(project, empty=False)),
                        (take_lock("R", str(role)), delete_project(project, empty=False)),
                        (take_lock("R", str(role)), delete_role(role, zero_out=False)),
                        (take_lock("E", engagement), delete_project(project, empty=True)),
                        (take_lock("P", project), cascade_engagement_delete(engagement)))[number % 6]
        race.race(delete, lock)


# Client writes racing each other: a rename against a delete of the same client, and an invoice
# against new clients and engagements under its client; never a server fault or a deadlock.

PAIRS = 12


def together(first: Pws, second: Pws, one: Callable[[Pws], Answer], other: Callable[[Pws], Answer]
             ) -> tuple[Answer, Answer]:
    barrier = threading.Barrier(2)

    def fire(call: Callable[[Pws], Answer], pws: Pws) -> Answer:
        barrier.wait()
        return call(pws)

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.submit(fire, one, first), pool.submit(fire, other, second)
        return a.result(), b.result()


def sessions(server: Server, store: Store) -> tuple[Pws, Pws]:
    account = make_account(store, "crace")
    other = f"other@{account.code}"
    make_user(store, account.code, other, ALL, reference_id="OTHER")
    return Pws(SoapClient(server.base_url), account), Pws(SoapClient(server.base_url), account, other)


def rename(uid: str) -> Callable[[Pws], Answer]:
    # By Uid: a Uid that names no client is not found, where a number alone would insert one.
    return lambda pws: pws.call("PwsSaveClient", f"<req:Client>{ref('Client', None, uid)}"
                                                 "<com:ClientName>Renamed</com:ClientName></req:Client>")


def test_renaming_a_client_while_it_is_deleted_is_either_first_or_not_found(workers: Server, store: Store) -> None:
    first, second = sessions(workers, store)
    for _ in range(PAIRS):
        made = first.ok("PwsSaveClient", "<req:Client><com:ClientName>Doomed</com:ClientName></req:Client>")
        number = made.text(".//{*}ClientIdentity/com:ClientNumber") or ""
        uid = made.text(".//{*}ClientIdentity/com:ClientUid") or ""
        renamed, deleted = together(first, second, rename(uid),
                                    lambda pws, n=number: wire.delete_client(pws, n, cascade=False, inactivate=False))
        assert deleted.status == "Ok", deleted.content.decode()
        assert (renamed.status, renamed.error_numbers()) in (("Ok", []), ("Fail", [50024])), renamed.content.decode()
        gone = first.call("PwsGetClient", f"<req:ClientIdentities><com:PwsClientRef>{ref('Client', number)}"
                                          "</com:PwsClientRef></req:ClientIdentities>")
        assert gone.status == "OkWithWarnings" and gone.error_numbers() == [105]


def test_an_invoice_and_new_children_under_its_client_take_turns(workers: Server, store: Store) -> None:
    first, second = sessions(workers, store)
    client = first.client("Billed")
    engagement = first.engagement(client, "Work")
    for number in range(PAIRS):
        under = ((lambda pws: wire.save_client(pws, client)) if number % 2 else
                 (lambda pws: wire.save_engagement(pws, client)))
        invoiced, made = together(first, second, lambda pws: wire.create_invoice(pws, client, engagement, None), under)
        assert invoiced.status == "Ok", invoiced.content.decode()
        assert made.status == "Ok", made.content.decode()

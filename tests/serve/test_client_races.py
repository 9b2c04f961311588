"""Client writes racing each other on two server processes: a rename against a delete of the same
client, and an invoice against new clients and engagements under its client. Each pair ends as one
serial order would, never with a server fault or a deadlock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from openpws.services.permissions import ALL
from openpws.store.transactions import Store
from tests import deletes_model as wire
from tests.conftest import Server, make_account, make_user
from tests.pws import Answer, SoapClient
from tests.tree import Pws, ref

pytestmark = [pytest.mark.serve, pytest.mark.slow]

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


def test_renaming_a_client_while_it_is_deleted_is_either_first_or_not_found(two_workers: Server,
                                                                             store: Store) -> None:
    first, second = sessions(two_workers, store)
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


def test_an_invoice_and_new_children_under_its_client_take_turns(two_workers: Server, store: Store) -> None:
    first, second = sessions(two_workers, store)
    client = first.client("Billed")
    engagement = first.engagement(client, "Work")
    for number in range(PAIRS):
        under = ((lambda pws: wire.save_client(pws, client)) if number % 2 else
                 (lambda pws: wire.save_engagement(pws, client)))
        invoiced, made = together(first, second, lambda pws: wire.create_invoice(pws, client, engagement, None), under)
        assert invoiced.status == "Ok", invoiced.content.decode()
        assert made.status == "Ok", made.content.decode()

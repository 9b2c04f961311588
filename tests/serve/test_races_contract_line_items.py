"""Contract line item writes racing the delete of their engagement, on a server of two worker
processes: each pair ends as one serial order of the two would, and neither answer is a fault."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import pytest

from openpws.services.permissions import ALL
from openpws.store.transactions import Store
from tests.conftest import make_account, make_user, start_server, stop_server
from tests.pws import Answer, SoapClient
from tests.tree import Pws, ref, tag

pytestmark = [pytest.mark.serve, pytest.mark.slow]

ROUNDS = 6


def race(first: Callable[[], Answer], second: Callable[[], Answer]) -> tuple[Answer, Answer]:
    barrier = threading.Barrier(2)

    def fire(call: Callable[[], Answer]) -> Answer:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(2) as pool:
        one, other = pool.submit(fire, first), pool.submit(fire, second)
        return one.result(), other.result()


def outcome(answer: Answer) -> str:
    assert answer.status_code == 200, answer.content.decode()  # never a fault, least of all s:Server
    return answer.status if answer.status != "Fail" else f"Fail {answer.error_numbers()}"


def test_contract_line_item_writes_against_deleting_their_engagement(store: Store, database_url: str,
                                                                    tmp_path: Path) -> None:
    server = start_server(database_url, tmp_path, "--workers", "2")
    try:
        for number in range(ROUNDS):
            account = make_account(store, "clirace")
            other = f"other@{account.code}"
            make_user(store, account.code, other, ALL, reference_id="OTHER")
            deleter = Pws(SoapClient(server.base_url), account)
            writer = Pws(SoapClient(server.base_url), account, other)
            client = deleter.client("Race")
            engagement = deleter.engagement(client, "Contested")
            project = deleter.project(engagement, "Build")
            second = deleter.ok("PwsSaveContractLineItem", "<sch:ContractLineItem><com:ContractLineItemName>Second"
                                "</com:ContractLineItemName><com:EngagementIdentity>"
                                f"{ref('Engagement', engagement)}</com:EngagementIdentity></sch:ContractLineItem>"
                                ).text(".//sch:ContractLineItemIdentity/com:ContractLineItemCode") or ""
            delete = partial(deleter.call, "PwsDeleteEngagement", "<sch:EngagementIdentity>"
                             f"{ref('Engagement', engagement)}</sch:EngagementIdentity>" + tag("CascadeDeleteFlag", True))
            if number % 2:  # a new contract line item in the engagement being deleted
                write = partial(writer.call, "PwsSaveContractLineItem", "<sch:ContractLineItem><com:ContractLineItemName>"
                                "Third</com:ContractLineItemName><com:EngagementIdentity>"
                                f"{ref('Engagement', engagement)}</com:EngagementIdentity></sch:ContractLineItem>")
                late = {"Fail [54061]"}
            else:  # its project moved to another of its contract line items
                write = partial(writer.call, "PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project>"
                                f"{ref('Project', project)}<com:ContractLineItemIdentity><com:ContractLineItemCode>"
                                f"{second}</com:ContractLineItemCode></com:ContractLineItemIdentity></sch:Project>")
                # Sent after the delete, a code that names no project asks for an insert, which needs
                # an engagement (990004); read before it, the project is gone once its turn comes (50024).
                late = {"Fail [990004]", "Fail [50024]"}
            deleted, written = race(delete, write)
            assert outcome(deleted) == "Ok"
            assert outcome(written) in {"Ok", *late}, written.content.decode()
            # Whichever came first, the engagement went whole: no contract line item of it is left.
            left = deleter.call("PwsGetContractLineItem", "<sch:ContractLineItemIdentities><com:PwsContractLineItemRef>"
                                f"<com:ContractLineItemCode>{second}</com:ContractLineItemCode>"
                                "</com:PwsContractLineItemRef></sch:ContractLineItemIdentities>")
            assert left.status == "OkWithWarnings" and left.error_numbers() == [105]
            listed = deleter.ok("PwsGetEngagementList", tag("IncludeClosedFlag", True) + tag("QueryString", "Contested"))
            assert listed.find(".//{*}PwsEngagementSummary") is None
            deleter.soap.close()
            writer.soap.close()
    finally:
        stop_server(server)

"""Never an internal error: a property-based fuzzer of every operation of the contract.

For each operation, hypothesis writes request envelopes from the contract itself
(``tests/contract_strategies.py``: valid, boundary and broken values, reordered, missing,
duplicated and misplaced members, wrong namespaces, unknown elements, nil on anything) aimed at a
small seeded tree of a real account, and hands them to the application in-process. Each answer must:

- never be an ``s:Server`` fault, and nothing may be logged (an internal error logs its traceback);
- in strict member order (OPENPWS_MEMBER_ORDER, drawn per example), be a fault whenever a member
  comes out of production's order, naming the first such member when the fault is about order;
  in lenient, never a fault about order;
- be well-formed SOAP: HTTP 200 with a Status and a result valid against the contract's schema,
  or HTTP 500 with an ``s:Client`` fault (the lock conflict's with a valid PwsFault detail);
- change nothing in the account's rows when it says Fail, is a fault, or is a read;
- leave the server answering: PwsGetClient with a valid ticket is Ok afterwards.

Examples: ``OPENPWS_FUZZ_EXAMPLES`` in total over the operations (default 300, derandomized, for
CI); a long run by hand: ``OPENPWS_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -q -n 2
tests/messages/test_fuzz.py`` (random, with hypothesis's example database), see bench/README.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from lxml import etree

from openpws.contract import compile_schema, load_contract, ns
from openpws.messages.operations import OPERATIONS
from openpws.services.permissions import ALL
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_user
from tests.contract_strategies import envelopes
from tests.inprocess import PWS_FAULT, RESULT_STATUSES, Captured, InProcess, captured_log, operation_names
from tests.member_order import first_misplaced
from tests.pws import Answer
from tests.tree import ref

OPERATION_NAMES = operation_names()
TOTAL = int(os.environ.get("OPENPWS_FUZZ_EXAMPLES") or 0)
LONG_RUN = TOTAL > 0
PER_OPERATION = max(1, -(-TOTAL // len(OPERATION_NAMES))) if LONG_RUN else 12

FUZZ = settings(
    max_examples=PER_OPERATION, deadline=None, derandomize=not LONG_RUN, print_blob=LONG_RUN,
    **({} if LONG_RUN else {"database": None}),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example, HealthCheck.filter_too_much],
)
SCHEMA = compile_schema()


@dataclass
class Target:
    app: InProcess
    viewer_ticket: str
    log: Captured


@pytest.fixture
def target(store: Store, account: AccountFixture) -> Iterator[Target]:
    other = f"other@{account.code}"
    make_user(store, account.code, other, ALL, reference_id="E3")
    app = InProcess(store, account)
    try:
        app.seed(other_user=other)
        with captured_log() as log:
            yield Target(app, app.login(account.viewer), log)
    finally:
        app.close()


def check_answer(operation: str, answer: Answer) -> str:
    """The kind of a well-formed answer: its Status, or "fault"."""
    content = answer.content.decode()
    root = etree.fromstring(answer.content)
    assert root.tag == ns.qname(ns.SOAP_ENV, "Envelope"), content
    if answer.status_code == 200:
        wrapper = answer.result.getparent()
        assert wrapper.tag == load_contract().operations[operation].output_element, content
        SCHEMA.assertValid(wrapper)
        assert answer.status in RESULT_STATUSES, content
        return answer.status
    assert answer.status_code == 500, content
    assert answer.faultcode == "s:Client", content  # s:Server "internal error" is always a bug
    assert answer.faultstring and "Traceback" not in content, content
    detail = answer.find("s:Body/s:Fault/detail")
    if detail is not None:
        assert [child.tag for child in detail] == [PWS_FAULT], content
        SCHEMA.assertValid(detail[0])
    return "fault"


def check_order(body: bytes, answer: Answer, kind: str, lenient: bool) -> None:
    """Strict reading refuses exactly the requests production would misread, and names the member."""
    misplaced = first_misplaced(body)
    about_order = kind == "fault" and " comes after " in answer.faultstring
    if lenient:
        assert not about_order, answer.faultstring
    elif misplaced is not None:
        assert kind == "fault", f"{misplaced} is out of order, but the request was answered {kind}"
    if about_order:
        assert misplaced is not None and answer.faultstring.startswith(f"Element {misplaced} comes after"), (
            misplaced, answer.faultstring)


@pytest.mark.parametrize("operation", OPERATION_NAMES)
@FUZZ
@given(data=st.data())
def test_every_request_is_answered_in_the_contract_and_a_failure_changes_nothing(
        target: Target, operation: str, data: st.DataObject) -> None:
    app = target.app
    if not app.has_live_role():  # the fuzzer deleted the tree: grow another to aim at
        app.seed()
    fuzzed = data.draw(envelopes(operation, app.pools((target.viewer_ticket,))), label="request")
    lenient = data.draw(st.booleans(), label="lenient member order")
    note(f"SOAPAction {fuzzed.soap_action!r}; body {fuzzed.body[:4000]!r}")
    before = app.fingerprint()
    answer = app.handle(fuzzed.body, fuzzed.soap_action, lenient=lenient)
    note(f"answer {answer.status_code}: {answer.content[:4000]!r}")
    assert target.log.take() == []
    kind = check_answer(operation, answer)
    check_order(fuzzed.body, answer, kind, lenient)
    event(f"{kind} {[m['AdditionalErrorText'][:60] for m in answer.messages()][:1] if kind != 'fault' else answer.faultstring[:160]}")
    if kind in ("Fail", "FailSessionInvalid", "fault") or not OPERATIONS[operation].write:
        assert app.fingerprint() == before, f"{operation} answered {kind} but changed the account's rows"

    # The server still answers, and with the same session (unless the request ended it).
    if operation == "PwsUnauthenticate" and kind == "Ok":
        app.ticket = app.login(app.account.admin)
    client = (app.pools().text_pool("ClientNumber") or ["C000001"])[0]
    still = app.call("PwsGetClient", f"<req:ClientIdentities><com:PwsClientRef>{ref('Client', client)}"
                                     "</com:PwsClientRef></req:ClientIdentities>")
    assert still.status in ("Ok", "OkWithWarnings"), still.content
    assert target.log.take() == []

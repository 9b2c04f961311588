"""Requests decoded at the wire edge into the typed values services take: refs as keys, person
and stage refs as their keys, timestamps as row versions, flags and modes."""

from __future__ import annotations

from typing import Any

import pytest

from openpws import errors
from openpws.contract import load_contract
from openpws.contract.record import Record
from openpws.messages import clients, deletes, engagements, locks, roles
from openpws.messages.operations import OPERATIONS
from openpws.messages.tokens import decode_rowversion, encode_rowversion, stamp
from openpws.services.checks import Stamp
from openpws.services.refs import Key, PersonKey, StageKey
from openpws.soap.dispatch import Dispatcher, Prepared
from tests.pws import envelope

DISPATCHER = Dispatcher(load_contract(), OPERATIONS, lambda *_: pytest.fail("nothing runs here"))
TICKET = "<req:SessionTicket>AAAAAAAAAAAAAAAAAAAAAA==</req:SessionTicket>"


def record(operation: str, members: str) -> Record:
    prepared = DISPATCHER.prepare(envelope(operation, TICKET + members), None)
    assert isinstance(prepared, Prepared), prepared
    return prepared.request


def test_row_version_tokens_round_trip_and_bad_ones_decode_to_nothing() -> None:
    assert encode_rowversion(0x0F8AEA2E) == "AAAAAA+K6i4=" and decode_rowversion("AAAAAA99vU0=") == 0x0F7DBD4D
    assert stamp(" AAAAAA99vU0= ") == Stamp(0x0F7DBD4D, " AAAAAA99vU0= ")
    assert stamp("not base64!") == Stamp(None, "not base64!")  # sent, so checked: it matches no row
    assert stamp("   ") is None and stamp(None) is None  # omitted or blank: no check


def test_a_role_save_decodes_to_typed_keys_stamps_and_flags() -> None:
    rq = record("PwsSaveProjectRole", (
        "<sch:EngagementTimestamp>AAAAAAAAAAk=</sch:EngagementTimestamp><sch:Mode>a</sch:Mode>"
        "<sch:ProjectIdentity><com:ProjectCode> P1 </com:ProjectCode></sch:ProjectIdentity>"
        "<sch:ProjectRole><com:ExternalSystemIdentifier>R-1</com:ExternalSystemIdentifier>"
        "<com:ResourceIdentity><com:ResourceReferenceSystemId>E7</com:ResourceReferenceSystemId></com:ResourceIdentity>"
        "<com:RoleName>Dev</com:RoleName><com:ProjectRoleTimestamp>AAAAAAAAAAc=</com:ProjectRoleTimestamp>"
        "</sch:ProjectRole><sch:StealLockFlag>true</sch:StealLockFlag><sch:FullDetailFlag>true</sch:FullDetailFlag>"
        "<sch:RetrievalMode>E</sch:RetrievalMode>"))
    save = roles.decode_save(rq)
    changes = save.changes
    assert changes.key == Key("R-1", None) and changes.project == Key("P1", None) and changes.mode == "A"
    assert changes.resource == PersonKey(None, "E7", None) and changes.name == "Dev"
    assert changes.role_timestamp == Stamp(7, "AAAAAAAAAAc=") and changes.engagement_timestamp == Stamp(9, "AAAAAAAAAAk=")
    assert save.retrieval_mode == "E" and save.assertion.steal_flag and not save.make_unique


def test_a_role_save_without_full_detail_asks_for_no_view_and_an_empty_resource_sets_nothing() -> None:
    rq = record("PwsSaveProjectRole", "<sch:Mode>R</sch:Mode><sch:ProjectRole><com:ResourceIdentity/>"
                                      "<com:RoleName>Dev</com:RoleName></sch:ProjectRole>")
    save = roles.decode_save(rq)
    assert save.retrieval_mode is None and save.changes.resource is None and save.changes.project is None


def test_a_mode_outside_its_values_is_the_documented_enumeration_error() -> None:
    with pytest.raises(errors.PwsError) as raised:
        roles.decode_save(record("PwsSaveProjectRole", "<sch:Mode>E</sch:Mode><sch:ProjectRole/>"))
    assert [m.entry for m in raised.value.messages] == [errors.INVALID_ENUMERATION_VALUE]


def test_engagement_refs_stages_managers_and_both_timestamps() -> None:
    rq = record("PwsSaveEngagement", (
        "<sch:Engagement><com:EngagementCode>E1</com:EngagementCode>"
        "<com:ClientIdentity><com:ClientUid>1152921504606846977</com:ClientUid></com:ClientIdentity>"
        "<com:EngagementStageIdentity><com:EngagementStageShortName>CL</com:EngagementStageShortName>"
        "</com:EngagementStageIdentity><com:ManagerIdentity><com:UserDisplayName>Pat</com:UserDisplayName>"
        "</com:ManagerIdentity><com:EngagementTimestamp>AAAAAAAAAAE=</com:EngagementTimestamp></sch:Engagement>"
        "<sch:EngagementTimestamp>AAAAAAAAAAI=</sch:EngagementTimestamp>"))
    changes = engagements.decode_save(rq).changes
    assert changes.client == Key(None, 2**60 + 1)  # an Int64 Uid stays exact
    assert changes.stage == StageKey(None, "CL", None) and changes.manager == PersonKey("Pat", None, None)
    assert changes.timestamps == (Stamp(1, "AAAAAAAAAAE="), Stamp(2, "AAAAAAAAAAI="))


@pytest.mark.parametrize(("members", "expected"), [
    ("", None),  # absent: nothing to resolve
    ("<sch:Engagement><com:ClientIdentity/></sch:Engagement>", None),  # empty: sets nothing either
])
def test_an_engagement_client_ref_that_holds_nothing_is_not_sent(members: str, expected: Any) -> None:
    rq = record("PwsSaveEngagement", members or "<sch:Engagement><com:EngagementName>x</com:EngagementName>"
                                                "</sch:Engagement>")
    assert engagements.decode_save(rq).changes.client == expected


def test_list_queries_trim_their_text_and_read_since_as_naive_utc() -> None:
    rq = record("PwsGetClientList", "<req:MaxRowsToReturn>5</req:MaxRowsToReturn>"
                                    "<req:QueryString>  acme </req:QueryString>"
                                    "<req:LastUpdatedSinceTimestamp>2024-01-01T02:00:00+02:00</req:LastUpdatedSinceTimestamp>")
    query = clients.decode_list(rq)
    assert query.query == "acme" and query.max_rows == 5 and not query.include_hidden
    assert query.updated_since is not None and query.updated_since.tzinfo is None


def test_delete_flags_and_lock_members() -> None:
    rq = record("PwsDeleteProject", (
        "<sch:CascadeDeleteFlag>true</sch:CascadeDeleteFlag><sch:ProjectIdentity><com:ProjectCode>P1</com:ProjectCode>"
        "</sch:ProjectIdentity><sch:ProjectorLockSetId>12</sch:ProjectorLockSetId>"))
    order = deletes.decode_project(rq)
    assert order.key == Key("P1", None) and order.cascade and not order.delete_empty_engagement
    assert order.assertion.lock_set_id == 12 and order.project_timestamp is None


def test_lock_requests_keep_their_type_keys_and_entity_timestamps() -> None:
    rq = record("PwsAcquireProjectorLocks", (
        "<req:LockDurationSeconds>60</req:LockDurationSeconds><req:Locks><com:PwsProjectorLockRequest>"
        "<com:EntityIdentity><com:EntityCode> E1 </com:EntityCode><com:LockType>e</com:LockType></com:EntityIdentity>"
        "<com:EntityTimestamp>AAAAAAAAAAM=</com:EntityTimestamp></com:PwsProjectorLockRequest></req:Locks>"))
    acquire = locks.decode_acquire(rq)
    assert acquire.seconds == 60 and len(acquire.requests) == 1
    request = acquire.requests[0]
    assert (request.lock_type, request.key, request.timestamp) == ("e", Key("E1", None), Stamp(3, "AAAAAAAAAAM="))

"""PwsGetEngagement, PwsGetEngagementList, PwsSaveEngagement."""

from __future__ import annotations

from openpws.contract.record import Record
from openpws.messages.call import Call, Reply


def PwsGetEngagement(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsGetEngagement")


def PwsGetEngagementList(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsGetEngagementList")


def PwsSaveEngagement(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsSaveEngagement")

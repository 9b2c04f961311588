"""PwsGetProject, PwsGetProjectList, PwsSaveProject."""

from __future__ import annotations

from openpws.contract.record import Record
from openpws.messages.call import Call, Reply


def PwsGetProject(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsGetProject")


def PwsGetProjectList(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsGetProjectList")


def PwsSaveProject(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsSaveProject")

"""PwsDeleteClient, PwsDeleteEngagement, PwsDeleteProject, PwsDeleteProjectRole and
PwsUndeleteProjectRole."""

from __future__ import annotations

from openpws.contract.record import Record
from openpws.messages.call import Call, Reply


def PwsDeleteClient(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsDeleteClient")


def PwsDeleteEngagement(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsDeleteEngagement")


def PwsDeleteProject(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsDeleteProject")


def PwsDeleteProjectRole(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsDeleteProjectRole")


def PwsUndeleteProjectRole(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsUndeleteProjectRole")

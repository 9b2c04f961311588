"""PwsCreateInvoice, PwsGetInvoice."""

from __future__ import annotations

from openpws.contract.record import Record
from openpws.messages.call import Call, Reply


def PwsCreateInvoice(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsCreateInvoice")


def PwsGetInvoice(call: Call, rq: Record) -> Reply:
    raise NotImplementedError("PwsGetInvoice")

"""The decoded form of a complex request value."""

from __future__ import annotations

from typing import Any

from openpws.contract.schema import ComplexType


class Record(dict[str, Any]):
    """Wire member names to decoded values (absent when omitted or nil), with the contract type
    they were decoded as, so that an error can name a member's qualified name."""

    __slots__ = ("ctype",)

    def __init__(self, ctype: ComplexType) -> None:
        super().__init__()
        self.ctype = ctype

    def qname_of(self, name: str) -> str:
        return self.ctype.by_name[name].qname

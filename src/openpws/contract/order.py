"""Production's member order: ``member-order.json`` read against the type table.

Production's contract orders the members of a type the way WCF's DataContractSerializer does: the
base type's members first, then the type's first version's members alphabetically, then each
later version's additions. The wiki's format lists give that order, and the XSD files follow it;
the data file records, per type, the order and the page it comes from (``source``), or no source
when no page gives one and the XSD keeps WCF's alphabetical default. ``guessed`` names members of
a documented type whose place no page gives (the tail of a list every stored copy cuts off, or a
member openpws adds).

WCF reads a sequence in order and skips a member that comes after one that follows it in that
order: a client that sends members out of order loses data in production without an error. Strict
reading (``checked_positions``) holds requests to the order of every member whose place is
documented; members whose place is a guess are read wherever they come.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from openpws.contract.schema import ComplexType, ContractError, TypeTable

# Complex type (Clark name) -> member name -> its position among the type's members (base's first).
Positions = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class TypeOrder:
    """One entry of ``member-order.json``: a type's own members in production's order."""

    name: str  # Clark notation
    members: tuple[str, ...]
    source: str | None  # the wiki page the order comes from; None when it is the alphabetical default
    guessed: frozenset[str]  # members of a documented type whose place no source gives

    @property
    def documented(self) -> bool:
        return self.source is not None


def read_member_order(data: bytes, types: TypeTable) -> dict[str, TypeOrder]:
    """The entries of ``member-order.json`` by Clark name, each checked against the XSD's type:
    the same members in the same order, and an entry for every named type."""
    named = {name: ctype for name, ctype in types.complex_types.items() if ctype.named}
    by_local: dict[str, list[str]] = {}
    for name in named:
        by_local.setdefault(name.rpartition("}")[2], []).append(name)
    orders: dict[str, TypeOrder] = {}
    for key, entry in json.loads(data).items():
        # A name two namespaces define is keyed "{namespace}Name"; any other by its local name.
        candidates = [key] if key.startswith("{") else by_local.get(key, [])
        if len(candidates) != 1 or candidates[0] not in named:
            raise ContractError(f"member-order.json: {key} names no single complex type of the contract")
        ctype = named[candidates[0]]
        members = tuple(entry["members"])
        if members != ctype.declared:
            raise ContractError(f"member-order.json: {key} lists {', '.join(members) or 'no members'}; "
                                f"the XSD has {', '.join(ctype.declared) or 'none'}")
        guessed = frozenset(entry.get("guessed", ()))
        if not guessed <= set(members):
            raise ContractError(f"member-order.json: {key} guesses members it does not have")
        orders[ctype.name] = TypeOrder(ctype.name, members, entry["source"], guessed)
    missing = sorted(set(named) - set(orders))
    if missing:
        raise ContractError(f"member-order.json has no entry for {', '.join(missing)}")
    return orders


def checked_positions(types: TypeTable, orders: Mapping[str, TypeOrder]) -> dict[str, dict[str, int]]:
    """Per complex type, the position of each member whose place production's order documents:
    what strict reading holds a request to. Types with fewer than two such members are left out
    (nothing to check)."""
    positions: dict[str, dict[str, int]] = {}
    for ctype in types.complex_types.values():
        checked: set[str] = set()
        for level in _chain(ctype, types):
            order = orders.get(level.name)
            if order is not None and order.documented:
                checked.update(name for name in order.members if name not in order.guessed)
        found = {member.name: index for index, member in enumerate(ctype.members) if member.name in checked}
        if len(found) > 1:
            positions[ctype.name] = found
    return positions


def _chain(ctype: ComplexType, types: TypeTable) -> list[ComplexType]:
    chain = [ctype]
    while chain[-1].base is not None:
        chain.append(types.complex(chain[-1].base))
    return chain

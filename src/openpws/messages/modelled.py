"""Which members of a request openpws accepts without modelling them, and which of those a request
sent: what the X-Openpws-Not-Modelled header of its response names.

Each operation's binding declares its own (``Binding.not_modelled``, paths of wire names). On top of
those, in every operation, the internal Int32 ``…Id`` member of every reference (ClientId beside
ClientUid, ResourceId beside ResourceUid, …) is not modelled either: openpws names entities by code
and Uid only. Those paths are read off the contract, so no operation has to list them.

A member counts as sent when it holds a value: omitted and ``i:nil`` members read as absent (a
generated client sends nil for every member it was not given a value for). The declarations are
turned into one tree per operation when the server starts, so a request pays one dictionary
look-up per member it sent, at each level it sent members in. Members are named in the order sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from openpws.contract import Contract
from openpws.contract.record import Record
from openpws.contract.schema import ComplexType, TypeTable
from openpws.messages.binding import Binding

# A step of a path: its member name, and the steps below it (None: the path ends here).
Tree = dict[str, "Tree | None"]


class UnknownMember(ValueError):
    """A declared path names no member of the operation's request type: the server refuses to start."""


def _item_type(types: TypeTable, type_name: str) -> ComplexType | None:
    """The complex type a step lands on: an array's item type for an ArrayOf…, None for a simple type."""
    ctype = types.complex_types.get(type_name)
    if ctype is not None and ctype.is_array:
        return types.complex_types.get(ctype.members[0].type_name)
    return ctype


def check_path(types: TypeTable, request_type: ComplexType, path: str) -> None:
    ctype: ComplexType | None = request_type
    for step in path.split("/"):
        member = ctype.by_name.get(step) if ctype is not None else None
        if member is None:
            raise UnknownMember(f"{path}: {request_type.name} has no member {step} there")
        ctype = _item_type(types, member.type_name)


def internal_ids(types: TypeTable, ctype: ComplexType, prefix: str = "",
                 seen: frozenset[str] = frozenset()) -> list[str]:
    """Paths of the Int32 ``XId`` members that sit beside an ``XUid`` (the internal ids of refs)."""
    found: list[str] = []
    names = ctype.by_name
    for member in ctype.members:
        if member.is_builtin:
            if (member.builtin == "int" and member.name.endswith("Id")
                    and member.name[:-2] + "Uid" in names):
                found.append(prefix + member.name)
            continue
        below = _item_type(types, member.type_name)
        if below is not None and below.name not in seen:
            found += internal_ids(types, below, f"{prefix}{member.name}/", seen | {ctype.name})
    return found


def _tree(paths: Iterable[str]) -> Tree:
    tree: Tree = {}
    for path in paths:
        node = tree
        *parents, last = path.split("/")
        for step in parents:
            child = node.setdefault(step, {})
            if child is None:  # a longer path under one already declared whole adds nothing
                break
            node = child
        else:
            node[last] = None
    return tree


_NOT_DECLARED: Tree = {}


def _walk(tree: Tree, value: Mapping[str, Any], prefix: str, found: list[str]) -> None:
    # A request sends a few members and an operation may declare dozens: walk what was sent.
    for name, sent in value.items():
        below = tree.get(name, _NOT_DECLARED)
        if below is _NOT_DECLARED or sent is None:
            continue
        if below is None:
            found.append(prefix + name)
            continue
        for item in sent if isinstance(sent, list) else (sent,):
            if isinstance(item, Mapping):
                _walk(below, item, f"{prefix}{name}/", found)


class NotModelled:
    """The not-modelled members of every operation of the contract."""

    def __init__(self, contract: Contract, bindings: Mapping[str, Binding[Any, Any]]) -> None:
        self.paths: dict[str, tuple[str, ...]] = {}
        self._trees: dict[str, Tree] = {}
        for name, binding in bindings.items():
            request_type = contract.types.complex(contract.operations[name].request_type)
            for path in binding.not_modelled:
                check_path(contract.types, request_type, path)
            paths = (*binding.not_modelled, *internal_ids(contract.types, request_type))
            self.paths[name] = paths
            self._trees[name] = _tree(paths)

    def sent(self, operation: str, request: Record) -> tuple[str, ...]:
        """The not-modelled members ``request`` holds a value for, each path once."""
        tree = self._trees.get(operation)
        if not tree:
            return ()
        found: list[str] = []
        _walk(tree, request, "", found)
        return tuple(dict.fromkeys(found)) if len(found) > 1 else tuple(found)

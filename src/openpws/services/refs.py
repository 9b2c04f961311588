"""Resolving the Ref structures of requests to rows of the caller's account.

A ref names an entity by its code (ClientNumber, EngagementCode, ContractLineItemCode, ProjectCode,
or a role's ExternalSystemIdentifier) and/or its Uid. Both given must name the same entity. No usable key
is the entity's NotSpecified error; keys that name nothing, or two different entities, are its
NotFound error with the keys in AdditionalErrorText. Only the caller's account is searched, so an
identifier of another account never resolves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import (
    ClientRow,
    ContractLineItemRow,
    EngagementRow,
    InvoiceRow,
    PersonRow,
    ProjectRow,
    RoleRow,
    StageRow,
)
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import clients as client_store
from openpws.store import schema
from openpws.store import stages as stage_store
from openpws.store.lookups import ByCodeOrUid


class _HasId(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def uid(self) -> int: ...


R = TypeVar("R", bound=_HasId)

MAX_IDENTITIES = 100  # refs one bulk get takes


@dataclass(frozen=True)
class Key:
    """A ref as sent: either key may be missing."""

    code: str | None
    uid: int | None

    @property
    def given(self) -> bool:
        return bool(self.code) or self.uid is not None


@dataclass(frozen=True)
class PersonKey:
    """A PwsUserRef or PwsResourceRef as sent: every key given must name the same single user."""

    display_name: str | None
    reference_id: str | None
    uid: int | None

    @property
    def given(self) -> bool:
        return self.display_name is not None or self.reference_id is not None or self.uid is not None


@dataclass(frozen=True)
class StageKey:
    """A PwsEngagementStageRef or PwsProjectStageRef as sent."""

    name: str | None
    short_name: str | None
    uid: int | None


@dataclass(frozen=True)
class RefKind(Generic[R]):
    """How one entity's refs are resolved: the names its keys go by in messages, its errors, and
    the look-up of its rows by code and by Uid."""

    ref_type: str
    code_member: str
    uid_member: str
    not_specified: errors.Entry
    not_found: errors.Entry
    lookup: ByCodeOrUid[R]
    code_field: str  # the row field holding the code as written

    def describe(self, key: Key) -> str:
        parts = ((self.code_member, key.code), (self.uid_member, key.uid))
        return ", ".join(f"{name}={value}" for name, value in parts if value is not None) or "(no key)"

    def find_all(self, tx: Connection, caller: Caller, keys: Sequence[Key]) -> list[R | None]:
        """The entity each key names (None where it names none, or its two keys name different
        entities), with at most two queries however many keys there are."""
        codes = sorted({k.code.upper() for k in keys if k.code})
        uids = sorted({k.uid for k in keys if k.uid is not None})
        by_code = {self._code_of(r): r for r in self.lookup.by_codes(tx, caller.account_id, codes)}
        by_uid = {r.uid: r for r in self.lookup.by_uids(tx, caller.account_id, uids)}
        found: list[R | None] = []
        for key in keys:
            coded = by_code.get(key.code.upper()) if key.code else None
            numbered = by_uid.get(key.uid) if key.uid is not None else None
            if key.code and key.uid is not None:
                found.append(coded if coded is not None and numbered is not None and coded.id == numbered.id else None)
            else:
                found.append(coded or numbered)
        return found

    def _code_of(self, row: R) -> str:
        return str(getattr(row, self.code_field)).upper()

    def find(self, tx: Connection, caller: Caller, key: Key) -> R | None:
        return self.find_all(tx, caller, [key])[0] if key.given else None

    def resolve(self, tx: Connection, caller: Caller, key: Key | None) -> R:
        if key is None or not key.given:
            raise errors.fail(self.not_specified)
        row = self.find(tx, caller, key)
        if row is None:
            raise errors.fail(self.not_found, self.describe(key), entity=self.ref_type)
        return row

    def code_to_store(self, tx: Connection, caller: Caller, row: R | None, key: Key, renamed: str | None,
                      label: str) -> str | None:
        """The code a save writes: the New…Code sent, or on insert the code that named no entity;
        None to keep the current one. A code another entity holds is 990005 DuplicateCode."""
        code = renamed or (key.code if row is None else None)
        if code is None or (row is not None and code.upper() == self._code_of(row)):
            return None
        account_store.lock_numbering(tx, caller.account_id)
        if self.find(tx, caller, Key(code, None)) is not None:
            raise errors.fail(errors.DUPLICATE_CODE, code, field=label, value=code, entity=label.rpartition(" ")[0])
        return code

    def next_free_code(self, tx: Connection, caller: Caller, prefix: str, start: int) -> str:
        """The first ``<prefix>NNNNNN`` from ``start`` up that no entity of this kind holds, under the
        account's numbering lock (C000001… for clients, E000001… for engagements)."""
        account_store.lock_numbering(tx, caller.account_id)
        candidate = start
        while self.find(tx, caller, Key(f"{prefix}{candidate:06d}", None)) is not None:
            candidate += 1
        return f"{prefix}{candidate:06d}"

    def get_many(self, tx: Connection, caller: Caller, keys: Sequence[Key], *, none: errors.Entry,
                 too_many: errors.Entry) -> tuple[list[R], list[errors.Message]]:
        """A bulk get's 1..100 refs: the entities found in request order, and one warning 105
        AtLeastOneItemNotFound listing the refs that named none."""
        if not keys:
            raise errors.fail(none)
        if len(keys) > MAX_IDENTITIES:
            raise errors.fail(too_many, f"{len(keys)} were sent", maximum=MAX_IDENTITIES)
        rows = self.find_all(tx, caller, keys)
        missing = [self.describe(key) for key, row in zip(keys, rows, strict=True) if row is None]
        warnings = [errors.message(errors.AT_LEAST_ONE_ITEM_NOT_FOUND, "; ".join(missing))] if missing else []
        return [row for row in rows if row is not None], warnings


CLIENT: RefKind[ClientRow] = RefKind(
    "PwsClientRef", "ClientNumber", "ClientUid", errors.CLIENT_NOT_SPECIFIED, errors.ENTITY_NOT_FOUND,
    ByCodeOrUid(schema.clients, ClientRow, "number_key"), "number")
ENGAGEMENT: RefKind[EngagementRow] = RefKind(
    "PwsEngagementRef", "EngagementCode", "EngagementUid", errors.ENGAGEMENT_NOT_SPECIFIED,
    errors.ENGAGEMENT_NOT_FOUND, ByCodeOrUid(schema.engagements, EngagementRow, "code_key"), "code")
CONTRACT_LINE_ITEM: RefKind[ContractLineItemRow] = RefKind(
    "PwsContractLineItemRef", "ContractLineItemCode", "ContractLineItemUid", errors.CONTRACT_LINE_ITEM_NOT_SPECIFIED,
    errors.ENTITY_NOT_FOUND, ByCodeOrUid(schema.contract_line_items, ContractLineItemRow, "code_key"), "code")
PROJECT: RefKind[ProjectRow] = RefKind(
    "PwsProjectRef", "ProjectCode", "ProjectUid", errors.PROJECT_NOT_SPECIFIED,
    errors.ENTITY_NOT_FOUND, ByCodeOrUid(schema.projects, ProjectRow, "code_key"), "code")
ROLE: RefKind[RoleRow] = RefKind(
    "PwsProjectRoleRef", "ExternalSystemIdentifier", "ProjectRoleUid", errors.PROJECT_ROLE_NOT_SPECIFIED,
    errors.PROJECT_ROLE_NOT_FOUND, ByCodeOrUid(schema.project_roles, RoleRow, "external_key"), "external_id")
# No NotSpecified code is documented for invoices: a ref without keys is not found like any other.
# Draft numbers are stored upper-cased, so the number column is its own key.
INVOICE: RefKind[InvoiceRow] = RefKind(
    "PwsInvoiceRef", "InvoiceNumber", "InvoiceUid", errors.ENTITY_NOT_FOUND, errors.ENTITY_NOT_FOUND,
    ByCodeOrUid(schema.invoices, InvoiceRow, "draft_number"), "draft_number")


def lock_client(tx: Connection, caller: Caller, client: ClientRow) -> ClientRow:
    """``client``, row-locked until commit, so that a PwsDeleteClient cannot remove it while this
    request hangs something on it (an engagement, a child client); 50024 when one already did."""
    found = client_store.lock(tx, client.id)
    if found is None:
        raise errors.fail(errors.ENTITY_NOT_FOUND, f"ClientNumber={client.number} (deleted meanwhile)",
                          entity=CLIENT.ref_type)
    return found


def person(tx: Connection, caller: Caller, key: PersonKey, ref_type: str) -> PersonRow:
    """The user a PwsUserRef or PwsResourceRef (``ref_type``) names: every key given (display
    name, reference system id, Uid) must name the same single user."""
    if not key.given:
        raise errors.fail(errors.ENTITY_NOT_FOUND, "(no key)", entity=ref_type)
    found = account_store.find_people(tx, caller.account_id, display_name=key.display_name,
                                      reference_id=key.reference_id, uid=key.uid)
    if len(found) != 1:
        shown = ", ".join(f"{k}={v}" for k, v in (("DisplayName", key.display_name),
                                                   ("ReferenceSystemId", key.reference_id),
                                                   ("Uid", key.uid)) if v is not None)
        raise errors.fail(errors.ENTITY_NOT_FOUND, shown + (" (more than one user)" if found else ""),
                          entity=ref_type)
    return found[0]


def stage(tx: Connection, caller: Caller, kind: str, key: StageKey | None) -> StageRow:
    """The stage a PwsEngagementStageRef (kind "E") or PwsProjectStageRef (kind "P") names; no
    ref, or one with no key, is the account's first stage of that kind (Open)."""
    candidates = stage_store.of_kind(tx, caller.account_id, kind)
    if key is None or key == StageKey(None, None, None):
        return candidates[0]
    name, short, uid = key.name, key.short_name, key.uid
    matching = [s for s in candidates
                if (name is None or s.name.lower() == name.lower())
                and (short is None or s.short_name.lower() == short.lower())
                and (uid is None or s.uid == uid)]
    if len(matching) != 1:
        shown = ", ".join(f"{k}={v}" for k, v in (("Name", name), ("ShortName", short), ("Uid", uid)) if v is not None)
        prefix = "EngagementStage" if kind == "E" else "ProjectStage"
        raise errors.fail(errors.ENTITY_NOT_FOUND, shown, entity=f"Pws{prefix}Ref")
    return matching[0]

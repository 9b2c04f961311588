"""Resolving the Ref structures of requests to rows of the caller's account.

A ref names an entity by its code (ClientNumber, EngagementCode, ProjectCode, or a role's
ExternalSystemIdentifier) and/or its Uid. Both given must name the same entity. No usable key
is the entity's NotSpecified error; keys that name nothing, or two different entities, are its
NotFound error with the keys in AdditionalErrorText. Only the caller's account is searched, so an
identifier of another account never resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection

from openpws import errors
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import engagements as engagement_store
from openpws.store import projects as project_store
from openpws.store import roles as role_store
from openpws.store import stages as stage_store
from openpws.store.accounts import PersonRow
from openpws.store.engagements import EngagementRow
from openpws.store.projects import ProjectRow
from openpws.store.roles import RoleRow
from openpws.store.stages import StageRow


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=_HasId)


@dataclass(frozen=True)
class Key:
    """A ref as sent: either key may be missing."""

    code: str | None
    uid: int | None

    @property
    def given(self) -> bool:
        return bool(self.code) or self.uid is not None


@dataclass(frozen=True)
class RefKind(Generic[R]):
    ref_type: str
    code_member: str
    uid_member: str
    not_specified: errors.Entry
    not_found: errors.Entry
    by_code: Callable[[Connection, int, str], R | None]
    by_uid: Callable[[Connection, int, int], R | None]

    def key(self, ref: Mapping[str, Any] | None) -> Key:
        ref = ref or {}
        code = (ref.get(self.code_member) or "").strip() or None
        return Key(code, ref.get(self.uid_member))

    def describe(self, key: Key) -> str:
        parts = ((self.code_member, key.code), (self.uid_member, key.uid))
        return ", ".join(f"{name}={value}" for name, value in parts if value is not None) or "(no key)"

    def find(self, tx: Connection, caller: Caller, key: Key) -> R | None:
        """The entity both keys name, or None (also when they name different entities)."""
        by_code = self.by_code(tx, caller.account_id, key.code) if key.code else None
        by_uid = self.by_uid(tx, caller.account_id, key.uid) if key.uid is not None else None
        if key.code and key.uid is not None:
            return by_code if by_code is not None and by_uid is not None and by_code.id == by_uid.id else None
        return by_code or by_uid

    def resolve(self, tx: Connection, caller: Caller, ref: Mapping[str, Any] | Key | None) -> R:
        key = ref if isinstance(ref, Key) else self.key(ref)
        if not key.given:
            raise errors.fail(self.not_specified)
        row = self.find(tx, caller, key)
        if row is None:
            raise errors.fail(self.not_found, self.describe(key), entity=self.ref_type)
        return row


ENGAGEMENT: RefKind[EngagementRow] = RefKind(
    "PwsEngagementRef", "EngagementCode", "EngagementUid", errors.ENGAGEMENT_NOT_SPECIFIED,
    errors.ENGAGEMENT_NOT_FOUND, engagement_store.by_code, engagement_store.by_uid)
PROJECT: RefKind[ProjectRow] = RefKind(
    "PwsProjectRef", "ProjectCode", "ProjectUid", errors.PROJECT_NOT_SPECIFIED,
    errors.ENTITY_NOT_FOUND, project_store.by_code, project_store.by_uid)
ROLE: RefKind[RoleRow] = RefKind(
    "PwsProjectRoleRef", "ExternalSystemIdentifier", "ProjectRoleUid", errors.PROJECT_ROLE_NOT_SPECIFIED,
    errors.PROJECT_ROLE_NOT_FOUND, role_store.by_external_id, role_store.by_uid)


def person(tx: Connection, caller: Caller, ref: Mapping[str, Any], prefix: str) -> PersonRow:
    """The user a PwsUserRef (prefix "User") or PwsResourceRef (prefix "Resource") names: every
    key given (display name, reference system id, Uid) must name the same single user."""
    display = (ref.get(f"{prefix}DisplayName") or "").strip() or None
    reference = (ref.get(f"{prefix}ReferenceSystemId") or "").strip() or None
    uid = ref.get(f"{prefix}Uid")
    ref_type = f"Pws{prefix}Ref"
    if display is None and reference is None and uid is None:
        raise errors.fail(errors.ENTITY_NOT_FOUND, "(no key)", entity=ref_type)
    found = account_store.find_people(tx, caller.account_id, display_name=display, reference_id=reference, uid=uid)
    if len(found) != 1:
        shown = ", ".join(f"{k}={v}" for k, v in (("DisplayName", display), ("ReferenceSystemId", reference),
                                                   ("Uid", uid)) if v is not None)
        raise errors.fail(errors.ENTITY_NOT_FOUND, shown + (" (more than one user)" if found else ""),
                          entity=ref_type)
    return found[0]


def stage(tx: Connection, caller: Caller, kind: str, ref: Mapping[str, Any] | None) -> StageRow:
    """The stage a PwsEngagementStageRef (kind "E") or PwsProjectStageRef (kind "P") names; no
    ref, or one with no key, is the account's first stage of that kind (Open)."""
    prefix = "EngagementStage" if kind == "E" else "ProjectStage"
    ref = ref or {}
    name = (ref.get(f"{prefix}Name") or "").strip() or None
    short = (ref.get(f"{prefix}ShortName") or "").strip() or None
    uid = ref.get(f"{prefix}Uid")
    candidates = stage_store.of_kind(tx, caller.account_id, kind)
    if name is None and short is None and uid is None:
        return candidates[0]
    matching = [s for s in candidates
                if (name is None or s.name.lower() == name.lower())
                and (short is None or s.short_name.lower() == short.lower())
                and (uid is None or s.uid == uid)]
    if len(matching) != 1:
        shown = ", ".join(f"{k}={v}" for k, v in (("Name", name), ("ShortName", short), ("Uid", uid)) if v is not None)
        raise errors.fail(errors.ENTITY_NOT_FOUND, shown, entity=f"Pws{prefix}Ref")
    return matching[0]

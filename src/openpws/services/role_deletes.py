"""Deleting and undeleting project roles (PwsDeleteProjectRole, PwsUndeleteProjectRole).

Rules (SPEC "Delete semantics", pws-core §4.4): a role delete is soft: the row stays, flagged
deleted, and PwsGetProject / PwsGetProjectRoles show it with IncludeDeletedRolesFlag. A role with
requested or booked hours is deleted only with ZeroOutHoursFlag (54074), which clears those hours
first. A deleted role is not found by the delete (54080); a live one cannot be undeleted (990073).
An undeleted role takes back its name, which must be unique among the project's live roles
(990016) unless MakeRoleNameUniqueFlag, which renames "X" to "X 2", "X 3", ….

Both are role writes of an engagement graph: the engagement row is locked, the lock guard runs over
the role, ProjectRoleTimestamp (and on delete EngagementTimestamp) are compared, and the role takes
a new row version while the engagement graph takes its next version. Deleting needs the
projects-delete permission, undeleting projects-update (50046 without it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import EngagementRow, ProjectRow, RoleRow
from openpws.services import locks, refs
from openpws.services.access import require
from openpws.services.checks import Stamp, check_timestamps
from openpws.services.context import Context
from openpws.services.deletes import locked_engagement
from openpws.services.locks import Assertion
from openpws.services.permissions import Permission
from openpws.services.refs import Key
from openpws.services.roles import ENTITY, ensure_live, unique_name
from openpws.services.sessions import Caller
from openpws.store import deletes as store
from openpws.store import engagements as engagement_store
from openpws.store import projects as project_store
from openpws.store import roles as role_store
from openpws.store.counters import next_rowversion


@dataclass(frozen=True)
class RoleDelete:
    """A PwsDeleteProjectRole request as sent."""

    key: Key
    zero_out_hours: bool
    role_timestamp: Stamp | None
    engagement_timestamp: Stamp | None
    assertion: Assertion


@dataclass(frozen=True)
class RoleUndelete:
    """A PwsUndeleteProjectRole request as sent."""

    key: Key
    make_name_unique: bool
    role_timestamp: Stamp | None
    assertion: Assertion


@dataclass(frozen=True)
class RoleWritten:
    row: RoleRow  # after the write
    engagement_version: int  # the new EngagementTimestamp
    stolen: locks.Stolen


@dataclass(frozen=True)
class _Locked:
    role: RoleRow
    project: ProjectRow
    engagement: EngagementRow


def _not_found(key: Key, why: str = "") -> errors.PwsError:
    return errors.fail(errors.PROJECT_ROLE_NOT_FOUND, refs.ROLE.describe(key) + why, entity=refs.ROLE.ref_type)


def _locked(tx: Connection, caller: Caller, key: Key) -> _Locked:
    """The role a ref names, read again once its engagement is locked (a writer that committed
    meanwhile is seen now)."""
    found = refs.ROLE.resolve(tx, caller, key)
    project = project_store.by_ids(tx, caller.account_id, {found.project_id}).get(found.project_id)
    if project is None:
        raise _not_found(key)
    engagement = locked_engagement(tx, caller, project.engagement_id, _not_found(key))
    role = role_store.by_ids(tx, caller.account_id, {found.id}).get(found.id)
    if role is None:
        raise _not_found(key)
    return _Locked(role, project, engagement)


def _write(tx: Connection, locked: _Locked, values: dict[str, Any],
           now: datetime) -> tuple[RoleRow, int]:
    values = {**values, "rowversion": next_rowversion(tx), "updated_at": now.astimezone(UTC).replace(tzinfo=None)}
    role_store.update_role(tx, locked.role.id, values)
    # The role and its engagement graph take the same new version: one write, one version.
    version = engagement_store.bump(tx, locked.engagement.id, now, version=values["rowversion"])
    return replace(locked.role, **values), version


def _scope(locked: _Locked) -> locks.Scope:
    return locks.scope_of_role(locked.engagement.id, locked.project.id, locked.role.id)


def delete_role(ctx: Context, order: RoleDelete) -> RoleWritten:
    """PwsDeleteProjectRole: flag the role deleted (with ZeroOutHoursFlag, clearing its hours first)."""
    tx, caller, now = ctx.tx, ctx.user, ctx.now
    require(caller, Permission.PROJECTS_DELETE)
    locked = _locked(tx, caller, order.key)
    role = ensure_live(locked.role, order.key)
    stolen = locks.guard(tx, caller, [_scope(locked)], order.assertion, now, graphs_locked=True)
    check_timestamps(ENTITY, f"role {refs.ROLE.describe(order.key)}", role.rowversion, order.role_timestamp)
    check_timestamps("engagement", f"engagement {locked.engagement.code}", locked.engagement.rowversion,
                     order.engagement_timestamp)
    if store.role_has_hours(tx, role.id):
        if not order.zero_out_hours:
            raise errors.fail(errors.ROLE_HAS_HOURS_BOOKED_OR_REQUESTED,
                              f"role {refs.ROLE.describe(order.key)}; send ZeroOutHoursFlag=true to clear them")
        store.delete_role_hours(tx, role.id)
    # A lock on a deleted role guards nothing any more.
    store.delete_role_locks(tx, caller.account_id, locked.engagement.id, role.id)
    row, version = _write(tx, locked, {"deleted": True}, now)
    return RoleWritten(row, version, stolen)


def undelete_role(ctx: Context, order: RoleUndelete) -> RoleWritten:
    """PwsUndeleteProjectRole: make a deleted role live again, under a name unique among the
    project's live roles."""
    tx, caller, now = ctx.tx, ctx.user, ctx.now
    require(caller, Permission.PROJECTS_UPDATE)
    locked = _locked(tx, caller, order.key)
    role = locked.role
    if not role.deleted:
        raise errors.fail(errors.PROJECT_ROLE_NOT_DELETED, f"role {refs.ROLE.describe(order.key)}")
    stolen = locks.guard(tx, caller, [_scope(locked)], order.assertion, now, graphs_locked=True)
    check_timestamps(ENTITY, f"role {refs.ROLE.describe(order.key)}", role.rowversion, order.role_timestamp)
    values: dict[str, Any] = {"deleted": False}
    taken = set(role_store.live_names(tx, caller.account_id, locked.project.id))
    if role.name.lower() in taken:
        if not order.make_name_unique:
            raise errors.fail(errors.DUPLICATE_ROLE_NAME, f"{role.name} on {locked.project.code}", name=role.name)
        values["name"] = unique_name(role.name, taken)
    row, version = _write(tx, locked, values, now)
    return RoleWritten(row, version, stolen)

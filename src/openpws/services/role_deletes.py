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
from datetime import UTC
from typing import Any

from openpws import errors
from openpws.entities import ProjectRow, RoleRow
from openpws.services import locks, refs
from openpws.services.access import require
from openpws.services.checks import Stamp
from openpws.services.context import Context
from openpws.services.graph_write import GraphWrite
from openpws.services.locks import Assertion
from openpws.services.permissions import Permission
from openpws.services.refs import Key
from openpws.services.roles import ENTITY, ensure_live, unique_name
from openpws.store import deletes as store
from openpws.store import projects as project_store
from openpws.store import roles as role_store


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
    unit: GraphWrite
    role: RoleRow
    project: ProjectRow


def _not_found(key: Key, why: str = "") -> errors.PwsError:
    return errors.fail(errors.PROJECT_ROLE_NOT_FOUND, refs.ROLE.describe(key) + why, entity=refs.ROLE.ref_type)


def _locked(ctx: Context, key: Key) -> _Locked:
    """The role a ref names, read again once its engagement graph is locked (a writer that
    committed meanwhile is seen now)."""
    found = refs.ROLE.resolve(ctx.tx, ctx.user, key)
    project = project_store.by_ids(ctx.tx, ctx.user.account_id, {found.project_id}).get(found.project_id)
    if project is None:
        raise _not_found(key)
    unit = GraphWrite.open(ctx, [project.engagement_id], _not_found(key))
    role = unit.reread(role_store.by_ids, found.id, _not_found(key))
    return _Locked(unit, role, project)


def _write(locked: _Locked, values: dict[str, Any]) -> tuple[RoleRow, int]:
    unit = locked.unit
    values = {**values, "rowversion": unit.version,
              "updated_at": unit.ctx.now.astimezone(UTC).replace(tzinfo=None)}
    role_store.update_role(unit.tx, locked.role.id, values)
    unit.note("role", "update", locked.role.id)
    return replace(locked.role, **values), unit.bump()


def _scope(locked: _Locked) -> locks.Scope:
    return locks.scope_of_role(locked.unit.engagement.id, locked.project.id, locked.role.id)


def delete_role(ctx: Context, order: RoleDelete) -> RoleWritten:
    """PwsDeleteProjectRole: flag the role deleted (with ZeroOutHoursFlag, clearing its hours first)."""
    tx, caller = ctx.tx, ctx.user
    require(caller, Permission.PROJECTS_DELETE)
    locked = _locked(ctx, order.key)
    unit = locked.unit
    role = ensure_live(locked.role, order.key)
    stolen = unit.guard([_scope(locked)], order.assertion)
    unit.check(ENTITY, f"role {refs.ROLE.describe(order.key)}", role.rowversion, order.role_timestamp)
    unit.check_engagement(order.engagement_timestamp)
    if store.role_has_hours(tx, role.id):
        if not order.zero_out_hours:
            raise errors.fail(errors.ROLE_HAS_HOURS_BOOKED_OR_REQUESTED,
                              f"role {refs.ROLE.describe(order.key)}; send ZeroOutHoursFlag=true to clear them")
        store.delete_role_hours(tx, role.id)
    # A lock on a deleted role guards nothing any more.
    store.delete_role_locks(tx, caller.account_id, unit.engagement.id, role.id)
    row, version = _write(locked, {"deleted": True})
    return RoleWritten(row, version, stolen)


def undelete_role(ctx: Context, order: RoleUndelete) -> RoleWritten:
    """PwsUndeleteProjectRole: make a deleted role live again, under a name unique among the
    project's live roles."""
    tx, caller = ctx.tx, ctx.user
    require(caller, Permission.PROJECTS_UPDATE)
    locked = _locked(ctx, order.key)
    unit, role = locked.unit, locked.role
    if not role.deleted:
        raise errors.fail(errors.PROJECT_ROLE_NOT_DELETED, f"role {refs.ROLE.describe(order.key)}")
    stolen = unit.guard([_scope(locked)], order.assertion)
    unit.check(ENTITY, f"role {refs.ROLE.describe(order.key)}", role.rowversion, order.role_timestamp)
    values: dict[str, Any] = {"deleted": False}
    taken = set(role_store.live_names(tx, caller.account_id, locked.project.id))
    if role.name.lower() in taken:
        if not order.make_name_unique:
            raise errors.fail(errors.DUPLICATE_ROLE_NAME, f"{role.name} on {locked.project.code}", name=role.name)
        values["name"] = unique_name(role.name, taken)
    row, version = _write(locked, values)
    return RoleWritten(row, version, stolen)

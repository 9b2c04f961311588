"""Project roles: saving one role (PwsSaveProjectRole) and reading the roles of projects
(PwsGetProjectRoles).

Rules (pws-entities §7): a role is named by its ExternalSystemIdentifier (ESI) and/or Uid; a
detail naming no role inserts one (an ESI not in use becomes the new role's ESI), a Uid naming
nothing is 54080. ProjectIdentity and RoleName are required on insert; on update the project may
be sent but must be the role's own (roles never move). RoleName is unique, case-insensitively,
among the project's live roles, or made unique with a " 2", " 3", … suffix on request. The ESI is
unique in the account and, once set, can only change to another non-empty value. The Mode says
which side a ResourceIdentity sets: R the requested resource, A the booked one. Every save
locks the engagement first, takes the next row version and bumps the engagement graph version.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import ProjectRow, RoleRow
from openpws.services import locks, refs
from openpws.services.access import require
from openpws.services.checks import Stamp, check_date_range, check_length, naive_utc, stored_length
from openpws.services.context import Context
from openpws.services.graph_write import GraphWrite
from openpws.services.permissions import Permission
from openpws.services.refs import Key, PersonKey
from openpws.services.role_views import RoleView, role_views
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import projects as project_store
from openpws.store import roles as role_store
from openpws.store.counters import next_uid

NAME_LENGTH = 50
LIMITS = {"RoleName": NAME_LENGTH, "Description": 255, "ExternalSystemIdentifier": 50,
          "NewExternalSystemIdentifier": 50}
# Kept case-folded too, as their keys: the name lower-cased, the identifier upper-cased.
KEYED = ("RoleName", "ExternalSystemIdentifier", "NewExternalSystemIdentifier")
SCHEDULING_MODES = ("D", "W")
DEFAULT_SCHEDULING_MODE = "W"
ENTITY = "project role"


@dataclass(frozen=True)
class RoleChanges:
    """The modelled members of a PwsSaveProjectRole request, as sent (None = not sent)."""

    key: Key  # the detail's ExternalSystemIdentifier / ProjectRoleUid
    project: Key | None  # the request's ProjectIdentity
    mode: str  # R: ResourceIdentity is the requested resource; A: the booked one
    name: str | None
    new_external_id: str | None  # "" (sent empty) asks to clear, which is refused once set
    description: str | None
    resource: PersonKey | None  # None also when sent without a member
    start_date: datetime | None
    end_date: datetime | None
    scheduling_mode: str | None
    role_timestamp: Stamp | None
    engagement_timestamp: Stamp | None


@dataclass(frozen=True)
class RoleClears:
    """The clear flags openpws models (each true one nulls its member, whatever value is sent)."""

    description: bool = False
    resource: bool = False
    start_date: bool = False
    end_date: bool = False


@dataclass(frozen=True)
class SaveRole:
    changes: RoleChanges
    clears: RoleClears
    make_unique: bool
    assertion: locks.Assertion
    retrieval_mode: str | None  # with FullDetailFlag: the Mode the saved role is shown in
    exclude_read_notes: bool = False  # ExcludeReadNotesFlag: the detail leaves out notes the caller has read


@dataclass(frozen=True)
class SavedRole:
    row: RoleRow
    engagement_version: int  # the new EngagementTimestamp
    stolen: locks.Stolen
    detail: RoleView | None = None  # with FullDetailFlag


@dataclass(frozen=True)
class GetProjectRoles:
    keys: list[Key]
    mode: str
    include_deleted: bool
    exclude_read_notes: bool = False


@dataclass(frozen=True)
class ProjectRoles:
    """Each project found with the views of its roles, and warning 105 for the rest."""

    projects: list[tuple[ProjectRow, list[RoleView]]]
    warnings: tuple[errors.Message, ...]


def ensure_live(row: RoleRow, key: Key) -> RoleRow:
    """A deleted role is not found here (only undelete may touch it)."""
    if row.deleted:
        raise errors.fail(errors.PROJECT_ROLE_NOT_FOUND, refs.ROLE.describe(key) + " (deleted)",
                          entity=refs.ROLE.ref_type)
    return row


def live_role(tx: Connection, caller: Caller, key: Key) -> RoleRow:
    """The live role a ref names."""
    return ensure_live(refs.ROLE.resolve(tx, caller, key), key)


def _existing(tx: Connection, caller: Caller, key: Key) -> RoleRow | None:
    """The role to update, or None to insert: no key, or an ESI alone that names no role."""
    if not key.given:
        return None
    row = refs.ROLE.find(tx, caller, key)
    if row is None:
        if key.uid is None:
            return None  # an ESI not in use: the new role takes it
        return live_role(tx, caller, key)  # raises 54080 with the keys sent
    return ensure_live(row, key)


def _project(tx: Connection, caller: Caller, changes: RoleChanges, existing: RoleRow | None) -> ProjectRow:
    if existing is None:
        return refs.PROJECT.resolve(tx, caller, changes.project)
    key = changes.project
    named = refs.PROJECT.find(tx, caller, key) if key is not None else None
    if named is not None and named.id == existing.project_id:
        return named  # the usual case, read once
    project = project_store.by_ids(tx, caller.account_id, {existing.project_id}).get(existing.project_id)
    if project is None:  # a delete completed between the two reads
        raise errors.fail(errors.PROJECT_ROLE_NOT_FOUND, refs.ROLE.describe(changes.key) + " (deleted meanwhile)")
    if key is not None and key.given:
        named = named or refs.PROJECT.resolve(tx, caller, key)
        if named.id != project.id:
            raise errors.fail(errors.PROJECT_ROLE_PROJECT_MISMATCH,
                              f"the role is on {project.code}, ProjectIdentity names {named.code}")
    return project


def unique_name(name: str, taken: set[str]) -> str:
    """``name`` with the first free " 2", " 3", … suffix, shortened so the result fits (in every
    case: the name is kept lower-cased too, as its key)."""
    number = 2
    while True:
        suffix = f" {number}"
        candidate = name[:NAME_LENGTH - len(suffix)] + suffix
        while stored_length(candidate) > NAME_LENGTH:
            candidate = candidate[:-len(suffix) - 1] + suffix
        if candidate.lower() not in taken:
            return candidate
        number += 1


def _name(tx: Connection, caller: Caller, changes: RoleChanges, existing: RoleRow | None, project: ProjectRow,
          make_unique: bool) -> str | None:
    """The RoleName to write (None: keep the current one)."""
    name = changes.name
    if name is None or not name.strip():
        if existing is None:
            raise errors.fail(errors.REQUIRED_FIELD_MISSING, "RoleName", field="RoleName", entity=ENTITY)
        if name is not None:
            raise errors.fail(errors.FIELD_NOT_SPECIFIED, "RoleName was sent empty", field="RoleName")
        return None
    if existing is not None and name == existing.name:
        return None
    taken = {lowered for lowered, role_id in role_store.live_names(tx, caller.account_id, project.id).items()
             if existing is None or role_id != existing.id}
    if name.lower() not in taken:
        return name
    if not make_unique:
        raise errors.fail(errors.DUPLICATE_ROLE_NAME, f"{name} on {project.code}", name=name)
    return unique_name(name, taken)


def _external_id(tx: Connection, caller: Caller, changes: RoleChanges, existing: RoleRow | None) -> str | None:
    """The ESI to write (None: keep the current one, or none on insert)."""
    new = changes.new_external_id.strip() if changes.new_external_id is not None else None
    if new == "":
        if existing is not None and existing.external_id:
            raise errors.fail(errors.EXTERNAL_SYSTEM_IDENTIFIER_CANNOT_BE_CLEARED,
                              f"ExternalSystemIdentifier={existing.external_id}")
        new = None
    target = new or (changes.key.code if existing is None else None)
    if target is None:
        return None
    if existing is not None and existing.external_id == target:
        return None
    account_store.lock_numbering(tx, caller.account_id)
    holder = role_store.by_external_id(tx, caller.account_id, target)
    if holder is not None and (existing is None or holder.id != existing.id):
        raise errors.fail(errors.DUPLICATE_CODE, target, field="ExternalSystemIdentifier", value=target,
                          entity=ENTITY)
    return target


def _scheduling_mode(value: str | None) -> str | None:
    if value is None:
        return None
    mode = value.strip().upper()
    if mode not in SCHEDULING_MODES:
        raise errors.fail(errors.INVALID_ENUMERATION_VALUE, f"DefaultSchedulingMode={value}",
                          field="DefaultSchedulingMode", valid=", ".join(SCHEDULING_MODES))
    return mode


def _dates(changes: RoleChanges, clears: RoleClears, existing: RoleRow | None) -> dict[str, Any]:
    def pick(clear: bool, sent: datetime | None, current: datetime | None) -> datetime | None:
        return None if clear else (naive_utc(sent) if sent is not None else current)

    start = pick(clears.start_date, changes.start_date, existing.start_date if existing else None)
    end = pick(clears.end_date, changes.end_date, existing.end_date if existing else None)
    check_date_range(start, end, "RoleStartDate", "RoleEndDate")
    return {"start_date": start, "end_date": end}


def save_role(ctx: Context, request: SaveRole) -> SavedRole:
    """PwsSaveProjectRole: insert when the detail names no existing role, else update."""
    tx, caller, now = ctx.tx, ctx.user, ctx.now
    changes, clears, make_unique, assertion = request.changes, request.clears, request.make_unique, request.assertion
    require(caller, Permission.PROJECTS_UPDATE)
    check_length(LIMITS, {"RoleName": changes.name, "Description": changes.description,
                          "ExternalSystemIdentifier": changes.key.code,
                          "NewExternalSystemIdentifier": changes.new_external_id}, KEYED)
    scheduling_mode = _scheduling_mode(changes.scheduling_mode)
    existing = _existing(tx, caller, changes.key)
    project = _project(tx, caller, changes, existing)
    # A delete that completed while this waited took the role (an update) or its project (an insert).
    gone = (errors.fail(errors.PROJECT_ROLE_NOT_FOUND, refs.ROLE.describe(changes.key) + " (deleted meanwhile)")
            if existing is not None else
            errors.fail(errors.ENTITY_NOT_FOUND, f"ProjectCode={project.code} (deleted meanwhile)",
                        entity=refs.PROJECT.ref_type))
    unit = GraphWrite.open(ctx, [project.engagement_id], gone)
    project = unit.reread(project_store.by_ids, project.id, gone)
    engagement = unit.engagement
    scope = (locks.scope_of_role(engagement.id, project.id, existing.id) if existing is not None
             else locks.scope_of_project(engagement.id, project.id))
    stolen = unit.guard([scope], assertion)
    unit.check_engagement(changes.engagement_timestamp)
    if existing is not None:
        existing = unit.reread(role_store.by_ids, existing.id, gone)
        unit.check(ENTITY, f"role {refs.ROLE.describe(changes.key)}", existing.rowversion, changes.role_timestamp)
    values: dict[str, Any] = _dates(changes, clears, existing)
    if (name := _name(tx, caller, changes, existing, project, make_unique)) is not None:
        values["name"] = name
    if (external_id := _external_id(tx, caller, changes, existing)) is not None:
        values["external_id"] = external_id
    if clears.description:
        values["description"] = None
    elif changes.description is not None:
        values["description"] = changes.description
    side = "booked_user_id" if changes.mode == "A" else "requested_user_id"
    if clears.resource:
        values[side] = None
    elif changes.resource is not None:
        values[side] = refs.person(tx, caller, changes.resource, "PwsResourceRef").id
    if scheduling_mode is not None:
        values["scheduling_mode"] = scheduling_mode
    values.update(rowversion=unit.version, updated_at=now.astimezone(UTC).replace(tzinfo=None))
    if existing is None:
        defaults = {"uid": next_uid(tx), "project_id": project.id, "external_id": None, "description": None,
                    "requested_user_id": None, "booked_user_id": None, "scheduling_mode": DEFAULT_SCHEDULING_MODE,
                    "open_request": False, "assigned_to_schedulers": False, "deleted": False}
        role_id = role_store.insert_role(tx, caller.account_id, {**defaults, **values})
        unit.note("role", "insert", role_id)
        saved = role_store.by_ids(tx, caller.account_id, {role_id})[role_id]
    else:
        role_store.update_role(tx, existing.id, values)
        unit.note("role", "update", existing.id)
        saved = replace(existing, **values)  # what was just written: no need to read it back
    version = unit.bump()
    detail = role_views(tx, caller, [saved], request.retrieval_mode,
                        exclude_read_notes=request.exclude_read_notes)[0] if request.retrieval_mode else None
    return SavedRole(saved, version, stolen, detail)


def get_project_roles(ctx: Context, request: GetProjectRoles) -> ProjectRoles:
    """PwsGetProjectRoles: each project found (in request order) with its roles, and warning 105
    for the refs that named no project."""
    tx, caller = ctx.tx, ctx.user
    require(caller, Permission.PROJECTS_VIEW)
    found, warnings = refs.PROJECT.get_many(tx, caller, request.keys, none=errors.NO_PROJECTS_SPECIFIED,
                                            too_many=errors.MAXIMUM_PROJECT_IDENTITIES_EXCEEDED)
    roles: dict[int, list[RoleView]] = {}
    rows = role_store.of_projects(tx, caller.account_id, {p.id for p in found}, include_deleted=request.include_deleted)
    for view in role_views(tx, caller, rows, request.mode, exclude_read_notes=request.exclude_read_notes):
        roles.setdefault(view.row.project_id, []).append(view)
    return ProjectRoles([(project, roles.get(project.id, [])) for project in found], tuple(warnings))

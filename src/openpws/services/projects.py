"""Projects: reading, listing and saving the projects of an account.

Rules (pws-entities §5, SPEC): a project belongs to one engagement, given on insert and never
changed; no new project under an engagement whose client is inactive; codes are unique in an
account, generated as ``<engagement code>-001``… when an insert gives none, renamed with
NewProjectCode; ProjectName is required on insert; the stage (default: the account's first project
stage) decides open or closed; CloseDate cannot be before OpenDate. A project belongs to one
contract line item of its engagement: the one a save names (it may move the project to another),
else on insert the engagement's first. Every save takes the
engagement's lock first and gives the engagement graph its next version (EngagementTimestamp);
a ProjectTimestamp or EngagementTimestamp that is sent must equal the current one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import ClientRow, ContractLineItemRow, EngagementRow, PersonRow, ProjectRow, StageRow
from openpws.services import clients, contract_line_items, locks, refs
from openpws.services.access import require
from openpws.services.checks import Stamp, check_date_range, check_length, naive_utc
from openpws.services.context import Context
from openpws.services.contract_line_items import ContractLineItemKey
from openpws.services.graph_write import GraphWrite
from openpws.services.lists import ListQuery, listed
from openpws.services.permissions import Permission
from openpws.services.refs import Key, PersonKey, StageKey
from openpws.services.role_views import RoleView, role_views
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import clients as client_store
from openpws.store import contract_line_items as contract_line_item_store
from openpws.store import engagements as engagement_store
from openpws.store import projects as store
from openpws.store import roles as role_store
from openpws.store import stages as stage_store
from openpws.store.counters import next_uid

CODE_LENGTH = 24
LIMITS = {"ProjectCode": CODE_LENGTH, "NewProjectCode": CODE_LENGTH, "ProjectName": 255, "Description": 4000}
KEYED = ("ProjectCode", "NewProjectCode")  # kept upper-cased too, as the code's key
PERCENT_RANGE = (0.0, 100.0)


@dataclass(frozen=True)
class ProjectChanges:
    """The PwsProjectDetail members (and request flags) openpws models, as sent (None = not sent)."""

    key: Key
    engagement: Key | None
    name: str | None
    new_code: str | None
    stage: StageKey | None
    manager: PersonKey | None
    open_date: datetime | None
    close_date: datetime | None
    description: str | None
    percent_likelihood: float | None
    clear_close_date: bool
    clear_description: bool
    clear_percent_likelihood: bool
    project_timestamp: Stamp | None
    contract_line_item: ContractLineItemKey | None
    engagement_timestamps: tuple[Stamp, ...]  # EngagementTimestamp of the detail and of the request, where sent


@dataclass(frozen=True)
class ProjectShape:
    """How projects are to be shown: the Mode of their roles' data, whether with roles at all
    (not ExcludeSubEntityElementsFlag), whether with deleted ones (IncludeDeletedRolesFlag), and
    whether the roles leave out the notes the caller has read (ExcludeReadNotesFlag)."""

    mode: str
    roles: bool = True
    deleted_roles: bool = False
    exclude_read_notes: bool = False


@dataclass(frozen=True)
class GetProjects:
    keys: list[Key]
    shape: ProjectShape


@dataclass(frozen=True)
class SaveProject:
    changes: ProjectChanges
    assertion: locks.Assertion
    shape: ProjectShape | None  # with FullDetailFlag: how to show the saved project


@dataclass(frozen=True)
class Projects:
    """Projects with their engagements (for summaries) and with ``detailed`` what their elements
    show too; the warnings of the read."""

    rows: list[ProjectRow]
    engagements: dict[int, EngagementRow]
    warnings: tuple[errors.Message, ...] = ()
    detailed: bool = False
    clients: dict[int, ClientRow] = field(default_factory=dict)  # of the engagements
    managers: dict[int, PersonRow] = field(default_factory=dict)
    stages: dict[int, StageRow] = field(default_factory=dict)
    roles: dict[int, list[RoleView]] | None = None  # by project id; None without roles
    contract_line_items: dict[int, ContractLineItemRow] = field(default_factory=dict)  # by id


@dataclass(frozen=True)
class Saved:
    project: ProjectRow
    engagement: EngagementRow  # after the save: its rowversion is the new EngagementTimestamp
    stolen: locks.Stolen
    detail: Projects | None = None  # with FullDetailFlag


def detailed(tx: Connection, caller: Caller, rows: list[ProjectRow], shape: ProjectShape,
             warnings: Sequence[errors.Message] = ()) -> Projects:
    """What PwsProjectElements show, with a handful of queries however many rows there are."""
    engagements = engagement_store.by_ids(tx, caller.account_id, {r.engagement_id for r in rows})
    roles: dict[int, list[RoleView]] | None = None
    if shape.roles:
        roles = {r.id: [] for r in rows}
        role_rows = role_store.of_projects(tx, caller.account_id, roles, include_deleted=shape.deleted_roles)
        for view in role_views(tx, caller, role_rows, shape.mode, exclude_read_notes=shape.exclude_read_notes):
            roles[view.row.project_id].append(view)
    return Projects(
        rows, engagements, tuple(warnings), detailed=True,
        clients=client_store.by_ids(tx, caller.account_id, {e.client_id for e in engagements.values()}),
        managers=account_store.people_by_ids(tx, caller.account_id, [r.manager_user_id for r in rows]),
        stages={s.id: s for s in stage_store.of_kind(tx, caller.account_id, "P")},
        roles=roles,
        contract_line_items=contract_line_item_store.by_ids(tx, caller.account_id,
                                                            {r.contract_line_item_id for r in rows}))


def get_projects(ctx: Context, request: GetProjects) -> Projects:
    """PwsGetProject: the projects found, in request order, and warning 105 for the rest."""
    tx, caller = ctx.tx, ctx.user
    require(caller, Permission.PROJECTS_VIEW)
    rows, warnings = refs.PROJECT.get_many(tx, caller, request.keys, none=errors.NO_PROJECTS_SPECIFIED,
                                           too_many=errors.MAXIMUM_PROJECT_IDENTITIES_EXCEEDED)
    return detailed(tx, caller, rows, request.shape, warnings)


def list_projects(ctx: Context, request: ListQuery) -> Projects:
    """PwsGetProjectList, ordered by code. QueryString matches the project's code or name, its
    contract line item's code or name, its engagement's code or name, and the number or name of the
    engagement's client or of any parent client. Projects in a closed stage are left out unless IncludeClosedFlag."""
    tx, caller, query = ctx.tx, ctx.user, request.query
    require(caller, Permission.PROJECTS_VIEW)

    def search(limit: int | None) -> list[ProjectRow]:
        # A client matches when it or one of its parents matches: the clients under every match.
        client_ids = clients.matching_subtrees(tx, caller, query) if query else set()
        return store.search(tx, caller.account_id, query=query, client_ids=client_ids,
                            include_closed=request.include_hidden, updated_since=request.updated_since, limit=limit)

    rows, warnings = listed(tx, caller, refs.PROJECT, request, search)
    engagements = engagement_store.by_ids(tx, caller.account_id, {r.engagement_id for r in rows})
    return Projects(rows, engagements, tuple(warnings))


def _next_code(tx: Connection, caller: Caller, engagement: EngagementRow) -> str:
    """``<engagement code>-NNN``: one past the highest such number among the engagement's
    projects, moving on past any code another project of the account already holds."""
    account_store.lock_numbering(tx, caller.account_id)
    suffix = re.compile(re.escape(engagement.code.upper()) + r"-(\d+)")
    numbers = [int(m.group(1)) for code in store.codes_of_engagement(tx, caller.account_id, engagement.id)
               if (m := suffix.fullmatch(code.upper()))]
    candidate = max(numbers, default=0) + 1
    while store.by_code(tx, caller.account_id, f"{engagement.code}-{candidate:03d}") is not None:
        candidate += 1
    code = f"{engagement.code}-{candidate:03d}"
    check_length({"ProjectCode": CODE_LENGTH}, {"ProjectCode": code}, KEYED)
    return code


def _check_percent(value: float | None) -> None:
    low, high = PERCENT_RANGE
    if value is not None and not (math.isfinite(value) and low <= value <= high):
        raise errors.fail(errors.VALUE_OUT_OF_RANGE, f"PercentLikelihood={value}", field="PercentLikelihood",
                          minimum=int(low), maximum=int(high))


def _engagement_for(tx: Connection, caller: Caller, changes: ProjectChanges, row: ProjectRow | None) -> EngagementRow:
    """The engagement the saved project belongs to: the one sent on insert (required); on update
    the current one, which an EngagementIdentity, when sent, must name."""
    if row is None:
        if changes.engagement is None:
            raise errors.fail(errors.REQUIRED_FIELD_MISSING, "EngagementIdentity", field="EngagementIdentity",
                              entity="project")
        return refs.ENGAGEMENT.resolve(tx, caller, changes.engagement)
    if changes.engagement is not None:
        named = refs.ENGAGEMENT.resolve(tx, caller, changes.engagement)
        if named.id != row.engagement_id:
            raise errors.fail(errors.PROJECT_ENGAGEMENT_CANNOT_CHANGE, f"project {row.code} to engagement {named.code}")
    engagement = engagement_store.by_ids(tx, caller.account_id, {row.engagement_id}).get(row.engagement_id)
    if engagement is None:  # a delete completed between the two reads
        raise errors.fail(errors.ENTITY_NOT_FOUND, f"ProjectCode={row.code} (deleted meanwhile)",
                          entity=refs.PROJECT.ref_type)
    return engagement


def _values(tx: Connection, caller: Caller, changes: ProjectChanges, row: ProjectRow | None) -> dict[str, Any]:
    """The columns the save writes (all but code, rowversion and updated_at), validated."""
    values: dict[str, Any] = {}
    if changes.name is not None:
        if not changes.name.strip():
            raise errors.fail(errors.FIELD_NOT_SPECIFIED, "ProjectName is empty", field="ProjectName")
        values["name"] = changes.name
    if changes.stage is not None or row is None:
        values["stage_id"] = refs.stage(tx, caller, "P", changes.stage).id
    if changes.manager is not None:
        values["manager_user_id"] = refs.person(tx, caller, changes.manager, "PwsUserRef").id
    if changes.open_date is not None:
        values["open_date"] = naive_utc(changes.open_date)
    if changes.clear_close_date:
        values["close_date"] = None
    elif changes.close_date is not None:
        values["close_date"] = naive_utc(changes.close_date)
    opens = values.get("open_date", row.open_date if row else None)
    closes = values.get("close_date", row.close_date if row else None)
    check_date_range(opens, closes, "OpenDate", "CloseDate")
    if changes.clear_description:
        values["description"] = None
    elif changes.description is not None:
        values["description"] = changes.description
    if changes.clear_percent_likelihood:
        values["percent_likelihood"] = None
    elif changes.percent_likelihood is not None:
        _check_percent(changes.percent_likelihood)
        values["percent_likelihood"] = changes.percent_likelihood
    return values


def save_project(ctx: Context, request: SaveProject) -> Saved:
    """PwsSaveProject: insert when the detail names no existing project, else update."""
    tx, caller, now = ctx.tx, ctx.user, ctx.now
    changes, assertion = request.changes, request.assertion
    require(caller, Permission.PROJECTS_UPDATE)
    key = changes.key
    row = refs.PROJECT.find(tx, caller, key) if key.given else None
    if row is None and key.uid is not None:
        raise errors.fail(errors.ENTITY_NOT_FOUND, refs.PROJECT.describe(key), entity="PwsProjectRef")
    check_length(LIMITS, {"ProjectCode": key.code, "NewProjectCode": changes.new_code, "ProjectName": changes.name,
                          "Description": changes.description}, KEYED)
    engagement = _engagement_for(tx, caller, changes, row)
    # Writers of one engagement graph take turns; what was read before the lock is read again.
    # A delete that completed while this waited took the project (an update) or its engagement (an insert).
    gone = (errors.fail(errors.ENTITY_NOT_FOUND, refs.PROJECT.describe(key) + " (deleted meanwhile)",
                        entity=refs.PROJECT.ref_type) if row is not None else None)
    unit = GraphWrite.open(ctx, [engagement.id], gone)
    engagement = unit.engagement
    if row is not None:
        row = unit.reread(store.by_ids, row.id, errors.fail(errors.ENTITY_NOT_FOUND, refs.PROJECT.describe(key),
                                                            entity=refs.PROJECT.ref_type))
    scope = (locks.scope_of_project(engagement.id, row.id) if row is not None
             else locks.scope_of_engagement(engagement.id))
    stolen = unit.guard([scope], assertion)
    if row is not None:
        unit.check("project", f"project {row.code}", row.rowversion, changes.project_timestamp)
    unit.check_engagement(*changes.engagement_timestamps)
    if row is None:
        owner = client_store.by_ids(tx, caller.account_id, {engagement.client_id})[engagement.client_id]
        if owner.inactive:
            raise errors.fail(errors.CLIENT_INACTIVE, f"client {owner.number} of engagement {engagement.code}",
                              client=owner.number)
        if not (changes.name or "").strip():
            raise errors.fail(errors.REQUIRED_FIELD_MISSING, "ProjectName", field="ProjectName", entity="project")
    values = _values(tx, caller, changes, row)
    if changes.contract_line_item is not None:
        values["contract_line_item_id"] = contract_line_items.resolve_for_project(
            tx, caller, changes.contract_line_item, engagement).id
    if (code := refs.PROJECT.code_to_store(tx, caller, row, key, changes.new_code, "project code")) is not None:
        values["code"] = code
    values.update(rowversion=unit.version, updated_at=now.replace(tzinfo=None))
    if row is None and "contract_line_item_id" not in values:
        values["contract_line_item_id"], made = contract_line_items.default_for(tx, caller, engagement,
                                                                                unit.version, now)
        if made:
            unit.note("contract_line_item", "insert", values["contract_line_item_id"])
    if row is None:
        values.setdefault("code", _next_code(tx, caller, engagement))
        project_id = store.insert_project(tx, caller.account_id, {
            "uid": next_uid(tx), "engagement_id": engagement.id, "ever_invoiced": False, **values})
        unit.note("project", "insert", project_id)
    else:
        project_id = row.id
        store.update_project(tx, project_id, values)
        unit.note("project", "update", project_id)
    unit.bump()
    saved = store.by_ids(tx, caller.account_id, {project_id})[project_id]
    return Saved(saved, engagement_store.by_ids(tx, caller.account_id, {engagement.id})[engagement.id], stolen,
                 detailed(tx, caller, [saved], request.shape) if request.shape is not None else None)

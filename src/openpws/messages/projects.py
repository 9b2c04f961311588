"""PwsGetProject, PwsGetProjectList and PwsSaveProject."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from openpws.contract.record import Record
from openpws.entities import ProjectRow
from openpws.messages.call import Call, Reply, require
from openpws.messages.clients import client_ref
from openpws.messages.common import (
    engagement_ref,
    project_ref,
    stage_ref,
    stolen_from,
    timestamp,
    user_ref,
    user_summary,
)
from openpws.messages.locks import assertion_of
from openpws.messages.roles import read_mode, role_elements
from openpws.services import projects, refs
from openpws.services.projects import ProjectChanges
from openpws.services.sessions import Caller
from openpws.store import accounts as account_store
from openpws.store import clients as client_store
from openpws.store import engagements as engagement_store
from openpws.store import roles as role_store
from openpws.store import stages as stage_store


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None else None


def project_summaries(tx: Connection, caller: Caller, rows: Sequence[ProjectRow]) -> list[dict[str, Any]]:
    owners = engagement_store.by_ids(tx, caller.account_id, {r.engagement_id for r in rows})
    return [{**project_ref(r), "EngagementIdentity": engagement_ref(owners[r.engagement_id]), "ProjectName": r.name}
            for r in rows]


def project_elements(tx: Connection, caller: Caller, rows: Sequence[ProjectRow], *, mode: str,
                     roles: bool = True, deleted_roles: bool = False) -> list[dict[str, Any]]:
    """PwsProjectElement values, with a handful of queries however many rows there are. ``roles``
    false leaves Roles nil (ExcludeSubEntityElementsFlag); ``mode`` picks the roles' data."""
    engagements = engagement_store.by_ids(tx, caller.account_id, {r.engagement_id for r in rows})
    owners = client_store.by_ids(tx, caller.account_id, {e.client_id for e in engagements.values()})
    people = account_store.people_by_ids(tx, caller.account_id, [r.manager_user_id for r in rows])
    stages = {s.id: s for s in stage_store.of_kind(tx, caller.account_id, "P")}
    roles_of: dict[int, list[dict[str, Any]]] = {r.id: [] for r in rows}
    if roles:
        role_rows = role_store.of_projects(tx, caller.account_id, roles_of, include_deleted=deleted_roles)
        for role, element in zip(role_rows, role_elements(tx, caller, role_rows, mode), strict=True):
            roles_of[role.project_id].append(element)
    elements = []
    for row in rows:
        engagement = engagements[row.engagement_id]
        manager = people.get(row.manager_user_id) if row.manager_user_id is not None else None
        elements.append({
            "ProjectDetail": {
                **project_ref(row),
                "EngagementIdentity": engagement_ref(engagement),
                "ProjectName": row.name,
                "CloseDate": _utc(row.close_date),
                "Description": row.description,
                "EngagementTimestamp": timestamp(engagement.rowversion),
                "ManagerIdentity": user_ref(manager) if manager else None,
                "OpenDate": _utc(row.open_date),
                "PercentLikelihood": row.percent_likelihood,
                "ProjectStageIdentity": stage_ref(stages[row.stage_id]),
                "ProjectTimestamp": timestamp(row.rowversion),
            },
            "BillableFlag": True,
            "Client": client_ref(owners[engagement.client_id]),
            "Manager": user_summary(manager) if manager else None,
            "RateTaskTimestamp": None,
            "RequireBillingTitleOverrideFlag": False,
            "Roles": roles_of[row.id] if roles else None,
        })
    return elements


def PwsGetProject(call: Call, rq: Record) -> Reply:
    """Mode (R/A/E), ProjectIdentities (1..100 PwsProjectRef) → Projects (PwsProjectElement[]), in
    request order; 105 AtLeastOneItemNotFound lists the refs that named no project."""
    mode = read_mode(rq)
    keys = [refs.PROJECT.key(ref) for ref in rq.get("ProjectIdentities", [])]
    rows, warnings = projects.get_projects(call.tx, call.user, keys)
    elements = project_elements(call.tx, call.user, rows, mode=mode,
                                roles=not rq.get("ExcludeSubEntityElementsFlag"),
                                deleted_roles=bool(rq.get("IncludeDeletedRolesFlag")))
    return Reply({"Projects": elements}, tuple(warnings))


def PwsGetProjectList(call: Call, rq: Record) -> Reply:
    """ProjectIdentity (overrides the rest), QueryString, IncludeClosedFlag, MaxRowsToReturn (104
    when it cuts rows off), LastUpdatedSinceTimestamp → PwsProjectSummary[] ordered by code."""
    identity = rq.get("ProjectIdentity")
    since = rq.get("LastUpdatedSinceTimestamp")
    rows, warnings = projects.list_projects(
        call.tx, call.user,
        identity=refs.PROJECT.key(identity) if identity else None,
        query=(rq.get("QueryString") or "").strip() or None,
        include_closed=bool(rq.get("IncludeClosedFlag")),
        updated_since=since.replace(tzinfo=None) if since else None,
        max_rows=rq.get("MaxRowsToReturn"),
    )
    return Reply({"Projects": project_summaries(call.tx, call.user, rows)}, tuple(warnings))


def PwsSaveProject(call: Call, rq: Record) -> Reply:
    """Project (PwsProjectDetail) inserted or updated; Mode picks the role data of the Project
    element that FullDetailFlag adds. Modelled members: ProjectCode, ProjectUid, EngagementIdentity,
    ProjectName, NewProjectCode, ProjectStageIdentity, ManagerIdentity, OpenDate, CloseDate,
    Description, PercentLikelihood, ProjectTimestamp, EngagementTimestamp (of the detail and of the
    request), and the CloseDate, Description and PercentLikelihood clear flags."""
    mode = read_mode(rq)
    detail: Record = require(rq, "Project")
    changes = ProjectChanges(
        key=refs.PROJECT.key(detail),
        engagement=detail.get("EngagementIdentity"),
        name=detail.get("ProjectName"),
        new_code=(detail.get("NewProjectCode") or "").strip() or None,
        stage=detail.get("ProjectStageIdentity"),
        manager=detail.get("ManagerIdentity"),
        open_date=detail.get("OpenDate"),
        close_date=detail.get("CloseDate"),
        description=detail.get("Description"),
        percent_likelihood=detail.get("PercentLikelihood"),
        clear_close_date=bool(rq.get("CloseDateClearFlag")),
        clear_description=bool(rq.get("DescriptionClearFlag")),
        clear_percent_likelihood=bool(rq.get("PercentLikelihoodClearFlag")),
        project_timestamp=detail.get("ProjectTimestamp") or None,
        engagement_timestamps=tuple(t for t in (detail.get("EngagementTimestamp"), rq.get("EngagementTimestamp")) if t),
    )
    saved = projects.save_project(call.tx, call.user, changes, assertion_of(rq), call.now)
    members: dict[str, Any] = {
        "ProjectIdentity": project_ref(saved.project),
        "EngagementTimestamp": timestamp(saved.engagement.rowversion),
        "LockStolenFromUserIdentity": stolen_from(saved.stolen),
    }
    if rq.get("FullDetailFlag"):
        members["Project"] = project_elements(call.tx, call.user, [saved.project], mode=mode,
                                              deleted_roles=bool(rq.get("IncludeDeletedRolesFlag")))[0]
    return Reply(members)

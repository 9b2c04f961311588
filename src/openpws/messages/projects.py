"""PwsGetProject, PwsGetProjectList and PwsSaveProject."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from openpws.contract.record import Record
from openpws.messages.binding import Reply, require
from openpws.messages.clients import client_ref
from openpws.messages.common import (
    engagement_ref,
    project_ref,
    project_summary,
    stage_ref,
    stolen_from,
    timestamp,
    user_ref,
    user_summary,
)
from openpws.messages.contract_line_items import contract_line_item_key, contract_line_item_ref
from openpws.messages.locks import assertion_of
from openpws.messages.refs import (
    engagement_key,
    list_query,
    present,
    project_key,
    stage_key,
    text,
    user_key,
)
from openpws.messages.roles import read_mode, role_element
from openpws.messages.tokens import stamp
from openpws.services.lists import ListQuery
from openpws.services.projects import (
    GetProjects,
    ProjectChanges,
    Projects,
    ProjectShape,
    Saved,
    SaveProject,
)


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None else None


def project_summaries(found: Projects) -> list[dict[str, Any]]:
    return [project_summary(r, found.engagements[r.engagement_id]) for r in found.rows]


def project_elements(found: Projects) -> list[dict[str, Any]]:
    """PwsProjectElement values; Roles nil when the roles were left out (ExcludeSubEntityElementsFlag)."""
    elements = []
    for row in found.rows:
        engagement = found.engagements[row.engagement_id]
        manager = found.managers.get(row.manager_user_id) if row.manager_user_id is not None else None
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
                "ProjectStageIdentity": stage_ref(found.stages[row.stage_id]),
                "ProjectTimestamp": timestamp(row.rowversion),
                "ContractLineItemIdentity": contract_line_item_ref(line)
                if (line := found.contract_line_items.get(row.contract_line_item_id or 0)) else None,
            },
            "BillableFlag": True,
            "Client": client_ref(found.clients[engagement.client_id]),
            "Manager": user_summary(manager) if manager else None,
            "RateTaskTimestamp": None,
            "RequireBillingTitleOverrideFlag": False,
            "Roles": [role_element(v) for v in found.roles[row.id]] if found.roles is not None else None,
        })
    return elements


# PwsGetProject: Mode (R/A/E), ProjectIdentities (1..100 PwsProjectRef) → Projects
# (PwsProjectElement[]), in request order; 105 AtLeastOneItemNotFound lists the refs that named
# no project.

GET_NOT_MODELLED: tuple[str, ...] = ()


def decode_get(rq: Record) -> GetProjects:
    shape = ProjectShape(read_mode(rq), roles=not rq.get("ExcludeSubEntityElementsFlag"),
                         deleted_roles=bool(rq.get("IncludeDeletedRolesFlag")),
                         exclude_read_notes=bool(rq.get("ExcludeReadNotesFlag")))
    return GetProjects([project_key(ref) for ref in rq.get("ProjectIdentities", [])], shape)


def encode_get(found: Projects) -> Reply:
    return Reply({"Projects": project_elements(found)}, found.warnings)


# PwsGetProjectList: ProjectIdentity (overrides the rest), QueryString, IncludeClosedFlag,
# MaxRowsToReturn (104 when it cuts rows off), LastUpdatedSinceTimestamp → PwsProjectSummary[]
# ordered by code.

def decode_list(rq: Record) -> ListQuery:
    return list_query(rq, "ProjectIdentity", project_key, "IncludeClosedFlag")


def encode_list(found: Projects) -> Reply:
    return Reply({"Projects": project_summaries(found)}, found.warnings)


# PwsSaveProject: Project (PwsProjectDetail) inserted or updated; Mode picks the role data of the
# Project element that FullDetailFlag adds. Modelled members: ProjectCode, ProjectUid,
# EngagementIdentity, ProjectName, NewProjectCode, ProjectStageIdentity, ManagerIdentity, OpenDate,
# CloseDate, Description, PercentLikelihood, ProjectTimestamp, ContractLineItemIdentity,
# EngagementTimestamp (of the detail and of the request), and the CloseDate, Description and
# PercentLikelihood clear flags.

SAVE_NOT_MODELLED = (
    "AamDashboardClearFlag", "BdDashboardClearFlag", "CostGlccOverrideClearFlag",
    "ExpenseTypeConfigurationClearFlag", "ForceAdvancedSetupChangeFlag", "InvoiceTabMessageClearFlag",
    "IssueCategoryClearFlag", "IssueStatusClearFlag", "ManagementTeamClearFlag", "ProjectLoginClearFlag",
    "RevalueAction", "SetCloseDateIfStageIsClosedFlag", "SmartsheetLinkSubject", "TimeGlccOverrideClearFlag",
    "WorkspaceLogoClearFlag", "WorkspaceMessagesClearFlag",
    "Project/CostGlccOverride", "Project/CostPlccMappingType", "Project/DefaultSchedulingMode", "Project/EmEmailFlag",
    "Project/ExpenseApproverType", "Project/ExpenseEntryRestrictedToResourcesAssignedToRolesFlag",
    "Project/MinutesPerDay", "Project/NarrativeRequiredFlag", "Project/OpenForCostFlag",
    "Project/OpenForCostTransferFlag", "Project/OpenForTimeFlag", "Project/OpenForTimeTransferFlag",
    "Project/PmModuleEnabledFlag", "Project/ProjectWorkspaceEnabledFlag", "Project/TimeApproverType",
    "Project/TimeEntryRestrictedToResourcesAssignedToRolesFlag",
    "Project/TimeEntryRestrictedToRolesAssignedToTasksFlag", "Project/TimeGlccOverride",
    "Project/TimePlccMappingType", "Project/WorkspaceMessages",
)


def decode_save(rq: Record) -> SaveProject:
    mode = read_mode(rq)
    detail: Record = require(rq, "Project")
    changes = ProjectChanges(
        key=project_key(detail),
        engagement=present(detail.get("EngagementIdentity"), engagement_key),
        name=detail.get("ProjectName"),
        new_code=text(detail, "NewProjectCode"),
        stage=stage_key(detail.get("ProjectStageIdentity"), "P"),
        manager=user_key(detail.get("ManagerIdentity")),
        open_date=detail.get("OpenDate"),
        close_date=detail.get("CloseDate"),
        description=detail.get("Description"),
        percent_likelihood=detail.get("PercentLikelihood"),
        clear_close_date=bool(rq.get("CloseDateClearFlag")),
        clear_description=bool(rq.get("DescriptionClearFlag")),
        clear_percent_likelihood=bool(rq.get("PercentLikelihoodClearFlag")),
        project_timestamp=stamp(detail.get("ProjectTimestamp")),
        contract_line_item=present(detail.get("ContractLineItemIdentity"), contract_line_item_key),
        engagement_timestamps=tuple(s for s in (stamp(detail.get("EngagementTimestamp")),
                                                stamp(rq.get("EngagementTimestamp"))) if s is not None),
    )
    shape = ProjectShape(mode, deleted_roles=bool(rq.get("IncludeDeletedRolesFlag")),
                         exclude_read_notes=bool(rq.get("ExcludeReadNotesFlag")))
    return SaveProject(changes, assertion_of(rq), shape if rq.get("FullDetailFlag") else None)


def encode_save(saved: Saved) -> Reply:
    members: dict[str, Any] = {
        "ProjectIdentity": project_ref(saved.project),
        "EngagementTimestamp": timestamp(saved.engagement.rowversion),
        "LockStolenFromUserIdentity": stolen_from(saved.stolen),
    }
    if saved.detail is not None:
        members["Project"] = project_elements(saved.detail)[0]
    return Reply(members)

"""Deleting engagements and projects (PwsDeleteEngagement, PwsDeleteProject).

Rules (SPEC "Delete semantics", pws-core §4.2-4.3): whatever was ever invoiced is never deleted
(the sticky ``ever_invoiced`` flags: 54556 for an engagement, 990071 for a project). An engagement
with projects is deleted only with CascadeDeleteFlag (54537), and then every project must itself be
deletable, or nothing is. A project with live roles is deleted only with CascadeDeleteFlag (990072),
which takes the roles and their requested and booked hours with it; deleted roles never block.
DeleteEmptyEngagementFlag also deletes the project's engagement when no project is left in it and it
was never invoiced (otherwise the engagement silently stays).

Each delete is one transaction in the order every graph write follows: the engagement row is locked,
the lock guard runs over everything the delete reaches (the whole subtree), the optimistic
timestamps are compared, the rules are checked, and only then are rows removed, set-based, together
with the locks that pointed at them. Engagement deletes need the projects-delete permission (54536
without it), project deletes too (50046).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from openpws import errors
from openpws.entities import EngagementRow, ProjectRow
from openpws.services import locks, refs
from openpws.services.access import require
from openpws.services.checks import Stamp
from openpws.services.context import Context
from openpws.services.graph_write import GraphWrite
from openpws.services.locks import Assertion
from openpws.services.permissions import Permission
from openpws.services.refs import Key
from openpws.store import deletes as store
from openpws.store import projects as project_store

SHOWN_CODES = 10  # projects named in a message's detail


@dataclass(frozen=True)
class EngagementDelete:
    """A PwsDeleteEngagement request as sent."""

    key: Key
    cascade: bool
    engagement_timestamp: Stamp | None
    assertion: Assertion


@dataclass(frozen=True)
class ProjectDelete:
    """A PwsDeleteProject request as sent."""

    key: Key
    cascade: bool
    delete_empty_engagement: bool
    project_timestamp: Stamp | None
    engagement_timestamp: Stamp | None
    assertion: Assertion


@dataclass(frozen=True)
class EngagementDeleted:
    row: EngagementRow  # as it was when deleted: its rowversion is the last EngagementTimestamp
    stolen: locks.Stolen


@dataclass(frozen=True)
class ProjectDeleted:
    row: ProjectRow
    engagement_version: int  # the graph's new version, or its last one when the engagement went too
    stolen: locks.Stolen


def _named(codes: list[str]) -> str:
    shown = ", ".join(codes[:SHOWN_CODES])
    return shown + (", ..." if len(codes) > SHOWN_CODES else "")


def _check_engagement_deletable(tx: Connection, engagement: EngagementRow, cascade: bool) -> None:
    if engagement.ever_invoiced:
        raise errors.fail(errors.ENGAGEMENT_HAS_INVOICES, f"engagement {engagement.code}")
    if not cascade:
        codes = store.project_codes(tx, engagement.id, limit=SHOWN_CODES + 1)
        if codes:
            raise errors.fail(errors.ENGAGEMENT_HAS_PROJECTS, f"engagement {engagement.code} has projects "
                                                              f"{_named(codes)}; send CascadeDeleteFlag=true")
        return
    # Invoicing a project marks its engagement too, so this guards data written some other way.
    invoiced = store.invoiced_projects(tx, engagement.id)
    if invoiced:
        raise errors.fail(errors.PROJECT_HAS_INVOICES, f"project {_named([p.code for p in invoiced])} of engagement "
                                                       f"{engagement.code}")


def delete_engagement(ctx: Context, order: EngagementDelete) -> EngagementDeleted:
    """PwsDeleteEngagement: the engagement, and with CascadeDeleteFlag its projects, their roles
    and hours."""
    tx, caller = ctx.tx, ctx.user
    if not caller.may(Permission.PROJECTS_DELETE):
        raise errors.fail(errors.NO_PERMISSION_TO_DELETE_ENGAGEMENT,
                          f"{caller.display_name} lacks the {Permission.PROJECTS_DELETE.value} permission")
    found = refs.ENGAGEMENT.resolve(tx, caller, order.key)
    gone = errors.fail(errors.ENGAGEMENT_NOT_FOUND, refs.ENGAGEMENT.describe(order.key))
    unit = GraphWrite.open(ctx, [found.id], gone)
    engagement = unit.engagement
    stolen = unit.guard([locks.scope_of_engagement(engagement.id, subtree=True)], order.assertion)
    unit.check_engagement(order.engagement_timestamp)
    _check_engagement_deletable(tx, engagement, order.cascade)
    store.delete_engagement(tx, caller.account_id, engagement.id)
    unit.note("engagement", "delete", engagement.id)
    return EngagementDeleted(engagement, stolen)


def delete_project(ctx: Context, order: ProjectDelete) -> ProjectDeleted:
    """PwsDeleteProject: the project, with CascadeDeleteFlag its roles and their hours, and with
    DeleteEmptyEngagementFlag its engagement when that is left empty."""
    tx, caller = ctx.tx, ctx.user
    require(caller, Permission.PROJECTS_DELETE)
    found = refs.PROJECT.resolve(tx, caller, order.key)
    gone = errors.fail(errors.ENTITY_NOT_FOUND, refs.PROJECT.describe(order.key), entity=refs.PROJECT.ref_type)
    unit = GraphWrite.open(ctx, [found.engagement_id], gone)
    engagement = unit.engagement
    project = unit.reread(project_store.by_ids, found.id, gone)
    empties = (order.delete_empty_engagement and not engagement.ever_invoiced
               and not store.other_projects_exist(tx, engagement.id, project.id))
    scopes = [locks.scope_of_project(engagement.id, project.id, subtree=True)]
    if empties:
        scopes.append(locks.scope_of_engagement(engagement.id, subtree=True))
    stolen = unit.guard(scopes, order.assertion)
    unit.check("project", f"project {project.code}", project.rowversion, order.project_timestamp)
    unit.check_engagement(order.engagement_timestamp)
    if project.ever_invoiced:
        raise errors.fail(errors.PROJECT_HAS_INVOICES, f"project {project.code}")
    if not order.cascade and store.live_roles_exist(tx, project.id):
        raise errors.fail(errors.PROJECT_HAS_ROLES, f"project {project.code}")
    store.delete_project(tx, caller.account_id, engagement.id, project.id)
    unit.note("project", "delete", project.id)
    if empties:
        store.delete_engagement(tx, caller.account_id, engagement.id)
        unit.note("engagement", "delete", engagement.id)
        return ProjectDeleted(project, engagement.rowversion, stolen)
    return ProjectDeleted(project, unit.bump(), stolen)

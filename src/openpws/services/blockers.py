"""What blocks a delete, all of it: a preview of a delete that would fail lists every blocker, not
only the first the delete itself stops at (SPEC "Control-plane conventions", blocker item).

A blocker is something in the tree that makes the delete, as it was sent, fail: a project ever
invoiced (nothing clears it), a project under an engagement deleted without CascadeDeleteFlag, a
role under a project likewise, a role with hours deleted without ZeroOutHoursFlag, a child client
of a client deleted without CascadeDeleteFlag, a client in use (or one below it) deleted without
InactivateIfInuseFlag, and each lock another user holds on what the delete reaches, with its
holder (LocksToSteal clears it unless it is an internal lock). Each names the documented error it
causes and the request member that would clear it, or ``none``. Flags the request sent count:
what they clear is not listed. What fails before the tree is reached (the session, the
permission, a ref that names nothing, a timestamp) is the response's own message, not a blocker.

The functions read the tree as the delete services do, in a read transaction of the preview.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpws import errors
from openpws.services import locks, refs
from openpws.services.client_deletes import ClientDelete
from openpws.services.context import Context
from openpws.services.deletes import EngagementDelete, ProjectDelete
from openpws.services.locks import Assertion, Scope
from openpws.services.role_deletes import RoleDelete
from openpws.store import clients as client_store
from openpws.store import deletes as delete_store
from openpws.store import projects as project_store
from openpws.store import roles as role_store

NONE = "none"
CASCADE, INACTIVATE, ZERO_OUT, STEAL = "CascadeDeleteFlag", "InactivateIfInuseFlag", "ZeroOutHoursFlag", "LocksToSteal"


@dataclass(frozen=True)
class Blocker:
    kind: str  # client, engagement, project, role, lock
    code: str | None
    uid: int | None
    name: str | None
    reason: errors.Entry
    cleared_by: str
    holder: str | None = None  # a lock's holder (display name)

    def json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"kind": self.kind, "code": self.code, "uid": self.uid, "name": self.name,
                                 "reason": f"{self.reason.number} {self.reason.code}", "cleared_by": self.cleared_by}
        if self.holder is not None:
            found["holder"] = self.holder
        return found


def _locks(ctx: Context, scopes: Sequence[Scope], assertion: Assertion) -> list[Blocker]:
    """Other users' locks in ``scopes`` the request would not steal."""
    held = locks.others_in(ctx.tx, ctx.user, scopes, ctx.now)
    if not held:
        return []
    internal = any(h.internal for h in held)
    people = locks.people_of(ctx.tx, ctx.user, held)
    if not internal and assertion.stealing:
        summaries = locks.summarise(held, people)
        sent = assertion.locks_to_steal
        if assertion.steal_flag or (sent and {s.fingerprint() for s in sent} == {s.fingerprint() for s in summaries}):
            return []
    found = []
    for h in held:
        lock = h.lock
        reason = errors.ENGAGEMENT_IS_LOCKED if lock.entity_type == locks.ENGAGEMENT else errors.ENTITY_ALREADY_LOCKED
        person = people.get(h.user_id)
        found.append(Blocker("lock", f"{lock.entity_type}:{lock.entity_code or lock.entity_uid}", lock.entity_uid, None,
                             reason, NONE if h.internal else STEAL, person.display_name if person else None))
    return found


def engagement(ctx: Context, order: EngagementDelete) -> list[Blocker]:
    tx, caller = ctx.tx, ctx.user
    row = refs.ENGAGEMENT.resolve(tx, caller, order.key)
    found = _locks(ctx, [locks.scope_of_engagement(row.id, subtree=True)], order.assertion)
    if row.ever_invoiced:
        found.append(Blocker("engagement", row.code, row.uid, row.name, errors.ENGAGEMENT_HAS_INVOICES, NONE))
    for project in project_store.of_engagements(tx, caller.account_id, [row.id]):
        if not order.cascade:
            found.append(Blocker("project", project.code, project.uid, project.name, errors.ENGAGEMENT_HAS_PROJECTS,
                                 CASCADE))
        if project.ever_invoiced:
            found.append(Blocker("project", project.code, project.uid, project.name, errors.PROJECT_HAS_INVOICES, NONE))
    return found


def project(ctx: Context, order: ProjectDelete) -> list[Blocker]:
    tx, caller = ctx.tx, ctx.user
    row = refs.PROJECT.resolve(tx, caller, order.key)
    scopes = [locks.scope_of_project(row.engagement_id, row.id, subtree=True)]
    if order.delete_empty_engagement and not delete_store.other_projects_exist(tx, row.engagement_id, row.id):
        scopes.append(locks.scope_of_engagement(row.engagement_id, subtree=True))
    found = _locks(ctx, scopes, order.assertion)
    if row.ever_invoiced:
        found.append(Blocker("project", row.code, row.uid, row.name, errors.PROJECT_HAS_INVOICES, NONE))
    if not order.cascade:
        for role in role_store.of_projects(tx, caller.account_id, [row.id]):
            found.append(Blocker("role", role.external_id, role.uid, role.name, errors.PROJECT_HAS_ROLES, CASCADE))
    return found


def role(ctx: Context, order: RoleDelete) -> list[Blocker]:
    tx, caller = ctx.tx, ctx.user
    row = refs.ROLE.resolve(tx, caller, order.key)
    if row.deleted:
        return []
    parent = project_store.by_ids(tx, caller.account_id, {row.project_id}).get(row.project_id)
    if parent is None:
        return []
    found = _locks(ctx, [locks.scope_of_role(parent.engagement_id, parent.id, row.id)], order.assertion)
    if not order.zero_out_hours and delete_store.role_has_hours(tx, row.id):
        found.append(Blocker("role", row.external_id, row.uid, row.name, errors.ROLE_HAS_HOURS_BOOKED_OR_REQUESTED,
                             ZERO_OUT))
    return found


def client(ctx: Context, order: ClientDelete) -> list[Blocker]:
    tx, caller = ctx.tx, ctx.user
    root = refs.CLIENT.resolve(tx, caller, order.key)
    levels = [[root]]
    seen = {root.id}
    while below := [c for c in client_store.children_of(tx, caller.account_id, {c.id for c in levels[-1]})
                    if c.id not in seen]:
        seen.update(c.id for c in below)
        levels.append(below)
    found = []
    if not order.cascade:
        found += [Blocker("client", c.number, c.uid, c.name, errors.CLIENT_HAS_CHILD_CLIENTS, CASCADE)
                  for c in (levels[1] if len(levels) > 1 else [])]
        everyone = [root]
    else:
        everyone = [c for level in levels for c in level]
    if not order.inactivate_if_in_use:
        in_use = delete_store.clients_with_engagements(tx, {c.id for c in everyone})
        for c in everyone:
            if c.id in in_use:
                reason = errors.CLIENT_IN_USE if c.id == root.id else errors.CHILD_CLIENT_COULD_NOT_BE_DELETED
                found.append(Blocker("client", c.number, c.uid, c.name, reason, INACTIVATE))
    return found

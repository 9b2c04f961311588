"""PwsDeleteClient, PwsDeleteEngagement, PwsDeleteProject, PwsDeleteProjectRole and
PwsUndeleteProjectRole."""

from __future__ import annotations

from openpws.contract.record import Record
from openpws.messages.call import Call, Reply
from openpws.messages.clients import client_ref
from openpws.messages.common import engagement_ref, project_ref, role_ref, stolen_members, timestamp
from openpws.messages.locks import assertion_of
from openpws.services import client_deletes, deletes, refs, role_deletes
from openpws.services.client_deletes import ClientDelete
from openpws.services.deletes import EngagementDelete, ProjectDelete
from openpws.services.role_deletes import RoleDelete, RoleUndelete, RoleWritten


def PwsDeleteClient(call: Call, rq: Record) -> Reply:
    """ClientIdentity, CascadeDeleteFlag (the client's whole tree), InactivateIfInuseFlag (mark
    inactive, with warning 101, what cannot be deleted) → ClientIdentity."""
    order = ClientDelete(key=refs.CLIENT.key(rq.get("ClientIdentity")), cascade=bool(rq.get("CascadeDeleteFlag")),
                         inactivate_if_in_use=bool(rq.get("InactivateIfInuseFlag")))
    deleted = client_deletes.delete_client(call.tx, call.user, order, call.now)
    return Reply({"ClientIdentity": client_ref(deleted.row)}, deleted.warnings)


def PwsDeleteEngagement(call: Call, rq: Record) -> Reply:
    """EngagementIdentity, CascadeDeleteFlag (its projects, roles and hours too), EngagementTimestamp,
    and the lock members → EngagementIdentity, EngagementTimestamp (its last version),
    LockStolenFromUserIdentity, StolenLocks."""
    order = EngagementDelete(key=refs.ENGAGEMENT.key(rq.get("EngagementIdentity")),
                             cascade=bool(rq.get("CascadeDeleteFlag")),
                             engagement_timestamp=rq.get("EngagementTimestamp"), assertion=assertion_of(rq))
    deleted = deletes.delete_engagement(call.tx, call.user, order, call.now)
    return Reply({"EngagementIdentity": engagement_ref(deleted.row), "EngagementTimestamp":
                  timestamp(deleted.row.rowversion), **stolen_members(deleted.stolen)})


def PwsDeleteProject(call: Call, rq: Record) -> Reply:
    """ProjectIdentity, CascadeDeleteFlag (its roles and their hours too), DeleteEmptyEngagementFlag,
    ProjectTimestamp, EngagementTimestamp, and the lock members → ProjectIdentity,
    EngagementTimestamp (the graph's new version; its last one when the engagement was deleted too),
    LockStolenFromUserIdentity, StolenLocks."""
    order = ProjectDelete(key=refs.PROJECT.key(rq.get("ProjectIdentity")), cascade=bool(rq.get("CascadeDeleteFlag")),
                          delete_empty_engagement=bool(rq.get("DeleteEmptyEngagementFlag")),
                          project_timestamp=rq.get("ProjectTimestamp"),
                          engagement_timestamp=rq.get("EngagementTimestamp"), assertion=assertion_of(rq))
    deleted = deletes.delete_project(call.tx, call.user, order, call.now)
    return Reply({"ProjectIdentity": project_ref(deleted.row),
                  "EngagementTimestamp": timestamp(deleted.engagement_version), **stolen_members(deleted.stolen)})


def _role_reply(written: RoleWritten) -> Reply:
    return Reply({"ProjectRoleIdentity": role_ref(written.row),
                  "EngagementTimestamp": timestamp(written.engagement_version), **stolen_members(written.stolen)})


def PwsDeleteProjectRole(call: Call, rq: Record) -> Reply:
    """ProjectRoleIdentity, ZeroOutHoursFlag (clear its requested and booked hours first),
    ProjectRoleTimestamp, EngagementTimestamp, and the lock members → ProjectRoleIdentity,
    EngagementTimestamp (the graph's new version), LockStolenFromUserIdentity, StolenLocks."""
    order = RoleDelete(key=refs.ROLE.key(rq.get("ProjectRoleIdentity")),
                       zero_out_hours=bool(rq.get("ZeroOutHoursFlag")),
                       role_timestamp=rq.get("ProjectRoleTimestamp"),
                       engagement_timestamp=rq.get("EngagementTimestamp"), assertion=assertion_of(rq))
    return _role_reply(role_deletes.delete_role(call.tx, call.user, order, call.now))


def PwsUndeleteProjectRole(call: Call, rq: Record) -> Reply:
    """ProjectRoleIdentity (a deleted role), MakeRoleNameUniqueFlag, ProjectRoleTimestamp, and the
    lock members → ProjectRoleIdentity, EngagementTimestamp (the graph's new version),
    LockStolenFromUserIdentity, StolenLocks."""
    order = RoleUndelete(key=refs.ROLE.key(rq.get("ProjectRoleIdentity")),
                         make_name_unique=bool(rq.get("MakeRoleNameUniqueFlag")),
                         role_timestamp=rq.get("ProjectRoleTimestamp"), assertion=assertion_of(rq))
    return _role_reply(role_deletes.undelete_role(call.tx, call.user, order, call.now))

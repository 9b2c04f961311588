"""PwsDeleteClient, PwsDeleteEngagement, PwsDeleteProject, PwsDeleteProjectRole and
PwsUndeleteProjectRole."""

from __future__ import annotations

from openpws.contract.record import Record
from openpws.messages.binding import Reply
from openpws.messages.clients import client_ref
from openpws.messages.common import engagement_ref, project_ref, role_ref, stolen_members, timestamp
from openpws.messages.locks import assertion_of
from openpws.messages.refs import client_key, engagement_key, project_key, role_key
from openpws.messages.tokens import stamp
from openpws.services.client_deletes import ClientDelete, ClientDeleted
from openpws.services.deletes import EngagementDelete, EngagementDeleted, ProjectDelete, ProjectDeleted
from openpws.services.role_deletes import RoleDelete, RoleUndelete, RoleWritten

# PwsDeleteClient: ClientIdentity, CascadeDeleteFlag (the client's whole tree), InactivateIfInuseFlag
# (mark inactive, with warning 101, what cannot be deleted) → ClientIdentity.


def decode_client(rq: Record) -> ClientDelete:
    return ClientDelete(key=client_key(rq.get("ClientIdentity")), cascade=bool(rq.get("CascadeDeleteFlag")),
                        inactivate_if_in_use=bool(rq.get("InactivateIfInuseFlag")))


def encode_client(deleted: ClientDeleted) -> Reply:
    return Reply({"ClientIdentity": client_ref(deleted.row)}, deleted.warnings)


# PwsDeleteEngagement: EngagementIdentity, CascadeDeleteFlag (its projects, roles and hours too),
# EngagementTimestamp, and the lock members → EngagementIdentity, EngagementTimestamp (its last
# version), LockStolenFromUserIdentity, StolenLocks.

def decode_engagement(rq: Record) -> EngagementDelete:
    return EngagementDelete(key=engagement_key(rq.get("EngagementIdentity")),
                            cascade=bool(rq.get("CascadeDeleteFlag")),
                            engagement_timestamp=stamp(rq.get("EngagementTimestamp")), assertion=assertion_of(rq))


def encode_engagement(deleted: EngagementDeleted) -> Reply:
    return Reply({"EngagementIdentity": engagement_ref(deleted.row), "EngagementTimestamp":
                  timestamp(deleted.row.rowversion), **stolen_members(deleted.stolen)})


# PwsDeleteProject: ProjectIdentity, CascadeDeleteFlag (its roles and their hours too),
# DeleteEmptyEngagementFlag, ProjectTimestamp, EngagementTimestamp, and the lock members →
# ProjectIdentity, EngagementTimestamp (the graph's new version; its last one when the engagement
# was deleted too), LockStolenFromUserIdentity, StolenLocks.

def decode_project(rq: Record) -> ProjectDelete:
    return ProjectDelete(key=project_key(rq.get("ProjectIdentity")), cascade=bool(rq.get("CascadeDeleteFlag")),
                         delete_empty_engagement=bool(rq.get("DeleteEmptyEngagementFlag")),
                         project_timestamp=stamp(rq.get("ProjectTimestamp")),
                         engagement_timestamp=stamp(rq.get("EngagementTimestamp")), assertion=assertion_of(rq))


def encode_project(deleted: ProjectDeleted) -> Reply:
    return Reply({"ProjectIdentity": project_ref(deleted.row),
                  "EngagementTimestamp": timestamp(deleted.engagement_version), **stolen_members(deleted.stolen)})


# PwsDeleteProjectRole: ProjectRoleIdentity, ZeroOutHoursFlag (clear its requested and booked hours
# first), ProjectRoleTimestamp, EngagementTimestamp, and the lock members → ProjectRoleIdentity,
# EngagementTimestamp (the graph's new version), LockStolenFromUserIdentity, StolenLocks.
# PwsUndeleteProjectRole: ProjectRoleIdentity (a deleted role), MakeRoleNameUniqueFlag,
# ProjectRoleTimestamp, and the lock members → the same members.

def decode_role(rq: Record) -> RoleDelete:
    return RoleDelete(key=role_key(rq.get("ProjectRoleIdentity")), zero_out_hours=bool(rq.get("ZeroOutHoursFlag")),
                      role_timestamp=stamp(rq.get("ProjectRoleTimestamp")),
                      engagement_timestamp=stamp(rq.get("EngagementTimestamp")), assertion=assertion_of(rq))


def decode_undelete(rq: Record) -> RoleUndelete:
    return RoleUndelete(key=role_key(rq.get("ProjectRoleIdentity")),
                        make_name_unique=bool(rq.get("MakeRoleNameUniqueFlag")),
                        role_timestamp=stamp(rq.get("ProjectRoleTimestamp")), assertion=assertion_of(rq))


def encode_role(written: RoleWritten) -> Reply:
    return Reply({"ProjectRoleIdentity": role_ref(written.row),
                  "EngagementTimestamp": timestamp(written.engagement_version), **stolen_members(written.stolen)})

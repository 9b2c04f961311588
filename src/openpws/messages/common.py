"""Shared PWS shapes in wire form: the Ref structures (responses carry both keys, Id nil)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from openpws import errors
from openpws.entities import AccountRow, EngagementRow, PersonRow, ProjectRow, RoleRow, StageRow, UserRow
from openpws.messages.tokens import encode_rowversion
from openpws.services import locks
from openpws.services.locks import EntitySummary, LockConflict
from openpws.services.sessions import Caller


def account_ref(account: AccountRow) -> dict[str, Any]:
    return {"AccountCode": account.code, "AccountId": None, "AccountUid": account.uid}


def user_ref(user: UserRow | PersonRow | Caller) -> dict[str, Any]:
    uid = user.user_uid if isinstance(user, Caller) else user.uid
    return {
        "UserDisplayName": user.display_name,
        "UserId": None,
        "UserReferenceSystemId": user.reference_id,
        "UserUid": uid,
    }


def user_summary(person: PersonRow) -> dict[str, Any]:
    return {**user_ref(person), "EmailAddress": person.email, "FirstName": None, "LastName": None,
            "MiddleName": None}


def resource_ref(person: PersonRow) -> dict[str, Any]:
    return {"ResourceDisplayName": person.display_name, "ResourceId": None,
            "ResourceReferenceSystemId": person.reference_id, "ResourceUid": person.uid}


def stage_ref(stage: StageRow) -> dict[str, Any]:
    prefix = "EngagementStage" if stage.kind == "E" else "ProjectStage"
    return {f"{prefix}Id": None, f"{prefix}Name": stage.name, f"{prefix}ShortName": stage.short_name,
            f"{prefix}Uid": stage.uid}


def engagement_ref(row: EngagementRow) -> dict[str, Any]:
    return {"EngagementCode": row.code, "EngagementId": None, "EngagementUid": row.uid}


def project_ref(row: ProjectRow) -> dict[str, Any]:
    return {"ProjectCode": row.code, "ProjectId": None, "ProjectUid": row.uid}


def project_summary(row: ProjectRow, engagement: EngagementRow) -> dict[str, Any]:
    return {**project_ref(row), "EngagementIdentity": engagement_ref(engagement), "ProjectName": row.name}


def role_ref(row: RoleRow) -> dict[str, Any]:
    return {"ExternalSystemIdentifier": row.external_id, "ProjectRoleId": None, "ProjectRoleUid": row.uid}


def timestamp(rowversion: int) -> str:
    """A row version as the Base64 token responses carry (EngagementTimestamp and the like)."""
    return encode_rowversion(rowversion)


def entity_summary(summary: EntitySummary) -> dict[str, Any]:
    return {
        "EntityIdentity": {"EntityCode": summary.entity_code, "EntityId": None, "EntityUid": summary.entity_uid,
                           "LockType": summary.entity_type},
        "EntityLockSummary": [{"LockCount": item.count, "LockHolderUserIdentity": user_ref(item.holder),
                               "MostRecentLockAcquisitionTimestamp": item.most_recent.replace(tzinfo=UTC)}
                              for item in summary.items],
    }


def stolen_from(stolen: locks.Stolen) -> dict[str, Any] | None:
    """LockStolenFromUserIdentity of a write's response: whose lock it stole, if any."""
    victim = stolen.from_user
    return user_ref(victim) if victim else None


def stolen_members(stolen: locks.Stolen) -> dict[str, Any]:
    """LockStolenFromUserIdentity and StolenLocks of a write's response (StolenLocks only when
    something was stolen)."""
    return {"LockStolenFromUserIdentity": stolen_from(stolen),
            "StolenLocks": [entity_summary(s) for s in stolen.summaries] or None}


def lock_fault(conflict: LockConflict) -> errors.PwsFault:
    """The PwsFault members of a lock conflict."""
    holder = conflict.holder
    taker = conflict.taker
    return errors.PwsFault(conflict.message, {
        "LockHolderUserIdentity": user_ref(holder) if holder else None,
        "LockHolders": [entity_summary(s) for s in conflict.holders],
        "LockTaker": {"LockStolenByUser": user_summary(taker.user), "ProjectorLockSetId": taker.lock_set_id}
        if taker else None,
        "AllowLocksToBeStolenFlag": conflict.allow_steal,
    })

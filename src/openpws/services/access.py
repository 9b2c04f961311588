"""The permission check every operation starts with (50045 for a missing view permission,
50046 for any other)."""

from __future__ import annotations

from openpws import errors
from openpws.services.permissions import Permission
from openpws.services.sessions import Caller

_VIEW = frozenset({Permission.CLIENTS_VIEW, Permission.PROJECTS_VIEW})


def require(caller: Caller, permission: Permission) -> None:
    if not caller.may(permission):
        entry = errors.VIEW_PERMISSION_DENIED if permission in _VIEW else errors.UPDATE_PERMISSION_DENIED
        raise errors.fail(entry, f"{caller.display_name} lacks the {permission.value} permission")

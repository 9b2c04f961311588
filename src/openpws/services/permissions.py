"""The permissions a user can hold (granted by the CLI, checked by every operation)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from enum import StrEnum


class Permission(StrEnum):
    WEB_SERVICES = "web-services"          # may call PWS at all (else 50220 at PwsAuthenticate)
    CLIENTS_VIEW = "clients-view"
    CLIENTS_UPDATE = "clients-update"      # save and delete clients; implies clients-view
    PROJECTS_VIEW = "projects-view"        # engagements, projects, roles, invoices
    PROJECTS_UPDATE = "projects-update"    # save them; implies projects-view
    PROJECTS_DELETE = "projects-delete"    # delete them; implies projects-view
    HOURS_REQUEST = "hours-request"        # PwsRequestOrBookRoleHours Mode R
    HOURS_BOOK = "hours-book"              # PwsRequestOrBookRoleHours Mode A


ALL: frozenset[Permission] = frozenset(Permission)
VIEW_ONLY: frozenset[Permission] = frozenset(
    {Permission.WEB_SERVICES, Permission.CLIENTS_VIEW, Permission.PROJECTS_VIEW}
)
_IMPLIES = {
    Permission.CLIENTS_UPDATE: Permission.CLIENTS_VIEW,
    Permission.PROJECTS_UPDATE: Permission.PROJECTS_VIEW,
    Permission.PROJECTS_DELETE: Permission.PROJECTS_VIEW,
}


def expand(granted: Iterable[str]) -> frozenset[Permission]:
    """The permissions held, with the ones implied by others; unknown names raise ValueError."""
    return _expand(frozenset(granted))


@functools.lru_cache(maxsize=256)  # every request's session check asks; users hold few distinct sets
def _expand(granted: frozenset[str]) -> frozenset[Permission]:
    held = {Permission(name) for name in granted}
    held |= {_IMPLIES[p] for p in held if p in _IMPLIES}
    return frozenset(held)

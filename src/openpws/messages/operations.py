"""The dispatch table: every WSDL operation and the handler that serves it.

A test checks this table against the WSDL in both directions, and the server refuses to start
if they differ.
"""

from __future__ import annotations

from collections.abc import Mapping

from openpws.messages import auth, clients, deletes, engagements, invoices, locks, projects, roles
from openpws.messages.call import Handler

OPERATIONS: Mapping[str, Handler] = {
    "PwsAuthenticate": Handler(auth.PwsAuthenticate, session=False, write=True, long=True),
    "PwsUnauthenticate": Handler(auth.PwsUnauthenticate, write=True),
    "PwsGetClient": Handler(clients.PwsGetClient),
    "PwsGetClientList": Handler(clients.PwsGetClientList),
    "PwsSaveClient": Handler(clients.PwsSaveClient, write=True),
    "PwsGetEngagement": Handler(engagements.PwsGetEngagement),
    "PwsGetEngagementList": Handler(engagements.PwsGetEngagementList),
    "PwsSaveEngagement": Handler(engagements.PwsSaveEngagement, write=True),
    "PwsGetProject": Handler(projects.PwsGetProject),
    "PwsGetProjectList": Handler(projects.PwsGetProjectList),
    "PwsSaveProject": Handler(projects.PwsSaveProject, write=True),
    "PwsGetProjectRoles": Handler(roles.PwsGetProjectRoles),
    "PwsSaveProjectRole": Handler(roles.PwsSaveProjectRole, write=True),
    "PwsRequestOrBookRoleHours": Handler(roles.PwsRequestOrBookRoleHours, write=True),
    "PwsCreateInvoice": Handler(invoices.PwsCreateInvoice, write=True),
    "PwsGetInvoice": Handler(invoices.PwsGetInvoice),
    "PwsAcquireProjectorLocks": Handler(locks.PwsAcquireProjectorLocks, write=True),
    "PwsCheckProjectorLocks": Handler(locks.PwsCheckProjectorLocks, write=True),
    "PwsRenewProjectorLocks": Handler(locks.PwsRenewProjectorLocks, write=True),
    "PwsReleaseProjectorLocks": Handler(locks.PwsReleaseProjectorLocks, write=True),
    "PwsDeleteClient": Handler(deletes.PwsDeleteClient, write=True, long=True),
    "PwsDeleteEngagement": Handler(deletes.PwsDeleteEngagement, write=True, long=True),
    "PwsDeleteProject": Handler(deletes.PwsDeleteProject, write=True, long=True),
    "PwsDeleteProjectRole": Handler(deletes.PwsDeleteProjectRole, write=True),
    "PwsUndeleteProjectRole": Handler(deletes.PwsUndeleteProjectRole, write=True),
}

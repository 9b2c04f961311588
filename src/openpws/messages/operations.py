"""The dispatch table: every WSDL operation bound to its decoder, service and encoder.

A test checks this table against the WSDL in both directions, and the server refuses to start
if they differ. Adding an operation: its request and view types and its service function in
``services``, its decode/encode functions in the matching module here, one line below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openpws.messages import (
    auth,
    clients,
    contract_line_items,
    deletes,
    engagements,
    invoices,
    locks,
    projects,
    rate_limits,
    resources,
    roles,
    scheduling,
)
from openpws.messages.binding import Binding, empty, nothing
from openpws.services import (
    blockers,
    client_deletes,
    hours,
    lock_sets,
    logins,
    role_deletes,
)
from openpws.services import clients as client_services
from openpws.services import contract_line_items as contract_line_item_services
from openpws.services import (
    deletes as delete_services,
)
from openpws.services import engagements as engagement_services
from openpws.services import (
    invoices as invoice_services,
)
from openpws.services import projects as project_services
from openpws.services import rate_limits as rate_limit_services
from openpws.services import (
    resources as resource_services,
)
from openpws.services import roles as role_services
from openpws.services import scheduling as scheduling_services

OPERATIONS: Mapping[str, Binding[Any, Any]] = {
    "PwsAuthenticate": Binding(auth.decode_authenticate, logins.log_in, auth.encode_authenticate,
                               session=False, write=True, long=True, not_modelled=auth.AUTHENTICATE_NOT_MODELLED),
    # PwsUnauthenticate ends the session of the SessionTicket sent; using it afterwards gives -101.
    "PwsUnauthenticate": Binding(nothing, logins.log_out, empty, write=True),
    "PwsGetClient": Binding(clients.decode_get, client_services.get_clients, clients.encode_get),
    "PwsGetClientList": Binding(clients.decode_list, client_services.list_clients, clients.encode_list),
    "PwsSaveClient": Binding(clients.decode_save, client_services.save_client, clients.encode_save, write=True,
                             not_modelled=clients.SAVE_NOT_MODELLED),
    "PwsGetEngagement": Binding(engagements.decode_get, engagement_services.get_engagements, engagements.encode_get),
    "PwsGetEngagementList": Binding(engagements.decode_list, engagement_services.list_engagements,
                                    engagements.encode_list),
    "PwsSaveEngagement": Binding(engagements.decode_save, engagement_services.save_engagement,
                                 engagements.encode_save, write=True, not_modelled=engagements.SAVE_NOT_MODELLED),
    "PwsGetContractLineItem": Binding(contract_line_items.decode_get,
                                      contract_line_item_services.get_contract_line_items,
                                      contract_line_items.encode_get),
    "PwsSaveContractLineItem": Binding(contract_line_items.decode_save,
                                       contract_line_item_services.save_contract_line_item,
                                       contract_line_items.encode_save, write=True,
                                       not_modelled=contract_line_items.SAVE_NOT_MODELLED),
    "PwsGetProject": Binding(projects.decode_get, project_services.get_projects, projects.encode_get,
                             not_modelled=projects.GET_NOT_MODELLED),
    "PwsGetProjectList": Binding(projects.decode_list, project_services.list_projects, projects.encode_list),
    "PwsSaveProject": Binding(projects.decode_save, project_services.save_project, projects.encode_save,
                              write=True, not_modelled=projects.SAVE_NOT_MODELLED),
    "PwsGetProjectRoles": Binding(roles.decode_get, role_services.get_project_roles, roles.encode_get,
                                  not_modelled=roles.GET_NOT_MODELLED),
    "PwsSaveProjectRole": Binding(roles.decode_save, role_services.save_role, roles.encode_save, write=True,
                                  not_modelled=roles.SAVE_NOT_MODELLED),
    "PwsRequestOrBookRoleHours": Binding(roles.decode_hours, hours.request_or_book, roles.encode_hours,
                                         write=True),
    "PwsCreateInvoice": Binding(invoices.decode_create, invoice_services.create_invoice, invoices.encode_create,
                                write=True, not_modelled=invoices.CREATE_NOT_MODELLED),
    "PwsGetInvoice": Binding(invoices.decode_get, invoice_services.get_invoice, invoices.encode_get,
                             not_modelled=invoices.GET_NOT_MODELLED),
    "PwsAcquireProjectorLocks": Binding(locks.decode_acquire, lock_sets.acquire_locks, locks.encode_acquire,
                                        write=True),
    "PwsCheckProjectorLocks": Binding(locks.decode_check, lock_sets.check_locks, locks.encode_check, write=True,
                                      not_modelled=locks.CHECK_NOT_MODELLED),
    "PwsRenewProjectorLocks": Binding(locks.decode_renew, lock_sets.renew_locks, empty, write=True),
    "PwsReleaseProjectorLocks": Binding(locks.decode_release, lock_sets.release_locks, locks.encode_release,
                                        write=True),
    "PwsDeleteClient": Binding(deletes.decode_client, client_deletes.delete_client, deletes.encode_client,
                               write=True, long=True, blockers=blockers.client),
    "PwsDeleteEngagement": Binding(deletes.decode_engagement, delete_services.delete_engagement,
                                   deletes.encode_engagement, write=True, long=True, blockers=blockers.engagement),
    "PwsDeleteProject": Binding(deletes.decode_project, delete_services.delete_project, deletes.encode_project,
                                write=True, long=True, blockers=blockers.project),
    "PwsDeleteProjectRole": Binding(deletes.decode_role, role_deletes.delete_role, deletes.encode_role, write=True,
                                    blockers=blockers.role),
    "PwsUndeleteProjectRole": Binding(deletes.decode_undelete, role_deletes.undelete_role, deletes.encode_role,
                                      write=True),
    "PwsGetResourceList": Binding(resources.decode_list, resource_services.list_resources, resources.encode_list),
    "PwsGetResource": Binding(resources.decode_get, resource_services.get_resources, resources.encode_get),
    "PwsGetResourceSchedulingRoleData": Binding(scheduling.decode, scheduling_services.role_schedules,
                                                scheduling.encode, not_modelled=scheduling.NOT_MODELLED),
    # Counted against the rate limits whether limiting is on or off (messages.rate_limits).
    "PwsTestRateLimiter": Binding(rate_limits.decode_test, rate_limit_services.snapshot, rate_limits.encode_test,
                                  write=True),
}

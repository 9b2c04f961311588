"""PwsAuthenticate and PwsUnauthenticate."""

from __future__ import annotations

from openpws.contract.record import Record
from openpws.messages.call import Call, Reply, require
from openpws.messages.common import account_ref, user_ref
from openpws.services import sessions


def PwsAuthenticate(call: Call, rq: Record) -> Reply:
    """AccountCode, UserName and Password (all required) open a session.

    Response: SessionTicket, AccountIdentity, UserIdentity, Account, User; RedirectUrl nil (this
    server hosts every account it knows), SuperUserFlag false, DocumentServerUrl nil.
    Errors: 10002 InvalidCredentials for an unknown account, unknown user or wrong password alike;
    50220 WebServicesPermissionDenied for a user without web-services permission.
    """
    result = sessions.authenticate(
        call.tx, call.settings, call.now,
        account_code=require(rq, "AccountCode"),
        user_name=require(rq, "UserName"),
        password=require(rq, "Password"),
    )
    account, user = result.account, result.user
    return Reply({
        "RedirectUrl": None,
        "SessionTicket": result.ticket,
        "AccountIdentity": account_ref(account),
        "UserIdentity": user_ref(user),
        "SuperUserFlag": False,
        "DocumentServerUrl": None,
        "Account": {**account_ref(account), "AccountName": account.name},
        "User": {**user_ref(user), "EmailAddress": user.email, "FirstName": None, "LastName": None,
                 "MiddleName": None},
    })


def PwsUnauthenticate(call: Call, rq: Record) -> Reply:
    """Ends the session of the SessionTicket sent; using the ticket afterwards gives -101."""
    sessions.end(call.tx, call.user, call.now)
    return Reply()

"""PwsAuthenticate and PwsUnauthenticate."""

from __future__ import annotations

from openpws.contract.record import Record
from openpws.messages.binding import Reply, require
from openpws.messages.common import account_ref, user_ref
from openpws.services.sessions import Authenticated, Credentials

# PwsAuthenticate: AccountCode, UserName and Password (all required) open a session.
# Response: SessionTicket, AccountIdentity, UserIdentity, Account, User; RedirectUrl nil (this
# server hosts every account it knows), SuperUserFlag false, DocumentServerUrl nil.
# Errors: 10002 InvalidCredentials for an unknown account, unknown user or wrong password alike;
# 50220 WebServicesPermissionDenied for a user without web-services permission.


# Sent by some clients, used by none of openpws's rules (it has no cultures, devices or crossovers).
AUTHENTICATE_NOT_MODELLED = ("CrossoverTicket", "CultureName", "Fingerprint", "UtcOffsetMinutes")


def decode_authenticate(rq: Record) -> Credentials:
    return Credentials(require(rq, "AccountCode"), require(rq, "UserName"), require(rq, "Password"))


def encode_authenticate(result: Authenticated) -> Reply:
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

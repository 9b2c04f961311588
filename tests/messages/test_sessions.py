"""PwsAuthenticate and PwsUnauthenticate over real HTTP, and the session rules every call obeys."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import select, update

from openpws.contract import compile_schema, ns
from openpws.services.permissions import Permission
from openpws.store.schema import sessions, users
from openpws.store.transactions import Store
from tests.conftest import AccountFixture, make_user
from tests.pws import Answer, SoapClient, envelope

# The request example of the PwsAuthenticate wiki page, as written there.
WIKI_AUTHENTICATE = b"""<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:pws="http://projectorpsa.com/PwsProjectorServices/" xmlns:req="http://projectorpsa.com/DataContracts/Requests/">
   <soapenv:Header/>
   <soapenv:Body>
      <pws:PwsAuthenticate>
         <pws:serviceRequest>
            <req:AccountCode>revcorp-doc</req:AccountCode>
            <req:Password>1JiLei$</req:Password>
            <req:UserName>bruce@revcorp.doc</req:UserName>
         </pws:serviceRequest>
      </pws:PwsAuthenticate>
   </soapenv:Body>
</soapenv:Envelope>"""

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


@pytest.fixture(scope="module")
def wiki_account(store: Store) -> str:
    from datetime import UTC, datetime

    from openpws.services import admin
    from openpws.services.permissions import ALL

    with store.write() as tx:
        if admin.account_store.find_account(tx, "revcorp-doc") is None:
            admin.create_account(tx, "revcorp-doc", "RevCorp Doc", datetime.now(UTC).replace(tzinfo=None))
    make_user(store, "revcorp-doc", "bruce@revcorp.doc", ALL, password="1JiLei$", reference_id="097")
    return "revcorp-doc"


def test_wiki_example_is_accepted_verbatim(soap: SoapClient, wiki_account: str) -> None:
    answer = soap.post(WIKI_AUTHENTICATE)
    assert answer.status_code == 200
    assert answer.status == "Ok"
    assert answer.member("SessionTicket") is not None
    account = answer.member("AccountIdentity")
    assert account is not None
    assert account.findtext(f"{{{ns.COMMON}}}AccountCode") == "revcorp-doc"


def test_response_has_the_documented_shape(soap: SoapClient, account: AccountFixture) -> None:
    answer = soap.authenticate(account.code, account.admin, account.password, request_id=41)
    result = answer.result
    assert etree.QName(result).text == f"{{{ns.PWS}}}PwsAuthenticateResult"
    names = [etree.QName(child).text for child in result]
    assert names == [
        f"{{{ns.COMMON_SERVICES}}}Messages", f"{{{ns.COMMON_SERVICES}}}ResponseId",
        f"{{{ns.COMMON_SERVICES}}}Status", f"{{{ns.COMMON_SERVICES}}}ServerTimestampUtc",
        *(f"{{{ns.RESPONSES}}}{n}" for n in (
            "RedirectUrl", "SessionTicket", "AccountIdentity", "UserIdentity", "SuperUserFlag",
            "DocumentServerUrl", "Account", "User")),
    ]
    assert answer.text("s:Body/pws:PwsAuthenticateResponse/pws:PwsAuthenticateResult/cs:ResponseId") == "41"
    messages = result.find(f"{{{ns.COMMON_SERVICES}}}Messages")
    assert messages is not None and len(messages) == 0
    assert TIMESTAMP.match(result.findtext(f"{{{ns.COMMON_SERVICES}}}ServerTimestampUtc") or "")
    redirect = answer.member("RedirectUrl")
    assert redirect is not None and redirect.get(f"{{{ns.XSI}}}nil") == "true"
    assert answer.text(".//rs:SuperUserFlag") == "false"
    user = answer.member("UserIdentity")
    assert user is not None
    assert user.findtext(f"{{{ns.COMMON}}}UserDisplayName") == f"User {account.admin}"
    assert user.findtext(f"{{{ns.COMMON}}}UserReferenceSystemId") == "E1"
    uid = int(user.findtext(f"{{{ns.COMMON}}}UserUid") or 0)
    assert uid > 2**60
    user_id = user.find(f"{{{ns.COMMON}}}UserId")
    assert user_id is not None and user_id.get(f"{{{ns.XSI}}}nil") == "true"
    ticket = answer.member("SessionTicket")
    assert ticket is not None and ticket.text is not None
    assert len(ticket.text) == 24 and len(base64.b64decode(ticket.text)) == 16
    # The whole response conforms to the contract we serve.
    compile_schema().assertValid(result.getparent())


def test_response_id_is_zero_when_request_id_is_absent(soap: SoapClient, account: AccountFixture) -> None:
    answer = soap.authenticate(account.code, account.admin, account.password)
    assert answer.text(".//cs:ResponseId") == "0"


def test_each_login_gets_its_own_ticket(soap: SoapClient, account: AccountFixture) -> None:
    first = soap.login(account.code, account.admin, account.password)
    second = soap.login(account.code, account.admin, account.password)
    assert first != second


def _credentials_failure(soap: SoapClient, account: str, user: str, password: str) -> list[dict[str, str | None]]:
    answer = soap.authenticate(account, user, password)
    assert answer.status_code == 200
    assert answer.status == "Fail"
    ticket = answer.member("SessionTicket")
    assert ticket is not None and ticket.get(f"{{{ns.XSI}}}nil") == "true" and not ticket.text
    return answer.messages()


def test_bad_credentials_give_one_answer_whatever_was_wrong(soap: SoapClient, account: AccountFixture) -> None:
    wrong_password = _credentials_failure(soap, account.code, account.admin, "not-the-password")
    unknown_user = _credentials_failure(soap, account.code, "nobody@nowhere", account.password)
    unknown_account = _credentials_failure(soap, "no-such-account", account.admin, account.password)
    assert wrong_password == unknown_user == unknown_account
    assert wrong_password == [{
        "AdditionalErrorText": "Error 10002: InvalidCredentials",
        "ErrorCode": "InvalidCredentials",
        "ErrorNumber": "10002",
        "ErrorText": "The specified credentials are not valid. Please try again.",
        "Type": "Error",
        "ReferenceId1": None,
        "ReferenceId2": None,
    }]


def test_user_without_web_services_is_refused(soap: SoapClient, account: AccountFixture) -> None:
    answer = soap.authenticate(account.code, account.no_web, account.password)
    assert answer.status == "Fail"
    assert answer.error_numbers() == [50220]
    assert answer.messages()[0]["ErrorCode"] == "WebServicesPermissionDenied"


def test_login_names_and_account_codes_ignore_case(soap: SoapClient, account: AccountFixture) -> None:
    assert soap.authenticate(account.code.upper(), account.admin.upper(), account.password).status == "Ok"


def test_passwords_and_tickets_are_stored_only_as_hashes(soap: SoapClient, store: Store,
                                                         account: AccountFixture) -> None:
    ticket = soap.login(account.code, account.admin, account.password)
    with store.read() as tx:
        stored_hash = tx.execute(select(users.c.password_hash).where(users.c.login == account.admin)).scalar_one()
        ticket_hashes = set(tx.execute(select(sessions.c.ticket_hash)).scalars())
    assert account.password not in stored_hash
    assert stored_hash.startswith("scrypt$")
    assert ticket not in ticket_hashes
    assert hashlib.sha256(base64.b64decode(ticket)).hexdigest() in ticket_hashes


def unauthenticate(soap: SoapClient, ticket: str) -> Answer:
    return soap.call("PwsUnauthenticate", f"<req:RequestId>5</req:RequestId><req:SessionTicket>{ticket}</req:SessionTicket>")


def test_unauthenticate_ends_the_session(soap: SoapClient, account: AccountFixture) -> None:
    ticket = soap.login(account.code, account.admin, account.password)
    first = unauthenticate(soap, ticket)
    assert first.status == "Ok"
    assert first.text(".//cs:ResponseId") == "5"
    again = soap.call("PwsUnauthenticate", f"<req:SessionTicket>{ticket}</req:SessionTicket>")
    assert again.status_code == 200
    assert again.status == "FailSessionInvalid"
    assert again.error_numbers() == [-101]
    assert again.messages()[0]["ErrorCode"] == "InvalidSession"


@pytest.mark.parametrize("ticket", ["AAAAAAAAAAAAAAAAAAAAAA==", "not a ticket", "QUJD", "A" * 300])
def test_unknown_tickets_are_invalid_session_tickets(soap: SoapClient, ticket: str) -> None:
    answer = soap.call("PwsUnauthenticate", f"<req:SessionTicket>{ticket}</req:SessionTicket>")
    assert answer.status_code == 200
    assert answer.status == "FailSessionInvalid"
    assert answer.error_numbers() == [10004]
    assert answer.messages()[0]["AdditionalErrorText"] == "Error 10004: InvalidSessionTicket"


def _age_session(store: Store, ticket: str, *, idle: timedelta = timedelta(0), age: timedelta = timedelta(0)) -> None:
    ticket_hash = hashlib.sha256(base64.b64decode(ticket)).hexdigest()
    with store.write() as tx:
        row = tx.execute(select(sessions.c.created_at, sessions.c.last_seen_at)
                         .where(sessions.c.ticket_hash == ticket_hash)).one()
        tx.execute(update(sessions).where(sessions.c.ticket_hash == ticket_hash)
                   .values(created_at=row.created_at - age, last_seen_at=row.last_seen_at - idle))


def test_idle_sessions_expire(soap: SoapClient, store: Store, account: AccountFixture) -> None:
    ticket = soap.login(account.code, account.admin, account.password)
    _age_session(store, ticket, idle=timedelta(minutes=59), age=timedelta(minutes=59))
    still = soap.login(account.code, account.admin, account.password)
    _age_session(store, still, idle=timedelta(minutes=61), age=timedelta(minutes=61))
    # 59 idle minutes is within the default 60-minute limit; 61 is not.
    assert unauthenticate(soap, ticket).status == "Ok"
    expired = unauthenticate(soap, still)
    assert expired.status == "FailSessionInvalid"
    assert expired.error_numbers() == [-101]


def test_sessions_expire_after_their_lifetime_however_busy(soap: SoapClient, store: Store,
                                                           account: AccountFixture) -> None:
    ticket = soap.login(account.code, account.admin, account.password)
    _age_session(store, ticket, age=timedelta(hours=12, minutes=1))  # used a moment ago, but 12 h old
    answer = unauthenticate(soap, ticket)
    assert answer.status == "FailSessionInvalid"
    assert answer.error_numbers() == [-101]


def test_accounts_are_isolated(soap: SoapClient, store: Store) -> None:
    from tests.conftest import make_account

    first, second = make_account(store, "iso"), make_account(store, "iso")
    # The same login in both accounts: each account's password works only there.
    make_user(store, first.code, "shared@login", frozenset({Permission.WEB_SERVICES}), password="first-pw")
    make_user(store, second.code, "shared@login", frozenset({Permission.WEB_SERVICES}), password="second-pw")
    assert soap.authenticate(first.code, "shared@login", "second-pw").status == "Fail"
    a = soap.authenticate(first.code, "shared@login", "first-pw")
    b = soap.authenticate(second.code, "shared@login", "second-pw")
    uid_a = a.text(".//rs:UserIdentity/com:UserUid")
    uid_b = b.text(".//rs:UserIdentity/com:UserUid")
    assert uid_a != uid_b
    assert a.text(".//rs:AccountIdentity/com:AccountUid") != b.text(".//rs:AccountIdentity/com:AccountUid")
    # Ending the session of account A leaves account B's session alive.
    ticket_a, ticket_b = a.member("SessionTicket"), b.member("SessionTicket")
    assert ticket_a is not None and ticket_b is not None
    assert unauthenticate(soap, ticket_a.text or "").status == "Ok"
    assert unauthenticate(soap, ticket_b.text or "").status == "Ok"


def test_session_ticket_is_required(soap: SoapClient) -> None:
    answer = soap.call("PwsUnauthenticate", "<req:RequestId>1</req:RequestId>")
    assert answer.status_code == 500
    assert answer.faultcode == "s:Client"
    assert f"{{{ns.REQUESTS}}}SessionTicket is required" in answer.faultstring


def test_missing_credentials_are_malformed_requests(soap: SoapClient, account: AccountFixture) -> None:
    answer = soap.post(envelope(
        "PwsAuthenticate",
        f"<req:AccountCode>{account.code}</req:AccountCode><req:UserName>{account.admin}</req:UserName>",
    ))
    assert answer.status_code == 500
    assert answer.faultcode == "s:Client"
    assert f"{{{ns.REQUESTS}}}Password is required" in answer.faultstring

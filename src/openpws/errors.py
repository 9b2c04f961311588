"""The error catalogue: every PWS error and warning openpws can answer with, and the exceptions
that carry them. ``openpws.soap.faults`` is the one place that turns these into SOAP.

    Exception
    ├── PwsError        a business failure: HTTP 200, Status=Fail (FailSessionInvalid for session
    │                   entries), one PwsMessage per problem; the request's transaction is rolled back
    ├── PwsFault        a write blocked by other users' locks (or by the theft of the caller's own),
    │                   or a request over its rate limit in error mode: HTTP 500, a SOAP Fault whose
    │                   detail is a PwsFault; rolled back too
    └── RequestFault    a malformed request (not XML, wrong envelope, unknown operation, a value not
                        of its XSD type, a required element missing): HTTP 500, faultcode s:Client

Numbers and codes are the documented ones; where the wiki documents none, numbers come from
990000-990999, the range reserved for openpws (``openpws=True`` below). ``docs/errors.md`` lists
this catalogue and a test keeps the two equal.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class MessageType(StrEnum):
    INFORMATION = "Information"
    WARNING = "Warning"
    ERROR = "Error"


@dataclass(frozen=True)
class Entry:
    """One catalogue line: ``text`` may hold ``{placeholders}`` filled when the message is made."""

    number: int
    code: str
    text: str
    type: MessageType = MessageType.ERROR
    openpws: bool = False
    session: bool = False


W = MessageType.WARNING

INVALID_SESSION = Entry(
    -101, "InvalidSession",
    "The specified session is not valid or is no longer valid. Please re-establish a session.", session=True)
CLIENT_INACTIVATED = Entry(
    101, "ClientInactivated", "The client could not be deleted and instead it was marked inactive", W)
ROW_COUNT_EXCEEDED = Entry(
    104, "RowCountExceeded",
    "Not all data rows were returned because the maximum row count was smaller than the total number "
    "of rows.", W)
AT_LEAST_ONE_ITEM_NOT_FOUND = Entry(
    105, "AtLeastOneItemNotFound",
    "At least one requested item was not found. The remaining items, if any, were returned.", W)
PROJECT_NOTE_TRUNCATED = Entry(
    165, "ProjectNoteTruncated",
    "The note exceeded the maximum length of {maximum} characters and was truncated.", W)
INVALID_CREDENTIALS = Entry(
    10002, "InvalidCredentials", "The specified credentials are not valid. Please try again.")
INVALID_SESSION_TICKET = Entry(
    10004, "InvalidSessionTicket",
    "The specified session ticket is invalid. Please verify you are issuing this request against the "
    "correct instance of Projector.", session=True)
# Production answers 10016 as an error (the PwsFault, before any work) or as a warning (the work
# done), by the installation's rate-limiting mode; the two entries are that one number's two forms.
RATE_LIMIT_EXCEEDED = Entry(
    10016, "RequestExceededRateLimit",
    "The request exceeded the rate limit: {installation} of {installation_limit} installation hits, {user} of "
    "{user_limit} user hits and {session} of {session_limit} session hits in the last {window} seconds. Pause "
    "for at least five seconds before retrying.")
RATE_LIMIT_WARNING = Entry(
    10016, "RequestExceededRateLimit",
    "The request exceeded the rate limit: {installation} of {installation_limit} installation hits, {user} of "
    "{user_limit} user hits and {session} of {session_limit} session hits in the last {window} seconds. Slow "
    "down: in error mode this request would have been refused.", W)
INVALID_ENUMERATION_VALUE = Entry(
    10126, "InvalidEnumerationValueSpecified",
    "An invalid value was specified for {field}. Valid values are {valid}.")
NO_ENGAGEMENTS_SPECIFIED = Entry(
    12042, "NoEngagementsSpecified", "No engagements were specified.")
MAXIMUM_ENGAGEMENT_IDENTITIES_EXCEEDED = Entry(
    12044, "MaximumEngagementIdentitiesExceeded",
    "The maximum number of engagement identities ({maximum}) was exceeded.")
ENTITY_NOT_FOUND = Entry(50024, "EntityNotFound", "Entity {entity} was not found.")
VIEW_PERMISSION_DENIED = Entry(
    50045, "ViewPermissionDenied", "You do not have permission to view this item.")
UPDATE_PERMISSION_DENIED = Entry(
    50046, "UpdatePermissionDenied", "You do not have permission to update this item.")
WEB_SERVICES_PERMISSION_DENIED = Entry(
    50220, "WebServicesPermissionDenied",
    "The specified user does not have permission to execute web services, or web services is not "
    "enabled for this account.")
ENTITY_ALREADY_LOCKED = Entry(
    50469, "EntityAlreadyLocked", "One or more existing locks prevent acquisition of requested lock.")
SPECIFIED_LOCK_NOT_FOUND = Entry(50475, "SpecifiedLockNotFound", "Invalid lock specified.")
LOCK_ALREADY_RELEASED = Entry(
    50476, "LockAlreadyReleased", "Warning: Lock {lock_set_id} has already been released.", W)
CANNOT_RENEW_LOCK_RELEASED = Entry(
    50485, "CannotRenewLockReleased", "Cannot renew lock because it has been released.")
ENGAGEMENT_NOT_SPECIFIED = Entry(
    54059, "EngagementNotSpecified",
    "A specified engagement identity was incomplete. Each engagement identity must specify either an "
    "engagement id, and engagement uid or an engagement code.")
ENGAGEMENT_NOT_FOUND = Entry(54061, "EngagementNotFound", "The specified engagement does not exist.")
ROLE_HAS_HOURS_BOOKED_OR_REQUESTED = Entry(
    54074, "RoleHasHoursBookedOrRequested",
    "This project role cannot be deleted because it has hours booked or requested to it.")
ENGAGEMENT_IS_LOCKED = Entry(
    54076, "EngagementIsLocked", "The engagement is locked by {ownerDisplayName} and may not be updated.")
PROJECT_ROLE_NOT_FOUND = Entry(54080, "ProjectRoleNotFound", "Specified project role does not exist.")
UNEXPECTED_ERROR_DELETING_ENGAGEMENT = Entry(
    54532, "UnexpectedErrorDeletingEngagement",
    "There was an unexpected error while trying to delete the engagement.")
NO_PERMISSION_TO_DELETE_ENGAGEMENT = Entry(
    54536, "NoPermissionToDeleteEngagement",
    "You do not have appropriate permissions to delete this engagement.")
ENGAGEMENT_HAS_PROJECTS = Entry(
    54537, "EngagementHasProjects",
    "This engagement could not be deleted because there are one or more projects associated with it.")
ENGAGEMENT_HAS_INVOICES = Entry(
    54556, "EngagementHasInvoices",
    "This engagement could not be deleted because there are one or more invoices associated with it.")
UNEXPECTED_ERROR_DELETING_CLIENT = Entry(
    57623, "UnexpectedErrorDeletingClient", "There was an unexpected error while trying to delete the client.")
CLIENT_HAS_CHILD_CLIENTS = Entry(
    57624, "ClientHasChildClients",
    "The client could not be deleted because there are one or more child clients of this client.")
CHILD_CLIENT_COULD_NOT_BE_DELETED = Entry(
    57625, "ChildClientCouldNotBeDeleted",
    "The client could not be deleted because one of its child clients could not be deleted.")

# openpws's own numbers (990000-990999): conditions Projector documents no number for.
CLIENT_NOT_SPECIFIED = Entry(
    990001, "ClientNotSpecified",
    "A specified client identity was incomplete. Each client identity must specify either a client number or "
    "a client uid.", openpws=True)
NO_CLIENTS_SPECIFIED = Entry(990002, "NoClientsSpecified", "No clients were specified.", openpws=True)
MAXIMUM_CLIENT_IDENTITIES_EXCEEDED = Entry(
    990003, "MaximumClientIdentitiesExceeded",
    "The maximum number of client identities ({maximum}) was exceeded.", openpws=True)
REQUIRED_FIELD_MISSING = Entry(
    990004, "RequiredFieldMissing", "{field} is required when inserting a {entity}.", openpws=True)
DUPLICATE_CODE = Entry(
    990005, "DuplicateCode", "The {field} {value} is already used by another {entity}.", openpws=True)
CLIENT_HIERARCHY_CYCLE = Entry(
    990006, "ClientHierarchyCycle",
    "A client cannot be its own parent, nor the parent of one of its own parents.", openpws=True)
TIMESTAMP_MISMATCH = Entry(
    990007, "TimestampMismatch",
    "The {entity} has been changed since the timestamp you sent was read; read it again and retry.",
    openpws=True)
VALUE_TOO_LONG = Entry(990008, "ValueTooLong", "{field} is longer than {maximum} characters.", openpws=True)
PROJECT_NOT_SPECIFIED = Entry(
    990009, "ProjectNotSpecified",
    "A specified project identity was incomplete. Each project identity must specify either a project code or a "
    "project uid.", openpws=True)
PROJECT_ROLE_NOT_SPECIFIED = Entry(
    990010, "ProjectRoleNotSpecified",
    "A specified project role identity was incomplete. Each project role identity must specify either an external "
    "system identifier or a project role uid.", openpws=True)
NO_PROJECTS_SPECIFIED = Entry(990011, "NoProjectsSpecified", "No projects were specified.", openpws=True)
MAXIMUM_PROJECT_IDENTITIES_EXCEEDED = Entry(
    990012, "MaximumProjectIdentitiesExceeded",
    "The maximum number of project identities ({maximum}) was exceeded.", openpws=True)
CLIENT_INACTIVE = Entry(
    990013, "ClientInactive",
    "The client {client} is inactive: it cannot get new engagements or projects.", openpws=True)
ENGAGEMENT_CLIENT_CANNOT_CHANGE = Entry(
    990014, "EngagementClientCannotChange",
    "An engagement cannot be moved to another client.", openpws=True)
PROJECT_ENGAGEMENT_CANNOT_CHANGE = Entry(
    990015, "ProjectEngagementCannotChange",
    "Projects may not be moved between engagements.", openpws=True)
DUPLICATE_ROLE_NAME = Entry(
    990016, "DuplicateRoleName",
    "The project already has a role named {name}; send MakeRoleNameUniqueFlag=true to have the name made unique.",
    openpws=True)
EXTERNAL_SYSTEM_IDENTIFIER_CANNOT_BE_CLEARED = Entry(
    990017, "ExternalSystemIdentifierCannotBeCleared",
    "Once set, a role's ExternalSystemIdentifier can only be changed to another non-empty value.", openpws=True)
PROJECT_ROLE_PROJECT_MISMATCH = Entry(
    990018, "ProjectRoleProjectMismatch",
    "The project role does not belong to the specified project.", openpws=True)
INVALID_HOURS_BUCKET = Entry(
    990019, "InvalidHoursBucket", "An hours bucket is not valid: {reason}", openpws=True)
INVALID_NOTES_BUCKET = Entry(
    990080, "InvalidNotesBucket", "A notes bucket is not valid: {reason}", openpws=True)
INVALID_DATE_RANGE = Entry(
    990020, "InvalidDateRange", "{end_field} cannot be before {start_field}.", openpws=True)
FIELD_NOT_SPECIFIED = Entry(
    990021, "RequiredFieldNotSpecified", "{field} is required.", openpws=True)
INVOICE_ENTITIES_MISMATCH = Entry(
    990022, "InvoiceEntitiesMismatch", "{reason}", openpws=True)
MANAGEMENT_APPROVAL_NEEDS_PRIOR_APPROVALS = Entry(
    990050, "ManagementApprovalNeedsPriorApprovals",
    "An invoice can be approved by management only once finance and the project manager have approved it.",
    openpws=True)
FLAG_NOT_ALLOWED_IN_MODE = Entry(
    990040, "FlagNotAllowedInMode", "{flag} can only be sent with Mode {mode}.", openpws=True)
VALUE_OUT_OF_RANGE = Entry(
    990030, "ValueOutOfRange", "{field} must be a number from {minimum} to {maximum}.", openpws=True)
CLIENT_IN_USE = Entry(
    990070, "ClientInUse",
    "The client could not be deleted because it is in use: it has one or more engagements. Send "
    "InactivateIfInuseFlag=true to mark it inactive instead.", openpws=True)
PROJECT_HAS_INVOICES = Entry(
    990071, "ProjectHasInvoices",
    "This project could not be deleted because one or more invoices were ever issued against it.", openpws=True)
PROJECT_HAS_ROLES = Entry(
    990072, "ProjectHasRoles",
    "This project could not be deleted because it has one or more project roles; delete them first or send "
    "CascadeDeleteFlag=true.", openpws=True)
PROJECT_ROLE_NOT_DELETED = Entry(
    990073, "ProjectRoleNotDeleted", "The project role is not deleted: only a deleted role can be undeleted.",
    openpws=True)
CONTRACT_LINE_ITEM_NOT_SPECIFIED = Entry(
    990090, "ContractLineItemNotSpecified",
    "A specified contract line item identity was incomplete. Each contract line item identity must specify either "
    "a contract line item code or a contract line item uid (or, in a PwsContractLineItemSummary, its name).",
    openpws=True)
NO_CONTRACT_LINE_ITEMS_SPECIFIED = Entry(
    990091, "NoContractLineItemsSpecified", "No contract line items were specified.", openpws=True)
MAXIMUM_CONTRACT_LINE_ITEM_IDENTITIES_EXCEEDED = Entry(
    990092, "MaximumContractLineItemIdentitiesExceeded",
    "The maximum number of contract line item identities ({maximum}) was exceeded.", openpws=True)
CONTRACT_LINE_ITEM_OF_ANOTHER_ENGAGEMENT = Entry(
    990093, "ContractLineItemOfAnotherEngagement",
    "The contract line item {code} belongs to engagement {other}: a project can only belong to a contract line "
    "item of its own engagement ({engagement}).", openpws=True)
CONTRACT_LINE_ITEM_ENGAGEMENT_CANNOT_CHANGE = Entry(
    990094, "ContractLineItemEngagementCannotChange",
    "Contract line items may not be moved between engagements.", openpws=True)
DUPLICATE_CONTRACT_LINE_ITEM_NAME = Entry(
    990095, "DuplicateContractLineItemName",
    "The engagement already has a contract line item named {name}.", openpws=True)
LOCKS_TO_STEAL_NOT_HELD = Entry(
    990060, "LocksToStealNoLongerHeld",
    "The locks to steal are no longer held, so nothing was stolen and nothing was changed; send the request again "
    "without LocksToSteal.", openpws=True)
LOCK_SET_STOLEN = Entry(
    990061, "LockStolen", "Your lock has been stolen by {taker}.", openpws=True)

CATALOGUE: tuple[Entry, ...] = tuple(
    value for value in globals().values() if isinstance(value, Entry)
)


@dataclass(frozen=True)
class Message:
    """A catalogue entry made concrete for one response."""

    entry: Entry
    text: str
    additional_text: str
    reference_id1: int | None = None
    reference_id2: int | None = None


class _KeepMissing(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def message(entry: Entry, detail: str | None = None, /, **params: object) -> Message:
    """Fill ``entry``'s placeholders; ``detail`` says which input caused it (keys, names, numbers)."""
    text = string.Formatter().vformat(entry.text, (), _KeepMissing(params))
    additional = f"{entry.type.value} {entry.number}: {entry.code}"
    if detail:
        additional = f"{additional}: {detail}"
    return Message(entry, text, additional)


class PwsError(Exception):
    """A business failure answered in-band (Status=Fail, or FailSessionInvalid for session entries)."""

    def __init__(self, *messages: Message) -> None:
        super().__init__("; ".join(m.additional_text for m in messages))
        self.messages = messages

    @property
    def session_invalid(self) -> bool:
        return any(m.entry.session for m in self.messages)


def fail(entry: Entry, detail: str | None = None, /, **params: object) -> PwsError:
    """``raise fail(ENTRY, "detail")``: a PwsError carrying one message."""
    return PwsError(message(entry, detail, **params))


class PwsFault(Exception):
    """A request answered with the PwsFault (one that locks prevent, or one over its rate limit):
    the PwsFault members other than Messages, ResponseId and ServiceName (which the SOAP layer
    adds), in wire form, and the message that explains it."""

    def __init__(self, message: Message, members: Mapping[str, Any] | None = None) -> None:
        super().__init__(message.additional_text)
        self.message = message
        self.members: Mapping[str, Any] = members or {}


class InjectedFault(Exception):
    """A fault rule's answer that is no PWS message (``services.faults``): an ``s:Server`` or
    ``s:Client`` SOAP fault, a bare HTTP status, or a connection closed without an answer."""

    def __init__(self, *, soap_fault: str | None = None, http_status: int | None = None, drop: bool = False) -> None:
        super().__init__(soap_fault or http_status or "drop")
        self.soap_fault = soap_fault
        self.http_status = http_status
        self.drop = drop


class RequestFault(Exception):
    """A request the contract cannot accept: answered as a SOAP 1.1 s:Client fault.

    The text names the element (in ``{namespace}Name`` form) and what was wrong with it, so a
    client developer can fix the request without reading server logs.
    """

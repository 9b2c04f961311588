"""The records of an account as the store reads them and the services hand them on: frozen
values, no SQL. They sit below every layer, so that ``messages`` can encode what ``services``
return without knowing the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class AccountRow:
    id: int
    uid: int
    code: str
    name: str
    week_start: int = 0  # the first day of its weeks, as weekday() numbers it: 0 Monday … 6 Sunday


@dataclass(frozen=True)
class UserRow:
    id: int
    uid: int
    account_id: int
    login: str
    display_name: str
    reference_id: str | None
    email: str | None
    password_hash: str
    permissions: frozenset[str]


@dataclass(frozen=True)
class PersonRow:
    """A user as the entity services name one: as a manager (PwsUserRef) or a resource (PwsResourceRef)."""

    id: int
    uid: int
    display_name: str
    reference_id: str | None
    email: str | None


@dataclass(frozen=True)
class ClientRow:
    id: int
    uid: int
    number: str
    name: str
    inactive: bool
    parent_id: int | None
    billing_instructions: str | None
    purchase_order_number: str | None
    rowversion: int
    updated_at: datetime


@dataclass(frozen=True)
class EngagementRow:
    id: int
    uid: int
    client_id: int
    code: str
    name: str
    stage_id: int
    manager_user_id: int | None
    billing_instructions: str | None
    purchase_order_number: str | None
    ever_invoiced: bool
    rowversion: int
    updated_at: datetime


@dataclass(frozen=True)
class ContractLineItemRow:
    id: int
    uid: int
    engagement_id: int
    code: str
    name: str
    time_contract_terms: str
    cost_contract_terms: str
    purchase_order_number: str | None
    contract_type_name: str | None
    contract_type_uid: int | None
    rowversion: int
    updated_at: datetime


@dataclass(frozen=True)
class ProjectRow:
    id: int
    uid: int
    engagement_id: int
    contract_line_item_id: int | None  # set on every project the services write
    code: str
    name: str
    stage_id: int
    manager_user_id: int | None
    open_date: datetime | None
    close_date: datetime | None
    description: str | None
    percent_likelihood: float | None
    ever_invoiced: bool
    rowversion: int
    updated_at: datetime


@dataclass(frozen=True)
class RoleRow:
    id: int
    uid: int
    project_id: int
    external_id: str | None
    name: str
    description: str | None
    requested_user_id: int | None
    booked_user_id: int | None
    start_date: datetime | None
    end_date: datetime | None
    scheduling_mode: str
    open_request: bool
    assigned_to_schedulers: bool  # submitted, and not yet approved or finalized
    deleted: bool
    rowversion: int
    updated_at: datetime


@dataclass(frozen=True)
class HoursRow:
    role_id: int
    kind: str  # R requested, A booked
    bucket_start: date
    scheduling_mode: str  # W weekly, D daily
    weekly_minutes: int
    daily_minutes: str | None  # "m0,...,m6" for D buckets


@dataclass(frozen=True)
class AllocationNotesRow:
    """The allocation notes of one week of a role, on one side: a note or None for each of the
    week's seven days, from the account's first day of the week."""

    role_id: int
    kind: str  # R requested, A booked
    bucket_start: date
    notes: tuple[str | None, ...]


@dataclass(frozen=True)
class RoleNoteRow:
    """A note left on a role (PwsProjectNote)."""

    id: int
    uid: int
    role_id: int
    author_user_id: int
    note: str
    created_at: datetime


@dataclass(frozen=True)
class StageRow:
    id: int
    uid: int
    kind: str
    name: str
    short_name: str
    closed: bool
    sort_order: int


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    uid: int
    engagement_id: int
    project_id: int | None
    client_id: int
    draft_number: str
    name: str
    content: str
    scope: str | None
    status: str
    purchase_order_number: str | None
    cost_center_name: str | None
    cost_center_number: str | None
    cost_center_uid: int | None
    currency_code: str | None
    currency_uid: int | None
    culture_name: str | None
    culture_uid: int | None
    approved_by_finance: bool
    approved_by_project_manager: bool
    approved_by_management: bool
    card_begin_date: datetime | None
    card_end_date: datetime | None
    deleted: bool
    rowversion: int
    created_at: datetime


@dataclass(frozen=True)
class LockSetRow:
    id: int
    user_id: int
    internal: bool
    created_at: datetime
    expires_at: datetime
    released_at: datetime | None
    stolen_by_user_id: int | None
    stolen_at: datetime | None


@dataclass(frozen=True)
class LockRow:
    id: int
    lock_set_id: int
    entity_type: str
    entity_id: int
    entity_uid: int
    entity_code: str | None
    engagement_id: int
    project_id: int | None
    acquired_at: datetime


@dataclass(frozen=True)
class HeldLock:
    """A live lock with its set's holder and whether the set may be stolen."""

    lock: LockRow
    user_id: int
    internal: bool


@dataclass(frozen=True)
class ListedLock:
    """A live lock with its set and holder, as the administration command lists it."""

    lock: LockRow
    expires_at: datetime
    internal: bool
    login: str
    display_name: str


@dataclass(frozen=True)
class ResourceRow:
    """A user as a resource (PwsGetResourceList, PwsGetResource): users are never changed once the
    command line has created them, so their creation is their last update."""

    id: int
    uid: int
    display_name: str
    reference_id: str | None
    email: str | None
    created_at: datetime

"""The fixture format: one declarative document, YAML or JSON, describing an account (its settings,
users, client tree with engagements, contract line items, projects, roles and their hours,
invoices and locks). docs/fixtures.md describes it; its JSON Schema ships in the package
(``openpws/fixtures/fixture.schema.json``).

This module reads a document (``read_text``), checks it against the schema and against the rules
that hold across the document (unique codes and logins, references to users and locked entities
that exist: ``check``), and gives back a ``Fixture``: frozen values, each knowing its path in the
document (``clients[2].engagements[0].projects[1]``), so that whatever refuses it later, the
loader (``sandbox.loading``) sends PWS requests for, can name the item at fault. Every refusal is
an ``Invalid`` with that path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from openpws.services.permissions import ALL, VIEW_ONLY, Permission
from openpws.services.sandbox import Invalid
from openpws.services.weeks import day_number

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

PACKAGE = "openpws.fixtures"
SCHEMA_FILE = "fixture.schema.json"
# Stands for the account's code in logins and e-mail addresses: a fixture loads into any account.
ACCOUNT_PLACEHOLDER = "{account}"
# A document's values counted as they are walked (a value an alias repeats counts each time):
# a few kilobytes of YAML aliases must not expand into gigabytes.
MAX_VALUES = 2_000_000
DEFAULT_LOCK_SECONDS = 3600


# --- reading ----------------------------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    """YAML's safe loader, reading dates as the strings they are written as (the format parses
    its dates itself, the same from YAML and from JSON), and only true and false as booleans, as
    YAML 1.2 does: a client named No or a stage On stays a name."""


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in ("tag:yaml.org,2002:timestamp", _BOOL)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def read_text(text: str | bytes) -> Any:
    """A fixture document from its text, YAML or JSON (a JSON document is read as JSON)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise Invalid("the document is not UTF-8 text", None) from None
    document: Any = None
    if text.lstrip().startswith(("{", "[")):
        try:
            document = json.loads(text)
        except ValueError:
            pass  # JSON-like YAML (flow style): YAML reads it, or says what is wrong
    if document is None:
        try:
            document = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
        except yaml.YAMLError as error:
            raise Invalid(f"the document is neither YAML nor JSON: {error}", None) from None
    _check_size(document)
    return document


def _check_size(document: Any) -> None:
    count, pending = 0, [document]
    while pending:
        value = pending.pop()
        count += 1
        if count > MAX_VALUES:
            raise Invalid(f"the document is too large: more than {MAX_VALUES:,} values", None)
        if isinstance(value, Mapping):
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)


# --- the schema -------------------------------------------------------------------------------------

@cache
def schema() -> dict[str, Any]:
    """The format's JSON Schema (draft 2020-12), as shipped in the package."""
    loaded: dict[str, Any] = json.loads(resources.files(PACKAGE).joinpath(SCHEMA_FILE).read_text("utf-8"))
    return loaded


@cache
def _validator() -> jsonschema.Draft202012Validator:
    # Imported when first needed: the commands that load no fixture start without it.
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


def _best(errors: Iterator[ValidationError]) -> ValidationError | None:
    from jsonschema.exceptions import best_match

    found: ValidationError | None = best_match(errors)
    return found


def path_text(parts: Sequence[str | int]) -> str | None:
    """``clients[2].engagements[0].name`` from its parts."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


def _schema_error(error: ValidationError) -> Invalid:
    parts = list(error.absolute_path)
    message = error.message
    instance = error.instance
    # Point at the member itself: the one missing, or the one the object may not have.
    if error.validator == "required" and isinstance(error.validator_value, list) and isinstance(instance, dict):
        missing = [name for name in error.validator_value if name not in instance]
        if missing:
            parts.append(missing[0])
            message = f"{missing[0]} is required here"
    elif error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
        extra = sorted(name for name in instance if name not in allowed)
        if extra:
            parts.append(extra[0])
            message = f"{extra[0]} is not a member here (members: {', '.join(sorted(allowed))})"
    elif error.validator == "oneOf" and error.context:
        deepest = _best(iter(error.context))
        if deepest is not None and list(deepest.absolute_path)[len(parts):]:
            return _schema_error(deepest)
    described = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator in ("oneOf", "pattern") and described:
        # The schema's own words say what is expected better than a regular expression does.
        shown = json.dumps(instance)
        message = f"{shown if len(shown) <= 80 else shown[:77] + '...'} is not valid here: {described}"
    return Invalid(f"the fixture does not follow its schema: {message}", path_text(parts))


# --- the values -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class When:
    """A date of a fixture: ``moment`` itself, or ``days`` from the first day of the account's week
    at loading (00:00 UTC)."""

    moment: datetime | None
    days: int = 0

    def at(self, week_base: datetime) -> datetime:
        return self.moment if self.moment is not None else week_base + timedelta(days=self.days)


def week_base(now: datetime, week_start: int) -> datetime:
    """The first day of the week (weeks starting on ``week_start``) holding ``now``, at 00:00 UTC:
    what relative dates (+0w, +2w, -3d) count from."""
    day = datetime(now.year, now.month, now.day, tzinfo=UTC)
    return day - timedelta(days=(day.weekday() - week_start) % 7)


@dataclass(frozen=True)
class Kept:
    """A reference kept as sent (cost centre, currency, culture, contract type)."""

    name: str | None = None
    code: str | None = None
    number: str | None = None
    uid: int | None = None


@dataclass(frozen=True)
class User:
    login: str
    display_name: str
    reference_id: str | None
    email: str | None
    permissions: frozenset[Permission]
    password: str | None
    path: str = field(compare=False)


@dataclass(frozen=True)
class Bucket:
    week: When
    minutes: int | None
    daily: tuple[int, ...] | None
    path: str = field(compare=False)


@dataclass(frozen=True)
class NotesWeek:
    week: When
    notes: tuple[str | None, ...]
    path: str = field(compare=False)


@dataclass(frozen=True)
class Side:
    resource: str | None
    hours: tuple[Bucket, ...]
    notes: tuple[NotesWeek, ...]
    path: str = field(compare=False)

    @property
    def written(self) -> bool:
        """Whether the side has hours or notes to write."""
        return bool(self.hours or self.notes)


@dataclass(frozen=True)
class Role:
    external_id: str | None
    name: str
    description: str | None
    start_date: When | None
    end_date: When | None
    scheduling_mode: str | None
    requested: Side
    booked: Side
    deleted: bool
    path: str = field(compare=False)


@dataclass(frozen=True)
class Project:
    code: str | None
    name: str
    contract_line_item: str | None
    stage: str | None
    manager: str | None
    open_date: When | None
    close_date: When | None
    description: str | None
    percent_likelihood: float | None
    roles: tuple[Role, ...]
    path: str = field(compare=False)


@dataclass(frozen=True)
class ContractLineItem:
    code: str | None
    name: str
    time_terms: str | None
    cost_terms: str | None
    purchase_order_number: str | None
    contract_type: Kept | None
    path: str = field(compare=False)


@dataclass(frozen=True)
class Invoice:
    number: str | None
    name: str
    content: str
    project: str | None
    scope: str | None
    purchase_order_number: str | None
    cost_center: Kept
    currency: Kept
    culture: Kept
    approved_by_finance: bool
    approved_by_project_manager: bool
    approved_by_management: bool
    card_begin_date: When | None
    card_end_date: When | None
    path: str = field(compare=False)


@dataclass(frozen=True)
class Engagement:
    code: str | None
    name: str
    stage: str | None
    manager: str | None
    billing_instructions: str | None
    purchase_order_number: str | None
    contract_line_items: tuple[ContractLineItem, ...] | None  # None: the one it is made with
    projects: tuple[Project, ...]
    invoices: tuple[Invoice, ...]
    path: str = field(compare=False)


@dataclass(frozen=True)
class Client:
    number: str | None
    name: str
    inactive: bool
    billing_instructions: str | None
    purchase_order_number: str | None
    children: tuple[Client, ...]
    engagements: tuple[Engagement, ...]
    path: str = field(compare=False)


@dataclass(frozen=True)
class LockEntity:
    kind: str  # E, P or R
    code: str
    path: str = field(compare=False)


@dataclass(frozen=True)
class Lock:
    user: str
    entities: tuple[LockEntity, ...]
    seconds: int
    internal: bool
    path: str = field(compare=False)


@dataclass(frozen=True)
class Fixture:
    name: str | None
    week_start: int | None  # None: not said (Monday unless the account is made otherwise)
    users: tuple[User, ...]
    clients: tuple[Client, ...]
    locks: tuple[Lock, ...]

    def all_clients(self) -> Iterator[Client]:
        """Every client, each parent before its children."""
        pending = list(reversed(self.clients))
        while pending:
            client = pending.pop()
            yield client
            pending.extend(reversed(client.children))

    def engagements(self) -> Iterator[Engagement]:
        for client in self.all_clients():
            yield from client.engagements


def for_account(text: str, code: str) -> str:
    """A login or e-mail address of the fixture as it is in the account ``code``."""
    return text.replace(ACCOUNT_PLACEHOLDER, code)


# --- from a document --------------------------------------------------------------------------------

_RELATIVE = re.compile(r"^([+-])(\d{1,5})([dw])$")


def _when(value: str | None, path: str) -> When | None:
    if value is None:
        return None
    relative = _RELATIVE.match(value)
    if relative:
        sign, count, unit = relative.groups()
        return When(None, (1 if sign == "+" else -1) * int(count) * (7 if unit == "w" else 1))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{value!r} is not a date", path) from None
    return When(moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC))


def _date(value: Mapping[str, Any], path: str, member: str) -> When | None:
    return _when(value.get(member), _at(path, member))


def _kept(value: Any, plain: str) -> Kept:
    if isinstance(value, str):
        return Kept(name=value) if plain == "name" else Kept(code=value)
    return Kept(value.get("name"), value.get("code"), value.get("number"), value.get("uid"))


def _at(path: str, member: str, index: int | None = None) -> str:
    return f"{path}.{member}" + ("" if index is None else f"[{index}]")


def _required_when(value: str, path: str) -> When:
    found = _when(value, path)
    assert found is not None
    return found


def _side(value: Mapping[str, Any] | None, path: str) -> Side:
    value = value or {}
    hours = []
    for i, bucket in enumerate(value.get("hours", ())):
        at = _at(path, "hours", i)
        daily = bucket.get("daily")
        hours.append(Bucket(_required_when(bucket["week"], _at(at, "week")), bucket.get("minutes"),
                            None if daily is None else tuple(daily), at))
    notes = []
    for i, week in enumerate(value.get("notes", ())):
        at = _at(path, "notes", i)
        notes.append(NotesWeek(_required_when(week["week"], _at(at, "week")), tuple(week["notes"]), at))
    return Side(value.get("resource"), tuple(hours), tuple(notes), path)


def _role(value: Mapping[str, Any], path: str) -> Role:
    return Role(value.get("external_id"), value["name"], value.get("description"),
                _date(value, path, "start_date"), _date(value, path, "end_date"),
                value.get("scheduling_mode"), _side(value.get("requested"), _at(path, "requested")),
                _side(value.get("booked"), _at(path, "booked")), bool(value.get("deleted", False)), path)


def _project(value: Mapping[str, Any], path: str) -> Project:
    likelihood = value.get("percent_likelihood")
    return Project(value.get("code"), value["name"], value.get("contract_line_item"), value.get("stage"),
                   value.get("manager"), _date(value, path, "open_date"),
                   _date(value, path, "close_date"), value.get("description"),
                   None if likelihood is None else float(likelihood),
                   tuple(_role(r, _at(path, "roles", i)) for i, r in enumerate(value.get("roles", ()))), path)


def _contract_line_item(value: Mapping[str, Any], path: str) -> ContractLineItem:
    kept = value.get("contract_type")
    return ContractLineItem(value.get("code"), value["name"], value.get("time_terms"), value.get("cost_terms"),
                            value.get("purchase_order_number"), None if kept is None else _kept(kept, "name"), path)


def _invoice(value: Mapping[str, Any], path: str) -> Invoice:
    return Invoice(value.get("number"), value["name"], value["content"], value.get("project"), value.get("scope"),
                   value.get("purchase_order_number"), _kept(value["cost_center"], "name"),
                   _kept(value["currency"], "code"), _kept(value["culture"], "name"),
                   bool(value.get("approved_by_finance", False)), bool(value.get("approved_by_project_manager", False)),
                   bool(value.get("approved_by_management", False)),
                   _date(value, path, "card_begin_date"),
                   _date(value, path, "card_end_date"), path)


def _engagement(value: Mapping[str, Any], path: str) -> Engagement:
    items = value.get("contract_line_items")
    return Engagement(
        value.get("code"), value["name"], value.get("stage"), value.get("manager"), value.get("billing_instructions"),
        value.get("purchase_order_number"),
        None if items is None else tuple(_contract_line_item(c, _at(path, "contract_line_items", i))
                                         for i, c in enumerate(items)),
        tuple(_project(p, _at(path, "projects", i)) for i, p in enumerate(value.get("projects", ()))),
        tuple(_invoice(v, _at(path, "invoices", i)) for i, v in enumerate(value.get("invoices", ()))), path)


def _client(value: Mapping[str, Any], path: str) -> Client:
    return Client(value.get("number"), value["name"], bool(value.get("inactive", False)),
                  value.get("billing_instructions"), value.get("purchase_order_number"),
                  tuple(_client(c, _at(path, "children", i)) for i, c in enumerate(value.get("children", ()))),
                  tuple(_engagement(e, _at(path, "engagements", i))
                        for i, e in enumerate(value.get("engagements", ()))), path)


def _permissions(value: Any) -> frozenset[Permission]:
    if value is None:
        return VIEW_ONLY
    if value == "all":
        return ALL
    return frozenset(Permission(p) for p in value)


def _lock(value: Mapping[str, Any], path: str) -> Lock:
    entities = []
    for i, text in enumerate(value["entities"]):
        kind, _, code = text.partition(":")
        entities.append(LockEntity(kind, code, _at(path, "entities", i)))
    return Lock(value["user"], tuple(entities), int(value.get("seconds", DEFAULT_LOCK_SECONDS)),
                bool(value.get("internal", False)), path)


def check(document: Any) -> Fixture:
    """The fixture a document describes, checked: Invalid (with the path at fault) when it does
    not follow the schema or breaks a rule that holds across the document."""
    _check_size(document)
    error = _best(_validator().iter_errors(document))
    if error is not None:
        raise _schema_error(error)
    settings = document.get("settings", {})
    week_starts = settings.get("week_starts")
    fixture = Fixture(
        settings.get("name"), None if week_starts is None else day_number(week_starts),
        tuple(User(u["login"], u["display_name"], u.get("reference_id"), u.get("email"),
                   _permissions(u.get("permissions")), u.get("password"), f"users[{i}]")
              for i, u in enumerate(document.get("users", ()))),
        tuple(_client(c, f"clients[{i}]") for i, c in enumerate(document.get("clients", ()))),
        tuple(_lock(v, f"locks[{i}]") for i, v in enumerate(document.get("locks", ()))))
    _check_across(fixture)
    return fixture


# --- rules across the document ----------------------------------------------------------------------

class _Unique:
    """Codes of one kind, unique in the account as PWS compares them: the second use of one names the first."""

    def __init__(self, noun: str, fold: str = "upper") -> None:
        self.noun = noun
        self.fold = fold
        self.seen: dict[str, str] = {}

    def add(self, code: str | None, path: str) -> None:
        if code is None:
            return
        key = code.upper() if self.fold == "upper" else code.lower()
        first = self.seen.setdefault(key, path)
        if first != path:
            raise Invalid(f"{self.noun} {code!r} is also {first}: each is unique in an account "
                          f"(PWS would change that one instead of making another)", path)

    def __contains__(self, code: str) -> bool:
        return (code.upper() if self.fold == "upper" else code.lower()) in self.seen


def _check_across(fixture: Fixture) -> None:
    logins = _Unique("the login", fold="lower")
    for user in fixture.users:
        logins.add(user.login, _at(user.path, "login"))

    def user_named(login: str | None, path: str) -> None:
        if login is not None and login not in logins:
            raise Invalid(f"there is no user {login!r} among the fixture's users", path)

    clients, engagements = _Unique("client number"), _Unique("engagement code")
    items, projects = _Unique("contract line item code"), _Unique("project code")
    roles, invoices = _Unique("role external_id"), _Unique("invoice number")
    for client in fixture.all_clients():
        clients.add(client.number, _at(client.path, "number"))
        for engagement in client.engagements:
            engagements.add(engagement.code, _at(engagement.path, "code"))
            user_named(engagement.manager, _at(engagement.path, "manager"))
            for item in engagement.contract_line_items or ():
                items.add(item.code, _at(item.path, "code"))
            for project in engagement.projects:
                projects.add(project.code, _at(project.path, "code"))
                user_named(project.manager, _at(project.path, "manager"))
                for role in project.roles:
                    roles.add(role.external_id, _at(role.path, "external_id"))
                    for side in (role.requested, role.booked):
                        user_named(side.resource, _at(side.path, "resource"))
            for invoice in engagement.invoices:
                invoices.add(invoice.number, _at(invoice.path, "number"))
    named = {"E": engagements, "P": projects, "R": roles}
    for lock in fixture.locks:
        user_named(lock.user, _at(lock.path, "user"))
        for entity in lock.entities:
            if entity.code not in named[entity.kind]:
                noun = {"E": "engagement code", "P": "project code", "R": "role external_id"}[entity.kind]
                raise Invalid(f"no {noun} {entity.code!r} is in the fixture", entity.path)


# --- packaged fixtures ------------------------------------------------------------------------------

def packaged_names() -> tuple[str, ...]:
    """The fixtures shipped in the package, by name."""
    return tuple(sorted(entry.name.removesuffix(".yaml") for entry in resources.files(PACKAGE).iterdir()
                        if entry.name.endswith(".yaml")))


@cache
def packaged(name: str) -> Fixture:
    """A packaged fixture, read and checked once."""
    if name not in packaged_names():
        raise Invalid(f"there is no packaged fixture {name!r}; there is {', '.join(packaged_names())}",
                      "fixture_name")
    return check(read_text(resources.files(PACKAGE).joinpath(f"{name}.yaml").read_text("utf-8")))

"""Soak test: many clients writing, locking and deleting on one shared tree for minutes, then the
database checked directly.

N clients (asyncio tasks of this process, each on its own keep-alive connection, logged in as one
of a few users) drive ``openpws serve --workers W`` on a scratch PostgreSQL database (or SQLite)
with every write, lock and delete of PWS on one small shared tree of clients, engagements,
projects, roles with requested and booked hours, and invoices: saves (creates and renames),
PwsRequestOrBookRoleHours, PwsCreateInvoice, the four lock services (with steals through
LocksToSteal and StealLockFlag), the four deletes (with and without their cascade, inactivate,
zero-out and delete-empty flags), PwsUndeleteProjectRole, and reads. Entities are created again as
deletes remove them, so that writes and deletes keep meeting. Each request's members go in the
contract's order (``in_order``), which the server holds them to (OPENPWS_MEMBER_ORDER=strict).

Every ~30 s a line of progress; at the end the answers by kind, throughput and latency, then the
database's invariants (SQL on the scratch database) and whether every Ok answer is visible there.
Exits 1 when any answer was s:Server or any invariant was violated.

    .venv/bin/python bench/soak.py [--clients 32] [--seconds 600] [--workers 2] [--store postgres|sqlite]
        [--postgres URL] [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import itertools
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from _common import LOGIN, prepare, scratch_database
from _pws import (
    BILLING,
    FAIL,
    NS,
    OK,
    POSTGRES,
    UNKNOWN,
    Answer,
    Connection,
    LoggedServer,
    add_users,
    in_order,
    login,
    soap_body,
    tracebacks,
)
from lxml import etree
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from openpws.store.engine import normalise_url

INF = float("inf")
MONDAY = date(2024, 1, 1)
WEEKS = 6  # hours buckets go to one of the first WEEKS weeks of 2024
EXTRA_USERS = ("u2", "u3", "u4")
ROLE_NAME_POOL = ("Developer", "Tester", "Lead")  # shared names, so that live role names collide
STATUS_EVERY = 30.0

# How many live entities of each kind the clients keep the tree near (they create more below it).
TARGETS = {"C": 12, "E": 12, "P": 36, "R": 140}
TOP_CLIENTS = 5
MAX_CLIENT_DEPTH = 3

# The weights of what a client does next, when the tree is at its targets.
WEIGHTS = {
    "save_client": 3, "save_engagement": 5, "save_project": 7, "save_role": 12, "hours": 10, "invoice": 0.6,
    "acquire": 5, "check": 2, "renew": 2, "release": 3,
    "delete_client": 1.5, "delete_engagement": 2, "delete_project": 4, "delete_role": 7, "undelete_role": 3,
    "read": 12,
}


# --- what the clients know and what they did ----------------------------------------------------


@dataclass
class Node:
    """An entity some client created (the answer named its Uid): kind C, E, P or R, its code
    (client number, engagement or project code, role ExternalSystemIdentifier), its parent's Uid
    (parent client, client, engagement, project) and when the answer to its creation arrived."""

    kind: str
    uid: int
    code: str | None
    parent: int | None
    created: float


@dataclass
class Event:
    """One request: when it was sent and answered (INF when its outcome is unknown), the outcome,
    what it may change ((uid, aspect): an aspect name, "self" for every aspect of the entity, or
    "subtree" for the entity and everything below it), and, answered Ok, what must hold in the
    database at the end unless a later request may have changed it."""

    op: str
    start: float
    end: float = INF
    outcome: str = UNKNOWN
    effects: tuple[tuple[int, str], ...] = ()
    expects: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class OwnSet:
    set_id: int
    expires: float
    graphs: set[int]  # engagement Uids its locks are in


class World:
    """What every client shares: the entities believed live, everything ever created, the log of
    requests, and the figures."""

    def __init__(self) -> None:
        self.nodes: dict[int, Node] = {}
        self.live: dict[str, dict[int, Node]] = {k: {} for k in "CEPR"}
        self.deleted_roles: dict[int, Node] = {}
        self.inactive: set[int] = set()
        self.invoiced: set[int] = set()
        self.events: list[Event] = []
        self.kinds: Counter[str] = Counter()
        self.by_op: dict[str, Counter[str]] = defaultdict(Counter)
        self.latencies: list[float] = []
        self.op_latencies: dict[str, list[float]] = defaultdict(list)
        self.server_errors: list[tuple[str, bytes, str]] = []
        self.samples: dict[str, tuple[str, bytes, str]] = {}  # first request of each unexpected kind
        self.names = itertools.count(1)

    # --- belief ---

    def add(self, node: Node) -> None:
        self.nodes[node.uid] = node
        self.live[node.kind][node.uid] = node

    def ancestors(self, uid: int) -> list[int]:
        found = []
        node = self.nodes.get(uid)
        while node is not None and node.parent is not None:
            found.append(node.parent)
            node = self.nodes.get(node.parent)
        return found

    def graph_of(self, uid: int) -> int | None:
        """The engagement Uid of an engagement, project or role."""
        node = self.nodes.get(uid)
        while node is not None and node.kind != "E":
            node = self.nodes.get(node.parent) if node.parent is not None else None
        return node.uid if node is not None else None

    def client_of(self, uid: int) -> int | None:
        node = self.nodes.get(uid)
        while node is not None and node.kind != "C":
            node = self.nodes.get(node.parent) if node.parent is not None else None
        return node.uid if node is not None else None

    def depth(self, client_uid: int) -> int:
        return 1 + len(self.ancestors(client_uid))

    def forget(self, uid: int) -> None:
        """``uid`` and everything believed below it are gone."""
        gone = {uid}
        for kind in "CEPR":
            for other in list(self.live[kind]):
                if other in gone or gone.intersection(self.ancestors(other)):
                    gone.add(other)
        for node_uid in list(self.deleted_roles):
            if node_uid in gone or gone.intersection(self.ancestors(node_uid)):
                gone.add(node_uid)
        for kind in "CEPR":
            for other in gone:
                self.live[kind].pop(other, None)
        for other in gone:
            self.deleted_roles.pop(other, None)
            self.inactive.discard(other)

    def pick(self, rng: random.Random, kind: str, where: Callable[[Node], bool] | None = None) -> Node | None:
        nodes = [n for n in self.live[kind].values() if where is None or where(n)]
        return rng.choice(nodes) if nodes else None

    def name(self, label: str, client: int) -> str:
        return f"{label} {client}-{next(self.names)}"

    # --- figures ---

    def note(self, op: str, answer: Answer, seconds: float, body: bytes) -> None:
        self.kinds[answer.kind] += 1
        self.by_op[op][answer.kind] += 1
        self.latencies.append(seconds)
        self.op_latencies[op].append(seconds)
        if answer.kind == "s:Server" and len(self.server_errors) < 20:
            self.server_errors.append((op, body, answer.detail))
        if answer.outcome == UNKNOWN or answer.kind == "s:Client":
            self.samples.setdefault(f"{op} {answer.kind}", (op, body, answer.detail))


def uid_of(answer: Answer, path: str) -> int | None:
    found = answer.text(path)
    return int(found) if found else None


def ref(kind: str, uid: int) -> str:
    return f"<com:{kind}Uid>{uid}</com:{kind}Uid>"


def flag(prefix: str, name: str, value: bool) -> str:
    return f"<{prefix}:{name}>{'true' if value else 'false'}</{prefix}:{name}>"


def locks_to_steal(fault: etree._Element, prefix_ns: str) -> str | None:
    """The PwsFault's LockHolders, unchanged, as LocksToSteal in the request's namespace."""
    holders = fault.find("com:LockHolders", NS)
    if holders is None or not len(holders):
        return None
    steal = etree.Element(f"{{{prefix_ns}}}LocksToSteal", nsmap={"com": NS["com"]})
    for summary in holders:
        steal.append(copy.deepcopy(summary))
    return etree.tostring(steal).decode()


# --- one client ----------------------------------------------------------------------------------


class SoakClient:
    def __init__(self, number: int, world: World, port: int, ticket: str, rng: random.Random,
                 timeout: float) -> None:
        self.number = number
        self.world = world
        self.connection = Connection(port)
        self.ticket = ticket
        self.rng = rng
        self.timeout = timeout
        self.sets: list[OwnSet] = []

    # --- sending ---

    async def send(self, op: str, operation: str, members: str, effects: Iterable[tuple[int, str]] = ()) -> tuple[
            Answer, Event]:
        body = soap_body(self.ticket, operation, in_order(operation, members))
        event = Event(op, time.monotonic(), effects=tuple(effects))
        self.world.events.append(event)
        answer = await self.connection.call(body, self.timeout)
        ended = time.monotonic()
        event.outcome = answer.outcome
        if answer.outcome != UNKNOWN:
            event.end = ended
        self.world.note(op, answer, ended - event.start, body)
        return answer, event

    async def graph_write(self, op: str, operation: str, members: str, graph: int | None,
                          effects: Sequence[tuple[int, str]]) -> tuple[Answer, Event]:
        """A write to an engagement graph with the lock members a client may send: its own lock
        set in the graph sometimes, StealLockFlag rarely, and after a PwsFault one retry with the
        fault's LockHolders as LocksToSteal or with StealLockFlag."""
        rng = self.rng
        extra = ""
        own = [s for s in self.live_sets() if graph in s.graphs]
        if own and rng.random() < 0.6:
            extra += f"<sch:ProjectorLockSetId>{rng.choice(own).set_id}</sch:ProjectorLockSetId>"
        if rng.random() < 0.03:
            extra += flag("sch", "StealLockFlag", True)
        answer, event = await self.send(op, operation, members + extra, effects)
        fault = answer.pws_fault
        if fault is None:
            return answer, event
        self.after_fault(fault)
        stealable = fault.findtext("com:AllowLocksToBeStolenFlag", namespaces=NS) == "true"
        draw = rng.random()
        if stealable and draw < 0.3:
            steal = locks_to_steal(fault, NS["sch"])
            if steal is not None:
                return await self.send(op + " (LocksToSteal)", operation, members + steal, effects)
        elif stealable and draw < 0.45:
            return await self.send(op + " (StealLockFlag)", operation, members + flag("sch", "StealLockFlag", True),
                                   effects)
        return answer, event

    def after_fault(self, fault: etree._Element) -> None:
        taken = fault.findtext("com:LockTaker/com:ProjectorLockSetId", namespaces=NS)
        if taken:
            self.sets = [s for s in self.sets if str(s.set_id) != taken]

    def live_sets(self) -> list[OwnSet]:
        moment = time.monotonic()
        self.sets = [s for s in self.sets if s.expires > moment]
        return self.sets

    def lost(self, answer: Answer, uid: int) -> None:
        """A not-found answer about ``uid``: believe it gone."""
        if answer.outcome == FAIL and set(answer.numbers) & {50024, 54061, 54080}:
            self.world.forget(uid)

    # --- choosing ---

    def active_graph(self, engagement: Node) -> bool:
        """An engagement believed open to new projects and roles: its client is active."""
        return engagement.parent not in self.world.inactive

    def usable(self, kind: str) -> list[Node]:
        """Live entities of a kind that every write and delete can still use, which the tree is
        kept near its targets of: active clients, engagements of active clients never invoiced (an
        invoiced one is never deleted), projects and roles under those. New entities go under them."""
        world = self.world
        if kind == "C":
            return [n for n in world.live["C"].values() if n.uid not in world.inactive]
        engagements = {uid for uid, n in world.live["E"].items() if self.active_graph(n) and uid not in world.invoiced}
        if kind == "E":
            return [world.live["E"][uid] for uid in engagements]
        projects = {uid for uid, n in world.live["P"].items() if n.parent in engagements}
        if kind == "P":
            return [world.live["P"][uid] for uid in projects]
        return [n for n in world.live["R"].values() if n.parent in projects]

    def count(self, kind: str) -> int:
        return len(self.usable(kind))

    def wants(self, kind: str) -> bool:
        """Whether a save of this kind should create rather than rename."""
        return self.count(kind) < TARGETS[kind] or self.rng.random() < 0.1

    def choose(self) -> str:
        rng = self.rng
        for kind, op in (("C", "save_client"), ("E", "save_engagement"), ("P", "save_project"), ("R", "save_role")):
            count = self.count(kind)
            if count < TARGETS[kind] and rng.random() < 1.2 * (1 - count / TARGETS[kind]):
                return op
        ops = list(WEIGHTS)
        return rng.choices(ops, weights=[WEIGHTS[o] for o in ops])[0]

    async def run(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            op = self.choose()
            await getattr(self, op)()
        self.connection.close()

    # --- saves ---

    async def save_client(self) -> None:
        world, rng = self.world, self.rng
        tops = [n for n in world.live["C"].values() if n.parent is None]
        target = world.pick(rng, "C")
        if target is None or self.wants("C"):
            parent = None
            if len(tops) >= TOP_CLIENTS or rng.random() < 0.5:
                parent = world.pick(rng, "C", lambda n: world.depth(n.uid) < MAX_CLIENT_DEPTH)
            name = world.name("Client", self.number)
            detail = f"<com:ClientName>{name}</com:ClientName>"
            if parent is not None:
                detail += f"<com:ParentClientIdentity>{ref('Client', parent.uid)}</com:ParentClientIdentity>"
            answer, event = await self.send("create client", "PwsSaveClient", f"<req:Client>{detail}</req:Client>")
            uid = uid_of(answer, ".//rs:ClientIdentity/com:ClientUid")
            if answer.outcome == OK and uid:
                world.add(Node("C", uid, answer.text(".//rs:ClientIdentity/com:ClientNumber"),
                               parent.uid if parent else None, time.monotonic()))
                event.expects.append(("name", "C", uid, {"name": name}))
            elif parent is not None:
                self.lost(answer, parent.uid)
            return
        name = world.name("Client", self.number)
        # Now and then an inactive client is made active again (InactiveFlag=false).
        inactive = world.pick(rng, "C", lambda n: n.uid in world.inactive) if rng.random() < 0.3 else None
        if inactive is not None:
            target = inactive
        flags = "<com:InactiveFlag>false</com:InactiveFlag>" if inactive else ""
        answer, event = await self.send(
            "reactivate client" if inactive else "rename client", "PwsSaveClient",
            f"<req:Client>{ref('Client', target.uid)}<com:ClientName>{name}</com:ClientName>{flags}</req:Client>",
            [(target.uid, "name")] + ([(target.uid, "inactive")] if inactive else []))
        if answer.outcome == OK:
            event.expects.append(("name", "C", target.uid, {"name": name}))
            if inactive:
                event.expects.append(("active", target.uid))
                world.inactive.discard(target.uid)
        self.lost(answer, target.uid)

    async def save_engagement(self) -> None:
        world, rng = self.world, self.rng
        target = world.pick(rng, "E")
        if target is None or self.wants("E"):
            client = world.pick(rng, "C", lambda n: n.uid not in world.inactive)
            if client is None:
                await self.save_client()
                return
            name = world.name("Engagement", self.number)
            answer, event = await self.send(
                "create engagement", "PwsSaveEngagement", f"<sch:Engagement><com:ClientIdentity>"
                f"{ref('Client', client.uid)}</com:ClientIdentity><com:EngagementName>{name}</com:EngagementName>"
                "</sch:Engagement>")
            uid = uid_of(answer, ".//sch:EngagementIdentity/com:EngagementUid")
            if answer.outcome == OK and uid:
                world.add(Node("E", uid, answer.text(".//sch:EngagementIdentity/com:EngagementCode"), client.uid,
                               time.monotonic()))
                event.expects.append(("name", "E", uid, {"name": name}))
            else:
                self.lost(answer, client.uid)
                if 990013 in answer.numbers:  # ClientInactive
                    world.inactive.add(client.uid)
            return
        name = world.name("Engagement", self.number)
        answer, event = await self.graph_write(
            "rename engagement", "PwsSaveEngagement", f"<sch:Engagement>{ref('Engagement', target.uid)}"
            f"<com:EngagementName>{name}</com:EngagementName></sch:Engagement>", target.uid, [(target.uid, "name")])
        if answer.outcome == OK:
            event.expects.append(("name", "E", target.uid, {"name": name}))
        self.lost(answer, target.uid)

    async def save_project(self) -> None:
        world, rng = self.world, self.rng
        target = world.pick(rng, "P")
        if target is None or self.wants("P"):
            engagements = self.usable("E")
            engagement = rng.choice(engagements) if engagements else None
            if engagement is None:
                await self.save_engagement()
                return
            name = world.name("Project", self.number)
            answer, event = await self.graph_write(
                "create project", "PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project><com:EngagementIdentity>"
                f"{ref('Engagement', engagement.uid)}</com:EngagementIdentity><com:ProjectName>{name}"
                "</com:ProjectName></sch:Project>", engagement.uid, [])
            uid = uid_of(answer, ".//sch:ProjectIdentity/com:ProjectUid")
            if answer.outcome == OK and uid:
                world.add(Node("P", uid, answer.text(".//sch:ProjectIdentity/com:ProjectCode"), engagement.uid,
                               time.monotonic()))
                event.expects.append(("name", "P", uid, {"name": name}))
            else:
                self.lost(answer, engagement.uid)
            return
        name = world.name("Project", self.number)
        description = f"described by {self.number} at {time.monotonic():.3f}"
        answer, event = await self.graph_write(
            "rename project", "PwsSaveProject", f"<sch:Mode>R</sch:Mode><sch:Project>{ref('Project', target.uid)}"
            f"<com:ProjectName>{name}</com:ProjectName><com:Description>{description}</com:Description></sch:Project>",
            world.graph_of(target.uid), [(target.uid, "name")])
        if answer.outcome == OK:
            event.expects.append(("name", "P", target.uid, {"name": name, "description": description}))
        self.lost(answer, target.uid)

    async def save_role(self) -> None:
        world, rng = self.world, self.rng
        target = world.pick(rng, "R")
        name = rng.choice(ROLE_NAME_POOL) if rng.random() < 0.25 else world.name("Role", self.number)
        description = f"role by {self.number} #{next(world.names)}"
        if target is None or self.wants("R"):
            projects = self.usable("P")
            project = rng.choice(projects) if projects else None
            if project is None:
                await self.save_project()
                return
            esi = f"ESI-{self.number}-{next(world.names)}" if rng.random() < 0.5 else None
            keys = f"<com:ExternalSystemIdentifier>{esi}</com:ExternalSystemIdentifier>" if esi else ""
            answer, event = await self.graph_write(
                "create role", "PwsSaveProjectRole", f"<sch:Mode>R</sch:Mode><sch:ProjectIdentity>"
                f"{ref('Project', project.uid)}</sch:ProjectIdentity><sch:ProjectRole>{keys}<com:Description>"
                f"{description}</com:Description><com:RoleName>{name}</com:RoleName></sch:ProjectRole>",
                world.graph_of(project.uid), [])
            uid = uid_of(answer, ".//sch:ProjectRoleIdentity/com:ProjectRoleUid")
            if answer.outcome == OK and uid:
                world.add(Node("R", uid, esi, project.uid, time.monotonic()))
                event.expects.append(("name", "R", uid, {"name": name, "description": description}))
            else:
                self.lost(answer, project.uid)
            return
        answer, event = await self.graph_write(
            "rename role", "PwsSaveProjectRole", f"<sch:Mode>R</sch:Mode><sch:ProjectRole>"
            f"{ref('ProjectRole', target.uid)}<com:Description>{description}</com:Description><com:RoleName>{name}"
            "</com:RoleName></sch:ProjectRole>", world.graph_of(target.uid), [(target.uid, "name")])
        if answer.outcome == OK:
            event.expects.append(("name", "R", target.uid, {"name": name, "description": description}))
        self.lost(answer, target.uid)

    async def hours(self) -> None:
        world, rng = self.world, self.rng
        roles = list(world.live["R"].values())
        if not roles:
            await self.save_role()
            return
        chosen = rng.sample(roles, min(len(roles), rng.choice((1, 1, 1, 2, 3))))
        mode = rng.choice("RA")
        entries, effects, wanted = [], [], []
        for role in chosen:
            buckets = []
            for week in rng.sample(range(WEEKS), rng.choice((1, 1, 2))):
                minutes = 0 if rng.random() < 0.15 else rng.randrange(1, 3000)
                start = MONDAY + timedelta(weeks=week)
                buckets.append(f"<com:PwsProjectRoleHoursBucket><com:BucketStartDate>{start}T00:00:00Z"
                               "</com:BucketStartDate><com:SchedulingMode>W</com:SchedulingMode><com:WeeklyMinutes>"
                               f"{minutes}</com:WeeklyMinutes></com:PwsProjectRoleHoursBucket>")
                effects.append((role.uid, f"h:{mode}:{start}"))
                wanted.append(("hours", role.uid, mode, start, minutes))
            entries.append(f"<com:PwsProjectRoleHours><com:HoursBuckets>{''.join(buckets)}</com:HoursBuckets>"
                           f"<com:ProjectRoleIdentity>{ref('ProjectRole', role.uid)}</com:ProjectRoleIdentity>"
                           "</com:PwsProjectRoleHours>")
        answer, event = await self.send(f"hours {mode}", "PwsRequestOrBookRoleHours",
                                        f"<sch:Mode>{mode}</sch:Mode><sch:ProjectRoles>{''.join(entries)}"
                                        "</sch:ProjectRoles>", effects)
        if answer.outcome == OK:
            event.expects.extend(wanted)
        elif len(chosen) == 1:
            self.lost(answer, chosen[0].uid)

    async def invoice(self) -> None:
        world, rng = self.world, self.rng
        invoiced_live = world.invoiced & world.live["E"].keys()
        engagement = world.pick(rng, "E", (lambda n: n.uid in world.invoiced)
                                if len(invoiced_live) >= max(2, TARGETS["E"] // 4) else None)
        if engagement is None:
            return
        client = world.client_of(engagement.uid)
        project = world.pick(rng, "P", lambda n: n.parent == engagement.uid) if rng.random() < 0.3 else None
        spec = ("<bil:BillingCultureIdentity><com:CultureName>en-US</com:CultureName></bil:BillingCultureIdentity>"
                f"<bil:ClientIdentity>{ref('Client', client or 0)}</bil:ClientIdentity>"
                "<bil:CostCenterIdentity><com:CostCenterName>Head Office</com:CostCenterName></bil:CostCenterIdentity>"
                "<bil:EngagementCurrencyIdentity><com:CurrencyCode>USD</com:CurrencyCode>"
                "</bil:EngagementCurrencyIdentity>"
                f"<bil:EngagementIdentity>{ref('Engagement', engagement.uid)}</bil:EngagementIdentity>"
                f"<bil:InvoiceContent>B</bil:InvoiceContent><bil:InvoiceName>Invoice {self.number}</bil:InvoiceName>")
        if project is not None:
            spec += f"<bil:ProjectIdentity>{ref('Project', project.uid)}</bil:ProjectIdentity>"
        effects = [(engagement.uid, "invoiced")] + ([(project.uid, "invoiced")] if project else [])
        answer, event = await self.send("invoice", "PwsCreateInvoice",
                                        f'<bil:InvoiceSpec xmlns:bil="{BILLING}">{spec}</bil:InvoiceSpec>', effects)
        uid = uid_of(answer, f".//{{{BILLING}}}InvoiceIdentity/com:InvoiceUid")
        if answer.outcome == OK and uid:
            world.invoiced.add(engagement.uid)
            event.expects.append(("invoice", uid, engagement.uid, project.uid if project else None))
        else:
            self.lost(answer, engagement.uid)

    # --- locks ---

    async def acquire(self) -> None:
        world, rng = self.world, self.rng
        kinds = rng.choices("EPR", weights=(2, 3, 5), k=rng.choice((1, 1, 2, 3)))
        picked: dict[int, Node] = {}
        for kind in kinds:
            node = world.pick(rng, kind)
            if node is not None:
                picked[node.uid] = node
        if not picked:
            return
        seconds = rng.randint(2, 15)
        requests = "".join(f"<com:PwsProjectorLockRequest><com:EntityIdentity><com:EntityUid>{n.uid}"
                           f"</com:EntityUid><com:LockType>{n.kind}</com:LockType></com:EntityIdentity>"
                           "</com:PwsProjectorLockRequest>" for n in picked.values())
        members = f"<req:LockDurationSeconds>{seconds}</req:LockDurationSeconds><req:Locks>{requests}</req:Locks>"
        extend = self.live_sets() and rng.random() < 0.3
        target_set = rng.choice(self.sets) if extend else None
        if target_set is not None:
            members += f"<req:ProjectorLockSetId>{target_set.set_id}</req:ProjectorLockSetId>"
        began = time.monotonic()
        answer, _ = await self.send("acquire locks", "PwsAcquireProjectorLocks", members)
        fault = answer.pws_fault
        if fault is not None:
            self.after_fault(fault)
            if fault.findtext("com:AllowLocksToBeStolenFlag", namespaces=NS) == "true" and rng.random() < 0.4:
                steal = locks_to_steal(fault, NS["req"])
                if steal is not None:
                    began = time.monotonic()
                    answer, _ = await self.send("acquire locks (LocksToSteal)", "PwsAcquireProjectorLocks",
                                                members + steal)
        set_id = answer.text(".//rs:ProjectorLockSetId")
        if answer.outcome == OK and set_id:
            graphs = {g for g in (world.graph_of(uid) for uid in picked) if g is not None}
            if target_set is not None and str(target_set.set_id) == set_id:
                target_set.expires, target_set.graphs = began + seconds, target_set.graphs | graphs
            else:
                self.sets.append(OwnSet(int(set_id), began + seconds, graphs))
        elif answer.outcome == FAIL and len(picked) == 1:
            self.lost(answer, next(iter(picked)))

    async def check(self) -> None:
        world, rng = self.world, self.rng
        own = self.live_sets()
        if own and rng.random() < 0.6:
            answer, _ = await self.send("check locks (set)", "PwsCheckProjectorLocks",
                                        f"<req:ProjectorLockSetId>{rng.choice(own).set_id}</req:ProjectorLockSetId>")
        else:
            node = world.pick(rng, rng.choice("EPR"))
            if node is None:
                return
            answer, _ = await self.send("check locks (entity)", "PwsCheckProjectorLocks",
                                        "<req:Locks><com:PwsProjectorLockRequest><com:EntityIdentity><com:EntityUid>"
                                        f"{node.uid}</com:EntityUid><com:LockType>{node.kind}</com:LockType>"
                                        "</com:EntityIdentity></com:PwsProjectorLockRequest></req:Locks>")
        if answer.pws_fault is not None:
            self.after_fault(answer.pws_fault)

    async def renew(self) -> None:
        own = self.live_sets()
        if not own:
            await self.acquire()
            return
        chosen = self.rng.choice(own)
        seconds = self.rng.randint(2, 15)
        began = time.monotonic()
        answer, _ = await self.send("renew locks", "PwsRenewProjectorLocks",
                                    f"<req:LockDurationSeconds>{seconds}</req:LockDurationSeconds>"
                                    f"<req:ProjectorLockSetId>{chosen.set_id}</req:ProjectorLockSetId>")
        if answer.outcome == OK:
            chosen.expires = began + seconds
        elif answer.pws_fault is not None:
            self.after_fault(answer.pws_fault)
        else:
            self.sets.remove(chosen)

    async def release(self) -> None:
        if not self.sets:
            return
        chosen = self.rng.choice(self.sets)
        self.sets.remove(chosen)
        await self.send("release locks", "PwsReleaseProjectorLocks",
                        f"<req:ProjectorLockSetId>{chosen.set_id}</req:ProjectorLockSetId>")

    # --- deletes ---

    async def delete_client(self) -> None:
        world, rng = self.world, self.rng
        target = world.pick(rng, "C")
        if target is None:
            return
        cascade, inactivate = rng.random() < 0.6, rng.random() < 0.5
        answer, event = await self.send(
            f"delete client{' cascade' * cascade}{' inactivate' * inactivate}", "PwsDeleteClient",
            flag("req", "CascadeDeleteFlag", cascade) + f"<req:ClientIdentity>{ref('Client', target.uid)}"
            "</req:ClientIdentity>" + flag("req", "InactivateIfInuseFlag", inactivate), [(target.uid, "subtree")])
        if answer.outcome != OK:
            self.lost(answer, target.uid)
            return
        kept = frozenset(number for n, detail in answer.messages() if n == 101
                         for number in _client_numbers(detail))
        event.expects.append(("gone", "C", target.uid, kept))
        if not kept:
            world.forget(target.uid)
            return
        subtree = [n for n in list(world.live["C"].values())
                   if n.uid == target.uid or target.uid in world.ancestors(n.uid)]
        for node in subtree:
            if node.code in kept:
                world.inactive.add(node.uid)
        for node in subtree:
            if node.code not in kept and node.uid in world.live["C"]:
                world.forget(node.uid)

    async def delete_engagement(self) -> None:
        world, rng = self.world, self.rng
        target = world.pick(rng, "E")
        if target is None:
            return
        cascade = rng.random() < 0.75
        answer, event = await self.graph_write(
            f"delete engagement{' cascade' * cascade}", "PwsDeleteEngagement",
            flag("sch", "CascadeDeleteFlag", cascade) + f"<sch:EngagementIdentity>{ref('Engagement', target.uid)}"
            "</sch:EngagementIdentity>", target.uid, [(target.uid, "subtree")])
        if answer.outcome == OK:
            event.expects.append(("gone", "E", target.uid, frozenset()))
            world.forget(target.uid)
        else:
            self.lost(answer, target.uid)

    async def delete_project(self) -> None:
        world, rng = self.world, self.rng
        target = world.pick(rng, "P")
        if target is None:
            return
        cascade, empty = rng.random() < 0.7, rng.random() < 0.3
        graph = world.graph_of(target.uid)
        effects = [(target.uid, "subtree")] + ([(graph, "self")] if empty and graph else [])
        answer, event = await self.graph_write(
            f"delete project{' cascade' * cascade}{' empty-engagement' * empty}", "PwsDeleteProject",
            flag("sch", "CascadeDeleteFlag", cascade) + flag("sch", "DeleteEmptyEngagementFlag", empty)
            + f"<sch:ProjectIdentity>{ref('Project', target.uid)}</sch:ProjectIdentity>", graph, effects)
        if answer.outcome == OK:
            event.expects.append(("gone", "P", target.uid, frozenset()))
            world.forget(target.uid)
            if empty and graph is not None and not any(p.parent == graph for p in world.live["P"].values()):
                # It may have gone with it (not if it was invoiced, or a project was added meanwhile).
                if graph not in world.invoiced:
                    world.forget(graph)
        else:
            self.lost(answer, target.uid)

    async def delete_role(self) -> None:
        world, rng = self.world, self.rng
        target = world.pick(rng, "R")
        if target is None:
            return
        zero = rng.random() < 0.6
        answer, event = await self.graph_write(
            f"delete role{' zero-out' * zero}", "PwsDeleteProjectRole",
            f"<sch:ProjectRoleIdentity>{ref('ProjectRole', target.uid)}</sch:ProjectRoleIdentity>"
            + flag("sch", "ZeroOutHoursFlag", zero), world.graph_of(target.uid), [(target.uid, "self")])
        if answer.outcome == OK:
            event.expects.append(("role deleted", target.uid))
            world.live["R"].pop(target.uid, None)
            world.deleted_roles[target.uid] = target
        else:
            self.lost(answer, target.uid)

    async def undelete_role(self) -> None:
        world, rng = self.world, self.rng
        if not world.deleted_roles:
            await self.delete_role()
            return
        target = rng.choice(list(world.deleted_roles.values()))
        unique = rng.random() < 0.5
        answer, event = await self.graph_write(
            f"undelete role{' unique-name' * unique}", "PwsUndeleteProjectRole",
            flag("sch", "MakeRoleNameUniqueFlag", unique)
            + f"<sch:ProjectRoleIdentity>{ref('ProjectRole', target.uid)}</sch:ProjectRoleIdentity>",
            world.graph_of(target.uid), [(target.uid, "self")])
        if answer.outcome == OK:
            event.expects.append(("role live", target.uid))
            world.deleted_roles.pop(target.uid, None)
            world.live["R"][target.uid] = target
        elif 990073 in answer.numbers:  # not deleted: someone undeleted it first
            world.deleted_roles.pop(target.uid, None)
            world.live["R"][target.uid] = target
        elif set(answer.numbers) & {50024, 54061, 54080}:
            world.forget(target.uid)

    # --- reads ---

    async def read(self) -> None:
        world, rng = self.world, self.rng
        what = rng.choice(("client", "engagement", "project", "roles", "client list"))
        if what == "client" and (node := world.pick(rng, "C")):
            await self.send("get client", "PwsGetClient", f"<req:ClientIdentities><com:PwsClientRef>"
                            f"{ref('Client', node.uid)}</com:PwsClientRef></req:ClientIdentities>")
        elif what == "engagement" and (node := world.pick(rng, "E")):
            await self.send("get engagement", "PwsGetEngagement", f"<sch:EngagementIdentities><com:PwsEngagementRef>"
                            f"{ref('Engagement', node.uid)}</com:PwsEngagementRef></sch:EngagementIdentities>")
        elif what == "project" and (node := world.pick(rng, "P")):
            await self.send("get project", "PwsGetProject", flag("sch", "IncludeDeletedRolesFlag", True)
                            + "<sch:Mode>R</sch:Mode><sch:ProjectIdentities><com:PwsProjectRef>"
                            f"{ref('Project', node.uid)}</com:PwsProjectRef></sch:ProjectIdentities>")
        elif what == "roles" and (node := world.pick(rng, "P")):
            await self.send("get project roles", "PwsGetProjectRoles", "<sch:Mode>A</sch:Mode><sch:ProjectIdentities>"
                            f"<com:PwsProjectRef>{ref('Project', node.uid)}</com:PwsProjectRef>"
                            "</sch:ProjectIdentities>" + flag("sch", "IncludeDeletedRolesFlag", True))
        elif what == "client list":
            await self.send("get client list", "PwsGetClientList", flag("req", "IncludeInactiveFlag", True)
                            + "<req:MaxRowsToReturn>50</req:MaxRowsToReturn>")


def _client_numbers(detail: str) -> list[str]:
    """The client numbers a 101 ClientInactivated message names ("... client C000012: ...")."""
    words = detail.replace(",", " ").replace(":", " ").split()
    return [w for i, w in enumerate(words) if i and words[i - 1] == "client"]


# --- the database after the run ------------------------------------------------------------------

# (label, SQL counting the rows that break the rule)
INVARIANTS: list[tuple[str, str]] = [
    ("projects of a missing engagement",
     "SELECT count(*) FROM projects p WHERE NOT EXISTS (SELECT 1 FROM engagements e WHERE e.id = p.engagement_id)"),
    ("contract line items of a missing engagement",
     "SELECT count(*) FROM contract_line_items c WHERE NOT EXISTS "
     "(SELECT 1 FROM engagements e WHERE e.id = c.engagement_id)"),
    ("projects on no contract line item, or on one of another engagement",
     "SELECT count(*) FROM projects p LEFT JOIN contract_line_items c ON c.id = p.contract_line_item_id "
     "WHERE c.id IS NULL OR c.engagement_id <> p.engagement_id"),
    ("engagements of a missing client",
     "SELECT count(*) FROM engagements e WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.id = e.client_id)"),
    ("clients under a missing parent client",
     "SELECT count(*) FROM clients c WHERE c.parent_id IS NOT NULL "
     "AND NOT EXISTS (SELECT 1 FROM clients p WHERE p.id = c.parent_id)"),
    ("roles (live or deleted) of a missing project",
     "SELECT count(*) FROM project_roles r WHERE NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = r.project_id)"),
    ("hours of a missing role",
     "SELECT count(*) FROM role_hours h WHERE NOT EXISTS (SELECT 1 FROM project_roles r WHERE r.id = h.role_id)"),
    ("hours of a deleted role",
     "SELECT count(*) FROM role_hours h JOIN project_roles r ON r.id = h.role_id WHERE r.deleted"),
    ("hours buckets of 0 minutes kept", "SELECT count(*) FROM role_hours WHERE weekly_minutes <= 0"),
    ("invoices of a missing engagement or project",
     "SELECT count(*) FROM invoices i WHERE NOT EXISTS (SELECT 1 FROM engagements e WHERE e.id = i.engagement_id) "
     "OR (i.project_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM projects p WHERE p.id = i.project_id))"),
    ("invoiced engagements or projects not flagged ever_invoiced",
     "SELECT count(*) FROM invoices i JOIN engagements e ON e.id = i.engagement_id "
     "LEFT JOIN projects p ON p.id = i.project_id "
     "WHERE NOT e.ever_invoiced OR (p.id IS NOT NULL AND NOT p.ever_invoiced)"),
    ("locks of a missing entity",
     "SELECT count(*) FROM locks l WHERE (l.entity_type = 'E' AND NOT EXISTS "
     "(SELECT 1 FROM engagements e WHERE e.id = l.entity_id AND e.uid = l.entity_uid)) "
     "OR (l.entity_type = 'P' AND NOT EXISTS "
     "(SELECT 1 FROM projects p WHERE p.id = l.entity_id AND p.uid = l.entity_uid)) "
     "OR (l.entity_type = 'R' AND NOT EXISTS "
     "(SELECT 1 FROM project_roles r WHERE r.id = l.entity_id AND r.uid = l.entity_uid)) "
     "OR l.entity_type NOT IN ('E', 'P', 'R')"),
    ("locks placed outside their entity's graph",
     "SELECT count(*) FROM locks l "
     "LEFT JOIN projects p ON l.entity_type = 'P' AND p.id = l.entity_id "
     "LEFT JOIN project_roles r ON l.entity_type = 'R' AND r.id = l.entity_id "
     "LEFT JOIN projects rp ON rp.id = r.project_id WHERE "
     "(l.entity_type = 'E' AND (l.engagement_id <> l.entity_id OR l.project_id IS NOT NULL)) "
     "OR (p.id IS NOT NULL AND (p.engagement_id <> l.engagement_id OR l.project_id IS NULL OR l.project_id <> p.id)) "
     "OR (rp.id IS NOT NULL AND (rp.engagement_id <> l.engagement_id OR l.project_id IS NULL "
     "OR l.project_id <> rp.id))"),
    ("locks of a released or stolen lock set",
     "SELECT count(*) FROM locks l JOIN lock_sets s ON s.id = l.lock_set_id "
     "WHERE s.released_at IS NOT NULL OR s.stolen_at IS NOT NULL"),
    ("engagements whose version is older than a contract line item, project or role of their graph",
     "SELECT count(*) FROM engagements e WHERE "
     "e.rowversion < (SELECT max(c.rowversion) FROM contract_line_items c WHERE c.engagement_id = e.id) "
     "OR e.rowversion < (SELECT max(p.rowversion) FROM projects p WHERE p.engagement_id = e.id) "
     "OR e.rowversion < (SELECT max(r.rowversion) FROM project_roles r JOIN projects p ON p.id = r.project_id "
     "WHERE p.engagement_id = e.id)"),
    ("live roles sharing a name in one project",
     "SELECT count(*) FROM (SELECT project_id, name_key FROM project_roles WHERE NOT deleted "
     "GROUP BY project_id, name_key HAVING count(*) > 1) dup"),
    ("Uids shared between tables",
     "SELECT count(*) FROM (SELECT uid FROM (SELECT uid FROM clients UNION ALL SELECT uid FROM engagements "
     "UNION ALL SELECT uid FROM contract_line_items UNION ALL SELECT uid FROM projects "
     "UNION ALL SELECT uid FROM project_roles UNION ALL SELECT uid FROM invoices) u "
     "GROUP BY uid HAVING count(*) > 1) dup"),
]
INVARIANTS.extend(
    (f"row versions shared within {table}",
     f"SELECT count(*) FROM (SELECT rowversion FROM {table} GROUP BY rowversion HAVING count(*) > 1) dup")  # noqa: S608
    for table in ("clients", "engagements", "contract_line_items", "projects", "project_roles", "invoices"))

# Counted and shown, not violations: PwsAcquireProjectorLocks locks a soft-deleted role (a role
# delete removes the role's locks, but nothing keeps a lock from being taken on it afterwards).
NOTES: list[tuple[str, str]] = [
    ("locks on a soft-deleted role", "SELECT count(*) FROM locks l JOIN project_roles r ON l.entity_type = 'R' "
     "AND r.id = l.entity_id WHERE r.deleted"),
]

# Two live locks of different users that keep each other out (an engagement lock reaches its whole
# graph, a project lock its roles). Live means at :now, a little after the query began, so that a
# set the server judged expired a moment before the query is not counted.
CONFLICTING_LOCKS = (
    "SELECT count(*) FROM locks a JOIN lock_sets sa ON sa.id = a.lock_set_id "
    "JOIN locks b ON b.account_id = a.account_id AND b.engagement_id = a.engagement_id AND b.id > a.id "
    "JOIN lock_sets sb ON sb.id = b.lock_set_id "
    "WHERE sa.user_id <> sb.user_id AND sa.released_at IS NULL AND sb.released_at IS NULL "
    "AND sa.stolen_at IS NULL AND sb.stolen_at IS NULL AND sa.expires_at > :now AND sb.expires_at > :now "
    "AND (a.entity_type = 'E' OR b.entity_type = 'E' OR (a.entity_type = 'P' AND b.project_id = a.project_id) "
    "OR (b.entity_type = 'P' AND a.project_id = b.project_id) "
    "OR (a.entity_type = 'R' AND b.entity_type = 'R' AND a.entity_id = b.entity_id))"
)


def conflicting_locks(engine: Engine) -> int:
    moment = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=2)
    with engine.connect() as connection:
        return int(connection.execute(text(CONFLICTING_LOCKS), {"now": moment}).scalar_one())


def check_database(engine: Engine, queries: Sequence[tuple[str, str]] = INVARIANTS) -> list[tuple[str, int]]:
    with engine.connect() as connection:
        return [(label, int(connection.execute(text(sql)).scalar_one())) for label, sql in queries]


@dataclass
class Snapshot:
    """The rows the expectations are judged against, by Uid."""

    clients: dict[int, tuple[str, bool]]  # name, inactive
    engagements: dict[int, tuple[str, bool]]  # name, ever_invoiced
    projects: dict[int, tuple[str, str | None, bool]]  # name, description, ever_invoiced
    roles: dict[int, tuple[str, str | None, bool]]  # name, description, deleted
    hours: dict[tuple[int, str, date], int]  # (role, kind, week) -> minutes
    invoices: dict[int, tuple[int, int | None]]  # engagement, project

    def table(self, kind: str) -> dict[int, Any]:
        return {"C": self.clients, "E": self.engagements, "P": self.projects, "R": self.roles}[kind]

    def hours_of(self, role: int) -> list[tuple[str, str, int]]:
        return sorted((k, str(d), m) for (r, k, d), m in self.hours.items() if r == role)

    @cached_property
    def roles_with_hours(self) -> set[int]:
        return {role for role, _, _ in self.hours}


def snapshot(engine: Engine) -> Snapshot:
    with engine.connect() as c:
        def rows(sql: str) -> Sequence[Any]:
            return c.execute(text(sql)).all()

        return Snapshot(
            {int(u): (n, bool(i)) for u, n, i in rows("SELECT uid, name, inactive FROM clients")},
            {int(u): (n, bool(i)) for u, n, i in rows("SELECT uid, name, ever_invoiced FROM engagements")},
            {int(u): (n, d, bool(i)) for u, n, d, i in rows(
                "SELECT uid, name, description, ever_invoiced FROM projects")},
            {int(u): (n, d, bool(x)) for u, n, d, x in rows(
                "SELECT uid, name, description, deleted FROM project_roles")},
            {(int(u), k, _day(b)): int(m) for u, k, b, m in rows(
                "SELECT r.uid, h.kind, h.bucket_start, h.weekly_minutes FROM role_hours h "
                "JOIN project_roles r ON r.id = h.role_id")},
            {int(u): (int(e), int(p) if p is not None else None) for u, e, p in rows(
                "SELECT i.uid, e.uid, p.uid FROM invoices i JOIN engagements e ON e.id = i.engagement_id "
                "LEFT JOIN projects p ON p.id = i.project_id")})


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


EXPECTATION_LABELS = {
    "name": "Ok saves visible with their name/values",
    "active": "Ok reactivations: client active",
    "gone": "Ok deletes: what was deleted is gone (and all below it)",
    "kept": "Ok client deletes: clients inactivated instead are inactive",
    "role deleted": "Ok role deletes: role deleted with no hours",
    "role live": "Ok undeletes: role live",
    "hours": "Ok hours visible (requested/booked minutes per week)",
    "invoice": "Ok invoices present, their engagement/project kept and flagged",
}


class Verdicts:
    """Per kind of expectation: how many were checked, skipped (a request that may have changed
    what they expect ended after they began) and violated, with a few examples, and what was
    checked (for --self-test)."""

    def __init__(self) -> None:
        self.checked: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.violated: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = defaultdict(list)
        self.items: dict[str, list[tuple[Any, ...]]] = defaultdict(list)

    def judge(self, label: str, item: tuple[Any, ...], holds: bool, example: Callable[[], str]) -> None:
        self.checked[label] += 1
        self.items[label].append(item)
        if not holds:
            self.violated[label] += 1
            if len(self.examples[label]) < 5:
                self.examples[label].append(example())


class Judge:
    """Every expectation of an Ok answer against the database, unless another request that may
    have changed the same thing (answered Ok, or never answered) ended after it began: that one
    may have come later in the database's order. Requests answered with a business error, a
    PwsFault or s:Client changed nothing, so they never excuse a difference."""

    def __init__(self, world: World, db: Snapshot) -> None:
        self.world, self.db = world, db
        self.verdicts = Verdicts()
        self.children: dict[int, list[int]] = defaultdict(list)
        for node in world.nodes.values():
            if node.parent is not None:
                self.children[node.parent].append(node.uid)
        self.reach: dict[int, list[tuple[Event, str]]] = defaultdict(list)
        for event in world.events:
            if event.outcome in (OK, UNKNOWN):
                for uid, aspect in event.effects:
                    self.reach[uid].append((event, aspect))

    def changed_later(self, own: Event, uid: int, aspect: str) -> bool:
        for other, what in self.reach.get(uid, ()):
            if other is not own and other.end > own.start and what in (aspect, "self", "subtree"):
                return True
        for above in self.world.ancestors(uid):
            for other, what in self.reach.get(above, ()):
                if other is not own and other.end > own.start and what == "subtree":
                    return True
        return False

    def run(self) -> Verdicts:
        for event in self.world.events:
            if event.outcome == OK:
                for expect in event.expects:
                    self.expectation(event, expect)
        return self.verdicts

    def expectation(self, event: Event, expect: tuple[Any, ...]) -> None:
        db, verdicts, kind = self.db, self.verdicts, expect[0]
        if kind == "gone":
            self.gone(event, *expect[1:])
            return
        if kind == "invoice":
            _, uid, engagement, project = expect
            holds = (db.invoices.get(uid) == (engagement, project) and db.engagements.get(engagement, ("", False))[1]
                     and (project is None or db.projects.get(project, ("", None, False))[2]))
            verdicts.judge(kind, expect, holds, lambda: (
                f"invoice {uid} of engagement {engagement} project {project}: database has invoice "
                f"{db.invoices.get(uid)}, engagement {db.engagements.get(engagement)}, project "
                f"{db.projects.get(project) if project else None}"))
            return
        uid = expect[2] if kind == "name" else expect[1]
        aspect = f"h:{expect[2]}:{expect[3]}" if kind == "hours" else {
            "name": "name", "active": "inactive", "role deleted": "live", "role live": "live"}[kind]
        if self.changed_later(event, uid, aspect):
            verdicts.skipped[kind] += 1
            return
        if kind == "name":
            entity, values = expect[1], expect[3]
            row = db.table(entity).get(uid)
            holds = row is not None and row[0] == values["name"] and (
                "description" not in values or row[1] == values["description"]) and not (entity == "R" and row[2])
            verdicts.judge(kind, expect, holds, lambda: f"{event.op} {entity} {uid}: sent {values}, database has {row}")
        elif kind == "active":
            client = db.clients.get(uid)
            verdicts.judge(kind, expect, client is not None and not client[1],
                           lambda: f"{event.op} {uid}: database has {client}")
        elif kind == "role deleted":
            role = db.roles.get(uid)
            verdicts.judge(kind, expect, role is None or (role[2] and uid not in db.roles_with_hours),
                           lambda: f"{event.op} {uid}: database has {role}, hours {db.hours_of(uid)}")
        elif kind == "role live":
            role = db.roles.get(uid)
            verdicts.judge(kind, expect, role is not None and not role[2],
                           lambda: f"{event.op} {uid}: database has {role}")
        elif kind == "hours":
            _, _, mode, start, minutes = expect
            found = db.hours.get((uid, mode, start))
            holds = uid in db.roles and (found is None if minutes == 0 else found == minutes)
            verdicts.judge(kind, expect, holds, lambda: f"{event.op} role {uid} {mode} week {start}: sent {minutes} "
                           f"minutes, database has {found} (role {db.roles.get(uid)})")

    def gone(self, event: Event, entity: str, uid: int, kept: frozenset[str]) -> None:
        """An Ok delete of ``uid``: it, and everything created below it before the delete was sent,
        is gone, except the clients the answer said it inactivated (and what is below them): those
        are inactive unless a later request may have made them active. Uids are never reused, so
        nothing deleted may come back, whatever happened later."""
        world, db = self.world, self.db
        below, todo = [world.nodes[uid]], list(self.children.get(uid, ()))
        while todo:
            node = world.nodes[todo.pop()]
            if node.created < event.start:
                below.append(node)
                todo.extend(self.children.get(node.uid, ()))
        kept_uids = {n.uid for n in below if n.kind == "C" and n.code in kept}
        for node in below:
            row = db.table(node.kind).get(node.uid)
            if node.uid in kept_uids:
                if self.changed_later(event, node.uid, "inactive"):
                    self.verdicts.skipped["kept"] += 1
                    continue
                self.verdicts.judge("kept", ("kept", node.uid), row is None or row[1],
                                    lambda n=node, r=row: f"{event.op} {uid}: client {n.code} was named "
                                    f"inactivated, database has {r}")
            elif not kept_uids.intersection([node.uid, *world.ancestors(node.uid)]):
                self.verdicts.judge("gone", ("gone", node.kind, node.uid), row is None,
                                    lambda n=node, r=row: f"{event.op} {entity} {uid}: {n.kind} {n.uid} ({n.code}), "
                                    f"created before, is still there: {r}")


def self_test(engine: Engine, verdicts: Verdicts, db: Snapshot) -> list[str]:
    """Break, in the scratch database, one row that each kind of check covers (a checked
    expectation's row, an orphan lock, a shared row version), so that a second check shows
    each of them failing. Returns what was changed."""
    changed: list[str] = []
    with engine.begin() as c:
        def run(sql: str, **values: Any) -> None:
            c.execute(text(sql), values)

        for item in verdicts.items.get("name", [])[:1]:
            table = {"C": "clients", "E": "engagements", "P": "projects", "R": "project_roles"}[item[1]]
            run(f"UPDATE {table} SET name = 'tampered' WHERE uid = :u", u=item[2])  # noqa: S608
            changed.append(f"renamed {table} {item[2]}")
        for item in verdicts.items.get("hours", [])[:1]:
            run("DELETE FROM role_hours WHERE role_id = (SELECT id FROM project_roles WHERE uid = :u)", u=item[1])
            run("INSERT INTO role_hours (role_id, kind, bucket_start, scheduling_mode, weekly_minutes) "
                "SELECT id, :k, :d, 'W', :m FROM project_roles WHERE uid = :u", u=item[1], k=item[2], d=item[3],
                m=item[4] + 7)
            changed.append(f"changed the minutes of role {item[1]} {item[2]} {item[3]}")
        for item in [i for i in verdicts.items.get("role deleted", []) if i[1] in db.roles][:1]:
            run("UPDATE project_roles SET deleted = :f WHERE uid = :u", u=item[1], f=False)
            changed.append(f"undeleted role {item[1]}")
        run("INSERT INTO locks (lock_set_id, account_id, entity_type, entity_id, entity_uid, engagement_id, "
            "acquired_at) SELECT id, account_id, 'P', -1, -1, -1, created_at FROM lock_sets ORDER BY id LIMIT 1")
        changed.append("added a lock of a missing project")
        run("UPDATE projects SET rowversion = (SELECT max(rowversion) FROM projects) "
            "WHERE id = (SELECT min(id) FROM projects)")
        changed.append("gave two projects one row version")
    return changed


# --- the run -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * fraction + 0.5) - 1))]


async def drive(world: World, clients: list[SoakClient], seconds: float, engine: Engine,
                lock_conflicts: list[int]) -> float:
    began = time.monotonic()
    deadline = began + seconds
    tasks = [asyncio.create_task(c.run(deadline)) for c in clients]
    seen = 0
    last = began
    try:
        while not all(t.done() for t in tasks):
            await asyncio.wait(tasks, timeout=max(0.1, min(STATUS_EVERY, deadline + 1 - time.monotonic())))
            moment = time.monotonic()
            done = all(t.done() for t in tasks)
            if moment - last >= STATUS_EVERY or done:
                conflicts = await asyncio.to_thread(conflicting_locks, engine)
                lock_conflicts.append(conflicts)
                if moment - last < 5:
                    continue
                total = sum(world.kinds.values())
                k = world.kinds

                def starting(prefix: str, k: Counter[str] = k) -> int:
                    return sum(v for n, v in k.items() if n.startswith(prefix))

                print(f"[{moment - began:5.0f} s] {total} answers ({(total - seen) / (moment - last):.0f}/s)  "
                      f"Ok {k['Ok'] + k['OkWithWarnings']}  errors {starting('error')}"
                      f"  PwsFault {starting('PwsFault')}  s:Client {k['s:Client']}"
                      f"  s:Server {k['s:Server']}  HTTP {starting('HTTP')}"
                      f"  timeout/conn {k['timeout'] + k['connection error']}  | tree C{len(world.live['C'])} "
                      f"E{len(world.live['E'])} P{len(world.live['P'])} R{len(world.live['R'])} "
                      f"(deleted roles {len(world.deleted_roles)})  conflicting live locks {conflicts}", flush=True)
                seen, last = total, moment
        for task in tasks:
            task.result()  # a client's own bug ends the run loudly
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return time.monotonic() - began


def report(world: World, elapsed: float) -> None:
    total = sum(world.kinds.values())
    print(f"\nanswers: {total} in {elapsed:.0f} s = {total / elapsed:.1f} requests/s   latency p50 "
          f"{percentile(world.latencies, 0.5) * 1000:.1f} ms   p99 {percentile(world.latencies, 0.99) * 1000:.1f} ms   "
          f"max {max(world.latencies, default=0) * 1000:.0f} ms")
    print("answers by kind:")
    for kind, count in sorted(world.kinds.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {kind:<44} {count:8d}")
    for kind in ("s:Server", "s:Client", "timeout", "connection error"):
        if kind not in world.kinds:
            print(f"  {kind:<44} {0:8d}")
    print("by operation (answers, Ok, p50/p99 ms, the other kinds):")
    for op in sorted(world.by_op):
        kinds = world.by_op[op]
        done = kinds["Ok"] + kinds["OkWithWarnings"]
        others = ", ".join(f"{k} {v}" for k, v in kinds.most_common() if k not in ("Ok", "OkWithWarnings"))
        lat = world.op_latencies[op]
        print(f"  {op:<44} {sum(kinds.values()):7d}  Ok {done:6d}  {percentile(lat, 0.5) * 1000:7.1f}/"
              f"{percentile(lat, 0.99) * 1000:7.1f}  {others}")


def print_checks(invariants: Sequence[tuple[str, int]], notes: Sequence[tuple[str, int]], verdicts: Verdicts) -> int:
    print("invariants (violations):")
    for label, count in invariants:
        print(f"  {count:6d}  {label}")
    print("noted, not violations:")
    for label, count in notes:
        print(f"  {count:6d}  {label}")
    print("Ok answers against the database (checked / skipped: a later request may have changed it / violations):")
    for key, label in EXPECTATION_LABELS.items():
        print(f"  {verdicts.checked[key]:7d} / {verdicts.skipped[key]:7d} / {verdicts.violated[key]:4d}  {label}")
        for example in verdicts.examples.get(key, []):
            print(f"      e.g. {example}")
    return sum(c for _, c in invariants) + sum(verdicts.violated.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=32, help="Concurrent clients (default 32).")
    parser.add_argument("--seconds", type=float, default=600, help="Length of the run (default 600).")
    parser.add_argument("--workers", type=int, default=2, help="openpws serve --workers (default 2).")
    parser.add_argument("--store", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--postgres", default=POSTGRES, help="PostgreSQL server on which the scratch database "
                        "openpws_soak_<hex> is created and dropped.")
    parser.add_argument("--seed", type=int, default=1, help="Seed of the clients' choices (default 1).")
    parser.add_argument("--timeout", type=float, default=60, help="Seconds an answer may take (default 60).")
    parser.add_argument("--self-test", action="store_true", help="After the checks, break one row that each kind "
                        "of check covers and check again: every kind must then report a violation.")
    parser.add_argument("--keep-log", action="store_true", help="Keep the server log even when all is well.")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="openpws-soak-"))
    log = folder / "server.log"
    print(f"soak: {args.clients} clients, {args.seconds:g} s, {args.workers} worker(s), {args.store}, "
          f"seed {args.seed}; server log {log}", flush=True)
    with scratch_database(args.store, args.postgres, "soak") as database:
        store = prepare(database)
        add_users(store, EXTRA_USERS)
        store.dispose()
        engine = create_engine(normalise_url(database), pool_size=2)
        try:
            server = LoggedServer(database, args.workers, log)
            try:
                tickets = {user: login(server.port, user) for user in (LOGIN, *EXTRA_USERS)}
                users = list(tickets)
                world = World()
                master = random.Random(args.seed)
                clients = [SoakClient(n, world, server.port, tickets[users[n % len(users)]],
                                      random.Random(master.getrandbits(64)), args.timeout)
                           for n in range(args.clients)]
                lock_conflicts: list[int] = []
                elapsed = asyncio.run(drive(world, clients, args.seconds, engine, lock_conflicts))
            finally:
                server.stop()
            report(world, elapsed)
            invariants = check_database(engine)
            invariants.append(("conflicting live locks of different users (most at one check, every "
                               f"{STATUS_EVERY:g} s and at the end)", max(lock_conflicts, default=0)))
            db = snapshot(engine)
            verdicts = Judge(world, db).run()
            violations = print_checks(invariants, check_database(engine, NOTES), verdicts)
            tested = None
            if args.self_test:
                changed = self_test(engine, verdicts, db)
                print(f"self-test: {'; '.join(changed)}; checking again:")
                broken = print_checks(check_database(engine), [], Judge(world, snapshot(engine)).run())
                tested = broken >= len(changed)
                print(f"self-test: {broken} violations after {len(changed)} changes -> "
                      f"{'the checks see them' if tested else 'FAILED: a change went unseen'}")
        finally:
            engine.dispose()
    server_errors = world.kinds["s:Server"]
    for op, body, detail in world.server_errors[:5]:
        print(f"s:Server answer to {op}: {detail}\n  request: {body.decode(errors='replace')}")
    for key, (_op, body, detail) in sorted(world.samples.items()):
        if not key.endswith("s:Server"):
            print(f"first {key}: {detail}\n  request: {body.decode(errors='replace')[:1500]}")
    found = tracebacks(log)
    if found:
        print(f"tracebacks in the server log (first {len(found)}):")
        for block in found:
            print(block)
    failed = bool(server_errors or violations) or tested is False
    print(f"verdict: {server_errors} s:Server answers, {violations} invariant violations -> "
          f"{'FAILED' if failed else 'passed'}")
    if failed or args.keep_log or found:
        print(f"server log kept: {log}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Production's member order: the XSD's sequences and ``member-order.json`` say the same, both ways,
and what strict reading checks follows from them (SPEC "Member order").

The XSD files are read here with lxml directly, apart from ``openpws.contract.schema``."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest
from lxml import etree

from openpws.contract import ORDER_FILE, load_contract, ns
from openpws.contract.order import checked_positions, read_member_order
from openpws.contract.schema import ContractError

PACKAGE = resources.files("openpws.contract")
XS = "{http://www.w3.org/2001/XMLSchema}"
ALPHABETICAL = "order: alphabetical, no documented order"
WIKI = re.compile(r"^\S.* \(wiki (page \d+|short link x/\w+)\): https://projectorpsa\.atlassian\.net/wiki/\S+")


def _xsd_files() -> list[etree._Element]:
    files = sorted(f for f in (PACKAGE / "files").iterdir() if f.name.endswith(".xsd"))
    assert files
    return [etree.fromstring(f.read_bytes()) for f in files]


def _sequence(ctype: etree._Element) -> etree._Element | None:
    sequence = ctype.find(f"{XS}sequence")
    return sequence if sequence is not None else ctype.find(f"{XS}complexContent/{XS}extension/{XS}sequence")


def _named_types() -> dict[str, etree._Element]:
    """Every named complexType of the XSD files, keyed as the data file keys it: the local name,
    or "{namespace}Name" for a name two namespaces define."""
    found: list[tuple[str, str, etree._Element]] = []
    for schema in _xsd_files():
        namespace = schema.get("targetNamespace")
        found += [(namespace, ctype.get("name"), ctype) for ctype in schema.iterfind(f"{XS}complexType")]
    locals_ = [name for _, name, _ in found]
    return {(name if locals_.count(name) == 1 else f"{{{namespace}}}{name}"): ctype
            for namespace, name, ctype in found}


def _members(ctype: etree._Element) -> list[str]:
    sequence = _sequence(ctype)
    return [] if sequence is None else [e.get("name") or e.get("ref").partition(":")[2]
                                        for e in sequence.iterfind(f"{XS}element")]


def _says_alphabetical(ctype: etree._Element) -> bool:
    sequence = _sequence(ctype)
    return sequence is not None and any(
        isinstance(c, etree._Comment) and c.text.strip() == ALPHABETICAL for c in sequence.iterchildren())


def _order_file() -> dict[str, dict]:
    return json.loads((PACKAGE / ORDER_FILE).read_bytes())


def test_every_xsd_sequence_is_the_data_files_order_and_the_file_names_only_xsd_types() -> None:
    xsd = {name: _members(ctype) for name, ctype in _named_types().items()}
    data = {name: entry["members"] for name, entry in _order_file().items()}
    assert sorted(set(xsd) - set(data)) == [], "XSD types missing from member-order.json"
    assert sorted(set(data) - set(xsd)) == [], "member-order.json names types the XSD does not define"
    for name in xsd:
        assert data[name] == xsd[name], name


def test_an_alphabetical_order_is_marked_in_the_xsd_exactly_where_no_source_documents_one() -> None:
    types, data = _named_types(), _order_file()
    undocumented = sorted(name for name, entry in data.items() if entry["source"] is None)
    assert undocumented == sorted(name for name, ctype in types.items() if _says_alphabetical(ctype))
    for name in undocumented:
        members = data[name]["members"]
        assert members == sorted(members), f"{name} has no documented order, so WCF's alphabetical one"
        assert "guessed" not in data[name], name


def test_every_documented_order_names_its_wiki_page_and_every_guess_is_explained() -> None:
    for name, entry in _order_file().items():
        assert set(entry) <= {"members", "source", "guessed", "note"}, name
        if entry["source"] is not None:
            assert WIKI.match(entry["source"]), (name, entry["source"])
        guessed = entry.get("guessed", [])
        assert set(guessed) <= set(entry["members"]) and len(set(guessed)) == len(guessed), name
        if guessed or entry["source"] is None:
            assert entry.get("note"), f"{name}: say why its order (or part of it) is a guess"


def test_the_operations_anonymous_wrappers_have_one_member_so_no_order() -> None:
    for schema in _xsd_files():
        for wrapper in schema.iterfind(f"{XS}element/{XS}complexType"):
            assert len(_members(wrapper)) <= 1, wrapper.getparent().get("name")


def test_the_file_lists_its_types_by_name() -> None:
    names = list(_order_file())
    assert names == sorted(names)


@pytest.mark.parametrize(("change", "complaint"), [
    (lambda d: d["PwsDeleteProjectRoleRq"]["members"].reverse(), "PwsDeleteProjectRoleRq lists ProjectorLockSetId"),
    (lambda d: d.pop("PwsClientRef"), f"no entry for {{{ns.COMMON}}}PwsClientRef"),
    (lambda d: d.update(PwsRocketRq={"members": [], "source": None}), "PwsRocketRq names no single complex type"),
    (lambda d: d["PwsEngagementDetail"].update(guessed=["Rocket"]), "PwsEngagementDetail guesses members"),
])
def test_a_data_file_that_disagrees_with_the_xsd_stops_the_contract(change, complaint) -> None:
    data = _order_file()
    change(data)
    with pytest.raises(ContractError, match=re.escape(complaint)):
        read_member_order(json.dumps(data).encode(), load_contract().types)


def _checked(type_name: str) -> list[str]:
    """The members strict reading holds to an order, in that order."""
    positions = load_contract().positions.get(type_name, {})
    return sorted(positions, key=positions.__getitem__)


def test_strict_reading_checks_the_spec_examples_base_members_first() -> None:
    req, com = f"{{{ns.REQUESTS}}}", f"{{{ns.COMMON}}}"
    sch = f"{{{ns.SCHEDULING}}}"
    assert _checked(sch + "PwsDeleteProjectRoleRq") == [
        "RequestId", "SessionTicket", "ProjectRoleIdentity", "StealLockFlag", "ZeroOutHoursFlag",
        "EngagementTimestamp", "LocksToSteal", "ProjectRoleTimestamp", "ProjectorLockSetId"]
    assert _checked(sch + "PwsGetProjectRq")[:6] == [
        "RequestId", "SessionTicket", "Mode", "ProjectIdentities", "ExcludeReadNotesFlag", "IncludeDeletedRolesFlag"]
    assert _checked(req + "PwsDeleteClientRq") == [
        "RequestId", "SessionTicket", "CascadeDeleteFlag", "ClientIdentity", "InactivateIfInuseFlag"]
    assert _checked(com + "PwsClientRef") == ["ClientId", "ClientNumber", "ClientUid"]


def test_strict_reading_leaves_guesses_and_undocumented_types_alone() -> None:
    contract = load_contract()
    sch, com = f"{{{ns.SCHEDULING}}}", f"{{{ns.COMMON}}}"
    engagement = _checked(com + "PwsEngagementDetail")
    assert engagement[:5] == ["EngagementCode", "EngagementId", "EngagementUid", "ClientIdentity", "EngagementName"]
    assert "EngagementTimestamp" not in engagement and "TimeBillingType" not in engagement
    assert "RoleTypeClearFlag" not in _checked(sch + "PwsSaveProjectRoleRq")
    # PwsSaveProjectRs has no documented order: only its base's members are checked.
    assert _checked(sch + "PwsSaveProjectRs") == ["Messages", "ResponseId", "Status", "ServerTimestampUtc"]
    # The loader's positions are checked_positions of the table and the file.
    assert contract.positions == checked_positions(contract.types, contract.member_order)
    # Every documented, unguessed member of every named type is checked in its type.
    for name, order in contract.member_order.items():
        if order.documented and len(order.members) - len(order.guessed) > 1:
            assert set(order.members) - order.guessed <= set(contract.positions[name]), name

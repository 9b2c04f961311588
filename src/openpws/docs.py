"""Text of the generated parts of the documentation (``docs/errors.md``), kept equal by a test.

Regenerate with ``python -m openpws.docs > docs/errors.md``.
"""

from __future__ import annotations

from openpws.errors import CATALOGUE

HEADER = """# Errors and warnings

Every message openpws can answer with. Business errors come back in-band (HTTP 200,
`Status=Fail`, or `FailSessionInvalid` for the session entries marked below) with one `PwsMessage`
per problem: `ErrorNumber`, `ErrorCode`, `ErrorText` (placeholders filled in) and
`AdditionalErrorText` = `<Type> <number>: <code>`, followed by `: <detail>` naming the input that
caused it. Warnings come with `Status=OkWithWarnings`, and the work is done.

Numbers are Projector's where its documentation gives one. Numbers from 990000 to 990999 are
openpws's own, for conditions Projector documents no number for; they are marked *openpws*.

Malformed requests are not in this table: they are answered with a SOAP 1.1 fault (`s:Client`)
whose text names the element and what was wrong with it.

| Number | Code | Type | Text | Notes |
|---|---|---|---|---|
"""


def errors_markdown() -> str:
    rows = []
    for entry in sorted(CATALOGUE, key=lambda e: e.number):
        notes = ", ".join(n for n, on in (("FailSessionInvalid", entry.session), ("*openpws*", entry.openpws)) if on)
        rows.append(f"| {entry.number} | {entry.code} | {entry.type.value} | {entry.text} | {notes} |\n")
    return HEADER + "".join(rows)


if __name__ == "__main__":
    print(errors_markdown(), end="")

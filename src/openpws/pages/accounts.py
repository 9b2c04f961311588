"""The accounts pages: the list (the pages' home), creating an account from a packaged fixture or
an uploaded one, and one account's overview: its counts, clock, snapshots, export and removal.
Each action is the control plane's operation (``sandbox.control.Control``), its input read by the
JSON API's own body models, so that a form is refused with the words the API uses."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from openpws.pages.app import PREFIX, Problem, Site, number, text
from openpws.sandbox.api import ClockSetting, NewAccount, NewSnapshot
from openpws.sandbox.control import FIXTURES, LIST_LIMIT
from openpws.sandbox.export import as_json, as_yaml
from openpws.sandbox.fixtures import read_text
from openpws.services.sandbox import Advance, ClockChange, FreezeAt, SandboxError
from openpws.soap.http import SERVICE_PATH

# An uploaded fixture document is read up to this size.
MAX_FIXTURE_BYTES = 10 * 1024 * 1024
# Units the clock form's "advance" takes.
UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
SnapshotId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def account_path(code: str) -> str:
    return f"{PREFIX}/accounts/{code}"


def routes(site: Site) -> APIRouter:
    router = APIRouter(prefix=PREFIX)

    def endpoint(request: Request) -> str:
        return str(request.base_url).rstrip("/") + SERVICE_PATH

    async def home(request: Request, limit: int = 100, *, status: int = 200, problem: Problem | None = None,
                   form: dict[str, Any] | None = None) -> HTMLResponse:
        accounts = await site.call(lambda: site.control.accounts(limit + 1))
        return site.render(request, "accounts.html", status=status, problem=problem, accounts=accounts[:limit],
                           more=len(accounts) > limit, limit=limit, fixtures=FIXTURES, form=form or {},
                           endpoint=endpoint(request))

    @router.get("/")
    async def list_accounts(request: Request, limit: Annotated[int, Query(ge=1, le=LIST_LIMIT)] = 100
                            ) -> HTMLResponse:
        return await home(request, limit)

    @router.post("/accounts")
    async def create_account(request: Request) -> Response:
        form = await site.form(request)
        shown = {name: text(form, name) for name in ("code", "fixture_name", "ttl_seconds")}
        data: dict[str, Any] = {"code": shown["code"], "fixture_name": shown["fixture_name"],
                                "ttl_seconds": number(form, "ttl_seconds")}
        try:
            upload = form.get("fixture")
            if upload is not None and not isinstance(upload, str) and upload.filename:
                content = await upload.read(MAX_FIXTURE_BYTES + 1)
                if len(content) > MAX_FIXTURE_BYTES:
                    raise SandboxError(f"the fixture document is larger than {MAX_FIXTURE_BYTES} bytes", "fixture")
                data["fixture"] = read_text(content)
            body = site.validate(NewAccount, {k: v for k, v in data.items() if v is not None})
            created = await site.call(lambda: site.control.create_account(
                code=body.code, fixture_name=body.fixture_name, fixture=body.fixture, ttl_seconds=body.ttl_seconds))
        except SandboxError as error:
            return await home(request, status=Problem.of(error).status, problem=Problem.of(error), form=shown)
        except ValidationError as error:
            return await home(request, status=422, problem=Problem.of_validation(error), form=shown)
        return site.render(request, "created.html", status=201, created=created, endpoint=endpoint(request))

    async def overview(request: Request, code: str, *, status: int = 200,
                       problem: Problem | None = None) -> HTMLResponse:
        account = await site.call(lambda: site.control.account(code))
        snapshots = await site.call(lambda: site.control.snapshots(code, 50))
        return site.render(request, "account.html", status=status, problem=problem, account=account,
                           snapshots=snapshots, endpoint=endpoint(request), units=UNITS, page="overview",
                           code=account.code)

    @router.get("/accounts/{code}")
    async def show_account(request: Request, code: str) -> HTMLResponse:
        return await overview(request, code)

    @router.post("/accounts/{code}/delete")
    async def delete_account(request: Request, code: str) -> Response:
        await site.form(request)
        await site.call(lambda: site.control.delete_account(code))
        return site.redirect(request, PREFIX + "/", f"Account {code} was deleted.")

    @router.get("/accounts/{code}/fixture.{shape}")
    async def export_account(code: str, shape: str) -> Response:
        if shape not in ("yaml", "json"):
            raise SandboxError("the export is fixture.yaml or fixture.json", "shape")
        document = await site.call(lambda: site.control.export_account(code))
        body = as_yaml(document) if shape == "yaml" else as_json(document)
        kind = "application/yaml" if shape == "yaml" else "application/json"
        return Response(body, media_type=kind + "; charset=utf-8", headers={
            "content-disposition": f'attachment; filename="{code}.{shape}"'})

    def clock_change(form: Any) -> ClockChange:
        action, at = text(form, "action"), text(form, "at")
        if action == "freeze" and at is None:
            return FreezeAt(None)  # where the clock is now, as `openpws clock freeze` without --at
        setting: dict[str, Any]
        if action == "freeze":
            setting = {"frozen_at": at}
        elif action == "set":
            setting = {"set": at}
        elif action == "advance":
            amount = number(form, "amount")
            unit = UNITS.get(text(form, "unit") or "seconds")
            if unit is None:
                raise SandboxError(f"the unit is one of {', '.join(UNITS)}", "unit")
            setting = {"advance_seconds": amount * unit if isinstance(amount, int | float) else amount}
        elif action == "real":
            setting = {"real": True}
        else:
            raise SandboxError("the clock's action is freeze, set, advance or real", "action")
        change: ClockChange = site.validate(ClockSetting, setting).change()
        return change

    @router.post("/accounts/{code}/clock")
    async def set_clock(request: Request, code: str) -> Response:
        form = await site.form(request)
        try:
            change = clock_change(form)
            view = await site.call(lambda: site.control.set_clock(code, change))
        except SandboxError as error:
            return await overview(request, code, status=Problem.of(error).status, problem=Problem.of(error))
        except ValidationError as error:
            return await overview(request, code, status=422, problem=Problem.of_validation(error))
        state = "frozen at" if view.frozen else "running, now"
        moved = f" (moved {change.by})" if isinstance(change, Advance) and change.by != timedelta(0) else ""
        return site.redirect(request, account_path(code), f"The clock is {state} {view.now:%Y-%m-%d %H:%M:%S}Z{moved}.")

    @router.post("/accounts/{code}/snapshots")
    async def take_snapshot(request: Request, code: str) -> Response:
        form = await site.form(request)
        try:
            name = site.validate(NewSnapshot, {"name": text(form, "name")}).name
            taken = await site.call(lambda: site.control.take_snapshot(code, name))
        except ValidationError as error:
            return await overview(request, code, status=422, problem=Problem.of_validation(error))
        return site.redirect(request, account_path(code), f"Snapshot {taken.id} taken ({taken.rows} rows).")

    @router.post("/accounts/{code}/snapshots/{snapshot}/restore")
    async def restore_snapshot(request: Request, code: str, snapshot: SnapshotId) -> Response:
        await site.form(request)
        try:
            restored = await site.call(lambda: site.control.restore_snapshot(code, snapshot))
        except SandboxError as error:
            return await overview(request, code, status=Problem.of(error).status, problem=Problem.of(error))
        return site.redirect(request, account_path(code), f"Restored snapshot {restored.id}.")

    @router.post("/accounts/{code}/reset")
    async def reset_account(request: Request, code: str) -> Response:
        await site.form(request)
        try:
            await site.call(lambda: site.control.reset_account(code))
        except SandboxError as error:
            return await overview(request, code, status=Problem.of(error).status, problem=Problem.of(error))
        return site.redirect(request, account_path(code), "The account is back as it was created.")

    return router

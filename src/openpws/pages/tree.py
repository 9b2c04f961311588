"""The tree pages: an account's clients (with their children, inactive ones marked) → engagements
→ contract line items and projects → roles (deleted ones apart) with their requested and booked
hours per week, and invoices; a page per entity at a link of its own (its code, or a role's Uid),
and a search over codes and names. Lists are pages (``services.browse.PAGE`` rows) that go on
after the last code shown."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from openpws.pages.app import PREFIX, Problem, Site
from openpws.services import browse
from openpws.services.sandbox import SandboxError

After = Annotated[str | None, Query(max_length=100)]
Code = Annotated[str, Path(min_length=1, max_length=100)]


def routes(site: Site) -> APIRouter:
    router = APIRouter(prefix=PREFIX + "/accounts/{code}")

    def show(request: Request, template: str, code: str, *, status: int = 200, problem: Problem | None = None,
             **context: object) -> HTMLResponse:
        return site.render(request, template, status=status, problem=problem, code=code, page="tree", **context)

    @router.get("/tree")
    async def tree(request: Request, code: str, after: After = None) -> HTMLResponse:
        clients = await site.call(lambda: browse.clients(site.environment, code, site.now(), after=after))
        return show(request, "tree.html", code, clients=clients, after=after)

    @router.get("/search")
    async def search(request: Request, code: str, q: Annotated[str, Query(max_length=1000)] = "") -> HTMLResponse:
        try:
            found = await site.call(lambda: browse.search(site.environment, code, q, site.now()))
        except SandboxError as error:
            if error.code == "not_found":
                raise
            return show(request, "search.html", code, q=q, found=None, problem=Problem.of(error),
                        status=Problem.of(error).status)
        return show(request, "search.html", code, q=q, found=found)

    @router.get("/clients/{number:path}")
    async def client(request: Request, code: str, number: Code, after: After = None) -> HTMLResponse:
        view = await site.call(lambda: browse.client(site.environment, code, number, site.now(), after=after))
        return show(request, "client.html", code, view=view, after=after)

    @router.get("/engagements/{engagement:path}")
    async def engagement(request: Request, code: str, engagement: Code, after: After = None) -> HTMLResponse:
        view = await site.call(lambda: browse.engagement(site.environment, code, engagement, site.now(), after=after))
        return show(request, "engagement.html", code, view=view, after=after)

    @router.get("/contract-line-items/{item:path}")
    async def line_item(request: Request, code: str, item: Code, after: After = None) -> HTMLResponse:
        view = await site.call(lambda: browse.line_item(site.environment, code, item, site.now(), after=after))
        return show(request, "line_item.html", code, view=view, after=after)

    @router.get("/projects/{project:path}")
    async def project(request: Request, code: str, project: Code, after: After = None,
                      deleted_after: After = None) -> HTMLResponse:
        view = await site.call(lambda: browse.project(site.environment, code, project, site.now(), after=after,
                                                      deleted_after=deleted_after))
        return show(request, "project.html", code, view=view, after=after, deleted_after=deleted_after)

    @router.get("/roles/{uid}")
    async def role(request: Request, code: str, uid: Annotated[int, Path(ge=0, le=2**63 - 1)]) -> HTMLResponse:
        view = await site.call(lambda: browse.role(site.environment, code, uid, site.now()))
        return show(request, "role.html", code, view=view)

    @router.get("/invoices/{number:path}")
    async def invoice(request: Request, code: str, number: Code) -> HTMLResponse:
        view = await site.call(lambda: browse.invoice(site.environment, code, number, site.now()))
        return show(request, "invoice.html", code, view=view)

    return router

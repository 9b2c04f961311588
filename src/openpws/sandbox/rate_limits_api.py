"""Rate limiting's calls in the JSON API (docs/sandbox.md, "Rate limits"): an account's mode,
limits and weights under ``/accounts/{code}/rate-limits``, and the hits counted against them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from openpws.sandbox.api import _ERRORS, PREFIX, AccountCode, Answer, Body, Run
from openpws.sandbox.control import Control
from openpws.services import rate_limits
from openpws.services.rate_limits import DEFAULT_LIMITS, MAX_HITS, WINDOW_SECONDS

Hits = Annotated[int, Field(strict=True, ge=1, le=MAX_HITS)]


class LimitsBody(Body):
    installation: Annotated[Hits, Field(description="Hits of the whole account in the window.")] = DEFAULT_LIMITS[0]
    user: Annotated[Hits, Field(description="Hits of one user in the window.")] = DEFAULT_LIMITS[1]
    session: Annotated[Hits, Field(description="Hits of one session in the window.")] = DEFAULT_LIMITS[2]


class RateLimitsBody(Body):
    mode: Literal["off", "warning", "error"] = Field(description=(
        "off: nothing is counted (but PwsTestRateLimiter's own hits); warning: a request over a limit is "
        "answered with a 10016 warning; error: it is refused, before any work, with the 10016 PwsFault."))
    limits: LimitsBody = Field(default_factory=LimitsBody, description=(
        f"Absent members take the defaults, {DEFAULT_LIMITS[0]}, {DEFAULT_LIMITS[1]} and {DEFAULT_LIMITS[2]}."))
    weights: dict[str, Annotated[int, Field(strict=True, ge=0, le=MAX_HITS)]] = Field(
        default_factory=dict,
        description="Hits per call of an operation, e.g. {\"PwsGetProjectList\": 3}; others weigh 1.")


class Limits(Answer):
    installation: int
    user: int
    session: int


class RateLimits(Answer):
    mode: str
    limits: Limits
    weights: dict[str, int]
    window_seconds: int = Field(description="The rolling window hits are counted in, on the account's clock.")


def _answer(limits: rate_limits.Limits) -> RateLimits:
    return RateLimits(mode=limits.mode, limits=Limits(installation=limits.installation, user=limits.user,
                                                      session=limits.session),
                      weights=dict(limits.weights), window_seconds=WINDOW_SECONDS)


def rate_limits_router(control: Control, run: Run) -> APIRouter:
    router = APIRouter(prefix=PREFIX, responses=_ERRORS, tags=["rate limits"])

    @router.put("/accounts/{code}/rate-limits")
    async def set_rate_limits(code: AccountCode, body: RateLimitsBody) -> RateLimits:
        """Set the account's rate limiting (the whole of it: what the body leaves out takes the
        defaults). Servers apply it within a second."""
        limits = rate_limits.Limits(body.mode, body.limits.installation, body.limits.user, body.limits.session,
                                    dict(body.weights))
        return _answer(await run(lambda: control.set_rate_limits(code, limits)))

    @router.get("/accounts/{code}/rate-limits")
    async def get_rate_limits(code: AccountCode) -> RateLimits:
        """The account's rate limiting (off, with the defaults, until set)."""
        return _answer(await run(lambda: control.rate_limits(code)))

    @router.delete("/accounts/{code}/rate-limits/hits", status_code=204, response_class=Response)
    async def clear_rate_limit_hits(code: AccountCode) -> Response:
        """Forget the hits counted against the account, its users and sessions (a fresh window)."""
        await run(lambda: control.clear_rate_limit_hits(code))
        return Response(status_code=204)

    return router

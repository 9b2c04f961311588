"""Reading ``/metrics`` the way Prometheus does, for the tests."""

from __future__ import annotations

from collections import Counter

import httpx
from prometheus_client.parser import text_string_to_metric_families

Sample = tuple[str, frozenset[tuple[str, str]]]


def scrape(http: httpx.Client) -> Counter[Sample]:
    """Every sample of ``/metrics``: (name, labels) -> value (no token sent)."""
    response = http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version="), response.headers
    found: Counter[Sample] = Counter()
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value  # type: ignore[assignment]
    return found


def moved(before: Counter[Sample], after: Counter[Sample], name: str) -> dict[frozenset[tuple[str, str]], float]:
    """How the samples named ``name`` moved between two scrapes (those that did)."""
    return {labels: after[(n, labels)] - before[(n, labels)]
            for (n, labels) in after if n == name and after[(n, labels)] != before[(n, labels)]}


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())

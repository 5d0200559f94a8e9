"""The metrics tests: a scrape helper, and the cluster tests' real Redis (one per
module) and per-test key prefix."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.cluster.conftest import app, redis_server  # noqa: F401  (fixtures)

pytest.importorskip("prometheus_client")


class Scrape:
    """One scrape of ``/metrics``, parsed with prometheus_client's own parser."""

    def __init__(self, text: str, content_type: str) -> None:
        from prometheus_client.parser import text_string_to_metric_families

        self.text = text
        self.content_type = content_type
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples: list[Any] = [s for f in self.families.values() for s in f.samples]

    def series(self, name: str, **labels: str) -> dict[frozenset[tuple[str, str]], float]:
        """Samples named ``name`` whose labels include ``labels``."""
        return {
            frozenset(s.labels.items()): s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        }

    def value(self, name: str, **labels: str) -> float:
        """The one sample of ``name`` with these labels (summed if several match)."""
        found = self.series(name, **labels)
        assert found, f"no sample {name}{labels} in:\n{self.text}"
        return sum(found.values())

    def by(self, name: str, label: str, **labels: str) -> dict[str, float]:
        """``{label value: sample}`` of ``name``."""
        return {dict(k)[label]: v for k, v in self.series(name, **labels).items()}


async def scrape(url: str) -> Scrape:
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            assert response.status == 200
            return Scrape(await response.text(), response.headers["Content-Type"])

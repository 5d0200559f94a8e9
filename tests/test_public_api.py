"""Every public name is documented, and the package exposes only what it lists."""

from __future__ import annotations

import inspect

import pytest

import rxgateway

PUBLIC = sorted(rxgateway.__all__)


@pytest.mark.parametrize("name", PUBLIC)
def test_public_name_is_documented(name: str) -> None:
    obj = getattr(rxgateway, name)
    if isinstance(obj, (str, int)):  # constants: documented where defined
        return
    doc = inspect.getdoc(obj)
    assert doc and len(doc) > 20, f"rxgateway.{name} has no real docstring"


def test_all_names_resolve() -> None:
    missing = [n for n in PUBLIC if not hasattr(rxgateway, n)]
    assert missing == []

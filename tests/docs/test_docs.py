"""The documentation site: built strictly, every public name documented and in the API
reference, every page rendered by a real browser, search working, navigation
reaching every page, and the marble diagrams what ``docs/marbles.py`` draws now.

The browser is the system's Chromium (``/usr/bin/chromium``, Debian's ``chromium``
package; ``python3 dev.py test`` installs it when missing) driven headless by
playwright; no browser is ever downloaded.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import pytest

import rxgateway
from rxgateway.ops import _rx

from .conftest import CHROMIUM, ROOT, Build

DOCS = ROOT / "docs"
REFERENCE = DOCS / "reference"
#: Pages every page of the nav must have; a smaller site means pages went missing.
MIN_PAGES = 30
#: Page loads allowed per crawl: a bound on the loop, far above the site's size.
MAX_VISITS = 200
#: Seconds the crawl may take (a bound on the loop; it takes a fraction of this).
CRAWL_SECONDS = 100.0
ID = re.compile(r'\bid="([^"]+)"')
#: Public names known to lack a docstring, in files outside this test's owner's remit
#: (two type aliases; the fix is a ``#:`` comment above each in machine/outputs.py).
#: The test fails when one of them gets documented, so that this list only shrinks.
KNOWN_UNDOCUMENTED: frozenset[str] = frozenset()


def page_url(url: str) -> str:
    """``url`` without its query and fragment (``?h=term#anchor``): the page itself."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def public_packages() -> list[ModuleType]:
    """``rxgateway`` and each of its subpackages that has an ``__all__``."""
    found = [rxgateway]
    for info in pkgutil.iter_modules(rxgateway.__path__):
        if info.ispkg and not info.name.startswith("_"):
            module = importlib.import_module(f"rxgateway.{info.name}")
            if hasattr(module, "__all__"):
                found.append(module)
    return found


def public_names() -> list[tuple[ModuleType, str]]:
    return [(module, name) for module in public_packages() for name in module.__all__]


# -- the build ---------------------------------------------------------------------------


def test_site_builds_strictly(built_site: Build) -> None:
    assert built_site.returncode == 0, f"mkdocs build --strict failed:\n{built_site.output[-4000:]}"
    pages = built_site.pages()
    print(f"\n{len(pages)} pages built in {built_site.seconds:.1f} s")
    assert len(pages) >= MIN_PAGES, sorted(pages)
    for page in ("", "tutorial/", "how-to/test-a-bot/", "how-to/run-a-bot/", "reference/rxgateway/"):
        assert page in pages


def test_every_public_package_has_a_reference_page() -> None:
    for module in public_packages():
        page = REFERENCE / f"{module.__name__}.md".removeprefix("rxgateway.")
        if module is rxgateway:
            page = REFERENCE / "rxgateway.md"
        assert page.exists(), f"{module.__name__} has no API reference page: add {page.relative_to(ROOT)}"
        assert f"::: {module.__name__}\n" in page.read_text(), f"{page.name} does not render {module.__name__}"


# -- every public name: a docstring, and an entry in the API reference -------------------


@pytest.fixture(scope="module")
def griffe_package() -> Any:
    """rxgateway as mkdocstrings sees it (the same docstring extension loaded)."""
    import griffe

    spec = importlib.util.spec_from_file_location("rst_docstrings", DOCS / "rst_docstrings.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    extensions = griffe.load_extensions(module.RstDocstrings())
    return griffe.load("rxgateway", search_paths=[str(ROOT)], extensions=extensions, resolve_aliases=True)


def test_every_public_name_has_a_docstring(griffe_package: Any) -> None:
    missing = []
    for module, name in public_names():
        obj = getattr(module, name)
        if module.__name__ == "rxgateway.ops" and name in _rx.__all__:
            # reactivex's own operators, re-exported: documented by reactivex.
            if not (inspect.getdoc(obj) or "").strip():
                missing.append(f"{module.__name__}.{name} (from reactivex)")
            continue
        path = module.__name__.removeprefix("rxgateway").lstrip(".")
        try:
            node = griffe_package[f"{path}.{name}" if path else name]
        except KeyError:
            missing.append(f"{module.__name__}.{name} (not found in the source)")
            continue
        docstring = node.docstring.value.strip() if node.docstring else ""
        if not docstring:
            missing.append(f"{module.__name__}.{name}")
    new = sorted(set(missing) - KNOWN_UNDOCUMENTED)
    fixed = sorted(KNOWN_UNDOCUMENTED - set(missing))
    assert new == [], f"public names without a docstring: {new}"
    assert fixed == [], f"documented now, remove from KNOWN_UNDOCUMENTED: {fixed}"


def reference_ids(site: Build) -> dict[str, str]:
    """Every element id of the API reference pages, with the page it is on."""
    ids: dict[str, str] = {}
    for html in sorted((site.site / "reference").rglob("index.html")):
        page = html.parent.relative_to(site.site).as_posix()
        for anchor in ID.findall(html.read_text(encoding="utf-8")):
            ids.setdefault(anchor, page)
    return ids


def test_every_public_name_is_in_the_api_reference(site: Build) -> None:
    ids = reference_ids(site)
    ops_page = (site.site / "reference" / "ops" / "index.html").read_text(encoding="utf-8")
    packages = public_packages()
    unreachable = []
    for module, name in public_names():
        obj = getattr(module, name)
        if module.__name__ == "rxgateway.ops" and name in _rx.__all__:
            if f"<code>ops.{name}</code>" not in ops_page:
                unreachable.append(f"rxgateway.ops.{name} (listed under reactivex's operators)")
            continue
        # Documented where it is exported, or wherever else a public package exports it.
        places = {f"{other.__name__}.{alias}" for other in packages for alias in other.__all__
                  if getattr(other, alias, None) is obj}  # fmt: skip
        places.add(f"{module.__name__}.{name}")
        if hasattr(obj, "__module__") and hasattr(obj, "__qualname__"):
            places.add(f"{obj.__module__}.{obj.__qualname__}")  # under its own full path
        if not places & ids.keys():
            unreachable.append(f"{module.__name__}.{name}")
    assert unreachable == [], f"public names missing from the API reference: {unreachable}"


def test_the_reactivex_operator_list_is_complete() -> None:
    listed = set(re.findall(r"`ops\.(\w+)`", (REFERENCE / "ops.md").read_text()))
    assert listed == set(_rx.__all__), (
        f"docs/reference/ops.md lists {sorted(listed - set(_rx.__all__))} that ops does not have "
        f"and misses {sorted(set(_rx.__all__) - listed)}"
    )


# -- the marble diagrams -------------------------------------------------------------------


def load_marbles() -> ModuleType:
    spec = importlib.util.spec_from_file_location("marbles", DOCS / "marbles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("marbles", module)
    spec.loader.exec_module(module)
    return module


def test_committed_marble_diagrams_are_what_the_generator_draws() -> None:
    marbles = load_marbles()
    drawn = marbles.render_all()
    folder = DOCS / "img" / "marbles"
    committed = {path.name for path in folder.glob("*.svg")}
    assert committed == set(drawn), "run `python docs/marbles.py` to redraw docs/img/marbles/"
    for name, svg in drawn.items():
        assert (folder / name).read_text(encoding="utf-8") == svg, f"{name} is stale: run `python docs/marbles.py`"


def test_marble_diagrams_are_well_formed_svg_with_every_marble() -> None:
    import xml.etree.ElementTree as ET

    marbles = load_marbles()
    for diagram in marbles.DIAGRAMS:
        root = ET.fromstring(marbles.render(diagram))
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        for line in (*diagram.inputs, *diagram.outputs):
            for marble in marbles.parse_line(line.events).marbles:
                assert marble.label in labels, f"{diagram.name}: {marble.label} not drawn"
        assert diagram.operator in labels


def test_every_operator_page_diagram_is_shown() -> None:
    text = (DOCS / "concepts" / "operators.md").read_text()
    for svg in (DOCS / "img" / "marbles").glob("*.svg"):
        assert f"../img/marbles/{svg.name}" in text, f"{svg.name} is not shown on concepts/operators.md"


# -- in a real browser ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser check of the docs needs Debian's chromium. "
            "`python3 dev.py test` installs it (apt-get install -y chromium)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


class PageWatch:
    """A browser page that records console errors, page errors and failed requests."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser: Any) -> Iterator[PageWatch]:
    watch = PageWatch(browser)
    try:
        yield watch
    finally:
        watch.close()


def test_search_finds_pages(served_site: str, site: Build, watched: PageWatch) -> None:
    page = watched.page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(served_site, wait_until="networkidle")  # the search worker and its index loaded
    box = page.locator("input.md-search__input")
    box.click()  # at this width the search box is in the header
    results = page.locator(".md-search-result__item a")
    # The index is built in a web worker once the page loaded; a query typed before it
    # is ready is not run again. Type it again until results show (bounded: 12 tries).
    for _attempt in range(12):
        box.fill("")
        box.press_sequentially("heartbeat", delay=20)
        try:
            results.first.wait_for(state="visible", timeout=5_000)
            break
        except Exception:  # playwright's TimeoutError: the worker is not ready yet
            continue
    assert results.count() > 0, "the search gave no result for 'heartbeat' within a minute"
    href = results.first.get_attribute("href")
    assert href
    target = page_url(urljoin(page.url, href))
    assert target.startswith(served_site)
    assert target.removeprefix(served_site) in site.pages(), f"search linked to {target}"
    page.goto(target, wait_until="load")
    assert page.locator("article h1").first.inner_text().strip()
    assert watched.problems == []


@pytest.mark.timeout(180)
def test_navigation_reaches_every_page_and_each_renders(
    served_site: str, site: Build, watched: PageWatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Crawl the site from the index by its navigation links only; every page reached
    must render (a title and a heading, no console error, no failed request), and the
    pages reached must be exactly the pages built."""
    page = watched.page
    page.set_viewport_size({"width": 1280, "height": 900})
    seen: set[str] = set()
    queue = [served_site]
    started = time.monotonic()
    while queue and len(seen) < MAX_VISITS and time.monotonic() - started < CRAWL_SECONDS:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        watched.problems.clear()
        # networkidle: what the page loads after "load" (the search worker) has arrived
        # before the crawl leaves it, so leaving does not abort it.
        page.goto(url, wait_until="networkidle", timeout=60_000)
        title = page.title()
        heading = page.locator("article h1").first.inner_text(timeout=10_000).strip()
        assert title and heading, f"{url}: title {title!r}, heading {heading!r}"
        assert watched.problems == [], f"{url}: {watched.problems}"
        links = page.locator("nav.md-nav--primary a.md-nav__link[href]").evaluate_all("links => links.map(a => a.href)")
        for href in links:
            target = page_url(href)
            if target.startswith(served_site) and target not in seen:
                queue.append(target)
    reached = {url.removeprefix(served_site) for url in seen}
    assert reached == site.pages(), (
        f"not in the navigation: {sorted(site.pages() - reached)}; not built: {sorted(reached - site.pages())}"
    )
    page.goto(served_site, wait_until="load")
    shot = tmp_path_factory.mktemp("screenshots") / "index.png"
    page.screenshot(path=str(shot))
    print(f"\n{len(seen)} pages reached by the navigation and rendered; screenshot of the index: {shot}")
    assert shot.stat().st_size > 10_000

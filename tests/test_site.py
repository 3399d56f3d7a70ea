"""The built website, opened as a reader opens it: in a real browser, with no network.

Every page listed in ``_toc.yml`` is loaded from ``_build/html`` (served on 127.0.0.1 by a
local ``http.server``) in headless Chromium, with every other host unreachable, and checked:

* every equation is typeset by the MathJax copy that the site itself serves, with no MathJax
  error and no raw TeX (``$$``, ``\\[``, ``$x$``) left in the text;
* no display equation is wider than the text column (no sideways scrolling at 1280 px);
* no code or output block, and no table, is wider than its box (a sideways scroll bar), and
  nothing sticks out of the text column (``WIDE_BLOCK_EXCEPTIONS`` lists allowed ones, with
  the reason);
* every output figure's smallest text renders at 9 CSS pixels or more (its rendered width
  over its natural width, times the font size and resolution recorded in the PNG);
* every image loads (``naturalWidth > 0``), and every figure stays readable in the dark theme
  (opaque pixels or an opaque background);
* the browser console shows no error (level SEVERE) and the server answered no request with
  an error status;
* the page loads nothing from another host;
* every internal link points to an existing file, and every ``#anchor`` to an existing id;
* chapters have their Colab, Binder and ``.ipynb`` download buttons, text pages their ``.md``
  download button;
* the search page finds "lasso".

A screenshot of every page, in the light and in the dark theme, is saved to
``artifacts/screenshots/``.  A hand-made broken page checks that each check can fail.

How to run: ``make check-site`` (builds the site, then runs this file with
``WEIGHTDECAY_SITE_TEST=1``).  ``WEIGHTDECAY_SITE_DIR=/path/to/BOOK/_build/html`` tests
another build (the pages are then those of ``BOOK/_toc.yml``).  The browser is Debian's
``chromium`` with ``chromedriver`` (``.ci/install-chromium`` installs them); set
``WEIGHTDECAY_CHROMIUM`` / ``WEIGHTDECAY_CHROMEDRIVER`` to use other binaries.  Without ``WEIGHTDECAY_SITE_TEST=1`` the
whole file is skipped, so that ``make test`` needs neither a browser nor a built site; with
it, a missing site, browser or selenium is an error, not a skip.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The built site: $WEIGHTDECAY_SITE_DIR, by default this repository's _build/html.  The
# book it was built from (its _toc.yml and sources) is the directory two levels up when that
# holds a _toc.yml (``BOOK/_build/html``), otherwise this repository.
SITE = Path(os.environ.get("WEIGHTDECAY_SITE_DIR") or ROOT / "_build" / "html").resolve()
BOOK = SITE.parents[1] if (SITE.parents[1] / "_toc.yml").is_file() else ROOT
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
REPOSITORY = "weightdecay/weightdecay"  # _config.yml: repository.url
ENABLED = os.environ.get("WEIGHTDECAY_SITE_TEST") == "1"
MAX_SCREENSHOT_HEIGHT = 16_000  # CSS pixels; longer pages are cut

pytestmark = pytest.mark.skipif(
    not ENABLED,
    reason="browser test of the built site: run `make check-site` (sets WEIGHTDECAY_SITE_TEST=1)",
)

# Flags for a quiet, reproducible, offline headless browser.  The host-resolver rule makes
# every host except 127.0.0.1 unresolvable, so the test fails on any CDN dependency even on a
# machine that has network access.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--force-color-profile=srgb",
    "--window-size=1280,900",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)


# --------------------------------------------------------------------------------------
# Which pages: every file of the table of contents
# --------------------------------------------------------------------------------------


def toc_pages(toc_path: Path = BOOK / "_toc.yml") -> list[str]:
    """Source paths (without suffix) of every page in a Jupyter Book ``_toc.yml``, in order."""
    import yaml

    pages: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    pages.append(str(Path(node[key]).with_suffix("")))
            for value in node.values():
                if isinstance(value, (list, dict)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load(toc_path.read_text(encoding="utf-8")))
    return list(dict.fromkeys(pages))


def source_suffix(page: str) -> str:
    """``.ipynb`` or ``.md``: the suffix of a toc page's source file."""
    for suffix in (".ipynb", ".md"):
        if (BOOK / page).with_suffix(suffix).is_file():
            return suffix
    raise FileNotFoundError(f"no source file for toc entry {page!r}")


PAGES = toc_pages() if (BOOK / "_toc.yml").is_file() else []


# --------------------------------------------------------------------------------------
# A local web server and a headless browser
# --------------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    """Static files; records (path, status) of every request instead of logging it."""

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass

    def log_request(self, code="-", size="-"):
        self.server.requests.append((self.path, int(getattr(code, "value", code))))


@contextlib.contextmanager
def serve(directory: Path):
    """Serve ``directory`` on 127.0.0.1 at a free port, in a thread; yield the server."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requests = []
    server.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _binary(env_var: str, *names: str) -> str:
    candidates = [os.environ.get(env_var)] + [shutil.which(name) for name in names]
    for path in candidates:
        if path and Path(path).is_file():
            return path
    pytest.fail(
        f"no {names[0]} found (looked for ${env_var}, then {', '.join(names)} on PATH); "
        "install Debian's chromium and chromium-driver with .ci/install-chromium"
    )


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make book` first (or `make check-site`)")
    return SITE


@pytest.fixture(scope="module")
def server(site):
    with serve(site) as srv:
        yield srv


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    try:
        from selenium import webdriver
    except ImportError:  # pragma: no cover - depends on the environment
        pytest.fail("selenium is not installed: `make setup` installs requirements.txt")

    options = webdriver.ChromeOptions()
    options.binary_location = _binary("WEIGHTDECAY_CHROMIUM", "chromium", "chromium-browser")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path: selenium then never tries to download a driver.
    service = webdriver.ChromeService(
        executable_path=_binary("WEIGHTDECAY_CHROMEDRIVER", "chromedriver")
    )
    browser = webdriver.Chrome(options=options, service=service)
    browser.set_page_load_timeout(60)
    browser.set_script_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


# --------------------------------------------------------------------------------------
# What the browser sees on one page
# --------------------------------------------------------------------------------------

# Resolves once MathJax has typeset the page (or at once when the page loads no MathJax).
_WAIT_FOR_MATHJAX = r"""
const done = arguments[arguments.length - 1];
const finish = (extra) => done(Object.assign({
  loaded: !!(window.MathJax && window.MathJax.startup && window.MathJax.version),
  version: (window.MathJax && window.MathJax.version) || null,
  scripts: Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s)),
  error: null,
}, extra));
if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
  MathJax.startup.promise.then(() => finish({}), (e) => finish({error: String(e)}));
} else {
  finish({});
}
"""

# Loads every image (lazy ones too) and reports its size and whether its corners are opaque.
_IMAGES = r"""
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.images);
imgs.forEach((img) => { img.loading = 'eager'; });
const settled = (img) => (img.complete ? null : new Promise((resolve) => {
  img.addEventListener('load', resolve); img.addEventListener('error', resolve);
  setTimeout(resolve, 20000);
}));
const opaqueCorners = (img) => {
  try {
    const w = img.naturalWidth, h = img.naturalHeight;
    const canvas = document.createElement('canvas'); canvas.width = w; canvas.height = h;
    const ctx = canvas.getContext('2d'); ctx.drawImage(img, 0, 0);
    return [[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]]
      .every(([x, y]) => ctx.getImageData(x, y, 1, 1).data[3] === 255);
  } catch (e) { return null; }
};
Promise.all(imgs.map(settled)).then(() => done(imgs.map((img) => ({
  src: img.currentSrc || img.src,
  width: img.naturalWidth,
  figure: !!img.closest('main, article') && !img.closest('header, nav, .navbar-brand'),
  opaque: img.naturalWidth > 0 ? opaqueCorners(img) : null,
}))));
"""

# Everything else, read from the DOM after typesetting.
_DOM = r"""
const origin = location.origin;
const maths = Array.from(document.querySelectorAll('.math'));
const untypeset = maths.filter((m) => !m.querySelector('mjx-container'))
  .map((m) => m.textContent.trim().slice(0, 120));
const mathErrors = Array.from(document.querySelectorAll('mjx-container'))
  .map((c) => c.querySelector('[data-mjx-error], mjx-merror'))
  .filter((e) => e !== null)
  .map((e) => (e.getAttribute('data-mjx-error') || e.textContent || '?').slice(0, 120));
const rawTex = [];
const pattern = /\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^\s$](?:[^$]*[^\s$])?\$/;
const skip = 'pre, code, script, style, textarea, mjx-container, .math, .highlight';
const walker = document.createTreeWalker(document.querySelector('main') || document.body,
                                         NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  if (node.parentElement.closest(skip)) continue;
  const match = node.textContent.match(pattern);
  if (match) {
    const i = match.index;
    rawTex.push(node.textContent.slice(Math.max(0, i - 40), i + 60).trim());
  }
}
// Display equations wider than the text column (a reader would have to scroll sideways).
// MathJax makes such a container scrollable (overflow-x: auto) instead of overflowing.
const wideMath = Array.from(document.querySelectorAll('mjx-container[display="true"]'))
  .filter((c) => c.scrollWidth > c.clientWidth + 2)
  .map((c) => `${c.scrollWidth}px > ${c.clientWidth}px: ` +
       ((c.closest('.math') || c).id || c.textContent.trim().slice(0, 60)));
// Code and output blocks, and tables, whose content is wider than their box (a sideways
// scroll bar), and anything that sticks out of the text column.
const article = document.querySelector('article.bd-article') || document.querySelector('main')
  || document.body;
const column = article.getBoundingClientRect();
const snippet = (e) => e.textContent.trim().replace(/\s+/g, ' ').slice(0, 60);
const wideBlocks = Array.from(article.querySelectorAll('pre, div.cell_output, table'))
  .filter((e) => e.scrollWidth > e.clientWidth + 1)
  .map((e) => `${e.tagName.toLowerCase()} ${e.scrollWidth}px > ${e.clientWidth}px: ${snippet(e)}`);
const outsideColumn = Array.from(article.querySelectorAll('pre, table, img, p, li, div.cell_output'))
  .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > column.right + 1; })
  .map((e) => `${e.tagName.toLowerCase()} ends ${Math.round(e.getBoundingClientRect().right - column.right)}px `
       + `right of the column: ${snippet(e) || e.getAttribute('src')}`);
// Figures of the chapters' outputs: natural and rendered width (the text size follows).
const figures = Array.from(article.querySelectorAll('div.cell_output img')).map((img) => ({
  src: img.currentSrc || img.src, natural: img.naturalWidth,
  rendered: img.getBoundingClientRect().width,
}));
const resources = performance.getEntriesByType('resource').map((e) => e.name)
  .concat(Array.from(document.querySelectorAll('script[src]')).map((s) => s.src))
  .concat(Array.from(document.querySelectorAll('link[href]'))
    .filter((l) => /stylesheet|preload|icon/.test(l.rel)).map((l) => l.href))
  .concat(Array.from(document.images).map((i) => i.currentSrc || i.src));
return {
  title: document.title,
  nMath: maths.length,
  untypeset, mathErrors, rawTex, wideMath, wideBlocks, outsideColumn, figures,
  resources: Array.from(new Set(resources)),
  links: Array.from(new Set(Array.from(document.querySelectorAll('a[href]')).map((a) => a.href))),
  text: document.body.innerText.slice(0, 200000),
};
"""

_DARK_THEME = r"""
document.documentElement.setAttribute('data-theme', 'dark');
document.documentElement.setAttribute('data-mode', 'dark');
"""

# Computed background colour of every figure image (used in the dark theme).
_IMAGE_BACKGROUNDS = r"""
return Array.from(document.images).map((img) => getComputedStyle(img).backgroundColor);
"""


@dataclass
class PageReport:
    """What a reader's browser met on one page."""

    url: str
    title: str = ""
    mathjax: dict = field(default_factory=dict)
    n_math: int = 0
    untypeset: list = field(default_factory=list)
    math_errors: list = field(default_factory=list)
    raw_tex: list = field(default_factory=list)
    wide_math: list = field(default_factory=list)
    wide_blocks: list = field(default_factory=list)
    outside_column: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    images: list = field(default_factory=list)
    resources: list = field(default_factory=list)
    links: list = field(default_factory=list)
    text: str = ""
    console_errors: list = field(default_factory=list)
    http_errors: list = field(default_factory=list)

    @property
    def broken_images(self) -> list:
        return [img["src"] for img in self.images if img["width"] <= 0]

    @property
    def unreadable_figures(self) -> list:
        """Figures with transparent corners and no opaque background in the dark theme."""
        return [
            img["src"] for img in self.images
            if img["figure"] and img["width"] > 0
            and not (img["opaque"] or img.get("dark_background_opaque"))
        ]

    @property
    def foreign_resources(self) -> list:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.url))
        return [
            r for r in self.resources
            if not (r.startswith(origin + "/") or r.split(":", 1)[0] in {"data", "blob", "about"})
        ]


def _opaque(css_color: str) -> bool:
    """True for an opaque CSS colour such as ``rgb(255, 255, 255)``."""
    if css_color.startswith("rgba("):
        return float(css_color.rstrip(")").split(",")[-1]) >= 1.0
    return css_color.startswith("rgb(")


def _screenshot(driver, path: Path) -> None:
    """Save a full-page PNG (cut at MAX_SCREENSHOT_HEIGHT) through the DevTools protocol.

    The viewport is stretched to the page's height for the capture and restored after it
    (capturing "beyond the viewport" instead shifts some pages sideways).
    """
    width, height = driver.execute_script(
        "return [window.innerWidth, document.documentElement.scrollHeight];"
    )
    height = min(int(height), MAX_SCREENSHOT_HEIGHT)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": int(width), "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


def inspect_page(driver, server, url: str, screenshot: Path | None = None) -> PageReport:
    """Open ``url`` and record what the browser met (see PageReport)."""
    driver.get_log("browser")  # drop what earlier pages left in the log
    first_request = len(server.requests)
    driver.get(url)  # returns after the load event
    report = PageReport(url=url)
    report.mathjax = driver.execute_async_script(_WAIT_FOR_MATHJAX)
    report.images = driver.execute_async_script(_IMAGES)
    dom = driver.execute_script(_DOM)
    report.title, report.n_math, report.text = dom["title"], dom["nMath"], dom["text"]
    report.untypeset, report.math_errors = dom["untypeset"], dom["mathErrors"]
    report.raw_tex, report.resources, report.links = dom["rawTex"], dom["resources"], dom["links"]
    report.wide_math = dom["wideMath"]
    report.wide_blocks, report.outside_column = dom["wideBlocks"], dom["outsideColumn"]
    report.figures = dom["figures"]
    if screenshot is not None:
        _screenshot(driver, screenshot)
    driver.execute_script(_DARK_THEME)
    backgrounds = driver.execute_script(_IMAGE_BACKGROUNDS)
    for img, background in zip(report.images, backgrounds):
        img["dark_background_opaque"] = _opaque(background)
    if screenshot is not None:
        _screenshot(driver, screenshot.with_name(screenshot.stem + "-dark.png"))
    report.console_errors = [
        entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"
    ]
    report.http_errors = [(p, code) for p, code in server.requests[first_request:] if code >= 400]
    return report


# --------------------------------------------------------------------------------------
# Layout: blocks that fit the column, figure text that can be read
# --------------------------------------------------------------------------------------

#: Smallest rendered text of a figure, in CSS pixels.
MIN_TEXT_PX = 9.0

#: Blocks allowed to be wider than their box: page -> [(text the block starts with, why)].
#: Keep it short; every entry needs a reason a reader would accept.
WIDE_BLOCK_EXCEPTIONS: dict[str, list[tuple[str, str]]] = {}


def unexpected_wide_blocks(report: PageReport, page: str) -> list[str]:
    """Wide blocks and elements outside the column, less the listed exceptions."""
    allowed = [start for start, _reason in WIDE_BLOCK_EXCEPTIONS.get(page, [])]
    return [
        block for block in report.wide_blocks + report.outside_column
        if not any(start in block for start in allowed)
    ]


def small_figure_text(figures, root: Path) -> list[str]:
    """Output figures whose smallest text renders below MIN_TEXT_PX CSS pixels.

    The rendered size of a figure's smallest font is (rendered width / natural width) x
    (font size in points) x (PNG resolution in dpi) / 72; the font size is the one that
    ``wd.plotting.use_book_style()`` records in each PNG.
    """
    from weightdecay.plotting import FONT_SIZE_KEY, png_info

    problems = []
    for fig in figures:
        if fig["natural"] <= 0:
            continue  # a broken image: test_images_load... reports it
        name = unquote(urlsplit(fig["src"]).path).lstrip("/")
        try:
            info = png_info((root / name).read_bytes())
        except (OSError, ValueError):
            problems.append(f"{name}: not a PNG file of the site")
            continue
        if FONT_SIZE_KEY not in info["text"] or not info["dpi"]:
            problems.append(f"{name}: no recorded font size (drawn without wd.plotting.use_book_style()?)")
            continue
        points = float(info["text"][FONT_SIZE_KEY])
        pixels = fig["rendered"] / fig["natural"] * points * info["dpi"] / 72
        if pixels < MIN_TEXT_PX:
            problems.append(
                f"{name}: {points:g}-pt text renders at {pixels:.1f} CSS px "
                f"(shown {fig['rendered']:.0f} px wide, drawn {fig['natural']} px at {info['dpi']:.0f} dpi)"
            )
    return problems


# --------------------------------------------------------------------------------------
# Internal links
# --------------------------------------------------------------------------------------


class _IdCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value or "")


@functools.lru_cache(maxsize=None)
def html_ids(path: Path) -> frozenset:
    """The ``id`` (and ``<a name>``) values of an HTML file."""
    parser = _IdCollector()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def broken_internal_links(links, origin: str, root: Path) -> list[str]:
    """Links under ``origin`` whose file under ``root`` is missing, or whose anchor is."""
    problems = []
    for href in links:
        if not href.startswith(origin + "/"):
            continue  # another host, mailto:, javascript: ... - not part of the site
        parts = urlsplit(href)
        relative = unquote(parts.path).lstrip("/")
        target = root / relative
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"{href}: no file {relative!r} in the site")
        elif parts.fragment and target.suffix == ".html":
            if unquote(parts.fragment) not in html_ids(target):
                problems.append(f"{href}: {relative} has no element with id {parts.fragment!r}")
    return problems


# --------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reports(site, server, driver):
    """Every toc page, inspected once (lazily) and shared by the tests below."""
    if SCREENSHOTS.is_dir():
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()
    cache: dict[str, PageReport] = {}

    def get(page: str) -> PageReport:
        if page not in cache:
            html = site / f"{page}.html"
            if not html.is_file():
                pytest.fail(f"toc page {page!r} was not built: no {html}")
            cache[page] = inspect_page(
                driver, server, f"{server.origin}/{page}.html",
                screenshot=SCREENSHOTS / (page.replace("/", "__") + ".png"),
            )
        return cache[page]

    return get


def test_toc_lists_pages():
    assert PAGES, "_toc.yml lists no pages"
    assert all(source_suffix(page) for page in PAGES)


def test_no_page_refers_to_a_mathjax_cdn(site):
    offenders = [
        str(path.relative_to(site))
        for path in site.rglob("*.html")
        if "cdn.jsdelivr.net/npm/mathjax" in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert not offenders, f"pages that load MathJax from a CDN: {offenders}"
    assert (site / "_static" / "mathjax" / "tex-svg-full.js").is_file()


@pytest.mark.parametrize("page", PAGES)
def test_math_is_typeset_by_the_local_mathjax(reports, page):
    report = reports(page)
    assert not report.raw_tex, f"{page}: TeX left untypeset in the text: {report.raw_tex[:5]}"
    if report.n_math == 0:
        return
    mj = report.mathjax
    assert mj["loaded"], f"{page}: {report.n_math} equations but MathJax did not load ({mj})"
    assert mj["version"].startswith("3."), mj
    assert mj["error"] is None, f"{page}: MathJax failed: {mj['error']}"
    local = "{0.scheme}://{0.netloc}/_static/mathjax/".format(urlsplit(report.url))
    assert mj["scripts"] and all(s.startswith(local) for s in mj["scripts"]), (
        f"{page}: MathJax not loaded from the site's own {local}: {mj['scripts']}"
    )
    assert not report.untypeset, f"{page}: equations not typeset: {report.untypeset[:5]}"
    assert not report.math_errors, f"{page}: MathJax errors: {report.math_errors[:5]}"


@pytest.mark.parametrize("page", PAGES)
def test_display_equations_fit_the_text_column(reports, page):
    """At the test's 1280-pixel window no display equation needs a sideways scroll."""
    report = reports(page)
    assert not report.wide_math, f"{page}: display equations wider than the column: {report.wide_math}"


@pytest.mark.parametrize("page", PAGES)
def test_code_output_and_tables_fit_the_column(reports, page):
    """No code or output block, no table, needs a sideways scroll; nothing leaves the column."""
    wide = unexpected_wide_blocks(reports(page), page)
    assert not wide, f"{page}: wider than the text column:\n" + "\n".join(wide)


@pytest.mark.parametrize("page", PAGES)
def test_figure_text_is_large_enough(reports, site, page):
    report = reports(page)
    problems = small_figure_text(report.figures, site)
    assert not problems, f"{page}: figure text below {MIN_TEXT_PX} CSS px:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", PAGES)
def test_images_load_and_figures_read_in_the_dark_theme(reports, page):
    report = reports(page)
    assert not report.broken_images, f"{page}: images that did not load: {report.broken_images}"
    unreadable = report.unreadable_figures
    assert not unreadable, f"{page}: transparent figures on the dark theme: {unreadable}"


@pytest.mark.parametrize("page", PAGES)
def test_no_console_or_http_errors(reports, page):
    report = reports(page)
    assert not report.console_errors, f"{page}: console errors: {report.console_errors}"
    assert not report.http_errors, f"{page}: failed requests: {report.http_errors}"


@pytest.mark.parametrize("page", PAGES)
def test_nothing_is_loaded_from_another_host(reports, page):
    report = reports(page)
    assert not report.foreign_resources, f"{page}: non-local resources: {report.foreign_resources}"


@pytest.mark.parametrize("page", PAGES)
def test_internal_links_resolve(reports, server, site, page):
    report = reports(page)
    assert report.links, f"{page}: no links at all (navigation missing?)"
    broken = broken_internal_links(report.links, server.origin, site)
    assert not broken, f"{page}: broken internal links:\n" + "\n".join(broken)


@pytest.mark.parametrize("page", PAGES)
def test_launch_download_and_repository_buttons(reports, server, page):
    links = reports(page).links
    suffix = source_suffix(page)
    download = [h for h in links if h.startswith(server.origin) and h.endswith(f"{page}{suffix}")]
    assert download, f"{page}: no download link to its {suffix} source"
    assert f"https://github.com/{REPOSITORY}" in links, f"{page}: no repository button"
    if suffix == ".ipynb":
        notebook = f"{page}.ipynb"
        colab = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/{notebook}"
        assert colab in links, f"{page}: no Colab button to {colab}"
        binder = [h for h in links if h.startswith(f"https://mybinder.org/v2/gh/{REPOSITORY}/main")]
        assert binder and all(f"urlpath=tree/{notebook}" in unquote(h) for h in binder), (
            f"{page}: no Binder button to {notebook}: {binder}"
        )


def test_search_finds_lasso(site, server, driver):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    mentioning = [p for p in PAGES if "lasso" in (site / f"{p}.html").read_text(
        encoding="utf-8", errors="replace").lower()]
    if not mentioning:
        pytest.skip("no page of the book mentions 'lasso' yet, so there is nothing to find")
    driver.get_log("browser")
    driver.get(f"{server.origin}/search.html?q=lasso")
    finished = (
        "const box = document.querySelector('#search-results');"
        "return !!box && /Search finished|did not match/.test(box.textContent);"
    )
    try:
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(finished))
    except TimeoutException:
        status = driver.execute_script(
            "const box = document.querySelector('#search-results');"
            "return box ? box.textContent.trim().slice(0, 300) : 'no #search-results element';"
        )
        errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        pytest.fail(f"the search page did not finish searching 'lasso' within 30 s: "
                    f"{status!r}; console errors: {errors}")
    hits = driver.execute_script(
        "return Array.from(document.querySelectorAll('#search-results li a'))"
        ".map((a) => a.href);"
    )
    hit_pages = {urlsplit(h).path.lstrip("/").removesuffix(".html") for h in hits}
    _screenshot(driver, SCREENSHOTS / "search-lasso.png")
    assert hit_pages & set(mentioning), (
        f"searching 'lasso' found {sorted(hit_pages)}; pages that mention it: {mentioning}"
    )
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"search page console errors: {errors}"


# A page with one of each fault the checks above must catch, next to correct counterparts.
_BROKEN_PAGE = r"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>broken</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="https://cdn.example.org/style.css">
<script>window.MathJax = MATHJAX_CONFIG</script>
<script defer src="mathjax/tex-svg-full.js"></script>
</head><body><main>
<p id="good">Typeset: <span class="math">\(a^2 + b^2\)</span>,
an error: <span class="math">\(\frac{1}{\nosuchmacro}\)</span>,
not math at all: <span class="math">\(\frac{1}{\)</span></p>
<section class="tex2jax_ignore mathjax_ignore"><p>Left raw: $$w$$</p></section>
<img src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==">
<img src="missing.png">
<pre style="width: 200px; overflow-x: auto">a code line far longer than the two hundred pixels of its box</pre>
<p style="width: 3000px">a paragraph wider than the column</p>
<div class="cell_output"><img src="small.png" style="width: 300px"></div>
<div class="cell_output"><img src="fine.png"></div>
<a href="broken.html#good">fine</a> <a href="broken.html#nowhere">bad anchor</a>
<a href="missing.html">missing page</a> <a href="https://example.org/">external</a>
</main>
<script>window.addEventListener('load', () => { notAFunction(); });</script>
</body></html>
"""


def _site_mathjax_config(site: Path) -> str:
    """The ``window.MathJax = {...}`` configuration that the built pages use."""
    for path in sorted(site.rglob("*.html")):
        match = re.search(r"<script>window\.MathJax = (\{.*?\})</script>",
                          path.read_text(encoding="utf-8", errors="replace"))
        if match:
            return match.group(1)
    pytest.fail(f"no page of {site} configures MathJax")


def test_the_checks_catch_a_broken_page(site, driver, tmp_path):
    page = _BROKEN_PAGE.replace("MATHJAX_CONFIG", _site_mathjax_config(site))
    (tmp_path / "broken.html").write_text(page, encoding="utf-8")
    (tmp_path / "mathjax").mkdir()
    shutil.copy(site / "_static" / "mathjax" / "tex-svg-full.js", tmp_path / "mathjax")
    _save_figure(tmp_path / "small.png", width=13, font=8)  # 8-pt text shown at 300 px
    _save_figure(tmp_path / "fine.png", width=3, font=8)
    with serve(tmp_path) as srv:
        report = inspect_page(driver, srv, f"{srv.origin}/broken.html")
        broken = broken_internal_links(report.links, srv.origin, tmp_path)
    assert report.mathjax["loaded"] and report.n_math == 3
    assert report.math_errors == ["Undefined control sequence \\nosuchmacro"]
    assert report.untypeset == ["\\(\\frac{1}{\\)"]
    assert report.raw_tex == ["Left raw: $$w$$"]
    assert report.broken_images == [f"{srv.origin}/missing.png"]
    assert report.unreadable_figures == [report.images[0]["src"]]  # the transparent GIF
    assert any("notAFunction" in message for message in report.console_errors)
    assert ("/missing.png", 404) in report.http_errors
    assert report.foreign_resources == ["https://cdn.example.org/style.css"]
    assert len(broken) == 2 and "nowhere" in broken[0] and "missing.html" in broken[1]
    assert len(report.wide_blocks) == 1 and report.wide_blocks[0].startswith("pre ")
    assert [b for b in report.outside_column if b.startswith("p ")] == [
        b for b in report.outside_column if "a paragraph wider" in b
    ] != []
    assert unexpected_wide_blocks(report, "broken") == report.wide_blocks + report.outside_column
    small = small_figure_text(report.figures, tmp_path)
    assert len(report.figures) == 2 and len(small) == 1 and small[0].startswith("small.png: 8-pt")


def _save_figure(path: Path, width: float, font: float) -> None:
    """A figure of ``width`` inches with ``font``-pt text, saved as the book saves them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from weightdecay.plotting import FONT_SIZE_KEY, smallest_font_size, use_book_style

    use_book_style()
    fig, ax = plt.subplots(figsize=(width, 2))
    ax.set_title("a title", fontsize=font)
    ax.tick_params(labelsize=font)
    fig.savefig(path, metadata={FONT_SIZE_KEY: f"{smallest_font_size(fig):g}"})
    plt.close(fig)

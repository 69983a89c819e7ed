"""``make book``: staging the demo's executed notebooks, failing on warnings, and the site in Chromium.

The browser test builds the real book from ``docs/`` and the ``tiny`` demo's outputs (the
``tiny_demo`` fixture, shared with the demo's end-to-end test), serves it on 127.0.0.1 and opens
it in Debian's headless Chromium (skipped, saying so, where it is missing; see test_jupyter.py).
"""

import functools
import http.server
import json
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import nbformat
import pytest
from test_jupyter import browser, wait_for  # noqa: F401 (browser is a fixture)

from semisup.book import DEMO_NOTEBOOKS, build, demo_run, main, stage
from semisup.paths import repo_root

DOCS = repo_root() / "docs"


def fake_demo(root: Path, seeds=(123,)) -> Path:
    """A demo folder as ``make demo`` leaves it: an SSL and a pitch run per seed, 06 in the pitch one."""
    for seed in seeds:
        for name, notebooks in ((f"ps=0.0_bs=0.0_pitch_shift=True_seed={seed}", DEMO_NOTEBOOKS[:2]),
                                (f"ps=1.0_bs=0.75_pitch_shift=False_seed={seed}", DEMO_NOTEBOOKS)):
            run = root / name
            run.mkdir(parents=True)
            (run / "params.json").write_text(json.dumps({"parameters": {"seed": seed}}))
            for notebook in notebooks:
                nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {notebook}")]),
                               run / notebook)
    return root


def test_the_pitch_run_of_the_lowest_seed_is_the_books(tmp_path):
    demo = fake_demo(tmp_path / "demo", seeds=(123, 1, 2))
    assert demo_run(demo) == demo / "ps=1.0_bs=0.75_pitch_shift=False_seed=1"


def test_staging_without_demo_outputs_says_to_run_make_demo(tmp_path):
    (tmp_path / "demo").mkdir()
    with pytest.raises(FileNotFoundError, match="run `make demo` first"):
        stage(DOCS, tmp_path / "demo", tmp_path / "src")
    assert not (tmp_path / "src").exists()


def test_make_book_before_make_demo_exits_with_the_reason_not_a_traceback(tmp_path):
    (tmp_path / "demo").mkdir()
    with pytest.raises(SystemExit, match="book: no executed demo notebooks .* run `make demo` first"):
        main(["--demo", str(tmp_path / "demo"), "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out" / "html").exists()


def test_staging_copies_docs_notebooks_and_mathjax(tmp_path):
    src = stage(DOCS, fake_demo(tmp_path / "demo"), tmp_path / "src")
    assert sorted(path.name for path in (src / "notebooks").iterdir()) == sorted(DEMO_NOTEBOOKS)
    assert (src / "conf.py").exists() and (src / "index.md").exists()
    assert (src / "_static" / "mathjax" / "MathJax.js").exists()
    assert not (DOCS / "notebooks").exists(), "staging wrote into docs/"


def minimal_docs(tmp_path: Path, index: str) -> Path:
    """The book's conf.py with one index page (a fast build)."""
    docs = tmp_path / "docs"
    docs.mkdir(parents=True)
    shutil.copy(DOCS / "conf.py", docs)
    (docs / "index.md").write_text(index)
    return docs


def test_a_warning_fails_the_build_and_keeps_the_previous_site(tmp_path):
    demo, out = fake_demo(tmp_path / "demo"), tmp_path / "out"
    toctree = "```{toctree}\n" + "\n".join(f"notebooks/{name[:-6]}" for name in DEMO_NOTEBOOKS) + "\n```\n"
    good = minimal_docs(tmp_path / "good", "# Fine\n\nNo broken links.\n\n" + toctree)
    index = build(good, demo, out)
    assert "No broken links." in index.read_text()
    broken = minimal_docs(tmp_path / "broken", "# Broken\n\nA [link](no-such-page.md).\n\n" + toctree)
    with pytest.raises(RuntimeError, match="warnings count as errors"):
        build(broken, demo, out)
    assert "No broken links." in index.read_text()
    assert not list(out.glob(".build-*")), "the temporary build folder was left behind"


@pytest.fixture(scope="module")
def book(tiny_demo, tmp_path_factory):
    """The real book built on the tiny demo's outputs, served on 127.0.0.1; yield (base URL, demo run)."""
    demo, _ = tiny_demo
    index = build(DOCS, demo, tmp_path_factory.mktemp("book"))
    handler = functools.partial(QuietHandler, directory=str(index.parent))
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", demo_run(demo)
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a browser drops connections it no longer needs (BrokenPipeError): not a failure


def links_and_ids(driver, url: str) -> tuple[set[str], set[str]]:
    """Load ``url``; return the absolute hrefs of its links and the ids of its elements."""
    driver.get(url)
    hrefs = driver.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    ids = driver.execute_script("return Array.from(document.querySelectorAll('[id]')).map(e => e.id)")
    return set(hrefs), set(ids)


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
def test_the_book_opens_in_chromium_with_resolving_links_figures_players_and_api(book, browser, tmp_path):  # noqa: F811
    base, run = book
    shot = tmp_path / "book.png"

    browser.get(base)
    assert "SemiSupCon" in browser.title
    assert browser.execute_script("return document.querySelector('main img[src*=\"demo_tsne\"]')?.naturalWidth") > 0

    # crawl every page reachable from the index; every same-site link answers, every #anchor exists
    pages, seen, ids, links = [base + "index.html"], set(), {}, {}
    while pages:
        page = pages.pop()
        if page in seen:
            continue
        seen.add(page)
        links[page], ids[page] = links_and_ids(browser, page)
        for href in links[page]:
            target = urldefrag(href).url
            if target.startswith(base) and target.endswith(".html") and target not in seen:
                pages.append(target)
    broken = []
    for page, hrefs in links.items():
        for href in hrefs:
            target, anchor = urldefrag(href)
            if not target.startswith(base):
                continue
            if target not in ids and status(target) != 200:
                broken.append(f"{page} -> {href} (no page)")
            elif anchor and target in ids and anchor not in ids[target]:
                broken.append(f"{page} -> {href} (no #{anchor})")
    assert not broken, "\n".join(sorted(broken))
    names = {urlparse(page).path.removeprefix("/") for page in seen}
    assert {"course.html", "method.html", "api.html"} <= names
    assert {f"notebooks/{name.removesuffix('.ipynb')}.html" for name in DEMO_NOTEBOOKS} <= names

    # each notebook page shows all its figures; where the notebook has players, they load their sound
    for name in DEMO_NOTEBOOKS:
        notebook = nbformat.read(run / name, as_version=4)
        outputs = [output.get("data", {}) for cell in notebook.cells for output in cell.get("outputs", [])]
        n_figures = sum("image/png" in data for data in outputs)
        n_players = sum("<audio" in data.get("text/html", "") for data in outputs)
        browser.get(f"{base}notebooks/{name.removesuffix('.ipynb')}.html")
        assert n_figures > 0, f"{name} saved no figure"
        wait_for(browser, "Array.from(document.querySelectorAll('main .cell_output img'))"
                          f".filter(i => i.complete && i.naturalWidth > 0).length === {n_figures}",
                 f"the {n_figures} figures of {name}", shot)
        if n_players:
            wait_for(browser, "Array.from(document.querySelectorAll('main .cell_output audio'))"
                              f".filter(a => a.duration > 0).length === {n_players}",
                     f"the {n_players} audio players of {name} to load their sound", shot)

    # the API reference lists the loss and the sampler, from their docstrings
    browser.get(base + "api.html")
    for anchor in ("semisup.loss.semisupcon_loss", "semisup.data.sampler.SemiSupervisedSampler"):
        text = browser.execute_script(f"return document.getElementById('{anchor}')?.closest('dl').innerText")
        assert text and anchor.rsplit(".", 1)[1] in text, anchor

    # equations are typeset by the site's own MathJax (no network): Eq. 1-3 on the method page
    browser.get(base + "method.html")
    wait_for(browser, "document.querySelectorAll('main .MathJax_Display').length >= 3", "typeset equations", shot)

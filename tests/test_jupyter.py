"""JupyterLab works for this checkout: its own kernel, and an executed notebook that renders.

``make`` installs the ``semisup`` kernel inside the venv (``--sys-prefix``); jupyter looks
in the venv before the user's ``~/.local/share/jupyter``, so an old user-level ``semisup``
kernel (left by earlier ``make --user`` installs, possibly of another clone) cannot shadow it.
The browser test drives JupyterLab in headless Chromium (Debian's ``chromium`` and
``chromium-driver``; skipped, saying so, where they are missing).
"""

import json
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from ipykernel.ipkernel import IPythonKernel
from jupyter_client.kernelspec import KernelSpecManager
from test_notebooks import smoke_parameters

from semisup.paths import repo_root
from semisup.sweep import execute

KERNEL = "semisup"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
# Chromium's flags for a closed network (/work/.library/env/machines/python.md, "Known to work")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1000"]
WAIT_S = 90  # JupyterLab's first load and kernel start on a busy 2-core machine


def stale_user_kernel(data_dir: Path) -> Path:
    """Write a user-level ``semisup`` kernel whose python does not exist (another clone, deleted)."""
    folder = data_dir / "kernels" / KERNEL
    folder.mkdir(parents=True)
    spec = {"argv": ["/deleted/clone/.venv/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python (semisup)", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec))
    return data_dir


def test_the_semisup_kernel_is_this_venvs_even_with_a_stale_user_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(stale_user_kernel(tmp_path)))  # the user-level folder
    monkeypatch.delenv("JUPYTER_PREFER_ENV_PATH", raising=False)  # jupyter's default in a venv
    specs = KernelSpecManager().find_kernel_specs()
    assert KERNEL in specs, f"no '{KERNEL}' kernel: run `make venv` (it installs it inside {sys.prefix})"
    assert Path(specs[KERNEL]).is_relative_to(sys.prefix), specs[KERNEL]
    argv = KernelSpecManager().get_kernel_spec(KERNEL).argv
    assert Path(argv[0]).resolve() == Path(sys.executable).resolve(), argv


def test_notebooks_carry_the_metadata_jupyterlab_would_write():
    """JupyterLab rewrites a differing kernelspec or language_info and marks the notebook modified.

    ``language_info.version`` is the Python the notebooks were saved with: on another version
    JupyterLab updates it (the browser test checks the rest with the version made equal).
    """
    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    kernelspec = {"name": KERNEL, "display_name": spec.display_name, "language": spec.language}
    language_info = {k: v for k, v in IPythonKernel.language_info.items() if k != "version"}
    for path in sorted((repo_root() / "notebooks").glob("*.ipynb")):
        metadata = nbformat.read(path, as_version=4).metadata
        assert metadata.kernelspec == kernelspec, path.name
        assert {k: v for k, v in metadata.language_info.items() if k != "version"} == language_info, path.name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """Start ``jupyter lab`` of this venv on ``tmp_path/root``; yield (url, token, root).

    The user-level Jupyter folders (kernels, trusted-notebook signatures, settings) are fresh
    ones, shared with this process and holding a stale ``semisup`` kernel.
    """
    root, home, token, port = tmp_path / "root", tmp_path / "home", "semisup-test-token", free_port()
    root.mkdir()
    for name, folder in [("JUPYTER_DATA_DIR", stale_user_kernel(home / "data")), ("JUPYTER_CONFIG_DIR", home / "config"),
                         ("JUPYTER_RUNTIME_DIR", home / "runtime"), ("JUPYTERLAB_SETTINGS_DIR", home / "settings"),
                         ("JUPYTERLAB_WORKSPACES_DIR", home / "workspaces")]:
        monkeypatch.setenv(name, str(folder))
    monkeypatch.delenv("JUPYTER_PREFER_ENV_PATH", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not start: {(tmp_path / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield url, token, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture
def browser(tmp_path):
    """Headless Debian Chromium driven by selenium; skipped where it is not installed."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_script_timeout(WAIT_S)
    yield driver
    driver.quit()


def wait_for(driver, script: str, what: str, screenshot: Path):
    """Poll a JavaScript expression until it is truthy; fail with a screenshot otherwise."""
    deadline = time.monotonic() + WAIT_S
    while not (value := driver.execute_script(f"return {script};")):
        if time.monotonic() > deadline:
            driver.save_screenshot(str(screenshot))
            pytest.fail(f"timed out waiting for {what}; screenshot in {screenshot}")
        time.sleep(0.5)
    return value


@pytest.mark.slow
def test_an_executed_notebook_opens_in_jupyterlab_with_its_kernel_figures_and_players(tiny_data, lab, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    url, token, root = lab
    name = "02_pretrain.ipynb"
    execute(f"notebooks/{name}", root / name, smoke_parameters(str(tiny_data), tmp_path)[name], progress=False)
    committed = nbformat.read(repo_root() / "notebooks" / name, as_version=4)
    committed.metadata.language_info.version = platform.python_version()  # see the metadata test
    nbformat.write(committed, root / "committed.ipynb")
    shot = tmp_path / "jupyterlab.png"

    # each notebook starts its kernel (the stale user-level one would not start) and is unmodified
    for notebook in ("committed.ipynb", name):
        browser.get(f"{url}/lab/tree/{notebook}?reset&token={token}")
        wait_for(browser, "document.querySelector('.jp-KernelName')?.textContent === 'Python (semisup)' && "
                          "document.querySelector('.jp-Notebook-ExecutionIndicator[data-status=\"idle\"]')",
                 f"the Python (semisup) kernel of {notebook} to be idle", shot)
        dirty = browser.execute_script("return document.querySelector('.lm-TabBar-tab.jp-mod-dirty')")
        assert not dirty, f"{notebook} opened as modified: JupyterLab rewrote its metadata"

    # figures decode, and audio players load their sound (execute() trusts the notebook: JupyterLab
    # strips the <source src> of IPython's players from untrusted outputs)
    images = wait_for(browser, "Array.from(document.querySelectorAll('.jp-OutputArea-output img'))"
                               ".filter(i => i.complete && i.naturalWidth > 0).length", "figures", shot)
    players = wait_for(browser, "Array.from(document.querySelectorAll('.jp-OutputArea-output audio'))"
                                ".filter(a => a.duration > 0).length", "audio players with a duration", shot)
    browser.execute_script("document.querySelector('.jp-OutputArea-output audio').scrollIntoView()")
    browser.save_screenshot(str(shot))
    assert images >= 2 and players >= 4, (images, players)
    outputs = browser.execute_script("return document.querySelector('.jp-Notebook').innerText")
    assert "pretraining: 100%" in outputs and "pretraining: 2 steps in" in outputs
    assert "Error displaying widget" not in outputs

    # a new cell runs in this venv, and a live kernel shows widget bars
    browser.find_element("css selector", ".jp-Notebook .jp-Cell").click()
    ActionChains(browser).send_keys(Keys.ESCAPE, "a", Keys.ENTER).perform()
    ActionChains(browser).send_keys("import sys, semisup.progress as p; print(sys.prefix, p.progress_mode())")\
        .key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
    printed = wait_for(browser, "Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell'))"
                                ".find(c => c.innerText.includes('p.progress_mode()'))"
                                "?.querySelector('.jp-OutputArea-output')?.innerText", "the new cell's output", shot)
    assert printed.strip() == f"{sys.prefix} widgets"

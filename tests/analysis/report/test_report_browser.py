"""Open the HTML report and the questionnaire preview in headless Chromium.

Debian's ``chromium`` and ``chromium-driver`` are installed by ``make test``
(Makefile ``sysdeps``, as root). Without them - a machine where the set-up
could not install Debian packages - the test is skipped with that reason.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from instrument import load_instrument
from instrument.export import export

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="Debian packages chromium and chromium-driver are not installed "
                                       "(make test installs them when run as root)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,2000",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()


def _open(driver, path: Path, shot: Path) -> list[dict]:
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    driver.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def test_report_renders_without_console_errors(browser, analyzed, tmp_path):
    errors = _open(browser, analyzed / "report.html", tmp_path / "report.png")
    assert errors == []
    assert browser.title.startswith("SME internationalisation survey")
    rows = browser.execute_script("return document.querySelectorAll('table.verdicts tr').length")
    assert rows >= 17
    svgs = browser.execute_script(
        "return Array.from(document.querySelectorAll('svg')).filter(s => s.getBoundingClientRect().width > 50).length")
    assert svgs >= 16  # verdict chart + three figures per module
    broken = browser.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length")
    assert broken == 0


def test_questionnaire_preview_renders_without_console_errors(browser, tmp_path):
    inst = load_instrument()
    page = export(inst, "html", tmp_path / "questionnaire.html")[0]
    errors = _open(browser, page, tmp_path / "questionnaire.png")
    assert errors == []
    text = browser.find_element("tag name", "body").text
    first_item = next(iter(inst.constructs.values())).items[0]
    assert first_item.text["en"][:40] in text
    item_rows = browser.execute_script("return document.querySelectorAll('table.grid tbody tr').length")
    assert item_rows >= 138  # every construct item (and the matrix cells) as a row of a response grid

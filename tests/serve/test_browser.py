"""The page in a real browser (Debian's headless Chromium driven by Selenium through chromedriver):
load it, sample, open a sample's unmasking chain and scrub it, paint a mask, inpaint, and check that
the given region came back unchanged; bad input shows the server's message and the page keeps working.

Screenshots go to ``UNMASK_SCREENSHOT_DIR`` when it is set (the docs' pictures of the page are taken
this way, from the model in ``UNMASK_SERVE_CKPT`` when that is set, else from the tiny test run).
``scripts/install.sh test`` installs Chromium and chromedriver; under CI a missing browser fails
these tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

selenium = pytest.importorskip("selenium")
uvicorn = pytest.importorskip("uvicorn")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from unmask.serve import ModelSession, create_app  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
    if os.environ.get("CI") == "true":
        pytest.fail("Chromium / chromedriver are missing: scripts/install.sh test installs them", pytrace=False)
    pytest.skip(
        "Chromium / chromedriver not installed (scripts/install.sh test installs them)", allow_module_level=True
    )


@pytest.fixture(scope="module")
def page_url(tiny_run: Path, serving):
    ckpt = os.environ.get("UNMASK_SERVE_CKPT") or str(tiny_run)
    with serving(create_app(ModelSession(ckpt), capacity=4)) as base:
        yield base + "/"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        opts.add_argument(flag)
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager fetch a driver
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=DRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    folder = os.environ.get("UNMASK_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))


def set_field(driver, field: str, value: str) -> None:
    box = driver.find_element(By.ID, field)
    box.clear()
    box.send_keys(value)


def wait(driver, timeout: float = 120):
    return WebDriverWait(driver, timeout)


def test_sample_chain_paint_and_inpaint(browser, page_url: str) -> None:
    d = browser
    d.get(page_url)
    wait(d).until(lambda drv: "step" in drv.find_element(By.ID, "model-info").text)
    set_field(d, "steps", "8")
    set_field(d, "n", "10")
    d.find_element(By.ID, "sample-btn").click()
    wait(d).until(lambda drv: len(drv.find_elements(By.CSS_SELECTOR, "#grid .sample img")) == 10)
    assert "10 samples" in d.find_element(By.ID, "status").text
    shot(d, "serve_grid")

    d.find_elements(By.CSS_SELECTOR, "#grid .sample img")[3].click()
    wait(d).until(EC.visibility_of_element_located((By.ID, "chain-panel")))
    wait(d).until(lambda drv: len(drv.find_elements(By.CSS_SELECTOR, "#chains .chain img")) == 2)
    titles = [c.text.split("\n")[0] for c in d.find_elements(By.CSS_SELECTOR, "#chains .chain")]
    assert titles == ["Euler", "MaskGIT"]
    slider = d.find_element(By.ID, "frame")
    last = int(slider.get_attribute("max"))
    assert last >= 2
    d.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))", slider, last // 2
    )
    label = d.find_element(By.ID, "frame-label").text
    assert label.startswith("step ") and "% revealed" in label
    shot(d, "serve_chain")

    d.find_elements(By.CSS_SELECTOR, "#grid .edit-sample")[3].click()
    time.sleep(0.5)
    mask = d.find_element(By.ID, "edit-mask")
    ActionChains(d).move_to_element_with_offset(mask, -80, -80).click_and_hold().move_by_offset(60, 40).move_by_offset(
        60, 40
    ).release().perform()
    painted = d.execute_script(
        "const c = document.getElementById('edit-mask').getContext('2d');"
        "return c.getImageData(0, 0, 256, 256).data.filter((v, i) => i % 4 === 3 && v > 0).length;"
    )
    assert painted > 100
    d.find_element(By.ID, "inpaint-btn").click()
    wait(d).until(lambda drv: len(drv.find_elements(By.CSS_SELECTOR, "#edit-results img.edit-completion")) == 4)
    note = d.find_element(By.ID, "edit-note").text
    assert "given region unchanged: true" in note
    # the completions sit below the painted image: bring them into the picture
    d.execute_script("document.getElementById('edit-results').scrollIntoView({block: 'end'})")
    shot(d, "serve_inpaint")


def test_bad_input_shows_the_message_and_the_page_keeps_working(browser, page_url: str) -> None:
    d = browser
    d.get(page_url)
    wait(d).until(lambda drv: "step" in drv.find_element(By.ID, "model-info").text)
    set_field(d, "steps", "0")
    d.find_element(By.ID, "sample-btn").click()
    wait(d, 30).until(EC.visibility_of_element_located((By.ID, "error")))
    assert "steps" in d.find_element(By.ID, "error").text
    set_field(d, "steps", "4")
    d.find_element(By.ID, "sample-btn").click()
    wait(d).until(lambda drv: len(drv.find_elements(By.CSS_SELECTOR, "#grid .sample img")) > 0)
    assert not d.find_element(By.ID, "error").is_displayed()

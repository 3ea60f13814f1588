"""End to end in a real browser: `veil serve` on a free loopback port, headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium) uploads a photo and a text on the page, downloads the stego PNG, reveals it
through the page and reads the text there. Skips, saying why, when Chromium or Selenium is missing (.ci/run
installs them). VEIL_SCREENSHOT=PATH also keeps the page's screenshot there (the README's picture)."""
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="no Chromium: apt-get install chromium "
                                                                   "chromium-driver (.ci/run does)")]
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the dev extra has it)")
pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from bench_serve import free_port  # noqa: E402

MESSAGE = "meet at noon"


@pytest.fixture
def server(tmp_path):
    port = free_port()
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "veil", "serve", "--port", str(port)], stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((tmp_path / "serve.log").read_text())
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("veil serve did not start in 120 s")
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture
def browser(tmp_path):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=820,1150"):
        opts.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=opts)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()


def _wait_for_file(folder: Path, name: str, timeout: float = 30) -> Path:
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = folder / name
        if done.exists() and not list(folder.glob("*.crdownload")) and done.stat().st_size > 0:
            return done
        time.sleep(0.2)
    raise AssertionError(f"no {name} downloaded: {list(folder.iterdir())}")


def test_hide_download_and_reveal_through_the_page(server, browser, tmp_path, sample):
    cover = tmp_path / "cover.png"
    sample.convert("RGB").resize((512, 512), Image.LANCZOS).save(cover)
    wait = WebDriverWait(browser, 120)
    browser.get(server + "/")
    assert browser.title.startswith("veil")

    panel = browser.find_element(By.ID, "panel-hide")
    panel.find_element(By.NAME, "image").send_keys(str(cover))
    panel.find_element(By.NAME, "text").send_keys(MESSAGE)
    panel.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    link = wait.until(EC.element_to_be_clickable((By.ID, "result-download")))
    stats = browser.find_element(By.ID, "result-stats").text
    assert "PSNR" in stats and "SSIM" in stats, stats
    if os.environ.get("VEIL_SCREENSHOT"):
        browser.save_screenshot(os.environ["VEIL_SCREENSHOT"])
    link.click()
    stego = _wait_for_file(browser.downloads, "stego.png")
    assert Image.open(stego).size == (512, 512)

    browser.find_element(By.ID, "tab-reveal").click()
    panel = browser.find_element(By.ID, "panel-reveal")
    assert panel.is_displayed() and not browser.find_element(By.ID, "panel-hide").is_displayed()
    panel.find_element(By.NAME, "image").send_keys(str(stego))
    panel.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    got = wait.until(EC.presence_of_element_located((By.ID, "result-message")))
    assert got.text == MESSAGE

    # an error shows as a readable line, not a stack trace: reveal a file that is not an image
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"not an image")
    panel.find_element(By.NAME, "image").send_keys(str(bad))
    panel.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    err = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#result .error")))
    assert "not an image file" in err.text and "Traceback" not in err.text

    browser.set_window_size(390, 844)              # a phone's width: nothing runs off the side
    browser.get(server + "/")
    width = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    assert browser.find_element(By.ID, "tab-analyze").is_displayed()


def test_image_tab_lists_the_models_and_hides_with_codec(server, browser, tmp_path, sample):
    cover, secret = tmp_path / "cover.png", tmp_path / "secret.png"
    sample.convert("RGB").resize((256, 256)).save(cover)
    sample.convert("RGB").rotate(90).resize((64, 64)).save(secret)
    browser.get(server + "/")
    browser.find_element(By.ID, "tab-ihide").click()
    panel = browser.find_element(By.ID, "panel-ihide")
    wait = WebDriverWait(browser, 60)
    wait.until(lambda d: len(panel.find_elements(By.CSS_SELECTOR, "select[name=model] option")) > 1)
    names = [o.get_attribute("value") for o in panel.find_elements(By.CSS_SELECTOR, "select[name=model] option")]
    assert names[0] == "codec" and "stegnet.default" in names
    panel.find_element(By.NAME, "image").send_keys(str(cover))
    panel.find_element(By.NAME, "secret").send_keys(str(secret))
    panel.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    stats = wait.until(EC.presence_of_element_located((By.ID, "result-stats"))).text
    assert "model codec" in stats and "hidden image stored at" in stats, stats

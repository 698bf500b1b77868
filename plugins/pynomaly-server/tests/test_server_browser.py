"""The web UI end to end in a real headless browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path(os.environ.get("PYNOMALY_CHROMIUM", "/usr/bin/chromium"))
OUTPUT = Path(__file__).resolve().parents[1] / "test-output"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason=f"{CHROMIUM} is missing: `make install` installs Debian's chromium")


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _csv(path: Path) -> tuple[Path, set[int]]:
    rng = np.random.default_rng(21)
    X = rng.normal(size=(200, 3))
    outliers = {5, 50, 150}
    for row in outliers:
        X[row] += [9.0, -9.0, 9.0]
    labels = [1 if i in outliers else 0 for i in range(200)]
    lines = ["temperature,pressure,vibration,label"]
    lines += [f"{a:.5f},{b:.5f},{c:.5f},{t}" for (a, b, c), t in zip(X, labels, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path, outliers


def test_upload_run_and_see_charts_and_explanations(server, browser, tmp_path):
    csv_path, outliers = _csv(tmp_path / "sensors.csv")
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    foreign, errors = [], []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(server.url) else None)
    # the 401 of the wrong key and the 422 of the bad CSV are expected; any other console error is a failure
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{server.url}/ui")
    assert page.url.endswith("/ui/login")
    page.fill("#key", "pyn_wrong_key")
    page.click("#login")
    assert "invalid or revoked API key" in page.inner_text("#login-error")
    page.fill("#key", server.keys["score"])
    page.click("#login")
    page.wait_for_url(f"{server.url}/ui")

    page.set_input_files("#file", str(csv_path))
    page.fill("#labels", "label")
    page.select_option("#detector", "builtin.hbos")
    page.wait_for_selector("input[name='param.n_bins']")
    page.fill("input[name='param.n_bins']", "15")
    page.click("#run")
    page.wait_for_selector("#top-anomalies tbody tr")
    page.wait_for_selector("#histogram[data-rendered]")
    page.wait_for_selector("#scatter[data-rendered]")

    assert page.locator("#histogram canvas").count() >= 1 and page.locator("#scatter canvas").count() >= 1
    assert int(page.get_attribute("#histogram", "data-rendered")) == 30
    assert int(page.get_attribute("#scatter", "data-rendered")) == 200
    n_anomalies = int(page.inner_text("#n-anomalies"))
    assert int(page.get_attribute("#scatter", "data-anomalies")) == n_anomalies >= 3
    assert "roc auc 1.0000" in page.inner_text("#summary")
    rows = page.locator("#top-anomalies tbody tr")
    assert rows.count() == 10
    top_rows = {int(rows.nth(i).locator("td").first.inner_text()) for i in range(3)}
    assert top_rows == outliers
    assert "temperature" in rows.nth(0).inner_text() or "pressure" in rows.nth(0).inner_text()

    assert page.get_attribute("#scatter", "data-axes") == "temperature,pressure"
    page.select_option("#scatter-y", label="vibration")
    page.wait_for_function("document.querySelector('#scatter').dataset.axes === 'temperature,vibration'")

    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / "ui-detect.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000

    page.goto(f"{server.url}/ui/plugins")
    plugin_names = page.locator("#plugins tbody tr td:first-child").all_inner_texts()
    assert {"builtin", "server"} <= set(plugin_names)
    page.screenshot(path=str(OUTPUT / "ui-plugins.png"), full_page=True)

    assert server.client("admin").post("/v1/models", json={"name": "ui-model", "data": [[1.0, 2.0], [2.0, 1.0],
                                                                                      [3.0, 3.0]]}).status_code == 201
    page.goto(f"{server.url}/ui/models")
    assert "ui-model" in page.inner_text("#models")

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,oops\n")
    page.goto(f"{server.url}/ui")
    page.set_input_files("#file", str(bad))
    page.click("#run")
    page.wait_for_selector("#error")
    assert "bad.csv: non-numeric value 'oops' at line 3, column 'b'" in page.inner_text("#error")

    assert foreign == [], f"the UI fetched something from outside the server: {foreign}"
    assert errors == [], errors
    page.close()

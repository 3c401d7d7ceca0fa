"""The report's budget slider, driven in headless Chromium (Selenium + Debian's
chromium-driver): moving it shows the frontier's plan at that budget (issue 12)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import bheard
from bheard.labels import fmt
from bheard.report import write_report
from helpers import SCENARIOS

webdriver = pytest.importorskip("selenium.webdriver")
CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and DRIVER.exists()),
    reason="needs /usr/bin/chromium and /usr/bin/chromedriver (Debian packages chromium and"
           " chromium-driver; .ci/run installs them)")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A citywide plan with a 6-budget frontier saved beside it (the isolated twin of the
    default: the slider is the same for every model, and its frontier takes seconds, not the
    minute the cross-precinct model needs up to $240M)."""
    d = tmp_path_factory.mktemp("slider")
    scen = SCENARIOS / "dcs_citywide_isolated.yaml"
    plan = bheard.solve(scen)
    plan.save(d / "plan")
    fr = bheard.frontier(scen, "40e6:240e6:6", explain=False)
    fr.save(d / "plan")
    return write_report(d / "plan"), fr


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--disable-background-networking", "--disable-component-update",
              f"--user-data-dir={tmp_path_factory.mktemp('profile')}"):
        opts.add_argument(a)
    opts.binary_location = str(CHROMIUM)
    drv = webdriver.Chrome(service=Service(str(DRIVER)), options=opts)
    yield drv
    drv.quit()


def test_slider_shows_the_frontier_plan_at_each_budget(report, browser):
    """Press Home, then the right arrow step by step: at each position the displayed budget,
    coverage, cost and borough table are the frontier's values at that budget (formatted
    by bheard's number format) and the map's colours change."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    path, fr = report
    browser.get(path.resolve().as_uri())
    slider = browser.find_element(By.ID, "budget-slider")
    table = fr.table[fr.table["covered_calls"].notna()].sort_values("budget_usd")
    assert int(slider.get_attribute("max")) == len(table) - 1

    def text(i):
        return browser.find_element(By.ID, i).text

    def fills():
        return browser.execute_script(
            "return Array.from(document.querySelectorAll('#smap path[id^=\"smap-p\"]'))"
            ".map(p => p.getAttribute('fill')).join(',')")

    slider.send_keys(Keys.HOME)
    seen = []
    for i, row in enumerate(table.itertuples(index=False)):
        if i:
            slider.send_keys(Keys.ARROW_RIGHT)
        assert int(slider.get_attribute("value")) == i
        assert text("slider-budget") == fmt(row.budget_usd, "usd")
        assert text("slider-coverage") == fmt(row.coverage_share, "share")
        assert text("slider-cost") == fmt(row.annual_cost_usd, "usd")
        rows = browser.find_elements(By.CSS_SELECTOR, "#slider-borough-table tbody tr")
        boroughs = fr.boroughs[fr.boroughs["budget_usd"] == row.budget_usd]
        assert len(rows) == len(boroughs) == 5
        first = rows[0].find_elements(By.TAG_NAME, "td")
        b0 = boroughs.iloc[0]
        assert first[0].text == b0["borough"]
        assert first[4].text == fmt(b0["coverage_share"], "share")
        seen.append((text("slider-coverage"), fills()))
    assert len({c for c, _ in seen}) == len(seen)  # coverage changes at every budget
    assert len({f for _, f in seen}) == len(seen)  # and so does the map


def test_slider_page_needs_no_network(report):
    html = report[0].read_text()
    assert 'id="budget-slider"' in html and 'id="frontier-data"' in html
    assert "http://" not in html.split('id="frontier-data"')[1].split("</script>")[0]
    assert "<script src" not in html

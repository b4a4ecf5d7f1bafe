"""`failedcontact report`: one self-contained page a case, checked as text and in Chromium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .browser import chromium_or_skip, launch, watched_page
from .conftest import Cli

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-25T09:00:00+00:00"
EXAMPLE = ROOT / "examples" / "second_no_access.json"
# A first no access visit on Wed 23 Dec 2026: five working days skip Christmas Day, Boxing
# Day (moved to Mon 28 Dec) and New Year's Day, so the appointment is due Mon 4 Jan 2027
# (north_lincs 6a; policies/tests/north_lincs/deadlines.yaml).
CHRISTMAS = {
    "case_id": "NL-XMAS",
    "child": {"date_of_birth": "2012-01-01"},
    "events": [{"at": "2026-12-23T10:00:00", "type": "home_visit", "outcome": "no_response"}],
}


def _page(cli: Cli, tmp_path: Path, case: Path = EXAMPLE, as_of: str = AS_OF) -> str:
    out = tmp_path / "report.html"
    result = cli("report", "--pack", "north_lincs", "--as-of", as_of, str(case), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return out.read_text(encoding="utf-8")


def test_the_page_has_every_part_and_nothing_from_outside(cli: Cli, tmp_path: Path) -> None:
    page = _page(cli, tmp_path)
    for part in ("Timeline", "Required actions", "Working days", "Patterns to watch",
                 "Closing the case", "MEDIUM risk", "Mon 30 Nov 2026 23:59"):  # fmt: skip
        assert part in page, part
    assert 'data-date="2026-11-30"' in page
    # self-contained: no scripts, stylesheets, images or links to fetch
    for outside in ("<script", "<link", "<img", "http://", "https://", "src="):
        assert outside not in page


def test_pack_and_case_text_is_escaped(cli: Cli, tmp_path: Path) -> None:
    case = tmp_path / "case.json"
    hostile = {**CHRISTMAS, "case_id": "<script>alert(1)</script>"}
    case.write_text(json.dumps(hostile), encoding="utf-8")
    page = _page(cli, tmp_path, case, "2026-12-24T09:00:00+00:00")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_jsonl_writes_a_page_a_case_an_index_and_names_bad_lines(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    result = cli("report", "--pack", "north_lincs", "--as-of", AS_OF, "--jsonl",
                 str(ROOT / "examples" / "cases.jsonl"), "-o", str(folder))  # fmt: skip
    lines = (ROOT / "examples" / "cases.jsonl").read_text(encoding="utf-8").splitlines()
    assert result.exit_code == 2  # a bad line is reported, not dropped
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "invalid line(s), not reported" in index and "line 3:" in index
    pages = sorted(p.name for p in folder.glob("*.html") if p.name != "index.html")
    assert len(pages) == len(lines) - 1  # line 3 has an outcome the contract does not have
    for name in pages:
        assert f'href="{name}"' in index


@pytest.mark.slow
def test_the_page_renders_in_chromium_with_the_right_dates_and_no_errors(
    cli: Cli, tmp_path: Path
) -> None:
    browser_path = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    case = tmp_path / "case.json"
    case.write_text(json.dumps(CHRISTMAS), encoding="utf-8")
    page_file = tmp_path / "report.html"
    page_file.write_text(_page(cli, tmp_path, case, "2026-12-24T09:00:00+00:00"), "utf-8")
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as driver:
        browser = launch(driver, browser_path)
        page = watched_page(browser, problems, requests)
        page.goto(page_file.as_uri())
        due = page.locator('tr.action[data-id="offer_further_appointment"] td.due-when')
        assert due.inner_text().startswith("Mon 4 Jan 2027 23:59")
        assert "5 working days" in due.inner_text()
        tier = page.locator("#tier")
        assert tier.inner_text() == "LOW risk" and tier.is_visible()

        def shade(day: str) -> str:
            cell = page.locator(f'td[data-date="{day}"]')
            return str(cell.evaluate("c => getComputedStyle(c).backgroundColor"))

        assert shade("2026-12-25") == shade("2026-12-28") == shade("2027-01-01")
        assert shade("2026-12-25") == "rgb(255, 216, 168)"  # bank holidays
        assert shade("2026-12-26") == "rgb(232, 232, 232)"  # a Saturday
        assert shade("2027-01-04") == "rgb(255, 205, 210)"  # the due day
        assert shade("2026-12-24") == "rgba(0, 0, 0, 0)"  # a working day: no shade
        title = page.locator('td[data-date="2026-12-25"]').get_attribute("title")
        assert title is not None and "Christmas Day" in title
        browser.close()
    assert problems == []
    assert requests == [page_file.as_uri()]  # nothing fetched from anywhere else

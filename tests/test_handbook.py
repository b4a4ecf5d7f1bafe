"""The handbook: every bundled pack, section by section, as HTML and Markdown, and in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from failedcontact import load_pack
from failedcontact.cli.handbook import scenario_folder, scenario_proofs
from failedcontact.source.locate import bundled_ids
from failedcontact.testing.scenarios import discover
from failedcontact.views.handbook import (
    Handbook,
    build_handbook,
    render_handbook_html,
    render_handbook_markdown,
)

from .browser import chromium_or_skip, launch, watched_page

ROOT = Path(__file__).resolve().parents[1]
UNCOVERED = """\
    - id: uncovered_bit
      title: A section <b>nothing</b> encodes
"""


def _book(pack_id: str) -> Handbook:
    pack = load_pack(ROOT / "policies" / f"{pack_id}.yaml")
    folder = scenario_folder(pack)
    assert folder is not None
    return build_handbook(pack.compiled, scenario_proofs(pack, discover(folder)))


def _with_uncovered_section(tmp_path: Path) -> Handbook:
    text = (ROOT / "policies" / "north_lincs.yaml").read_text(encoding="utf-8")
    text = text.replace("  sections:\n", "  sections:\n" + UNCOVERED, 1)
    path = tmp_path / "north_lincs.yaml"
    path.write_text(text, encoding="utf-8")
    return build_handbook(load_pack(path).compiled)


@pytest.mark.parametrize("pack_id", bundled_ids())
def test_every_section_is_there_in_the_source_order(pack_id: str) -> None:
    book = _book(pack_id)
    document = load_pack(ROOT / "policies" / f"{pack_id}.yaml").document
    assert [c.id for c in book.chapters] == [s.id for s in document.source.sections]
    page = render_handbook_html(book)
    markdown = render_handbook_markdown(book)
    positions = [page.index(f'data-section="{s.id}"') for s in document.source.sections]
    assert positions == sorted(positions)
    for section in document.source.sections:
        assert f"## {section.id}: " in markdown
    for rule in document.rules:
        assert f'data-id="{rule.id}"' in page
    # the bundled packs' scenarios prove every rule, duty and pattern
    assert book.unproven == ()
    assert "No scenario proves" not in page
    assert "Risk tiers and why" in page and "What closes a case" in page


def test_a_section_no_rule_covers_is_marked(tmp_path: Path) -> None:
    book = _with_uncovered_section(tmp_path)
    assert [c.id for c in book.uncovered] == ["uncovered_bit"]
    page = render_handbook_html(book)
    assert 'class="chapter state-not-covered" id="section-1" data-section="uncovered_bit"' in page
    assert "No rule covers this section, and the pack gives no reason why." in page
    assert "1 not covered by any rule" in page
    markdown = render_handbook_markdown(book)
    assert "## uncovered_bit: A section <b>nothing</b> encodes (not covered)" in markdown
    assert "**Not covered: no rule covers this section" in markdown


def test_pack_text_is_escaped_and_the_page_is_self_contained(tmp_path: Path) -> None:
    page = render_handbook_html(_with_uncovered_section(tmp_path))
    assert "<b>nothing</b>" not in page and "&lt;b&gt;nothing&lt;/b&gt;" in page
    for outside in ("<script", "<link", "<img", "http://", "https://", "src="):
        assert outside not in page
    assert "@media print" in page


def test_a_step_says_by_when_who_to_call_and_what_completes_it() -> None:
    page = render_handbook_html(_book("north_lincs"))
    assert "within 5 working days" in page
    assert "by the end of the fifth working day after the trigger&#39;s day" in page
    assert "Call North Lincolnshire Children&#39;s Services on 01724 296500/296555" in page
    assert "the event is a telephone call, and the outcome was answered" in page
    assert "immediately" in page and "0 working days" not in page


@pytest.mark.slow
@pytest.mark.parametrize("pack_id", bundled_ids())
def test_the_handbook_renders_in_chromium_and_prints(pack_id: str, tmp_path: Path) -> None:
    browser_path = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    book = _book(pack_id)
    page_file = tmp_path / "handbook.html"
    page_file.write_text(render_handbook_html(book), "utf-8")
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as driver:
        browser = launch(driver, browser_path)
        page = watched_page(browser, problems, requests)
        page.goto(page_file.as_uri())
        chapters = page.locator("section.chapter")
        assert chapters.count() == len(book.chapters)
        for index, chapter in enumerate(book.chapters):
            shown = chapters.nth(index)
            assert shown.get_attribute("data-section") == chapter.id
            assert shown.is_visible()
            assert shown.locator(".mark").first.inner_text() == chapter.state
        page.emulate_media(media="print")
        breaks = page.locator("section.chapter").first.evaluate(
            "c => getComputedStyle(c).breakBefore"
        )
        assert breaks == "page"
        pdf = page.pdf()
        assert pdf.startswith(b"%PDF")
        browser.close()
    assert problems == []
    assert requests == [page_file.as_uri()]  # nothing fetched from anywhere else

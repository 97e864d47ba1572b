"""The checks themselves, on small hand-written pages: each one finds what it is meant to find
and passes a page that meets it (so a green journey means something)."""

import pytest

from redwheel.browser_tests import checks
from redwheel.browser_tests.ui import PHONE

pytestmark = pytest.mark.browser

HEAD = '<meta name="viewport" content="width=device-width, initial-scale=1"><title>t</title>'

GOOD_ELDERLY = """<!doctype html><html lang="en"><head>{head}<style>
body { font-size: 20px; line-height: 1.5; margin: 0; }
p { margin: 0 0 40px; }
a, button, input { display: inline-block; min-width: 44px; min-height: 44px; font-size: 20px; }
</style></head><body data-elderly="on"><main>
<p>First paragraph with an <a href="#x">inline link</a> in the sentence.</p>
<p>Second paragraph.</p>
<button>Go</button> <label>Name <input name="n"></label>
</main></body></html>""".replace("{head}", HEAD)

BAD_ELDERLY = """<!doctype html><html lang="en"><head>{head}<style>
body { font-size: 20px; line-height: 1.5; margin: 0; }
p { margin: 0 0 10px; }
.small { font-size: 14px; }
.tight { line-height: 1.1; }
</style></head><body data-elderly="on"><main>
<p>First paragraph.</p>
<p class="small">Small print.</p>
<p class="tight">Tight lines.</p>
<button style="font-size:20px">Go</button>
<a href="#y" style="display:block;font-size:20px">A lone link</a>
</main></body></html>""".replace("{head}", HEAD)

ONE_LINE = """<!doctype html><html lang="en"><head>{head}<style>
body { margin: 0; } header { display: flex; height: 56px; align-items: center; }
nav.tabbar { position: fixed; bottom: 0; left: 0; right: 0; height: 56px; display: flex; }
</style></head><body><header class="topbar"><a href="/">Brand</a><button>Switch</button></header>
<main><div style="height:3000px">long</div></main>
<nav class="tabbar" aria-label="Tabs"><a href="/1">1</a><a href="/2">2</a><a href="/3">3</a>
<a href="/4">4</a></nav></body></html>""".replace("{head}", HEAD)

WRAPPED = """<!doctype html><html lang="en"><head>{head}<style>
body { margin: 0; } header a { display: inline-block; width: 150px; height: 40px; }
</style></head><body><header class="topbar"><a href="/">One</a><a href="/2">Two</a>
<a href="/3">Three</a><a href="/4">Four</a></header><main><div style="height:3000px">long</div>
</main><nav class="tabbar" aria-label="Tabs"><a href="/1">1</a></nav></body></html>""".replace(
    "{head}", HEAD
)


@pytest.fixture
def page(chromium):
    context = chromium.new_context(**PHONE.context_options)
    yield context.new_page()
    context.close()


def test_elderly_checks_pass_a_page_that_meets_them(page):
    page.set_content(GOOD_ELDERLY)
    assert checks.elderly(page) == []


def test_elderly_checks_list_every_offender(page):
    page.set_content(BAD_ELDERLY)
    problems = "\n".join(checks.elderly(page))
    assert 'p.small "Small print."' in problems and "14.0px" in problems
    assert 'p.tight "Tight lines."' in problems and "line height" in problems
    assert "paragraph spacing" in problems
    assert 'button "Go"' in problems and "touch target" in problems
    assert 'a "A lone link"' in problems


def test_elderly_checks_say_when_the_page_is_not_in_elderly_mode(page):
    page.set_content(GOOD_ELDERLY.replace('data-elderly="on"', 'data-elderly="off"'))
    assert checks.elderly(page) == ['elderly: <body data-elderly="off">, expected "on"']


def test_phone_frame_passes_a_one_line_header_and_a_fixed_tab_bar(page):
    page.set_content(ONE_LINE)
    assert checks.phone_frame(page) == []
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    assert checks.phone_frame(page) == []


def test_phone_frame_finds_a_wrapped_header_and_a_tab_bar_off_screen(page):
    page.set_content(WRAPPED)
    problems = "\n".join(checks.phone_frame(page))
    assert "header wraps to a second line" in problems
    assert "px tall (limit 64px)" in problems
    assert "is not within the 844px viewport" in problems
    assert "the tab bar has 1 links, expected 4" in problems


def test_axe_reports_serious_violations_with_rule_target_and_help(page):
    page.set_content(
        f'<!doctype html><html lang="en"><head>{HEAD}</head><body><main>'
        '<img src="data:," id="photo"><input id="unnamed"></main></body></html>'
    )
    problems = "\n".join(checks.axe(page))
    assert "axe critical image-alt" in problems and "#photo" in problems
    assert "label" in problems and "#unnamed" in problems
    assert "dequeuniversity.com" in problems

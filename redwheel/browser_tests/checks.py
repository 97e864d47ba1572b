"""What the browser measures on a page: axe-core violations, the elderly-mode metrics
(domain-rules §8) and the phone frame (a one-line header, the bottom bar in view).

Each check returns a list of problems as readable lines (empty: all is well), so a journey
can collect every problem of every page it visits and fail once with the whole list.
"""

from pathlib import Path

from django.conf import settings

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")

# Elderly mode thresholds (MIIT 2021 适老化, domain-rules §8; issue 15).
MIN_FONT_PX = 18
MIN_LINE_HEIGHT = 1.3  # × font size
MIN_PARAGRAPH_GAP = 1.3  # × line height
MIN_TARGET_PX = 44
# Header "one line" at 390 px: every visible item of the header sits on one row (no item starts
# below another item's bottom) and the header is at most this tall. 64 px is one 44 px touch
# target plus padding; the wrapped header of issue 15 was 169 px (three lines).
MAX_HEADER_PX = 64
MAX_HEADER_PX_ELDERLY = 88  # larger type and targets, still one row


def axe(page) -> list[str]:
    """Run axe-core (served from node_modules, never a CDN) on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
                targets: v.nodes.slice(0, 8).map(n => n.target.join(' ')),
                count: v.nodes.length,
            }));
        }"""
    )
    return [
        f"axe {v['impact']} {v['id']}: {v['help']} ({v['count']} nodes: "
        f"{'; '.join(v['targets'])}) {v['url']}"
        for v in result
        if v["impact"] in BLOCKING_IMPACTS
    ]


_ELDERLY_JS = """
([minFont, minLine, minGap, minTarget]) => {
  const out = {fonts: [], lines: [], gaps: [], targets: []};
  const shown = el => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    if (r.bottom + scrollY <= 0 || r.right + scrollX <= 0) return false;  // moved off the page
    return r.width >= 2 && r.height >= 2 && s.visibility !== 'hidden' && s.display !== 'none'
      && parseFloat(s.opacity) > 0 && !el.closest('[hidden],[aria-hidden="true"]');
  };
  const name = el => {
    let n = el.tagName.toLowerCase();
    if (el.id) n += '#' + el.id;
    if (el.classList.length) n += '.' + [...el.classList].join('.');
    const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim();
    return n + (text ? ' "' + text.replace(/\\s+/g, ' ').slice(0, 30) + '"' : '');
  };
  // One-line labels of controls and of navigation (tabs, menus): line spacing is for text
  // that runs over lines.
  const controls = 'button,select,textarea,input,option,summary,nav';
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !el || seen.has(el)) continue;
    seen.add(el);
    if (el.closest('script,style,noscript,template') || !shown(el)) continue;
    const s = getComputedStyle(el), size = parseFloat(s.fontSize);
    if (size < minFont - 0.05) out.fonts.push(name(el) + ' ' + size.toFixed(1) + 'px');
    if (el.closest(controls)) continue;
    const line = s.lineHeight === 'normal' ? 0 : parseFloat(s.lineHeight);
    if (line < minLine * size - 0.05)
      out.lines.push(name(el) + ' ' + (line ? (line / size).toFixed(2) : 'normal'));
  }
  for (const el of document.querySelectorAll('input:not([type=hidden]),select,textarea')) {
    if (!shown(el)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < minFont - 0.05) out.fonts.push(name(el) + ' ' + size.toFixed(1) + 'px');
  }
  for (const p of document.querySelectorAll('p')) {
    const next = p.nextElementSibling;
    if (!next || next.tagName !== 'P' || !shown(p) || !shown(next)) continue;
    const line = parseFloat(getComputedStyle(p).lineHeight) || 0;
    const gap = next.getBoundingClientRect().top - p.getBoundingClientRect().bottom;
    if (gap < minGap * line - 0.5)
      out.gaps.push(name(p) + ' gap ' + gap.toFixed(1) + 'px < ' + (minGap * line).toFixed(1));
  }
  const targets = 'a[href],button,input:not([type=hidden]),select,textarea,summary,[role=button]';
  for (const el of document.querySelectorAll(targets)) {
    if (!shown(el)) continue;
    let box = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    if (el.tagName === 'A' && s.display === 'inline') {
      // WCAG 2.5.8's inline exception: a link inside a sentence is sized by the text's lines.
      let block = el.parentElement;
      while (block && getComputedStyle(block).display === 'inline') block = block.parentElement;
      const around = block ? block.innerText.replace(el.innerText, '').trim() : '';
      if (around.length > 1) continue;
    }
    if (el.type === 'checkbox' || el.type === 'radio') {
      // A label that checks the box is part of its target.
      const label = el.closest('label')
        || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (label) {
        const l = label.getBoundingClientRect();
        const top = Math.min(box.top, l.top), bottom = Math.max(box.bottom, l.bottom);
        box = {width: Math.max(box.right, l.right) - Math.min(box.left, l.left),
               height: bottom - top};
      }
    }
    if (box.width < minTarget - 0.5 || box.height < minTarget - 0.5)
      out.targets.push(name(el) + ' ' + box.width.toFixed(0) + '×' + box.height.toFixed(0));
  }
  out.elderly = document.body.dataset.elderly || '';
  return out;
}
"""


def elderly(page) -> list[str]:
    """The elderly-mode metrics on every visible element of the page (offenders listed)."""
    found = page.evaluate(
        _ELDERLY_JS, [MIN_FONT_PX, MIN_LINE_HEIGHT, MIN_PARAGRAPH_GAP, MIN_TARGET_PX]
    )
    problems = []
    if found["elderly"] != "on":
        problems.append(f'elderly: <body data-elderly="{found["elderly"]}">, expected "on"')
    labels = {
        "fonts": f"text under {MIN_FONT_PX}px",
        "lines": f"line height under {MIN_LINE_HEIGHT}× font size",
        "gaps": f"paragraph spacing under {MIN_PARAGRAPH_GAP}× line height",
        "targets": f"touch target under {MIN_TARGET_PX}×{MIN_TARGET_PX}px",
    }
    for key, label in labels.items():
        if found[key]:
            problems.append(f"elderly: {label}: " + "; ".join(found[key][:12]))
    return problems


_FRAME_JS = """
() => {
  const header = document.querySelector('header.topbar');
  const bar = document.querySelector('nav.tabbar');
  const out = {header: null, items: [], bar: null, vh: innerHeight, vw: innerWidth};
  if (header) {
    const r = header.getBoundingClientRect();
    out.header = {top: r.top, height: r.height};
    for (const el of header.querySelectorAll('*')) {
      const s = getComputedStyle(el), b = el.getBoundingClientRect();
      // The header's leaf items: what a person sees as one thing (a link, a button, a text).
      if (b.width < 2 || b.height < 2 || s.visibility === 'hidden') continue;
      if (s.display === 'none') continue;
      if (el.closest('details:not([open]) > :not(summary)')) continue;
      const leaf = el.matches('a,button,select,input,summary,img,svg')
        || (el.children.length === 0 && el.textContent.trim());
      if (leaf && !el.parentElement.closest('a,button,summary,svg'))
        out.items.push({top: b.top, bottom: b.bottom, name: el.tagName.toLowerCase() + ' "'
          + (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 20) + '"'});
    }
  }
  if (bar) {
    const r = bar.getBoundingClientRect(), s = getComputedStyle(bar);
    out.bar = {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
               shown: s.display !== 'none' && s.visibility !== 'hidden' && r.height > 0,
               links: bar.querySelectorAll('a[href]').length};
  }
  return out;
}
"""


def phone_frame(page, *, elderly_on: bool = False) -> list[str]:
    """At phone width: the header is one line, the bottom tab bar is on screen."""
    found = page.evaluate(_FRAME_JS)
    problems = []
    header, bar = found["header"], found["bar"]
    limit = MAX_HEADER_PX_ELDERLY if elderly_on else MAX_HEADER_PX
    if header is None:
        problems.append("frame: no <header class=topbar>")
    else:
        if header["height"] > limit:
            problems.append(f"frame: header is {header['height']:.0f}px tall (limit {limit}px)")
        items = found["items"]
        if items:
            lowest_top = max(i["top"] for i in items)
            highest_bottom = min(i["bottom"] for i in items)
            if lowest_top >= highest_bottom:
                below = [i["name"] for i in items if i["top"] >= highest_bottom]
                problems.append(f"frame: header wraps to a second line ({', '.join(below[:6])})")
    if bar is None:
        problems.append("frame: no <nav class=tabbar>")
    elif not bar["shown"]:
        problems.append("frame: the tab bar is hidden")
    else:
        if bar["top"] < 0 or bar["bottom"] > found["vh"] + 0.5:
            problems.append(
                f"frame: the tab bar ({bar['top']:.0f}–{bar['bottom']:.0f}px) is not within "
                f"the {found['vh']}px viewport"
            )
        if bar["links"] < 4:
            problems.append(f"frame: the tab bar has {bar['links']} links, expected 4")
    return problems

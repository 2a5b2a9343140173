"""Installed from a wheel (not editable, run outside the source tree) peelqa finds its model registry,
calibrated threshold and force list: they ship as package data."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PROBE = """
import json, indexer
from indexer.forces import ForceRegistry
from indexer.model import calibration, registry_path, resolve_model
spec = resolve_model()
print(json.dumps({"package": indexer.__file__, "registry": str(registry_path()), "model": spec.name,
                  "sha256": spec.expected_sha256, "threshold": calibration(spec.name)["threshold"],
                  "forces": len(ForceRegistry.canonical().forces)}))
"""


@pytest.mark.model
def test_wheel_ships_the_model_registry(tmp_path):
    wheels, target, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Build from a copy: setuptools writes build/ and *.egg-info beside the sources.
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "index", "test-artifacts", "build", "*.egg-info", "__pycache__", "tests"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels), str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("peelqa-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEELQA_")}
    env["PYTHONPATH"] = str(target)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=elsewhere, env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    found = json.loads(out)
    assert found["package"].startswith(str(target)) and found["registry"].startswith(str(target))
    assert found["model"] == "all-MiniLM-L6-v2" and found["sha256"].startswith("53aa5117")
    registry = json.loads((ROOT / "indexer" / "models.json").read_text())
    assert found["threshold"] == registry["models"]["all-MiniLM-L6-v2"]["retrieval"]["hybrid"]["threshold"]
    assert found["forces"] >= 43  # the canonical force list ships too

"""The SAM template: cfn-lint clean, and `sam build` produces an arm64 `bootstrap` per function
(through cargo lambda, no Docker)."""

import subprocess

from harness import ROOT

FUNCTIONS = ["Request", "Check", "Cancel", "Search", "Control"]


def test_template_validates_with_lint():
    out = subprocess.run(["sam", "validate", "--lint", "--region", "eu-west-1"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "valid SAM Template" in out.stdout + out.stderr


def test_sam_build_makes_arm64_bootstraps():
    out = subprocess.run(["sam", "build", "--beta-features"], cwd=ROOT, capture_output=True, text=True, timeout=3000)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for name in FUNCTIONS:
        binary = ROOT / ".aws-sam" / "build" / f"{name}Function" / "bootstrap"
        header = binary.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", name
        assert int.from_bytes(header[18:20], "little") == 0xB7, f"{name}: not an aarch64 binary"

"""The real ``sops`` CLI for tests: encrypt fixtures the way users do, with age recipients.

The binary is built from the Go module proxy and cached by ``scripts/build-sops.sh`` (``make
test`` runs it; :func:`sops_binary` runs it too when the binary is missing).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-sops.sh"


@cache
def sops_binary() -> Path:
    """The cached sops binary, building it first when missing."""
    if not SCRIPT.is_file():
        raise RuntimeError("scripts/build-sops.sh is not next to the package: run from a checkout")
    out = subprocess.run([str(SCRIPT)], check=True, capture_output=True, text=True, timeout=1800)
    return Path(out.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class AgeKey:
    """A throw-away age key pair."""

    identity: str
    """``AGE-SECRET-KEY-1...``: what goes into the decryption Secret's ``*.agekey`` entry."""
    recipient: str
    """``age1...``: what sops encrypts for."""

    @classmethod
    def generate(cls) -> AgeKey:
        from pyrage import x25519  # noqa: PLC0415

        identity = x25519.Identity.generate()
        return cls(str(identity), str(identity.to_public()))


def _run(args: list[str], text: str, env: dict[str, str] | None = None) -> str:
    with tempfile.TemporaryDirectory(prefix="weir-sops-") as tmp:
        # sops looks for a .sops.yaml upwards from the working directory: start where there
        # is none, so only the flags count.
        path = Path(tmp) / "input.yaml"
        path.write_text(text)
        result = subprocess.run(
            [str(sops_binary()), *args, str(path)],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **(env or {})},
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"sops {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def encrypt(
    text: str,
    recipients: str | list[str],
    *,
    encrypted_regex: str | None = "^(data|stringData)$",
    extra: list[str] | None = None,
) -> str:
    """``sops --encrypt`` of a YAML document for age ``recipients`` (Flux's documented
    ``--encrypted-regex`` by default)."""
    names = [recipients] if isinstance(recipients, str) else recipients
    args = ["--encrypt", "--age", ",".join(names), "--input-type", "yaml", "--output-type", "yaml"]
    if encrypted_regex:
        args += ["--encrypted-regex", encrypted_regex]
    return _run([*args, *(extra or [])], text)


def decrypt(text: str, identity: str) -> str:
    """``sops --decrypt`` with an age identity (to compare weir's result with the CLI's)."""
    return _run(
        ["--decrypt", "--input-type", "yaml", "--output-type", "yaml"],
        text,
        env={"SOPS_AGE_KEY": identity},
    )

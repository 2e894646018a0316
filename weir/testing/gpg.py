"""Throw-away OpenPGP keys for tests: a private GnuPG home with one signing key.

key = GpgKey.generate(tmp_path / "gnupg", "Erigon Ops <ops@example.invalid>")
repo.sign_with(key)          # weir.testing.gitrepo: signed commits and tags
secret_data = {"ops.asc": key.public}
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


def _gpg(home: Path, *args: str) -> str:
    proc = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--no-tty", *args],
        capture_output=True,
        check=False,
        timeout=60,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"gpg {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode()


@dataclass(frozen=True)
class GpgKey:
    home: Path
    """The GnuPG home holding the secret key (``GNUPGHOME`` for git)."""
    fingerprint: str
    public: str
    """The ASCII-armoured public key: what a verification Secret holds."""

    @classmethod
    def generate(cls, home: Path, uid: str) -> GpgKey:
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        _gpg(home, "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
        listing = _gpg(home, "--with-colons", "--list-secret-keys")
        fingerprint = next(
            line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")
        )
        return cls(home, fingerprint, _gpg(home, "--armor", "--export", fingerprint))

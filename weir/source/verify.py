"""OpenPGP signatures of Git commits and tags (GitRepository ``spec.verify``), checked with GnuPG.

Flux verifies the commit a GitRepository resolves to (mode ``HEAD``), the tag it names
(``Tag``), or both (``TagAndHEAD``), against the ASCII-armoured public keys in the Secret of
``spec.verify.secretRef`` (every data entry is a key or a keyring). Here:

- :func:`verify_signature` imports the keys into a throw-away GnuPG home and checks one
  detached signature over one payload (the Git object without its signature). A good signature
  from one of those keys passes, whatever the key's owner trust. A bad, missing, expired or
  revoked signature, or one from any other key, fails with a message that says which;
- :func:`split_tag` separates an annotated tag object into payload and signature.

``gpg`` is the Debian package; nothing is written outside a private temporary directory.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from weir.source.errors import SourceError

PGP_BEGIN = b"-----BEGIN PGP SIGNATURE-----"
TIMEOUT = 30.0
_REFUSALS = {
    "BADSIG": "the signature does not match the content (the object was changed after signing)",
    "EXPKEYSIG": "the signing key has expired",
    "REVKEYSIG": "the signing key was revoked",
    "EXPSIG": "the signature has expired",
}


class VerificationError(SourceError):
    """A signature could not be verified (Flux's ``VerificationError`` reason)."""

    reason = "VerificationError"


@dataclass(frozen=True)
class Verified:
    """A good signature: the signing key's fingerprint (or key id)."""

    key: str


def _gpg() -> str:
    found = shutil.which("gpg")
    if found is None:
        raise VerificationError(
            "gpg is not installed: install GnuPG (Debian package 'gpg') to verify Git signatures"
        )
    return found


async def _run(args: list[str], home: Path, stdin: bytes | None = None) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        _gpg(),
        "--homedir",
        str(home),
        "--batch",
        "--no-tty",
        "--no-autostart",
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(TIMEOUT):
            out, err = await proc.communicate(stdin)
    except TimeoutError as e:
        proc.kill()
        await proc.wait()
        raise VerificationError(f"gpg did not finish within {TIMEOUT:g}s") from e
    code = proc.returncode if proc.returncode is not None else -1
    return code, out.decode(errors="replace") + err.decode(errors="replace")


async def verify_signature(
    payload: bytes, signature: str, keys: Iterable[str], *, what: str
) -> Verified:
    """Check ``signature`` (ASCII-armoured, detached) over ``payload`` with ``keys``.

    ``what`` names the object in messages (``commit 'abc123'``). Raises
    :class:`VerificationError`.
    """
    if not signature.strip():
        raise VerificationError(f"{what} is not signed")
    if not signature.lstrip().startswith(PGP_BEGIN.decode()):
        raise VerificationError(
            f"{what} is not signed with OpenPGP (an SSH or X.509 signature?): weir verifies "
            "OpenPGP signatures only for now"
        )
    armoured = "\n".join(k for k in keys if k.strip())
    if not armoured:
        raise VerificationError("the verification Secret holds no public keys")
    home = Path(tempfile.mkdtemp(prefix="weir-gpg-"))  # mode 0700, as GnuPG wants
    try:
        code, output = await _run(["--import"], home, armoured.encode())
        if code != 0 and "imported" not in output:
            raise VerificationError(
                "the verification Secret's keys cannot be imported: "
                + _last_line(output, "no valid OpenPGP data")
            )
        (home / "signature.asc").write_text(
            signature if signature.endswith("\n") else signature + "\n"
        )
        (home / "payload").write_bytes(payload)
        code, output = await _run(
            ["--status-fd", "1", "--verify", str(home / "signature.asc"), str(home / "payload")],
            home,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return _outcome(code, output, what)


def _outcome(code: int, output: str, what: str) -> Verified:
    status = [
        line[len("[GNUPG:] ") :].split()
        for line in output.splitlines()
        if line.startswith("[GNUPG:] ")
    ]
    words = {parts[0]: parts[1:] for parts in status if parts}
    for word, reason in _REFUSALS.items():
        if word in words:
            raise VerificationError(f"signature of {what} refused: {reason}")
    if "ERRSIG" in words or "NO_PUBKEY" in words:
        key = (words.get("NO_PUBKEY") or words.get("ERRSIG") or ["?"])[0]
        raise VerificationError(
            f"{what} is signed with key {key}, which is not in the verification Secret"
        )
    if code != 0 or "GOODSIG" not in words or "VALIDSIG" not in words:
        raise VerificationError(
            f"signature of {what} could not be verified: {_last_line(output, 'gpg failed')}"
        )
    return Verified(key=words["VALIDSIG"][0])


def _last_line(output: str, fallback: str) -> str:
    lines = [
        ln.strip() for ln in output.splitlines() if ln.strip() and not ln.startswith("[GNUPG:]")
    ]
    return lines[-1] if lines else fallback


def split_tag(raw: bytes, name: str) -> tuple[bytes, str]:
    """The annotated tag object ``name`` (``git cat-file tag``) as (payload, signature); the
    signature is "" when the tag is not signed. b"" (a lightweight tag) is an error."""
    if not raw:
        raise VerificationError(f"tag '{name}' is a lightweight tag: it has no signature to verify")
    at = raw.find(PGP_BEGIN)
    if at < 0:
        return raw, ""
    return raw[:at], raw[at:].decode(errors="replace")

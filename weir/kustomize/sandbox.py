"""Run kustomize confined to its workspace, bounded in memory, time and output.

Flux builds in-process on a file system rooted at the artifact. weir runs the real kustomize
(the pinned ``kustomize`` CLI, else ``kubectl kustomize``: :mod:`weir.kustomize.engine`) as a
child process, and confines that process with the kernel's **Landlock** LSM (Linux >= 5.13,
unprivileged: no namespaces, no setuid helper, allowed by the default seccomp profiles of
Docker and containerd):

- it may read (and write) only its workspace -- the private copy of what ``spec.path`` reaches
  (:mod:`weir.kustomize.workspace`) -- and read and execute only its own binary;
- with remote bases allowed (Flux's default) it may also read and execute the system's program
  directories (``/usr``, ``/lib*``, ``/bin``, ``/sbin``: ``git`` clones remote bases) and read the
  few ``/etc`` files DNS, TLS and git need; with ``--no-remote-bases`` it may not even connect to
  a TCP port (Landlock ABI >= 4);
- ``no_new_privs`` is set, the environment is empty but for ``PATH``, ``HOME``/``TMPDIR`` (in
  the workspace) and ``GOMEMLIMIT``, and the process dies with its parent (``PDEATHSIG``).

So a ``configMapGenerator`` reading ``/path/to/kubeconfig``, a plugin config reading
``../../etc/passwd`` or a ``file://`` base gets ``permission denied`` from the kernel, whatever
field names the file. :func:`support` says whether the kernel enforces it; ``mode`` decides what
happens when it does not (see :class:`Limits`).

Limits: the child is killed when its resident memory passes ``memory`` bytes (sampled every
20 ms from ``/proc``; ``GOMEMLIMIT`` makes Go collect harder before that), when it runs longer
than ``timeout`` seconds, or when it prints more than ``max_output`` bytes. Each becomes a
one-line :class:`~weir.kustomize.errors.BuildError`, never a Go stack trace.

Call :func:`run_kustomize` only from a single-threaded process (the build workers of
:mod:`weir.kustomize.pool`): the confinement is applied between ``fork`` and ``exec``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from weir.kustomize.engine import Engine, find_engine
from weir.kustomize.errors import BuildError

SandboxMode = Literal["auto", "required", "off"]

DEFAULT_MEMORY = 1 << 30
"""1 GiB: the memory limit of Flux's kustomize-controller Deployment, for one build here."""
DEFAULT_TIMEOUT = 300.0
"""5 minutes; a Kustomization's own ``spec.timeout`` is used when shorter."""
MAX_ERROR = 1000

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38

_EXECUTE = 1 << 0
_WRITE_FILE = 1 << 1
_READ_FILE = 1 << 2
_READ_DIR = 1 << 3
_FILE_ONLY = _EXECUTE | _WRITE_FILE | _READ_FILE | (1 << 14) | (1 << 15)
_READ = _READ_FILE | _READ_DIR
_SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
_SYSTEM_FILES = (
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
    "/etc/gitconfig",
    "/dev/null",
    "/dev/urandom",
)


@dataclass(frozen=True)
class Limits:
    """What one kustomize build may use (``weir run --build-*`` flags)."""

    memory: int = DEFAULT_MEMORY
    """Resident memory in bytes (``--build-memory-limit``)."""
    timeout: float = DEFAULT_TIMEOUT
    """Wall time in seconds (``--build-timeout``; ``spec.timeout`` when shorter)."""
    sandbox: SandboxMode = "auto"
    """``--build-sandbox``: ``auto`` confines kustomize with Landlock when the kernel supports it
    (and says so in a warning at start-up when it does not; the static check of
    :mod:`weir.kustomize.closure` still applies), ``required`` refuses to build without it,
    ``off`` never confines (for kernels that misbehave; not recommended)."""

    @property
    def max_output(self) -> int:
        """The most kustomize may print: an eighth of the memory limit (128 MiB by default);
        parsing more than that would take more memory than the build was allowed."""
        return max(self.memory // 8, 1 << 20)

    def within(self, timeout: float) -> Limits:
        """These limits with the timeout lowered to ``timeout`` (a Kustomization's own)."""
        return Limits(self.memory, min(self.timeout, timeout), self.sandbox)


# ------------------------------------------------------------------------------------ Landlock
class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@cache
def _libc() -> ctypes.CDLL:
    lib = ctypes.CDLL(None, use_errno=True)
    lib.syscall.restype = ctypes.c_long
    lib.prctl.restype = ctypes.c_int
    return lib


@cache
def landlock_abi() -> int:
    """The Landlock ABI version the kernel offers; 0 when it has none (or is not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(_SYS_CREATE_RULESET, None, 0, _CREATE_RULESET_VERSION)
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def support() -> str | None:
    """None when builds can be confined; otherwise why not (for the start-up warning)."""
    if sys.platform != "linux" or os.uname().machine not in ("x86_64", "aarch64"):
        return f"Landlock is only used on Linux x86_64/aarch64 (this is {sys.platform})"
    if landlock_abi() < 1:
        return "the kernel does not offer Landlock (Linux >= 5.13 with CONFIG_SECURITY_LANDLOCK)"
    return None


def _handled_fs(abi: int) -> int:
    access = (1 << 13) - 1
    if abi >= 2:
        access |= 1 << 13  # REFER
    if abi >= 3:
        access |= 1 << 14  # TRUNCATE
    if abi >= 5:
        access |= 1 << 15  # IOCTL_DEV
    return access


def _attr_size(abi: int) -> int:
    return 8 if abi < 4 else (16 if abi < 6 else 24)


class Ruleset:
    """A Landlock ruleset under construction; :meth:`restrict` applies it to the calling
    process (meant for the child between ``fork`` and ``exec``)."""

    def __init__(self, *, deny_network: bool) -> None:
        self.abi = landlock_abi()
        if self.abi < 1:
            raise OSError(errno.ENOSYS, "Landlock is not available")
        net = 0b11 if deny_network and self.abi >= 4 else 0  # BIND_TCP | CONNECT_TCP
        attr = _RulesetAttr(_handled_fs(self.abi), net, 0)
        fd = _libc().syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), _attr_size(self.abi), 0)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"landlock_create_ruleset: {os.strerror(err)}")
        self.fd = int(fd)
        self.handled = _handled_fs(self.abi)

    def allow(self, path: str, access: int) -> None:
        """Allow ``access`` beneath ``path`` (ignored when the path does not exist)."""
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return
        try:
            if not os.path.isdir(path):
                access &= _FILE_ONLY
            rule = _PathBeneath(access & self.handled, fd)
            if _libc().syscall(_SYS_ADD_RULE, self.fd, _RULE_PATH_BENEATH, ctypes.byref(rule), 0):
                err = ctypes.get_errno()
                raise OSError(err, f"landlock_add_rule {path}: {os.strerror(err)}")
        finally:
            os.close(fd)

    def restrict(self) -> None:
        """In the child: no new privileges, then the ruleset (exits 126 on failure, so that a
        build never runs unconfined by accident)."""
        lib = _libc()
        if lib.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            os._exit(126)
        if lib.syscall(_SYS_RESTRICT_SELF, self.fd, 0) != 0:
            os._exit(126)

    def close(self) -> None:
        os.close(self.fd)


def _ruleset(workspace: Path, binary: str, allow_remote: bool) -> Ruleset:
    rules = Ruleset(deny_network=not allow_remote)
    try:
        rules.allow(str(workspace), rules.handled)
        rules.allow(binary, _EXECUTE | _READ_FILE)
        if allow_remote:  # git (and its libraries, certificates, resolver configuration)
            for directory in _SYSTEM_DIRS:
                rules.allow(directory, _EXECUTE | _READ)
            for path in _SYSTEM_FILES:
                rules.allow(path, _READ)
        else:
            rules.allow("/dev/null", _READ | _WRITE_FILE)
    except BaseException:
        rules.close()
        raise
    return rules


# ------------------------------------------------------------------------------------ running
def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _human(size: int) -> str:
    return f"{size / (1 << 30):g} GiB" if size >= 1 << 30 else f"{size / (1 << 20):g} MiB"


_GO_PANIC = re.compile(r"^(?:fatal error: |panic: |runtime: )(.*)$", re.M)


def one_line_error(stderr: str, workspace: Path) -> str:
    """kustomize's error as one line: warnings dropped, the workspace cut out of paths, a Go
    crash reduced to its first line."""
    text = stderr.replace(f"{workspace}/", "").replace(str(workspace), ".")
    panic = _GO_PANIC.search(text)
    if panic:
        return f"kustomize crashed: {panic.group(1).strip()}"[:MAX_ERROR]
    lines = [
        ln.strip()
        for ln in text.splitlines()
        if ln.strip() and not ln.startswith("# Warning:") and not ln.startswith("\t")
    ]
    first = lines[0] if lines else "no error message"
    first = first.removeprefix("error: ").removeprefix("Error: ")  # kubectl's, the CLI's
    if "permission denied" in first:
        first += " (kustomize may only read files of the source artifact that spec.path reaches)"
    return first[:MAX_ERROR]


def run_kustomize(
    directory: Path,
    workspace: Path,
    *,
    limits: Limits,
    allow_remote: bool,
    engine: Engine | None = None,
) -> str:
    """kustomize's build of ``directory`` (inside ``workspace``), confined and bounded (see the
    module docstring); its YAML output. ``engine`` defaults to
    :func:`~weir.kustomize.engine.find_engine`. Raises :class:`BuildError` with one line."""
    engine = engine or find_engine()
    rules: Ruleset | None = None
    if limits.sandbox != "off":
        reason = support()
        if reason is None:
            rules = _ruleset(workspace, engine.binary, allow_remote)
        elif limits.sandbox == "required":
            raise BuildError(f"kustomize cannot be confined: {reason} (--build-sandbox=required)")
    home = workspace / ".home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "KUBECONFIG": "/dev/null",
        "GOMEMLIMIT": str(max(limits.memory * 3 // 4, 16 << 20)),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
    }

    def confine() -> None:  # runs in the child, between fork and exec
        _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if rules is not None:
            rules.restrict()

    argv = engine.argv(directory)
    try:
        proc = _start(argv, env, workspace, confine)
    finally:
        if rules is not None:
            rules.close()
    return _collect(proc, limits, workspace)


def _start(
    argv: list[str], env: dict[str, str], workspace: Path, confine: Callable[[], None]
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=str(workspace),
            preexec_fn=confine,  # noqa: PLW1509 - build workers are single-threaded
        )
    except OSError as e:
        raise BuildError(
            f"could not start kustomize ({argv[0]}): {e.strerror}; it must be a static "
            "binary the sandbox allows to run"
        ) from None


def _collect(proc: subprocess.Popen[bytes], limits: Limits, workspace: Path) -> str:
    assert proc.stdout is not None
    assert proc.stderr is not None
    out: list[bytes] = []
    err: list[bytes] = []
    size = 0
    problem = ""
    deadline = time.monotonic() + limits.timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, out)
        sel.register(proc.stderr, selectors.EVENT_READ, err)
        open_streams = 2
        while open_streams and not problem:
            for key, _ in sel.select(timeout=0.02):
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                key.data.append(chunk)
                if key.data is out:
                    size += len(chunk)
            if size > limits.max_output:
                problem = f"its output passed {_human(limits.max_output)}"
            elif _rss(proc.pid) > limits.memory:
                problem = (
                    f"it used more than {_human(limits.memory)} of memory "
                    "(--build-memory-limit); look for YAML anchors expanding without bound"
                )
            elif time.monotonic() > deadline:
                problem = (
                    f"it ran longer than {limits.timeout:g}s (spec.timeout or --build-timeout)"
                )
    if problem:
        proc.kill()
        proc.wait()
        raise BuildError(f"kustomize build stopped: {problem}")
    code = proc.wait()
    stderr = b"".join(err).decode(errors="replace")
    if code == 126 and not stderr:
        raise BuildError("kustomize could not be confined to its workspace (Landlock refused)")
    if code != 0:
        raise BuildError(f"kustomize build failed: {one_line_error(stderr, workspace)}")
    return b"".join(out).decode(errors="replace")

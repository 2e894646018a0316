"""A real Git SSH server for tests and demos, on asyncssh (a dev dependency, imported lazily),
bound to 127.0.0.1.

It has a fixed host key (generated per server, or passed in), accepts only the given public keys,
and runs ``git-upload-pack`` / ``git-receive-pack`` on repositories under ``root``. It runs its
own event loop in a background thread, so synchronous and asynchronous callers alike can use it::

    keys = make_ssh_keypair()
    with GitSshServer(tmp_path, authorized_keys=[keys.public_openssh]) as ssh:
        url = ssh.url("app.git")                 # ssh://git@127.0.0.1:<port>/app.git
        known_hosts = ssh.known_hosts            # "[127.0.0.1]:<port> ssh-ed25519 AAAA..."
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncssh


_SERVICES = {"git-upload-pack": "upload-pack", "git-receive-pack": "receive-pack"}


class GitSshServer:
    """Serve the bare repositories under ``root`` at ``ssh://git@127.0.0.1:<port>/<name>``."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        authorized_keys: Sequence[str],
        host_key: bytes | None = None,
    ) -> None:
        import asyncssh  # noqa: PLC0415 - a dev dependency, imported only when a server is made

        self.root = Path(root).absolute()
        self.root.mkdir(parents=True, exist_ok=True)
        self._authorized = "\n".join(authorized_keys) + "\n"
        self._host_key = (
            asyncssh.import_private_key(host_key)
            if host_key is not None
            else asyncssh.generate_private_key("ssh-ed25519")
        )
        self._port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._conns: set[asyncssh.SSHServerConnection] = set()
        self.commands: list[str] = []

    # ---------------------------------------------------------------------------- info
    @property
    def port(self) -> int:
        return self._port

    @property
    def host_public_key(self) -> str:
        """``ssh-ed25519 AAAA...`` of the server's host key."""
        return " ".join(self._host_key.export_public_key("openssh").decode().split()[:2])

    @property
    def known_hosts(self) -> str:
        """A ``known_hosts`` line for this server (what ``ssh-keyscan -p <port>`` would give)."""
        return f"[127.0.0.1]:{self._port} {self.host_public_key}\n"

    def url(self, name: str, user: str = "git") -> str:
        return f"ssh://{user}@127.0.0.1:{self._port}/{name}"

    # ----------------------------------------------------------------------- lifecycle
    def start(self) -> GitSshServer:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop.close()
        self._loop = None
        self._thread = None

    def __enter__(self) -> GitSshServer:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def _start(self) -> None:
        import asyncssh  # noqa: PLC0415

        owner = self

        class _Server(asyncssh.SSHServer):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                owner._conns.add(conn)

            def connection_lost(self, exc: Exception | None) -> None:
                pass

            def password_auth_supported(self) -> bool:
                return False

        self._acceptor = await asyncssh.create_server(
            _Server,
            "127.0.0.1",
            0,
            server_host_keys=[self._host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(self._authorized),
            process_factory=self._handle,
            encoding=None,
            allow_scp=False,
        )
        self._port = self._acceptor.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
        for conn in list(self._conns):
            conn.close()
            with contextlib.suppress(Exception):
                await conn.wait_closed()
        self._conns.clear()
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------------- sessions
    def _repo_path(self, raw: str) -> Path | None:
        rel = raw.lstrip("/")
        rel = rel.removeprefix("~/")
        candidate = (self.root / rel).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            return None
        return candidate if (candidate / "HEAD").exists() else None

    async def _handle(self, process: asyncssh.SSHServerProcess[bytes]) -> None:
        command = process.command or ""
        self.commands.append(command)
        try:
            argv = shlex.split(command)
        except ValueError:
            argv = []
        if len(argv) != 2 or argv[0] not in _SERVICES:
            process.stderr.write(b"fatal: only git-upload-pack and git-receive-pack are allowed\n")
            process.exit(128)
            return
        repo = self._repo_path(argv[1])
        if repo is None:
            process.stderr.write(
                f"fatal: '{argv[1]}' does not appear to be a git repository\n".encode()
            )
            process.exit(128)
            return
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
        }
        proto = (process.env or {}).get("GIT_PROTOCOL")
        if isinstance(proto, str | bytes) and proto:
            env["GIT_PROTOCOL"] = proto.decode() if isinstance(proto, bytes) else proto
        proc = await asyncio.create_subprocess_exec(
            "git",
            _SERVICES[argv[0]],
            str(repo),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        assert proc.stdin is not None
        assert proc.stdout is not None
        assert proc.stderr is not None
        stdin = proc.stdin

        async def pump_in() -> None:
            try:
                while data := await process.stdin.read(65536):
                    stdin.write(data)
                    await stdin.drain()
            except (OSError, Exception):  # client went away or the process exited
                pass
            finally:
                with contextlib.suppress(Exception):
                    stdin.close()

        async def pump_out(reader: asyncio.StreamReader, writer: Any) -> None:
            while data := await reader.read(65536):
                writer.write(data)
                with contextlib.suppress(Exception):
                    await writer.drain()

        feeder = asyncio.create_task(pump_in())
        try:
            await asyncio.gather(
                pump_out(proc.stdout, process.stdout), pump_out(proc.stderr, process.stderr)
            )
            code = await proc.wait()
        finally:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        process.exit(code)

"""Throw-away PostgreSQL clusters for tests and local runs, from the installed server binaries.

``PostgresCluster(data_dir)`` runs ``initdb`` once (trust authentication for the superuser
``benecomune``, locale C, UTF8) and ``pg_ctl start`` on 127.0.0.1 and a free port. Layout::

    data_dir/pgdata/        the cluster (PGDATA)
    data_dir/socket/        its Unix socket (a short folder under /tmp if this path is too long)
    data_dir/postgres.log   the server's log

Running as root. initdb, pg_ctl and postgres refuse to run as root, and this project's machines
(and CI) run everything as root. When the process is root, the PostgreSQL programs are started
in a new user namespace, ``unshare --user``: inside it the process is the unmapped user
"nobody", so PostgreSQL's check passes, while the kernel still sees the real (root) owner on
every file, so the data directory needs no chown and may sit under a root-only folder such as
pytest's tmp_path. No account is created and nothing outside data_dir changes. Where user
namespaces are not allowed (some containers), the fallback is ``runuser`` to the ``postgres``
account of the Debian package (or a system account ``benecomune-pg`` created with useradd),
which then owns data_dir; that requires data_dir's parent folders to be reachable by it.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

from devstack.ports import free_port

__all__ = ["PostgresCluster", "bindir"]

_FALLBACK_ACCOUNT = "benecomune-pg"


@functools.cache
def bindir() -> Path:
    """The folder with initdb, pg_ctl and postgres: ``pg_config --bindir``, else the newest
    ``/usr/lib/postgresql/<version>/bin`` (Debian), else wherever ``initdb`` is on PATH."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:  # on Debian it may come from libpq-dev alone, without a server beside it
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=False
        )
        if result.returncode == 0:
            candidates.append(Path(result.stdout.strip()))
    debian = [Path(path) for path in glob.glob("/usr/lib/postgresql/*/bin")]
    debian.sort(key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)
    candidates += reversed(debian)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) found; install postgresql")


@functools.cache
def _user_namespaces_work() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    result = subprocess.run(
        [unshare, "--user", "true"], capture_output=True, timeout=30, check=False
    )
    return result.returncode == 0


def _fallback_account() -> str:
    for name in ("postgres", _FALLBACK_ACCOUNT):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(
        [
            "useradd",
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            _FALLBACK_ACCOUNT,
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return _FALLBACK_ACCOUNT


class PostgresCluster:
    """One PostgreSQL server on 127.0.0.1 with a trusted superuser; start/stop or ``with``."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        user: str = "benecomune",
        fsync: bool = False,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self._port = port if port is not None else free_port()
        self._user = user
        self.fsync = fsync
        self.pgdata = self.data_dir / "pgdata"
        self.log_file = self.data_dir / "postgres.log"
        self.socket_dir = self.data_dir / "socket"
        if len(str(self.socket_dir)) > 80:  # a Unix socket path has at most 107 bytes
            self.socket_dir = Path(tempfile.gettempdir()) / f"devstack-pg-{self._port}"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._port

    @property
    def user(self) -> str:
        return self._user

    @property
    def dsn(self) -> str:
        """A libpq URI for the ``postgres`` database (see ``dsn_for``)."""
        return self.dsn_for("postgres")

    def dsn_for(self, dbname: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    # -- running the server programs ---------------------------------------------------------

    def _make_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0 and not _user_namespaces_work():
            account = _fallback_account()  # it creates pgdata and the log inside these
            shutil.chown(self.data_dir, account)
            shutil.chown(self.socket_dir, account)

    def _as_postgres(self, program: str, *args: str, timeout: float = 120) -> str:
        """Run a server program (initdb, pg_ctl), unprivileged when we are root (see top)."""
        command = [str(bindir() / program), *args]
        if os.geteuid() == 0:
            if _user_namespaces_work():
                command = ["unshare", "--user", *command]
            else:
                command = ["runuser", "-u", _fallback_account(), "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}"
            )
        return result.stdout

    def is_initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").is_file()

    def initdb(self) -> None:
        """Create the cluster unless it exists: trust auth for ``user``, locale C, UTF8."""
        if self.is_initialized():
            return
        self._make_dirs()
        self._as_postgres(
            "initdb",
            *("-D", str(self.pgdata), "-U", self.user, "--auth=trust"),
            *("--locale=C", "--encoding=UTF8", "--no-instructions"),
            *(() if self.fsync else ("--no-sync",)),
        )

    def start(self) -> None:
        """Initialise if needed and start the server; returns once it accepts connections."""
        self.initdb()
        self._make_dirs()
        options = [
            f"-p {self.port}",
            f"-k {self.socket_dir}",
            "-c listen_addresses=127.0.0.1",
            f"-c fsync={'on' if self.fsync else 'off'}",
        ]
        self._as_postgres(
            "pg_ctl",
            *("start", "-D", str(self.pgdata), "-l", str(self.log_file), "-w", "-t", "60"),
            *("-o", " ".join(options)),
            timeout=90,
        )

    def is_running(self) -> bool:
        if not self.is_initialized():
            return False
        try:
            self._as_postgres("pg_ctl", "status", "-D", str(self.pgdata), timeout=30)
        except RuntimeError:  # exit code 3: not running
            return False
        return True

    def stop(self, timeout: float = 60) -> None:
        """Stop the server (fast mode: open transactions are rolled back). No-op if stopped."""
        if not self.is_running():
            return
        seconds = str(max(1, int(timeout)))
        self._as_postgres(
            "pg_ctl",
            "stop",
            "-D",
            str(self.pgdata),
            "-m",
            "fast",
            "-w",
            "-t",
            seconds,
            timeout=timeout + 30,
        )

    def create_database(self, name: str) -> str:
        """Create a database owned by ``user``; return its DSN."""
        createdb = bindir() / "createdb"
        command = [str(createdb), "-h", self.host, "-p", str(self.port), "-U", self.user, name]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"createdb {name} failed:\n{result.stderr}")
        return self.dsn_for(name)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

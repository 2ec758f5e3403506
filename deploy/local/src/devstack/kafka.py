"""A single-node Apache Kafka broker (KRaft, broker and controller in one JVM) from Maven jars.

The jars listed by ``deploy/local/kafka/pom.xml`` are copied once into
``<repo>/.cache/kafka/<kafka-version>/libs`` by Maven's dependency plugin; the broker then runs
as ``java -cp libs/* kafka.Kafka server.properties`` in its own process group.

Layout of ``data_dir`` (it survives stop/start, so topics and messages do too)::

    server.properties   rewritten at every start (the client port may change)
    cluster.id          kept so that a restart reuses the formatted storage
    controller.port     kept: ``format --standalone`` records the controller's endpoint
    kafka.pid           the running broker's pid (= its process group id)
    kafka.jsa-pending   while the broker's first run writes the class-data-sharing archive
    kafka-logs/         log.dirs: partitions and the KRaft metadata log
    logs/               server.log (log4j2) and kafka.out (JVM stdout/stderr), unless log_dir

Command line: ``python -m devstack.kafka start|stop|status|fetch --data-dir DIR --port N``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from types import TracebackType
from typing import Self

from devstack.ports import free_port

__all__ = [
    "CACHE_ROOT",
    "KAFKA_PROJECT",
    "KafkaBroker",
    "fetch_jars",
    "kafka_version",
    "main",
]

# deploy/local/kafka next to this package's src/ folder (the package is installed editable).
KAFKA_PROJECT = Path(__file__).resolve().parents[2] / "kafka"
REPO_ROOT = KAFKA_PROJECT.parents[2]
CACHE_ROOT = REPO_ROOT / ".cache" / "kafka"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.11.0"

# Start-up of the broker JVM is mostly class loading. Measured on the 2-core machine (start to
# ready): ~2.7 s with G1 or the serial collector alike; a class-data-sharing archive of Kafka's
# classes (see KafkaBroker._class_data_sharing) takes it to ~1.5-2.3 s. C1-only JIT
# (-XX:TieredStopAtLevel=1) saves a further ~0.3 s but lowers throughput, so it is not used.
# The serial collector keeps the footprint small next to the services on two cores.
JVM_OPTIONS = (
    "-XX:+UseSerialGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)

_MARKER = "libs.complete"  # written after a successful fetch; holds the pom's sha256


def kafka_version(pom: Path = KAFKA_PROJECT / "pom.xml") -> str:
    """The ``kafka.version`` property pinned in the pom."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    element = ET.parse(pom).getroot().find("m:properties/m:kafka.version", ns)
    if element is None or not element.text:
        raise ValueError(f"{pom} has no <kafka.version> property")
    return element.text.strip()


def fetch_jars(cache_root: Path = CACHE_ROOT, pom: Path = KAFKA_PROJECT / "pom.xml") -> Path:
    """Copy the broker's jars into ``cache_root/<version>/libs`` once; return that folder.

    A marker file holding the pom's hash is written after Maven succeeded, so later calls
    return at once, and a changed pom fetches again. A file lock serialises concurrent callers.
    """
    version_dir = cache_root / kafka_version(pom)
    libs = version_dir / "libs"
    marker = version_dir / _MARKER
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    if marker.is_file() and marker.read_text().strip() == digest:
        return libs
    version_dir.mkdir(parents=True, exist_ok=True)
    with (version_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file() and marker.read_text().strip() == digest:
            return libs
        marker.unlink(missing_ok=True)
        for archive in version_dir.glob("kafka-*.jsa"):  # made from the old jars
            archive.unlink()
        shutil.rmtree(libs, ignore_errors=True)
        mvn = shutil.which("mvn")
        if mvn is None:
            raise RuntimeError("Maven (mvn) is not on PATH: it is needed once to fetch Kafka")
        command = [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            f"{DEPENDENCY_PLUGIN}:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"fetching the Kafka jars failed:\n{result.stdout}{result.stderr}")
        marker.write_text(digest + "\n")
    return libs


def _java() -> Path:
    java_home = os.environ.get("JAVA_HOME")
    java = Path(java_home) / "bin" / "java" if java_home else shutil.which("java")
    if java is None:
        raise RuntimeError("java is not on PATH (Java 17 or newer is needed)")
    return Path(java).resolve()


def _new_cluster_id() -> str:
    # What `kafka-storage.sh random-uuid` prints: a random UUID, base64url without padding;
    # Kafka never hands out ids that start with "-" (they look like command-line options).
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed by the broker")
        data += chunk
    return bytes(data)


def _live_brokers(host: str, port: int, timeout: float) -> int:
    """Send a Metadata v4 request (v0-v3 are gone in Kafka 4) and count the brokers listed.

    A broker lists itself only once it is registered and unfenced, which is when topics can
    be created and messages produced.
    """
    client_id = b"devstack"
    header = struct.pack(">hhih", 3, 4, 1, len(client_id)) + client_id  # Metadata v4, corr 1
    body = struct.pack(">ib", -1, 0)  # all topics (null array), allow_auto_topic_creation=false
    request = header + body
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _recv_exactly(sock, 4))
        response = _recv_exactly(sock, size)
    correlation_id, _throttle_ms, brokers = struct.unpack_from(">iii", response)
    if correlation_id != 1:
        raise ConnectionError(f"unexpected correlation id {correlation_id}")
    return int(brokers)


def _alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting for its parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    return "\n".join(text.splitlines()[-lines:])


class KafkaBroker:
    """One KRaft node acting as broker and controller, on 127.0.0.1.

    ``with KafkaBroker(tmp, port=free_port()) as broker:`` starts it, waits until it answers a
    metadata request, and stops it on exit. ``start()`` fetches the jars and formats the storage
    first when needed.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int = 9092,
        controller_port: int | None = None,
        heap: str = "512m",
        log_dir: Path | None = None,
        cache_root: Path = CACHE_ROOT,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.heap = heap
        self.log_dir = Path(log_dir).resolve() if log_dir else self.data_dir / "logs"
        self.cache_root = cache_root
        self._requested_controller_port = controller_port
        self._process: subprocess.Popen[bytes] | None = None

    # -- paths and properties ------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def server_properties(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    @property
    def kafka_logs(self) -> Path:
        return self.data_dir / "kafka-logs"

    @property
    def controller_port(self) -> int:
        """Chosen once (the argument, or a free port) and kept in ``data_dir/controller.port``."""
        stored = self.data_dir / "controller.port"
        if stored.is_file():
            port = int(stored.read_text())
            requested = self._requested_controller_port
            if requested is not None and requested != port:
                raise ValueError(f"{self.data_dir} was formatted with controller port {port}")
            return port
        port = self._requested_controller_port or free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        stored.write_text(f"{port}\n")
        return port

    def cluster_id(self) -> str:
        stored = self.data_dir / "cluster.id"
        if not stored.is_file():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            stored.write_text(_new_cluster_id() + "\n")
        return stored.read_text().strip()

    def properties(self) -> dict[str, str]:
        cport = self.controller_port
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{cport}",
            "controller.listener.names": "CONTROLLER",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{cport}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.kafka_logs),
            "num.partitions": "4",
            "auto.create.topics.enable": "false",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
        }

    # -- lifecycle ---------------------------------------------------------------------------------

    def fetch_jars(self) -> Path:
        return fetch_jars(self.cache_root)

    def _java(self, main_class: str, *args: str, extra: tuple[str, ...] = ()) -> list[str]:
        classpath = str(self.fetch_jars() / "*")
        return [str(_java()), *JVM_OPTIONS, *extra, "-cp", classpath, main_class, *args]

    def _class_data_sharing(self) -> tuple[str, ...]:
        """JVM options that use the jars' class-data-sharing archive, or record it at exit.

        The JVM writes the archive when it exits cleanly; each first run writes its own file,
        which ``stop()`` moves into place, so concurrent brokers never share a half-written one.
        """
        # An archive only fits the JVM build and options that wrote it: they name it.
        java = _java()
        key = f"{java}|{java.stat().st_mtime_ns}|{' '.join(JVM_OPTIONS)}"
        name = f"kafka-{hashlib.sha256(key.encode()).hexdigest()[:12]}.jsa"
        archive = self.fetch_jars().parent / name
        if archive.is_file():
            return (f"-XX:SharedArchiveFile={archive}",)
        pending = archive.with_name(f"{name}.{uuid.uuid4().hex}.tmp")
        (self.data_dir / "kafka.jsa-pending").write_text(f"{pending}\n")
        return (f"-XX:ArchiveClassesAtExit={pending}",)

    def _keep_class_data_sharing(self, clean_exit: bool) -> None:
        note = self.data_dir / "kafka.jsa-pending"
        if not note.is_file():
            return
        pending = Path(note.read_text().strip())
        if clean_exit and pending.is_file():
            pending.replace(pending.with_suffix("").with_suffix(""))  # drop .<uuid>.tmp
        pending.unlink(missing_ok=True)
        note.unlink()

    def _logging_options(self) -> tuple[str, ...]:
        config = KAFKA_PROJECT / "log4j2.properties"
        return (f"-Dlog4j2.configurationFile={config}", f"-Dkafka.logs.dir={self.log_dir}")

    def ensure_formatted(self) -> None:
        """Write server.properties and format the storage unless it is formatted already."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        text = "".join(f"{key}={value}\n" for key, value in self.properties().items())
        self.server_properties.write_text(text)
        if (self.kafka_logs / "meta.properties").is_file():
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        command = self._java(
            "kafka.tools.StorageTool",
            *("format", "--standalone", "-t", self.cluster_id(), "-c", str(self.server_properties)),
            extra=("-Xmx256m", *self._logging_options()),
        )
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            output = result.stdout + result.stderr
            raise RuntimeError(f"formatting {self.kafka_logs} failed:\n{output}")

    def start(self) -> None:
        """Spawn the broker in its own process group; returns at once (see ``wait_ready``)."""
        if self.is_running():
            raise RuntimeError(f"a broker already runs for {self.data_dir} (pid {self.pid})")
        self.ensure_formatted()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        command = self._java(
            "kafka.Kafka",
            str(self.server_properties),
            extra=(
                f"-Xms{self.heap}",
                f"-Xmx{self.heap}",
                *self._logging_options(),
                *self._class_data_sharing(),
            ),
        )
        with (self.log_dir / "kafka.out").open("ab") as out:
            self._process = subprocess.Popen(
                command,
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own session and process group: stop() signals it all
            )
        self.pid_file.write_text(f"{self._process.pid}\n")

    @property
    def pid(self) -> int | None:
        """The running broker's pid, from this object or from the pid file; None if stopped."""
        if self._process is not None:
            return self._process.pid if self._process.poll() is None else None
        try:
            pid = int(self.pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        try:  # a pid file can outlive its process, and pids are reused: check the command line
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        return pid if str(self.server_properties).encode() in cmdline else None

    def is_running(self) -> bool:
        return self.pid is not None

    def _log_tail(self) -> str:
        return (
            f"--- {self.log_dir / 'kafka.out'}\n{_tail(self.log_dir / 'kafka.out')}\n"
            f"--- {self.log_dir / 'server.log'}\n{_tail(self.log_dir / 'server.log')}"
        )

    def wait_ready(self, timeout: float = 60) -> None:
        """Return once the broker answers a metadata request listing itself.

        Raises RuntimeError with the end of its logs if the process dies first, TimeoutError
        if it is not ready within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            if not self.is_running():
                raise RuntimeError(f"the Kafka broker exited during start-up\n{self._log_tail()}")
            with contextlib.suppress(OSError, struct.error):
                if _live_brokers("127.0.0.1", self.port, timeout=2) > 0:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"Kafka not ready after {timeout} s\n{self._log_tail()}")
            time.sleep(0.1)  # between connection attempts

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the broker's process group (a clean shutdown), SIGKILL it after ``timeout``."""
        pid = self.pid
        clean_exit = False
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            clean_exit = self._wait_exit(pid, timeout)
            if not clean_exit:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                self._wait_exit(pid, 10)
        self._keep_class_data_sharing(clean_exit)
        self._process = None
        self.pid_file.unlink(missing_ok=True)

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        if self._process is not None:  # our child: wait() also reaps it
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        deadline = time.monotonic() + timeout
        while _alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def __enter__(self) -> Self:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.kafka", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status", "fetch"])
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "var" / "kafka")
    parser.add_argument("--port", type=int, default=9092)
    parser.add_argument("--controller-port", type=int)
    parser.add_argument("--heap", default="512m")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait (start/stop)")
    args = parser.parse_args(argv)
    broker = KafkaBroker(args.data_dir, args.port, args.controller_port, args.heap)
    if args.command == "fetch":
        print(broker.fetch_jars())
    elif args.command == "start":
        broker.start()
        try:
            broker.wait_ready(args.timeout)
        except BaseException:
            broker.stop()
            raise
        print(f"Kafka {kafka_version()} ready on {broker.bootstrap} (pid {broker.pid})")
    elif args.command == "stop":
        broker.stop(args.timeout)
    else:
        running = broker.is_running()
        print(f"running (pid {broker.pid})" if running else "stopped")
        return 0 if running else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())

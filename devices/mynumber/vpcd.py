"""The card side of vsmartcard's vpcd protocol (handbook mynumber-card.md §7.2).

vpcd (the pcscd driver) listens on TCP; the virtual card connects to it: a connection is a card
on the reader, closing it takes the card away. Every message is a 2-byte big-endian length and
a payload. A 1-byte payload is a control code: ``00`` power off, ``01`` power on, ``02`` reset
(no reply), ``04`` get ATR (reply: the framed ATR, at any time, in any state); longer payloads
are command APDUs, each answered with one framed response APDU.

``TCP_QUICKACK`` is set before every receive: without it delayed ACKs cost ~48 ms per APDU on
loopback (Linux clears the flag after each ACK, so it must be set again every time).

Sockets use 0.2 s timeouts so that ``stop()``, ``remove()`` and ``insert()`` take effect
within that time; ``stop()`` joins the thread.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from devices.mynumber.emulator import CardProfile, Faults, VirtualCard

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 35963  # 0x8C7B: "Virtual PCD 00 00"
REINSERT_PAUSE_S = 1.0
POLL_S = 0.2  # socket timeout and connect retry period

CTRL_POWER_OFF = 0x00
CTRL_POWER_ON = 0x01
CTRL_RESET = 0x02
CTRL_GET_ATR = 0x04


class _Closed(Exception):
    """The connection is gone (peer closed, error) or must be given up (stop, removal)."""


def _quickack(sock: socket.socket) -> None:
    option = getattr(socket, "TCP_QUICKACK", None)
    if option is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, option, 1)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def frame(payload: bytes) -> bytes:
    """2-byte big-endian length + payload."""
    if len(payload) > 0xFFFF:
        raise ValueError("vpcd frames carry at most 65535 bytes")
    return len(payload).to_bytes(2, "big") + payload


class VpcdCardServer:
    """A ``VirtualCard`` on a vpcd reader slot (TCP client of vpcd).

    The card starts out inserted. ``remove()`` closes the connection and keeps the card away;
    ``insert()`` lets it connect again. After the peer (vpcd) closes the connection, the
    server reconnects (every 0.2 s while nobody listens), unless ``reconnect`` is False, in
    which case ``run`` returns.

    With ``profile_path``, the profile is saved there (atomically) after each change of the
    PIN retry counter, so the counter survives a restart of the emulator.
    """

    def __init__(
        self,
        profile: CardProfile,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        faults: Faults | None = None,
        profile_path: Path | None = None,
        reconnect: bool = True,
        on_counter_change: Callable[[int], None] | None = None,
    ) -> None:
        self.profile = profile
        self.host = host
        self.port = port
        self.faults = faults or Faults()
        self.profile_path = profile_path
        self.reconnect = reconnect
        self._on_counter_change = on_counter_change
        self.card = VirtualCard(
            profile, on_counter_change=self._counter_changed, faults=self.faults
        )
        #: APDUs received over all connections (what Faults' indices count)
        self.apdus_received = 0
        #: successful connections to vpcd so far
        self.connections = 0
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._left_at = -REINSERT_PAUSE_S  # when the card last left the reader
        self._inserted = threading.Event()
        self._inserted.set()
        self._connected = threading.Event()
        self._disconnected = threading.Event()
        self._disconnected.set()
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None

    @classmethod
    def from_file(
        cls,
        profile_path: Path,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        faults: Faults | None = None,
        reconnect: bool = True,
    ) -> VpcdCardServer:
        """Load the profile (ProfileError if unusable); counter changes are saved back to it."""
        profile = CardProfile.load(profile_path)
        return cls(
            profile,
            host=host,
            port=port,
            faults=faults,
            profile_path=Path(profile_path),
            reconnect=reconnect,
        )

    # --- persistence ---------------------------------------------------------------------
    def _counter_changed(self, tries: int) -> None:
        if self.profile_path is not None:
            try:
                self.profile.save(self.profile_path)
            except OSError:
                log.exception("could not save the card profile to %s", self.profile_path)
        if self._on_counter_change is not None:
            self._on_counter_change(tries)

    # --- card on / off the reader ---------------------------------------------------------
    @property
    def inserted(self) -> bool:
        return self._inserted.is_set()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float = 5.0) -> bool:
        return self._connected.wait(timeout)

    def wait_disconnected(self, timeout: float = 5.0) -> bool:
        return self._disconnected.wait(timeout)

    def remove(self, timeout: float = 2.0) -> None:
        """Take the card off the reader: close the connection and stay away until insert().
        Waits (up to ``timeout``) until the connection is closed when called from another
        thread than the server's."""
        self._inserted.clear()
        self._shutdown_socket()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._disconnected.wait(timeout)

    def insert(self) -> None:
        """Put the card (back) on the reader: the server connects again."""
        self._inserted.set()

    def _shutdown_socket(self) -> None:
        with self._lock:
            sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv

    # --- thread ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the card server is already running")
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self.run, args=(self._stop,), name=f"vpcd-card-{self.port}"
        )
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        if self._stop is not None:
            self._stop.set()
        self._shutdown_socket()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError("the card server thread did not stop")
            self._thread = None

    # --- serving --------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Connect to vpcd and serve until ``stop`` is set (or the connection closes when
        ``reconnect`` is False)."""
        while not stop.is_set():
            if not self._inserted.is_set():
                self._wait_inserted(stop)
                continue
            # vpcd notices a closed connection only at its next presence poll (0.4 s);
            # reconnecting sooner leaves pcscd believing the slot is empty
            pause = self._left_at + REINSERT_PAUSE_S - time.monotonic()
            if pause > 0 and stop.wait(pause):
                continue
            sock = self._connect()
            if sock is None:
                stop.wait(POLL_S)
                continue
            with self._lock:
                if stop.is_set() or not self._inserted.is_set():
                    _close(sock)
                    continue
                self._sock = sock
                self._disconnected.clear()
            self.connections += 1
            self.card.power_off()  # a card just put on the reader: nothing selected/verified
            self._connected.set()
            log.debug("virtual card connected to vpcd at %s:%d", self.host, self.port)
            try:
                outcome = self._serve(sock, stop)
            except _Closed:
                if stop.is_set():
                    outcome = "stop"
                elif not self._inserted.is_set():
                    outcome = "removed"
                else:
                    outcome = "closed"
            finally:
                self._connected.clear()
                with self._lock:
                    self._sock = None
                _close(sock)
                self.card.power_off()
                self._left_at = time.monotonic()
                self._disconnected.set()
            log.debug("virtual card connection ended: %s", outcome)
            if outcome == "closed":
                if not self.reconnect:
                    return
                stop.wait(POLL_S)  # vpcd went away: do not spin while it restarts

    def _wait_inserted(self, stop: threading.Event) -> None:
        while not stop.is_set() and not self._inserted.wait(POLL_S):
            pass

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=POLL_S)
        except OSError:
            return None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(POLL_S)
        except OSError:
            sock.close()
            return None
        return sock

    def _serve(self, sock: socket.socket, stop: threading.Event) -> str:
        """Serve one connection; returns why it ended: stop, removed, dropped or closed."""
        while True:
            length = int.from_bytes(self._recv_exact(sock, 2, stop), "big")
            payload = self._recv_exact(sock, length, stop)
            if len(payload) == 1:
                self._control(sock, payload[0])
                continue
            if not payload:
                continue
            self.apdus_received += 1
            index = self.apdus_received
            if self.faults.remove_at_apdu == index:
                log.debug("fault: the card leaves at APDU %d", index)
                self._inserted.clear()
                return "removed"
            if self.faults.drop_connection_at == index:
                log.debug("fault: connection dropped at APDU %d", index)
                return "dropped"
            response = self.card.process(payload)
            if self.faults.delay_s > 0 and stop.wait(self.faults.delay_s):
                return "stop"
            if stop.is_set() or not self._inserted.is_set():
                return "stop" if stop.is_set() else "removed"
            self._send(sock, frame(response))

    def _control(self, sock: socket.socket, code: int) -> None:
        if code == CTRL_GET_ATR:
            self._send(sock, frame(self.card.atr))
        elif code == CTRL_POWER_OFF:
            self.card.power_off()
        elif code == CTRL_POWER_ON:
            self.card.power_on()
        elif code == CTRL_RESET:
            self.card.reset()
        else:
            log.debug("unknown vpcd control code %02X ignored", code)

    def _recv_exact(self, sock: socket.socket, size: int, stop: threading.Event) -> bytes:
        """MSG_WAITALL semantics, but checking stop/removal every 0.2 s."""
        buf = bytearray()
        while len(buf) < size:
            if stop.is_set() or not self._inserted.is_set():
                raise _Closed()
            _quickack(sock)
            try:
                chunk = sock.recv(size - len(buf))
            except TimeoutError:
                continue
            except OSError:
                raise _Closed() from None
            if not chunk:
                raise _Closed()
            buf += chunk
        return bytes(buf)

    def _send(self, sock: socket.socket, data: bytes) -> None:
        try:
            sock.sendall(data)
        except OSError:
            raise _Closed() from None


def serve(
    profile_path: Path,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    faults: Faults | None = None,
) -> None:
    """Serve the card of ``profile_path`` to vpcd until Ctrl-C or SIGTERM. The PIN retry
    counter is written back to the profile file whenever it changes."""
    server = VpcdCardServer.from_file(Path(profile_path), host=host, port=port, faults=faults)
    stop = threading.Event()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_sigterm) if in_main else None
    log.info("virtual My Number card for vpcd at %s:%d", host, port)
    try:
        server.run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        if in_main and previous is not None:
            signal.signal(signal.SIGTERM, previous)

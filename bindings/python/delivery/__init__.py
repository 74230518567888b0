"""libdelivery from Python: ctypes over the installed libdelivery.so.1, no compiled extension.

    from delivery import Terminal

    with Terminal("/etc/delivery/deliveryPluginConfig.xml", data_dir="/tmp/terminal") as t:
        for event in t.events(timeout=30):
            if event["event"] == "registered":
                break
        reply = t.request({"cmd": "list"})
        print(reply["orders"])

The requests and events are the library's (include/delivery/delivery.h, docs/api.md): requests
are dicts such as {"cmd": "confirm", "orderId": "..."}, replies and events come back as dicts.
The library runs on a thread of its own; replies and events arrive on it and are handed over
through thread-safe queues, or to the on_event callback (which then runs on that thread).

DELIVERY_LIBRARY in the environment names the library to load (a build tree's
build/libdelivery.so.1); by default the dynamic linker finds libdelivery.so.1.
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import queue
import threading
import time
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Union

__all__ = [
    "DeliveryError",
    "Terminal",
    "doctor",
    "doctor_format",
    "library_version",
    "LOG_ERROR",
    "LOG_WARN",
    "LOG_INFO",
    "LOG_DEBUG",
]

Json = Dict[str, Any]
EventCallback = Callable[[Json], None]
LogCallback = Callable[[int, str], None]

LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG = 0, 1, 2, 3

# include/delivery/delivery.h: DLV_OPTIONS_VERSION, DLV_DOCTOR_OPTIONS_VERSION,
# include/delivery/errors.h: DLV_ERROR_MESSAGE_MAX.
_OPTIONS_VERSION = 1
_DOCTOR_OPTIONS_VERSION = 1
_ERROR_MESSAGE_MAX = 512

_EVENT_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)
_REPLY_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)
_LOG_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
_NOTIFY_CB = ctypes.CFUNCTYPE(
    ctypes.c_int,
    ctypes.c_void_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
)


class _Options(ctypes.Structure):
    """struct dlv_options, field by field (include/delivery/delivery.h)."""

    _fields_ = [
        ("version", ctypes.c_int),
        ("config_path", ctypes.c_char_p),
        ("front_config_path", ctypes.c_char_p),
        ("data_dir", ctypes.c_char_p),
        ("terminal_name", ctypes.c_char_p),
        ("loop", ctypes.c_void_p),
        ("on_event", _EVENT_CB),
        ("event_arg", ctypes.c_void_p),
        ("on_log", _LOG_CB),
        ("log_arg", ctypes.c_void_p),
        ("log_level", ctypes.c_int),
        ("receipt_printer", ctypes.c_char_p),
        ("a4_printer", ctypes.c_char_p),
        ("regular_numbers_first", ctypes.c_int64),
        ("regular_numbers_last", ctypes.c_int64),
        ("long_poll_seconds", ctypes.c_int),
        ("utc_offset_minutes", ctypes.c_int),
        ("on_notify", _NOTIFY_CB),
        ("notify_arg", ctypes.c_void_p),
        ("cafe_address", ctypes.c_char_p),
    ]


class _DoctorOptions(ctypes.Structure):
    """struct dlv_doctor_options (include/delivery/delivery.h)."""

    _fields_ = [
        ("version", ctypes.c_int),
        ("config_path", ctypes.c_char_p),
        ("front_config_path", ctypes.c_char_p),
        ("data_dir", ctypes.c_char_p),
        ("receipt_printer", ctypes.c_char_p),
        ("a4_printer", ctypes.c_char_p),
        ("timeout_ms", ctypes.c_long),
    ]


class _Error(ctypes.Structure):
    """struct dlv_error (include/delivery/errors.h)."""

    _fields_ = [("code", ctypes.c_int), ("message", ctypes.c_char * _ERROR_MESSAGE_MAX)]


class DeliveryError(Exception):
    """A libdelivery call failed: `code` is the negative dlv_err, `name` its name (ECONFIG)."""

    def __init__(self, code: int, message: str = "") -> None:
        lib = _library()
        self.code = code
        self.name = lib.dlv_err_name(code).decode()
        text = message or lib.dlv_strerror(code).decode()
        super().__init__(f"{self.name}: {text}")


_lib: Optional[ctypes.CDLL] = None
_lib_lock = threading.Lock()


def _library() -> ctypes.CDLL:
    """Loads libdelivery once and declares the signatures used here."""
    global _lib
    with _lib_lock:
        if _lib is not None:
            return _lib
        lib = ctypes.CDLL(os.environ.get("DELIVERY_LIBRARY") or "libdelivery.so.1")
        c_void_p, c_char_p, c_int = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        signatures = {
            # Strings the caller frees come back as c_void_p, so the pointer survives for dlv_free.
            "dlv_free": (None, [c_void_p]),
            "dlv_version_string": (c_char_p, []),
            "dlv_version_hex": (ctypes.c_uint, []),
            "dlv_strerror": (c_char_p, [c_int]),
            "dlv_err_name": (c_char_p, [c_int]),
            "dlv_ctx_create": (
                c_int,
                [ctypes.POINTER(_Options), ctypes.POINTER(c_void_p), ctypes.POINTER(_Error)],
            ),
            "dlv_ctx_start": (c_int, [c_void_p]),
            "dlv_ctx_request": (c_int, [c_void_p, c_char_p, _REPLY_CB, c_void_p]),
            "dlv_ctx_stop": (c_int, [c_void_p, c_int]),
            "dlv_ctx_destroy": (None, [c_void_p]),
            "dlv_ctx_terminal_id": (c_char_p, [c_void_p]),
            "dlv_ctx_health": (c_void_p, [c_void_p]),
            "dlv_last_error": (c_char_p, [c_void_p]),
            "dlv_doctor_run": (
                c_int,
                [ctypes.POINTER(_DoctorOptions), ctypes.POINTER(c_void_p), ctypes.POINTER(_Error)],
            ),
            "dlv_doctor_format": (c_void_p, [c_char_p]),
        }
        for name, (restype, argtypes) in signatures.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        _lib = lib
        return lib


def _take_string(ptr: Optional[int]) -> Optional[str]:
    """A library-allocated string as str, freed with dlv_free."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode()
    finally:
        _library().dlv_free(ptr)


def _bytes(value: Optional[Union[str, os.PathLike]]) -> Optional[bytes]:
    return None if value is None else os.fsencode(value)


def library_version() -> str:
    """The loaded library's release, "MAJOR.MINOR.PATCH" (dlv_version_string)."""
    return _library().dlv_version_string().decode()


# Replies: one C callback for every request; its `arg` is a ticket naming the waiting request.
_pending: Dict[int, "queue.Queue[Json]"] = {}
_pending_lock = threading.Lock()
_tickets = itertools.count(1)


def _on_reply(arg: Optional[int], text: bytes) -> None:
    with _pending_lock:
        box = _pending.pop(arg or 0, None)
    if box is not None:
        box.put(json.loads(text.decode()))


_reply_trampoline = _REPLY_CB(_on_reply)

_STOPPED = "stopped"


class Terminal:
    """One delivery terminal (a dlv_ctx) on the library's own thread.

    `with Terminal(...) as t:` starts it and stops and frees it at the end. Events go to
    `on_event(event)` when given (called on the library's thread: keep it short, do not call
    stop() from it), otherwise to a queue read by `events()` or by iterating the terminal.
    """

    def __init__(
        self,
        config_path: Union[str, os.PathLike],
        *,
        data_dir: Optional[Union[str, os.PathLike]] = None,
        front_config_path: Optional[Union[str, os.PathLike]] = None,
        terminal_name: Optional[str] = None,
        receipt_printer: Optional[str] = None,
        a4_printer: Optional[str] = None,
        long_poll_seconds: int = 0,
        utc_offset_minutes: int = 0,
        regular_numbers: tuple[int, int] = (0, 0),
        cafe_address: Optional[str] = None,
        log_level: int = LOG_WARN,
        on_event: Optional[EventCallback] = None,
        on_log: Optional[LogCallback] = None,
    ) -> None:
        self._lib = _library()
        self._ctx: Optional[int] = None
        self._running = False
        self._on_event = on_event
        self._on_log = on_log
        self._events: "queue.Queue[Json]" = queue.Queue()
        # The C callbacks must outlive the context: keep them on the object.
        self._event_cb = _EVENT_CB(self._deliver_event)
        self._log_cb = _LOG_CB(self._deliver_log) if on_log else _LOG_CB()
        opts = _Options(
            version=_OPTIONS_VERSION,
            config_path=_bytes(config_path),
            front_config_path=_bytes(front_config_path),
            data_dir=_bytes(data_dir),
            terminal_name=_bytes(terminal_name),
            loop=None,
            on_event=self._event_cb,
            event_arg=None,
            on_log=self._log_cb,
            log_arg=None,
            log_level=log_level,
            receipt_printer=_bytes(receipt_printer),
            a4_printer=_bytes(a4_printer),
            regular_numbers_first=regular_numbers[0],
            regular_numbers_last=regular_numbers[1],
            long_poll_seconds=long_poll_seconds,
            utc_offset_minutes=utc_offset_minutes,
            on_notify=_NOTIFY_CB(),
            notify_arg=None,
            cafe_address=_bytes(cafe_address),
        )
        ctx = ctypes.c_void_p()
        err = _Error()
        rc = self._lib.dlv_ctx_create(ctypes.byref(opts), ctypes.byref(ctx), ctypes.byref(err))
        if rc != 0:
            raise DeliveryError(rc, err.message.decode(errors="replace"))
        self._ctx = ctx.value

    # ---- callbacks from the library's thread ----

    def _deliver_event(self, arg: Optional[int], text: bytes) -> None:
        event = json.loads(text.decode())
        if self._on_event is not None:
            self._on_event(event)
        else:
            self._events.put(event)

    def _deliver_log(self, arg: Optional[int], level: int, line: bytes) -> None:
        if self._on_log is not None:
            self._on_log(level, line.decode(errors="replace"))

    # ---- lifecycle ----

    def _handle(self) -> int:
        if self._ctx is None:
            raise DeliveryError(-30)  # DLV_ESTOPPED: closed
        return self._ctx

    def start(self) -> "Terminal":
        """Starts the terminal on its own thread; "started" is the first event."""
        rc = self._lib.dlv_ctx_start(self._handle())
        if rc != 0:
            raise DeliveryError(rc, (self._lib.dlv_last_error(self._ctx) or b"").decode())
        self._running = True
        return self

    def stop(self, flush_ms: int = 5000) -> None:
        """Stops: pending commands get `flush_ms` to reach the call-center; "stopped" is the
        last event. Returns once the library's thread ended."""
        if self._ctx is not None and self._running:
            self._running = False
            rc = self._lib.dlv_ctx_stop(self._ctx, flush_ms)
            if rc != 0:
                raise DeliveryError(rc)

    def close(self) -> None:
        """Stops if running and frees the context; the terminal cannot be used afterwards."""
        try:
            self.stop()
        finally:
            if self._ctx is not None:
                self._lib.dlv_ctx_destroy(self._ctx)
                self._ctx = None

    def __enter__(self) -> "Terminal":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_ctx", None) is not None:
            self.close()

    # ---- requests ----

    @property
    def terminal_id(self) -> str:
        return self._lib.dlv_ctx_terminal_id(self._handle()).decode()

    def request(self, request: Union[Mapping[str, Any], str], timeout: float = 30.0) -> Json:
        """Sends a request ({"cmd": "confirm", "orderId": ...}) and returns its reply as a dict
        ({"reply": "confirm", "ok": True, ...}); a refusal is a reply with "ok": False, not an
        exception. Raises DeliveryError when the terminal does not take requests (stopped),
        TimeoutError when no reply came in `timeout` seconds."""
        text = request if isinstance(request, str) else json.dumps(request)
        box: "queue.Queue[Json]" = queue.Queue(maxsize=1)
        ticket = next(_tickets)
        with _pending_lock:
            _pending[ticket] = box
        rc = self._lib.dlv_ctx_request(self._handle(), text.encode(), _reply_trampoline, ticket)
        if rc != 0:
            with _pending_lock:
                _pending.pop(ticket, None)
            raise DeliveryError(rc, (self._lib.dlv_last_error(self._ctx) or b"").decode())
        try:
            return box.get(timeout=timeout)
        except queue.Empty:
            with _pending_lock:  # a late reply finds no one waiting and is dropped
                _pending.pop(ticket, None)
            raise TimeoutError(f"no reply to {text} in {timeout} s") from None

    def health(self) -> Json:
        """The health snapshot (dlv_ctx_health): connection, last sync, pending commands..."""
        text = _take_string(self._lib.dlv_ctx_health(self._handle()))
        if text is None:
            raise DeliveryError(-2)  # DLV_ENOMEM
        return json.loads(text)

    def doctor(self, timeout: float = 120.0) -> Json:
        """The diagnostics with this terminal's configuration, printers and outbox, as the
        report {"ok": bool, "checks": [...]} (the "doctor" request)."""
        reply = self.request({"cmd": "doctor"}, timeout=timeout)
        if not reply.get("ok"):
            raise DeliveryError(-1, reply.get("message", "doctor failed"))
        return reply["doctor"]

    # ---- events ----

    def events(self, timeout: Optional[float] = None) -> Iterator[Json]:
        """The events as they come, up to and including "stopped". Raises TimeoutError when no
        event came for `timeout` seconds (None: wait for ever). Not with on_event."""
        if self._on_event is not None:
            raise RuntimeError("events go to on_event: this terminal has no event queue")
        while True:
            try:
                event = self._events.get(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f"no event in {timeout} s") from None
            yield event
            if event.get("event") == _STOPPED:
                return

    def __iter__(self) -> Iterator[Json]:
        return self.events()

    def wait_for(self, name: str, timeout: float = 30.0, **fields: Any) -> Json:
        """The next event called `name` whose top-level members equal `fields`, skipping (and
        dropping) the others; TimeoutError after `timeout` seconds in all. Not with on_event."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                event = self._events.get(timeout=max(left, 0.0))
            except queue.Empty:
                raise TimeoutError(f"no {name} event in {timeout} s") from None
            if event.get("event") == name and all(event.get(k) == v for k, v in fields.items()):
                return event


def doctor(
    config_path: Optional[Union[str, os.PathLike]] = None,
    *,
    front_config_path: Optional[Union[str, os.PathLike]] = None,
    data_dir: Optional[Union[str, os.PathLike]] = None,
    receipt_printer: Optional[str] = None,
    a4_printer: Optional[str] = None,
    timeout_ms: int = 0,
) -> Json:
    """Runs the diagnostics without a terminal (dlv_doctor_run), blocking: the report
    {"ok": bool, "checks": [{"name", "result", "detail", "advice"}]}."""
    lib = _library()
    opts = _DoctorOptions(
        version=_DOCTOR_OPTIONS_VERSION,
        config_path=_bytes(config_path),
        front_config_path=_bytes(front_config_path),
        data_dir=_bytes(data_dir),
        receipt_printer=_bytes(receipt_printer),
        a4_printer=_bytes(a4_printer),
        timeout_ms=timeout_ms,
    )
    report = ctypes.c_void_p()
    err = _Error()
    rc = lib.dlv_doctor_run(ctypes.byref(opts), ctypes.byref(report), ctypes.byref(err))
    if rc < 0:
        raise DeliveryError(rc, err.message.decode(errors="replace"))
    text = _take_string(report.value)
    return json.loads(text) if text else {}


def doctor_format(report: Json) -> str:
    """A doctor report as lines for a person ("PASS  config  ...")."""
    text = _take_string(_library().dlv_doctor_format(json.dumps(report).encode()))
    if text is None:
        raise ValueError("not a doctor report")
    return text

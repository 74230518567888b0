"""The Python binding end to end: a shift against the call-center emulator, events as an iterator
and as a callback, health, doctor, errors. Runs with `python3 -m unittest` (scripts/python-test.sh)
against a build tree (DELIVERY_LIBRARY, DELIVERY_CALLCENTER) or the installed packages."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

import delivery

TID = "e49d3632-b06a-4a9a-8c76-ae816c4404ad"
CAUSE = "0c4a6a4e-7d43-4f0e-8a50-3b1f0c000001"
COURIER = "5a1d0c3e-2b7f-4e55-9a10-c0c0c0000001"
CASH = "09322f46-578a-d210-add7-eec222a08871"
RIGHTS = ["D_CND", "D_MD", "D_CD", "D_CAD", "F_CASH", "D_SADT", "D_ED"]


def callcenter_binary() -> str:
    path = os.environ.get("DELIVERY_CALLCENTER") or shutil.which("delivery-callcenter")
    if not path:
        raise unittest.SkipTest("no delivery-callcenter (set DELIVERY_CALLCENTER)")
    return path


class Emulator:
    """delivery-callcenter on 127.0.0.1 and a free port, as test/common/ccproc.c starts it."""

    def __init__(self, folder: Path) -> None:
        port_file = folder / "cc.port"
        self.proc = subprocess.Popen(
            [callcenter_binary(), "--listen", "127.0.0.1:0", "--db", str(folder / "cc.db"),
             "--port-file", str(port_file), "--terminal", TID],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            text = port_file.read_text().strip() if port_file.exists() else ""
            if text:
                self.base = f"http://127.0.0.1:{int(text)}/resto"
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"delivery-callcenter exited with {self.proc.returncode}")
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("delivery-callcenter did not write its port")

    def admin(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.base}/admin/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as answer:
            return json.loads(answer.read() or b"null")

    def new_order(self, service_type: str = "DeliveryByCourier") -> str:
        # Due in three hours: the cashier starts the cooking, not the kitchen's lead time.
        due = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3 * 3600))
        return self.admin("POST", "orders", {"serviceType": service_type, "terminalId": TID,
                                             "completeBefore": due})["id"]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class TerminalTest(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="delivery-py-"))
        self.cc = Emulator(self.dir)
        self.config = self.dir / "deliveryPluginConfig.xml"
        self.config.write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<config>\n'
            "  <serviceMethodTimeoutMilliseconds>2000</serviceMethodTimeoutMilliseconds>\n"
            f"  <serverUrl>{self.cc.base}</serverUrl>\n  <terminalId>{TID}</terminalId>\n"
            "  <connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>\n</config>\n"
        )

    def tearDown(self) -> None:
        self.assertEqual(self.cc.stop(), 0, "the emulator stops cleanly on SIGTERM")
        shutil.rmtree(self.dir, ignore_errors=True)

    def terminal(self, **kw: Any) -> delivery.Terminal:
        return delivery.Terminal(self.config, data_dir=self.dir, long_poll_seconds=2,
                                 receipt_printer=f"file:{self.dir}/receipt.bin", **kw)

    def ok(self, t: delivery.Terminal, request: Dict[str, Any]) -> Dict[str, Any]:
        reply = t.request(request)
        self.assertEqual(reply["reply"], request["cmd"])
        self.assertTrue(reply["ok"], reply)
        return reply

    def test_whole_shift(self) -> None:
        courier = self.cc.new_order()
        doomed = self.cc.new_order()
        with self.terminal() as t:
            self.assertEqual(t.terminal_id, TID)
            self.assertEqual(t.wait_for("started", 5)["terminalId"], TID)
            self.ok(t, {"cmd": "login", "userId": "00000000-0000-4000-8000-000000000001",
                        "name": "Кассир", "rights": RIGHTS})
            t.wait_for("registered", 10)
            seen = set()
            while not {courier, doomed} <= seen:
                seen.add(t.wait_for("order", 10)["order"]["id"])

            self.assertEqual(self.ok(t, {"cmd": "confirm", "orderId": courier})["reply"], "confirm")
            for status in ("CookingStarted", "CookingCompleted"):
                self.ok(t, {"cmd": "setStatus", "orderId": courier, "status": status})
            self.ok(t, {"cmd": "assignCourier", "orderId": courier, "courierId": COURIER})
            total = self.cc.admin("GET", f"orders/{courier}")["resultSum"]
            self.ok(t, {"cmd": "pay", "orderId": courier,
                        "payments": [{"paymentTypeId": CASH, "kind": "Cash", "sum": total}]})
            for status in ("Waiting", "OnWay", "Delivered", "Closed"):
                self.ok(t, {"cmd": "setStatus", "orderId": courier, "status": status})

            refused = t.request({"cmd": "cancel", "orderId": doomed})
            self.assertFalse(refused["ok"])
            self.ok(t, {"cmd": "cancel", "orderId": doomed, "cancelCauseId": CAUSE,
                        "comment": "клиент передумал"})
            unknown = t.request({"cmd": "noSuchCommand"})
            self.assertEqual(unknown["error"], "BadCommand")

            live = self.ok(t, {"cmd": "list"})["orders"]
            self.assertNotIn(courier, json.dumps(live), "closed orders leave the list")
            health = t.health()
            self.assertIsInstance(health, dict)
            report = t.doctor()
            self.assertIn("checks", report)
            self.assertTrue(any(c["name"] for c in report["checks"]))
        stopped = [e for e in t.events(timeout=5) if e["event"] == "stopped"]
        self.assertEqual(stopped[-1]["pendingCommands"], 0)
        self.assertEqual(self.cc.admin("GET", f"orders/{courier}")["status"], "Closed")
        self.assertEqual(self.cc.admin("GET", f"orders/{doomed}")["status"], "Cancelled")
        with self.assertRaises(delivery.DeliveryError):
            t.request({"cmd": "list"})

    def test_events_by_callback(self) -> None:
        order = self.cc.new_order("DeliveryByClient")
        got: List[Dict[str, Any]] = []
        t = self.terminal(on_event=got.append)
        with t:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                e["event"] == "order" and e["order"]["id"] == order for e in list(got)
            ):
                time.sleep(0.05)
        self.assertEqual(got[0]["event"], "started")
        self.assertEqual(got[-1]["event"], "stopped")
        self.assertTrue(any(e["event"] == "registered" for e in got))
        with self.assertRaises(RuntimeError):
            next(t.events())

    def test_stopped_terminal_refuses_requests(self) -> None:
        t = self.terminal()
        t.start()
        t.stop()
        with self.assertRaises(delivery.DeliveryError) as caught:
            t.request({"cmd": "list"})
        self.assertEqual(caught.exception.name, "ESTOPPED")
        t.close()

    def test_doctor_without_terminal(self) -> None:
        report = delivery.doctor(self.config, data_dir=self.dir, timeout_ms=3000)
        names = [c["name"] for c in report["checks"]]
        self.assertIn("config", names)
        self.assertIn("PASS", delivery.doctor_format(report))


class LibraryTest(unittest.TestCase):
    def test_version(self) -> None:
        self.assertRegex(delivery.library_version(), r"^\d+\.\d+\.\d+$")

    def test_bad_configuration_raises(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            bad = Path(d) / "deliveryPluginConfig.xml"
            bad.write_text("<config>\n  <serverUrl>ftp://nowhere</serverUrl>\n</config>\n")
            with self.assertRaises(delivery.DeliveryError) as caught:
                delivery.Terminal(bad, data_dir=d)
            self.assertIn("<serverUrl>", str(caught.exception))
            self.assertLess(caught.exception.code, 0)


if __name__ == "__main__":
    unittest.main()

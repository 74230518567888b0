#!/usr/bin/python3
"""The delivery screen in a real browser (docs/screen.md): headless Chromium through Selenium
drives delivery-host --http against the call-center emulator, all on 127.0.0.1.

  test_screen.py BUILD_DIR OUT_DIR basics|shift

basics: login, Russian status names, the overdue order on top in red, an order whose texts are
        markup shown as text, the token, a non-loopback bind refused without a token, and a
        call-center outage (offline badge, commands waiting, then sent).
shift:  a whole shift with the page's buttons (the orders' `actions`): confirm, cook, pay cash
        with change, assign a courier, send, delivered, close, cancel another with a cause,
        reprint an invoice; the buttons of a user without D_CAD; each command applied once.
Screenshots go to OUT_DIR."""
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.support.ui import Select

BUILD, OUT, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
CASH = "09322f46-578a-d210-add7-eec222a08871"
MANAGER = "00000000-0000-4000-8000-00000000a001"
COOK = "00000000-0000-4000-8000-00000000a002"
ALL_RIGHTS = ["D_CND", "D_MD", "D_CD", "D_CAD", "D_DEP", "D_ED", "D_ACDMM", "D_SADT", "F_CASH",
              "F_PA"]
DEADLINE = time.monotonic() + 240


def fail(msg):
    print("FAIL: " + msg, flush=True)
    raise SystemExit(1)


def until(what, fn, timeout=20):
    end = min(time.monotonic() + timeout, DEADLINE)
    last = None
    while time.monotonic() < end:
        try:
            v = fn()
            if v:
                return v
        except (StaleElementReferenceException, WebDriverException, KeyError) as e:
            last = e
        time.sleep(0.2)
    fail("timed out waiting for " + what + (": %s" % last if last else ""))


class Stack:
    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="screen-")
        self.procs = []
        self.cc_port = None
        self.base = None

    def start_callcenter(self):
        port_file = os.path.join(self.work, "cc.port")
        p = subprocess.Popen([BUILD + "/examples/callcenter/delivery-callcenter", "--listen",
                              "127.0.0.1:0", "--db", self.work + "/cc.db",
                              "--accept-any-terminal", "--port-file", port_file],
                             stdout=subprocess.DEVNULL, stderr=open(self.work + "/cc.log", "w"))
        self.procs.append(p)
        until("the emulator's port", lambda: os.path.exists(port_file) and
              open(port_file).read().strip())
        self.base = "http://127.0.0.1:%s/resto" % open(port_file).read().strip()
        with open(self.work + "/deliveryPluginConfig.xml", "w") as f:
            f.write('<?xml version="1.0" encoding="utf-8"?>\n<config>\n'
                    "<serviceMethodTimeoutMilliseconds>3000</serviceMethodTimeoutMilliseconds>\n"
                    "<serverUrl>%s</serverUrl>\n"
                    "<connectToServerDelayInSeconds>0</connectToServerDelayInSeconds>\n"
                    "</config>\n" % self.base)
        with open(self.work + "/users.json", "w") as f:
            json.dump({"users": [
                {"id": MANAGER, "name": "Менеджер Ольга", "pin": "1234", "rights": ALL_RIGHTS},
                {"id": COOK, "name": "Повар Иван", "rights": ["D_CND", "D_MD", "F_CASH"]}],
                "paymentTypes": [{"id": CASH, "name": "Наличные", "kind": "Cash"}]},
                f, ensure_ascii=False)

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + "/admin/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def host(self, http, token=None, wait=True):
        args = [BUILD + "/examples/host/delivery-host", "--plugin",
                BUILD + "/plugin/libdelivery_plugin.so", "--config",
                self.work + "/deliveryPluginConfig.xml", "--data-dir", self.work,
                "--printer", "receipt=null:", "--printer", "a4=null:", "--http", http,
                "--users", self.work + "/users.json", "--time-zone", "UTC"]
        if token:
            args += ["--http-token", token]
        err = open(self.work + "/host.log", "w+")
        p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=open(self.work + "/host.out",
                                                                      "w"), stderr=err)
        if not wait:
            return p
        self.procs.append(p)
        url = until("the screen's address",
                    lambda: re.search(r"screen is at (http://\S+/)", open(err.name).read()))
        return url.group(1)

    def close(self):
        for p in reversed(self.procs):
            if p.stdin:
                p.stdin.close()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.terminate()
                p.wait()
            if p.poll() is None:
                p.kill()


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1024,768", "--lang=ru", "--no-proxy-server"]:
        o.add_argument(a)
    service = ChromeService(executable_path=shutil.which("chromedriver") or
                                      "/usr/bin/chromedriver")
    d = webdriver.Chrome(options=o, service=service)
    d.set_page_load_timeout(20)
    d.set_script_timeout(20)
    return d


def shot(d, name):
    os.makedirs(OUT, exist_ok=True)
    d.save_screenshot(os.path.join(OUT, name + ".png"))


def rows(d):
    return d.find_elements(By.CSS_SELECTOR, "#orders .order")


def row(d, number):
    for r in rows(d):
        if r.get_attribute("data-number") == str(number):
            return r
    return None


def click_row(d, number):
    def go():
        r = row(d, number)
        if r:
            r.click()
            return True
    until("to open №%s" % number, go)


def login(d, url, user, pin=""):
    d.get(url)
    b = until("the login button", lambda: d.find_element(
        By.CSS_SELECTOR, '#users button[data-user="%s"]' % user))
    d.find_element(By.ID, "pin").send_keys(pin)
    b.click()
    until("the list", lambda: d.find_element(By.ID, "list-screen").is_displayed())


def page_request(d, body):
    return d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const h = {'Content-Type': 'application/json'};"
        "const t = sessionStorage.getItem('dlvToken'); if (t) h['X-Delivery-Token'] = t;"
        "fetch('/api/request', {method: 'POST', headers: h,"
        " body: JSON.stringify(arguments[0])}).then(r => r.json()).then(done,"
        " e => done({error: String(e)}));", body)


def basics(st, d):
    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2))
    future = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=3))
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    xss = st.admin("POST", "orders", {"serviceType": "DeliveryByCourier",
                                      "comment": "<script>window.pwned=1</script>",
                                      "customer": {"name": "<img src=x onerror=window.pwned=2>"},
                                      "completeBefore": future.strftime(fmt), "payments": []})
    late = st.admin("POST", "orders", {"serviceType": "DeliveryByClient",
                                       "completeBefore": past.strftime(fmt), "payments": []})

    # A non-loopback address without a token: the host refuses to start, serving nothing.
    p = st.host("0.0.0.0:0", wait=False)
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("the host served 0.0.0.0 without --http-token")
    if rc == 0 or "needs --http-token" not in open(st.work + "/host.log").read():
        fail("no clear refusal of a non-loopback bind without a token (rc %d)" % rc)

    url = st.host("127.0.0.1:0", token="s3cret-token")
    # Without the token the page asks for it and the API refuses.
    d.get(url)
    until("the token screen", lambda: d.find_element(By.ID, "token-screen").is_displayed())
    reply = page_request(d, {"cmd": "list"})
    if reply.get("error") != "Unauthorized":
        fail("the API answered without the token: %s" % reply)
    shot(d, "token")
    d.find_element(By.ID, "token-input").send_keys("s3cret-token")
    d.find_element(By.ID, "token-ok").click()
    until("the login screen", lambda: d.find_element(By.ID, "login-screen").is_displayed())
    # A wrong PIN is refused.
    d.find_element(By.ID, "pin").send_keys("0000")
    d.find_element(By.CSS_SELECTOR, '#users button[data-user="%s"]' % MANAGER).click()
    until("the PIN refusal", lambda: "PIN" in d.find_element(By.ID, "login-error").text)
    shot(d, "login")
    login(d, url, MANAGER, "1234")
    until("both orders", lambda: row(d, xss["number"]) and row(d, late["number"]))
    until("online", lambda: d.find_element(By.ID, "conn").text == "В сети")
    first = rows(d)[0]
    if first.get_attribute("data-number") != str(late["number"]):
        fail("the overdue order is not on top")
    if "overdue" not in first.get_attribute("class"):
        fail("the overdue order is not marked")
    color = first.value_of_css_property("background-color")
    if not color.startswith("rgba(254, 226, 226"):
        fail("the overdue order is not red: " + color)
    if "Не подтверждена" not in first.text:
        fail("no Russian status name: " + first.text)
    if "Самовывоз" not in first.text:
        fail("a pickup order without «Самовывоз»: " + first.text)
    shot(d, "list")
    # The markup order: its texts are shown as they are, nothing ran.
    click_row(d, xss["number"])
    until("the customer's name as text",
          lambda: "<img src=x onerror=window.pwned=2>" in d.find_element(By.ID, "card").text)
    until("the order's comment as text",
          lambda: "<script>window.pwned=1</script>" in d.find_element(By.ID, "card").text)
    if d.execute_script("return window.pwned || 0") != 0:
        fail("order text ran as markup")
    if d.find_elements(By.CSS_SELECTOR, "#card img, #card script"):
        fail("order text became elements")
    shot(d, "xss")
    d.find_element(By.ID, "card-back").click()

    # The call-center goes away: offline, the confirm waits, then is sent once it is back.
    st.admin("POST", "faults", {"route": "orders", "fault": "status", "status": 503,
                                "count": 1000})
    st.admin("POST", "faults", {"route": "commands", "fault": "status", "status": 503,
                                "count": 1000})
    st.admin("POST", "faults", {"route": "heartbeat", "fault": "status", "status": 503,
                                "count": 1000})
    reply = page_request(d, {"cmd": "confirm", "orderId": late["id"]})
    if not reply.get("ok"):
        fail("confirm refused: %s" % reply)
    until("commands waiting", lambda: d.find_element(By.ID, "pending").text != "Ждут отправки: 0",
          timeout=30)
    until("the offline badge", lambda: d.find_element(By.ID, "conn").text == "Нет связи",
          timeout=60)
    shot(d, "offline")
    st.admin("DELETE", "faults")
    until("online again", lambda: d.find_element(By.ID, "conn").text == "В сети", timeout=60)
    until("commands sent", lambda: d.find_element(By.ID, "pending").text == "Ждут отправки: 0",
          timeout=60)
    log = st.admin("GET", "log")["commands"]
    confirms = [c for c in log if c.get("orderId") == late["id"]]
    if not any(c["type"] == "ChangeStatus" for c in confirms) or \
            any(c["applied"] != 1 for c in confirms):
        fail("the confirm and what followed were not applied exactly once: %s" % confirms)
    shot(d, "online")


def click_action(d, number, action):
    def go():
        r = row(d, number)
        b = r and r.find_elements(By.CSS_SELECTOR, 'button[data-action="%s"]' % action)
        if b:
            b[0].click()  # a row re-rendered meanwhile is stale: until() looks again
            return True
    until("button %s on №%s (needs the order's `actions`)" % (action, number), go)


def dialog_ok(d):
    until("the dialog", lambda: d.find_element(By.ID, "dialog").is_displayed())
    d.find_element(By.ID, "dialog-ok").click()
    until("the dialog to close", lambda: not d.find_element(By.ID, "dialog").is_displayed())


def status_of(d, number, name):
    until("№%s «%s»" % (number, name), lambda: name in row(d, number).text)


def shift(st, d):
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=3)
    when = future.strftime("%Y-%m-%dT%H:%M:%SZ")
    a = st.admin("POST", "orders", {"serviceType": "DeliveryByCourier", "payments": [],
                                    "completeBefore": when})
    b = st.admin("POST", "orders", {"serviceType": "DeliveryByCourier", "payments": [],
                                    "completeBefore": when})
    url = st.host("127.0.0.1:0")
    # A user without D_CAD sees no cancel button.
    login(d, url, COOK)
    until("the orders", lambda: row(d, a["number"]) and row(d, b["number"]))
    until("buttons from the order's actions",
          lambda: row(d, a["number"]).find_elements(By.CSS_SELECTOR, "button[data-action]"))
    if row(d, a["number"]).find_elements(By.CSS_SELECTOR, 'button[data-action="Cancel"]'):
        fail("a cancel button for a user without D_CAD")
    shot(d, "cook")
    d.find_element(By.ID, "nav-logout").click()
    until("the login screen", lambda: d.find_element(By.ID, "login-screen").is_displayed())
    login(d, url, MANAGER, "1234")
    n = a["number"]
    click_action(d, n, "Confirm")
    status_of(d, n, "Пора готовить" if False else "")
    click_action(d, n, "CookingStarted")
    status_of(d, n, "Готовится")
    click_action(d, n, "CookingCompleted")
    click_action(d, n, "Pay")
    until("the pay dialog", lambda: d.find_element(By.ID, "pay-sum").is_displayed())
    due = float(d.find_element(By.ID, "pay-sum").get_attribute("value").replace(",", "."))
    cash = (int(due // 500) + 1) * 500
    box = d.find_element(By.ID, "pay-sum")
    box.clear()
    box.send_keys(str(cash))
    until("the change", lambda: "Сдача" in d.find_element(By.ID, "dialog-box").text)
    dialog_ok(d)
    until("the change toast", lambda: "Сдача" in d.find_element(By.ID, "toasts").text)
    click_action(d, n, "AssignCourier")
    until("couriers", lambda: Select(d.find_element(By.ID, "courier")).options)
    dialog_ok(d)
    click_action(d, n, "Waiting")
    status_of(d, n, "Ждёт отправки")
    click_action(d, n, "OnWay")
    status_of(d, n, "В пути")
    click_action(d, n, "Delivered")
    dialog_ok(d)
    status_of(d, n, "Доставлена")
    click_action(d, n, "PrintInvoice")
    click_row(d, n)
    until("a reprint button", lambda: d.find_element(By.CSS_SELECTOR,
                                                     '#card button[data-action="Reprint"]')).click()
    until("the reprint toast", lambda: "печать" in d.find_element(By.ID, "toasts").text)
    d.find_element(By.ID, "card-back").click()
    click_action(d, n, "Closed")
    until("the closed order to leave the list or show «Закрыта»",
          lambda: row(d, n) is None or "Закрыта" in row(d, n).text)
    click_action(d, b["number"], "Cancel")
    until("causes", lambda: Select(d.find_element(By.ID, "cancel-cause")).options)
    d.find_element(By.ID, "cancel-comment").send_keys("клиент передумал")
    dialog_ok(d)
    until("the cancelled order", lambda: row(d, b["number"]) is None or
          "Отменена" in row(d, b["number"]).text)
    shot(d, "shift")
    until("every command sent", lambda: d.find_element(By.ID, "pending").text == "Ждут отправки: 0")
    log = st.admin("GET", "log")["commands"]
    for c in log:
        if c["applied"] != 1 and c.get("outcome") != "rejected":
            fail("a command applied %s times: %s" % (c["applied"], c))
    # The confirm travels as a ChangeStatus (Unconfirmed -> WaitCooking, docs/iikocloud.md):
    # order a's seven status steps (confirm, cook, cooked, ready, send, delivered, close) each
    # reached the call-center, which refuses a skipped transition, so it ends Closed.
    def applied(order, t):
        return [c for c in log if c.get("orderId") == order["id"] and c["type"] == t and
                c["applied"] == 1]
    steps = applied(a, "ChangeStatus")
    if len(steps) != 7:
        fail("%d status changes of №%s applied, not 7: %s" % (len(steps), n, log))
    for order, t in [(a, "Pay"), (a, "AssignCourier"), (b, "Cancel")]:
        if not applied(order, t):
            fail("no %s of №%s reached the call-center: %s" % (t, order["number"], log))
    for order, status in [(a, "Closed"), (b, "Cancelled")]:
        got = st.admin("GET", "orders/" + order["id"]).get("status")
        if got != status:
            fail("№%s is %s at the call-center, not %s" % (order["number"], got, status))


def main():
    st = Stack()
    d = None
    try:
        st.start_callcenter()
        d = browser()
        (basics if MODE == "basics" else shift)(st, d)
    finally:
        if d:
            try:
                shot(d, MODE + "-last")
            except WebDriverException:
                pass
            d.quit()
        st.close()
    print("screen %s: 1 passed, 0 failed" % MODE)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Stands in for the system browser in end-to-end tests.

The app opens Kakao's authorize URL with `xdg-open`, which runs `$BROWSER`
when no desktop environment is detected. This script then does what a person
and their browser would: it follows the authorize URL, answers the emulator's
consent page (agree or cancel, as E2E_BROWSER_ACTION says), follows the
redirect, and

- for a bridge-page redirect, reads the page's link to `<scheme>://...` and
  opens it the way the OS does: by launching the app binary (E2E_APP) with the
  URL as its only argument;
- for a redirect to the real bridge site (`scripts/build-bridge-site.py`,
  paths `/kakao/callback/` and `/kakao/callback/debug/`), loads the page in a
  real browser engine, WebKitGTK's MiniBrowser through the WebDriver at
  E2E_BRIDGE_WEBDRIVER, reads the link the page's script navigates to (the
  engine does not know the scheme, so it stops there) and opens it as the OS
  does;
- for a loopback redirect, simply requests it (the app's receiver answers).

Environment: E2E_APP (the app binary), E2E_BROWSER_ACTION (agree | cancel |
ignore; default agree), E2E_BROWSER_USER (fixture Kakao id to choose on the
consent page), E2E_BROWSER_LOG (where to append what happened).
"""
import html.parser
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def log(line):
    path = os.environ.get("E2E_BROWSER_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def fetch(url, data=None):
    """Returns (status, location, body) without following redirects."""
    request = urllib.request.Request(url, data=data)
    try:
        with OPENER.open(request, timeout=30) as response:
            return response.status, response.headers.get("Location"), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location"), error.read().decode(errors="replace")


class Form(html.parser.HTMLParser):
    """Collects the consent form's fields and the bridge page's link."""

    def __init__(self):
        super().__init__()
        self.fields = {}
        self.options = []
        self.action = None
        self.continue_href = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a.get("name")] = a.get("value", "")
        elif tag == "option":
            self.options.append(a.get("value"))
        elif tag == "a" and a.get("id") == "continue":
            self.continue_href = a.get("href")


MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"


def webdriver(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read().decode())["value"]


def forwarded_by_bridge_page(page_url):
    """The URL the real bridge page navigates to, in MiniBrowser."""
    driver = os.environ["E2E_BRIDGE_WEBDRIVER"]
    caps = {"capabilities": {"alwaysMatch": {
        "browserName": "MiniBrowser",
        "webkitgtk:browserOptions": {"binary": MINIBROWSER, "args": ["--automation"]},
    }}}
    session = webdriver("POST", f"{driver}/session", caps)["sessionId"]
    try:
        webdriver("POST", f"{driver}/session/{session}/url", {"url": page_url})
        for _ in range(200):
            current = webdriver("GET", f"{driver}/session/{session}/url")
            if not current.startswith("http"):
                return current
            time.sleep(0.05)
        return None
    finally:
        webdriver("DELETE", f"{driver}/session/{session}")


def main():
    url = sys.argv[1]
    action = os.environ.get("E2E_BROWSER_ACTION", "agree")
    log("open " + urllib.parse.urlsplit(url).path)
    if action == "ignore":
        return
    status, location, body = fetch(url)
    if status == 200 and "/oauth/authorize/consent" in body:
        form = Form()
        form.feed(body)
        fields = dict(form.fields)
        if "user" not in fields:
            fields["user"] = os.environ.get("E2E_BROWSER_USER") or form.options[0]
        fields["action"] = action
        target = urllib.parse.urljoin(url, form.action)
        status, location, body = fetch(target, urllib.parse.urlencode(fields).encode())
        log(f"consent {action} -> {status}")
    if status != 302 or not location:
        log(f"no redirect ({status})")
        sys.exit(1)
    location = urllib.parse.urljoin(url, location)
    parts = urllib.parse.urlsplit(location)
    if parts.path.endswith("/bridge/kakao/callback"):
        status, _, body = fetch(location)
        page = Form()
        page.feed(body)
        link = page.continue_href
        log("bridge -> app link")
        # What the OS does with a link of the app's scheme.
        result = subprocess.run([os.environ["E2E_APP"], link], timeout=60)
        log(f"app exited {result.returncode}")
    elif parts.path.endswith(("/kakao/callback/", "/kakao/callback/debug/")):
        link = forwarded_by_bridge_page(location)
        log("real bridge page -> " + (link.split("://")[0] + "://" if link else "nothing"))
        if not link:
            sys.exit(1)
        result = subprocess.run([os.environ["E2E_APP"], link], timeout=60)
        log(f"app exited {result.returncode}")
    else:
        status, _, _ = fetch(location)
        log(f"loopback -> {status}")


if __name__ == "__main__":
    main()

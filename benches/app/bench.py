#!/usr/bin/env python3
"""Whole-app benchmark: Kakao Desk against a bare Tauri v2 app.

Run with `bash scripts/bench-app.sh` (which builds both apps first). Measures,
in the repository's headless desktop (`scripts/desktop-session.sh`: Xvfb, a
private D-Bus session, an unlocked gnome-keyring, a throwaway HOME):

- start-up: process start -> first page script (both apps), and process start
  -> signed-in profile rendered from the vault and SQLite with no network
  (Kakao Desk, emulator not running);
- memory: RSS and PSS of the app and its WebKit children after 3 s idle;
- size: the stripped release binaries and the .deb packages;
- login latency: deep link delivered to the running app -> first paint
  (nickname from the id_token) and -> complete (profile from /v2/user/me
  rendered, avatar cached, session stored), against the emulator with 0 ms and
  50 ms added per request.

Start-up and memory runs alternate A B A B after a warm-up, so machine drift
cancels. Times come from the apps' own marks (`bench-mark <name> <unix ns>` on
stderr; Kakao Desk prints them with KAKAO_DESK_BENCH=1) against the wall clock
read just before the process was started. Writes results/raw.json and
results/table.md beside this file (`bench.py --table` re-renders the table
from raw.json).
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
OURS = os.path.join(ROOT, "target/release/kakao-desk")
BASE = os.path.join(HERE, "baseline/target/release/tauri-baseline")
EMULATOR = os.path.join(ROOT, "target/release/kakao-emulator")
BROWSER = os.path.join(ROOT, "tests/e2e/fake-browser.py")
DESKTOP_SESSION = os.path.join(ROOT, "scripts/desktop-session.sh")
SCHEME = "dev.kakaodesk.desktop"
USER = "3095134389"
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
LOGIN_RUNS = int(os.environ.get("BENCH_LOGIN_RUNS", "5"))
ACCOUNT_RUNS = int(os.environ.get("BENCH_ACCOUNT_RUNS", "5"))
ACCOUNT_COUNTS = (1, 10, 100)


def spawn(args, env, **kw):
    return subprocess.Popen(args, env=env, start_new_session=True, **kw)


def kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


class Session:
    """The headless desktop of scripts/desktop-session.sh, kept up (no command)
    while the benchmark starts apps in it with its environment."""

    def __init__(self):
        self.state = tempfile.mkdtemp(prefix="kakao-desk-bench-")
        env_file = os.path.join(self.state, "session.env")
        env = dict(os.environ, LANG="en_US.UTF-8", RUST_LOG="warn")
        self.session = spawn([DESKTOP_SESSION, "--env-file", env_file, "--log-dir", self.state], env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not os.path.exists(env_file):
            if self.session.poll() is not None or time.time() > deadline:
                sys.exit(f"the desktop session did not start (logs in {self.state})")
            time.sleep(0.05)
        for var in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_CURRENT_DESKTOP", "DBUS_SESSION_BUS_ADDRESS"):
            env.pop(var, None)
        with open(env_file) as f:
            env.update(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        self.env = env

    def bus_names(self):
        out = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                              "/org/freedesktop/DBus", "org.freedesktop.DBus.ListNames"],
                             env=self.env, capture_output=True, text=True)
        return out.stdout

    def wait_app_gone(self):
        deadline = time.time() + 20
        while "SingleInstance" in self.bus_names():
            if time.time() > deadline:
                sys.exit("an app instance did not exit")
            time.sleep(0.05)

    def close(self):
        # TERM: the session stops everything it started and removes its files.
        try:
            os.killpg(self.session.pid, signal.SIGTERM)
            self.session.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            kill(self.session)
        shutil.rmtree(self.state, ignore_errors=True)


class MarkReader:
    """Collects `bench-mark <name> <ns>` lines from a stream."""

    def __init__(self, stream):
        self.marks = {}
        self.cond = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for raw in stream:
            parts = raw.decode(errors="replace").split()
            if len(parts) == 3 and parts[0] == "bench-mark":
                with self.cond:
                    self.marks.setdefault(parts[1], int(parts[2]))
                    self.cond.notify_all()

    def wait(self, name, timeout=60):
        with self.cond:
            if not self.cond.wait_for(lambda: name in self.marks, timeout):
                sys.exit(f"mark {name} never came")
            return self.marks[name]


def tree_memory(pid):
    """(RSS, PSS) in KiB of pid and all its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    todo, rss, pss, by_name = [pid], 0, 0, {}
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key == "Rss":
                        rss += int(value.split()[0])
                    elif key == "Pss":
                        pss += int(value.split()[0])
                        by_name[name] = by_name.get(name, 0) + int(value.split()[0])
        except OSError:
            pass
    return rss, pss, by_name


def run_once(session, binary, end_mark, env_extra):
    env = dict(session.env, **env_extra)
    t0 = time.time_ns()
    proc = spawn([binary], env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    reader = MarkReader(proc.stderr)
    first = reader.wait("first-script")
    end = reader.wait(end_mark)
    time.sleep(3)
    rss, pss, pss_by_name = tree_memory(proc.pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        kill(proc)
    kill(proc)
    session.wait_app_gone()
    with reader.cond:
        marks = {name: (ns - t0) / 1e6 for name, ns in reader.marks.items()}
    return {"first_script_ms": (first - t0) / 1e6, "end_ms": (end - t0) / 1e6,
            "rss_mib": rss / 1024, "pss_mib": pss / 1024, "marks_ms": marks,
            "pss_mib_by_process": {k: v / 1024 for k, v in pss_by_name.items()}}


def emulator(latency_ms):
    proc = subprocess.Popen([EMULATOR, "--client-id", "0123456789abcdef0123456789abcdef",
                             "--redirect-uri", "http://127.0.0.1:53682/oauth/callback",
                             "--auto-consent", USER, "--bridge-scheme", SCHEME,
                             "--latency-ms", str(latency_ms)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    line = proc.stdout.readline().decode().strip()
    assert line.startswith("listening on "), line
    return proc, line.removeprefix("listening on ")


def kakao_env(base):
    return {"KAKAO_CLIENT_ID": "0123456789abcdef0123456789abcdef", "KAKAO_AUTH_BASE_URL": base,
            "KAKAO_API_BASE_URL": base, "KAKAO_REDIRECT_URI": f"{base}/bridge/kakao/callback",
            "KAKAO_REDIRECT_MODE": "bridge", "BROWSER": BROWSER, "E2E_APP": OURS, "E2E_BROWSER_ACTION": "agree",
            "KAKAO_DESK_BENCH": "1"}


class WebDriver:
    """Just enough of the W3C WebDriver protocol to press one button."""

    def __init__(self, session, env_extra):
        self.port = 4455
        env = dict(session.env, **env_extra)
        self.log = tempfile.TemporaryFile()
        self.driver = spawn(["tauri-driver", "--port", str(self.port), "--native-port", "4456"], env,
                            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/status", timeout=1)
                break
            except Exception:
                if time.time() > deadline:
                    sys.exit("tauri-driver did not start")
                time.sleep(0.1)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as response:
            return json.loads(response.read() or b"{}").get("value")

    def open(self, application):
        caps = {"capabilities": {"alwaysMatch": {"browserName": "wry",
                                                 "tauri:options": {"application": application}}}}
        self.sid = self.call("POST", "/session", caps)["sessionId"]

    def click(self, css):
        deadline = time.time() + 30
        while True:
            try:
                element = self.call("POST", f"/session/{self.sid}/element", {"using": "css selector", "value": css})
                eid = next(iter(element.values()))
                self.call("POST", f"/session/{self.sid}/element/{eid}/click", {})
                return
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    def close(self):
        try:
            self.call("DELETE", f"/session/{self.sid}")
        except Exception:
            pass
        kill(self.driver)

    def marks(self):
        self.log.seek(0)
        marks = {}
        for line in self.log.read().decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "bench-mark":
                marks.setdefault(parts[1], int(parts[2]))
        return marks


def login_latency(session, latency_ms):
    emu, base = emulator(latency_ms)
    results = []
    try:
        for i in range(LOGIN_RUNS + 1):
            data = tempfile.mkdtemp(prefix="login-", dir=session.env["HOME"])
            env = dict(kakao_env(base), XDG_DATA_HOME=data)
            driver = WebDriver(session, env)
            try:
                driver.open(OURS)
                driver.click("body[data-screen='signed_out'] [data-testid='login-button']")
                deadline = time.time() + 60
                # Complete = both the full profile on screen and the session
                # sealed, in whichever order they come.
                while not {"profile-rendered", "session-stored"} <= driver.marks().keys():
                    if time.time() > deadline:
                        sys.exit(f"login {i} did not complete: {driver.marks()}")
                    time.sleep(0.05)
                m = driver.marks()
            finally:
                driver.close()
                session.wait_app_gone()
            if i == 0:
                continue  # warm-up
            link = m["link-received"]
            complete = max(m["profile-rendered"], m["session-stored"])
            results.append({"first_paint_ms": (m["first-paint-rendered"] - link) / 1e6,
                            "complete_ms": (complete - link) / 1e6})
    finally:
        kill(emu)
    return results


def signed_in_home(session):
    """Logs in once (emulator running), so later starts restore from the vault."""
    emu, base = emulator(0)
    env = kakao_env(base)
    driver = WebDriver(session, env)
    try:
        driver.open(OURS)
        driver.click("body[data-screen='signed_out'] [data-testid='login-button']")
        deadline = time.time() + 60
        while "profile-rendered" not in driver.marks():
            if time.time() > deadline:
                driver.log.seek(0)
                sys.exit("the preparing login did not complete:\n" + driver.log.read().decode(errors="replace")[-3000:])
            time.sleep(0.05)
    finally:
        driver.close()
        session.wait_app_gone()
        kill(emu)
    # Kakao is now unreachable: the base URL points at a closed port.
    return env


def profile_db(session):
    """The signed-in app's profile cache (SQLite) in the session's HOME."""
    for base in (session.env.get("XDG_DATA_HOME"), os.path.join(session.env["HOME"], ".local/share")):
        if base:
            path = os.path.join(base, SCHEME, "profile.db")
            if os.path.exists(path):
                return path
    sys.exit("the signed-in app's profile.db was not found")


def set_cached_accounts(db, count):
    """Makes the profile cache hold `count` accounts: the signed-in one plus
    count - 1 older ones (signed out here), each a copy of the signed-in row
    with its own id, nickname and avatar bytes, as Kakao Desk writes them."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        with conn:
            conn.execute("DELETE FROM profile WHERE kakao_id <> ?", (int(USER),))
            columns = [row[1] for row in conn.execute("PRAGMA table_info(profile)")]
            row = dict(zip(columns, conn.execute("SELECT * FROM profile WHERE kakao_id = ?", (int(USER),)).fetchone()))
            for i in range(1, count):
                other = dict(row, kakao_id=9_000_000_000 + i, nickname=f"계정 {i}",
                             last_login_at=row["last_login_at"] - i * 60_000,
                             first_login_at=row["first_login_at"] - i * 60_000)
                conn.execute(f"INSERT INTO profile ({', '.join(other)}) VALUES ({', '.join('?' * len(other))})",
                             list(other.values()))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def main():
    for path in (OURS, BASE, EMULATOR):
        if not os.path.exists(path):
            sys.exit(f"missing {path}: run scripts/bench-app.sh")
    session = Session()
    try:
        ours_env = signed_in_home(session)
        base_env = {}
        runs = {"baseline": [], "ours": []}
        for i in range(RUNS + 1):
            b = run_once(session, BASE, "first-script", base_env)
            o = run_once(session, OURS, "profile-rendered", ours_env)
            if i > 0:  # the first pair warms caches
                runs["baseline"].append(b)
                runs["ours"].append(o)
        # Start-up with more accounts in the cache: 1, 10 and 100, in turn
        # within each round so drift cancels (the app lists the latest ten
        # signed-out accounts beside the one in use).
        db = profile_db(session)
        if os.environ.get("BENCH_STARTUP_ONLY") == "1":
            print(json.dumps({name: statistics.median(r["marks_ms"].get(name, 0) for r in runs["ours"])
                              for name in runs["ours"][0]["marks_ms"]}, indent=1))
            print("baseline first script", statistics.median(r["first_script_ms"] for r in runs["baseline"]))
            return
        accounts = {str(n): [] for n in ACCOUNT_COUNTS}
        for i in range(ACCOUNT_RUNS + 1):
            for n in ACCOUNT_COUNTS:
                set_cached_accounts(db, n)
                o = run_once(session, OURS, "profile-rendered", ours_env)
                if i > 0:
                    accounts[str(n)].append(o)
        set_cached_accounts(db, 1)
        login = {str(ms): login_latency(session, ms) for ms in (0, 50)}
    finally:
        session.close()

    def deb(dirname):
        for name in os.listdir(dirname):
            if name.endswith(".deb"):
                return os.path.getsize(os.path.join(dirname, name))
        return None

    raw = {
        "runs": runs,
        "accounts": accounts,
        "login": login,
        "size": {"baseline_binary": os.path.getsize(BASE), "ours_binary": os.path.getsize(OURS),
                 "baseline_deb": deb(os.path.join(HERE, "baseline/target/release/bundle/deb")),
                 "ours_deb": deb(os.path.join(ROOT, "target/release/bundle/deb"))},
        "machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname())},
    }
    summary = {
        "baseline_first_script_ms": stats([r["first_script_ms"] for r in runs["baseline"]]),
        "ours_first_script_ms": stats([r["first_script_ms"] for r in runs["ours"]]),
        "ours_signed_in_profile_ms": stats([r["end_ms"] for r in runs["ours"]]),
        "baseline_rss_mib": stats([r["rss_mib"] for r in runs["baseline"]]),
        "ours_rss_mib": stats([r["rss_mib"] for r in runs["ours"]]),
        "baseline_pss_mib": stats([r["pss_mib"] for r in runs["baseline"]]),
        "ours_pss_mib": stats([r["pss_mib"] for r in runs["ours"]]),
    }
    names = sorted({name for r in runs["ours"] for name in r["marks_ms"]})
    summary["ours_marks_ms"] = {name: statistics.median(r["marks_ms"][name] for r in runs["ours"]
                                                         if name in r["marks_ms"]) for name in names}
    for side in ("baseline", "ours"):
        procs = sorted({k for r in runs[side] for k in r["pss_mib_by_process"]})
        summary[f"{side}_pss_mib_by_process"] = {
            k: statistics.median(r["pss_mib_by_process"].get(k, 0) for r in runs[side]) for k in procs}
    for n, results in accounts.items():
        summary[f"accounts_{n}_signed_in_profile_ms"] = stats([r["end_ms"] for r in results])
    for ms, results in login.items():
        summary[f"login_{ms}ms_first_paint_ms"] = stats([r["first_paint_ms"] for r in results])
        summary[f"login_{ms}ms_complete_ms"] = stats([r["complete_ms"] for r in results])
    raw["summary"] = summary
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results/raw.json"), "w") as f:
        json.dump(raw, f, indent=2)
    write_table(raw)


def write_table(raw):
    """results/table.md: the BENCHMARKS.md table, with goals marked."""
    s, z = raw["summary"], raw["size"]

    def ms(k):
        v = s[k]
        return f"{v['median']:.0f} ms ({v['min']:.0f}–{v['max']:.0f})"

    def mib(k):
        v = s[k]
        return f"{v['median']:.1f} MiB ({v['min']:.1f}–{v['max']:.1f})"

    def rtt(k, budget_rtt, budget_ms):
        v = s[k]["median"]
        rtts = int(v // 50)
        return f"{v:.0f} ms = {rtts} RTT + {v - 50 * rtts:.0f} ms", v <= 50 * budget_rtt + budget_ms

    def met(ok):
        return "yes" if ok else "**no**"

    start = s["ours_signed_in_profile_ms"]["median"] / s["baseline_first_script_ms"]["median"]
    rss = s["ours_rss_mib"]["median"] / s["baseline_rss_mib"]["median"]
    pss = s["ours_pss_mib"]["median"] / s["baseline_pss_mib"]["median"]
    binary = z["ours_binary"] / z["baseline_binary"]
    deb = z["ours_deb"] / z["baseline_deb"]
    first, first_ok = rtt("login_50ms_first_paint_ms", 1, 10)
    complete, complete_ok = rtt("login_50ms_complete_ms", 2, 15)
    one = s["accounts_1_signed_in_profile_ms"]["median"]
    rows = [
        "| measure | baseline | Kakao Desk | ratio | goal | met |",
        "|---|---|---|---|---|---|",
        f"| start → first page script | {ms('baseline_first_script_ms')} | {ms('ours_first_script_ms')} | "
        f"{s['ours_first_script_ms']['median'] / s['baseline_first_script_ms']['median']:.2f} | — | — |",
        f"| start → signed-in profile rendered (no network) | — | {ms('ours_signed_in_profile_ms')} | "
        f"**{start:.3f}** × baseline first script | ≤ 1.00 | {met(start <= 1.00)} |",
        f"| RSS after 3 s idle | {mib('baseline_rss_mib')} | {mib('ours_rss_mib')} | {rss:.2f} | — | — |",
        f"| PSS after 3 s idle | {mib('baseline_pss_mib')} | {mib('ours_pss_mib')} | **{pss:.3f}** | ≤ 1.08 | {met(pss <= 1.08)} |",
        f"| release binary | {z['baseline_binary']:,} B | {z['ours_binary']:,} B | **{binary:.2f}** | ≤ 2.0 | {met(binary <= 2)} |",
        f"| `.deb` | {z['baseline_deb']:,} B | {z['ours_deb']:,} B | **{deb:.2f}** | ≤ 2.5 | {met(deb <= 2.5)} |",
    ]
    for n in ("1", "10", "100"):
        v = s[f"accounts_{n}_signed_in_profile_ms"]["median"]
        goal, ok = ("≤ 1.05", met(v / one <= 1.05)) if n == "100" else ("—", "—")
        rows.append(f"| start → signed-in profile, {n} account{'s' if n != '1' else ''} in the cache | — | "
                    f"{ms(f'accounts_{n}_signed_in_profile_ms')} | {v / one:.3f} × 1 account | {goal} | {ok} |")
    rows += [
        f"| login 0 ms: link → first paint | — | {ms('login_0ms_first_paint_ms')} | — | — | — |",
        f"| login 0 ms: link → complete | — | {ms('login_0ms_complete_ms')} | — | — | — |",
        f"| login 50 ms RTT: link → first paint | — | **{first}** | — | ≤ 1 RTT + 10 ms | {met(first_ok)} |",
        f"| login 50 ms RTT: link → complete | — | **{complete}** | — | ≤ 2 RTT + 15 ms | {met(complete_ok)} |",
    ]
    table = "\n".join(rows) + "\n"
    marks = s.get("ours_marks_ms")
    if marks:
        table += "\nKakao Desk's start-up marks (median ms after spawn): " + ", ".join(
            f"{name} {v:.0f}" for name, v in sorted(marks.items(), key=lambda kv: kv[1])) + "\n"
    for side in ("baseline", "ours"):
        procs = s.get(f"{side}_pss_mib_by_process")
        if procs:
            table += f"\nPSS by process, {side} (median MiB): " + ", ".join(
                f"{k} {v:.1f}" for k, v in sorted(procs.items(), key=lambda kv: -kv[1])) + "\n"
    with open(os.path.join(HERE, "results/table.md"), "w") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    if sys.argv[1:] == ["--table"]:
        # Re-render the table from the last run's raw.json.
        with open(os.path.join(HERE, "results/raw.json")) as f:
            write_table(json.load(f))
    else:
        main()

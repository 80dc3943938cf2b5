"""Every page's speed next to a bare view behind the same middleware, served as in production.

Run: .venv/bin/python bench/web.py [--size large|small|tiny] [--duration 5] [--rounds 3]
     (or `make bench`; `--size tiny` is a smoke run of under a minute: no one-connection runs, 1 s each)

What it does, in one command:
1. Builds the data set (bench/data.py) into a PostgreSQL database of its own, `bench_<size>` on
   postgres://postgres@127.0.0.1:5432 (BENCH_DATABASE_URL overrides the server and name): created if
   missing, migrated, emptied, filled with bulk inserts. Also the small set, for query counts at two sizes.
2. Counts each page's SQL queries in-process with Django's test Client (the second request, warm caches),
   at the small size and at the measured one.
3. Starts the local Stripe server (checkout asks it for a SetupIntent) and gunicorn as the Procfile runs it
   (gunicorn.conf.py; workers never recycled mid-run): 2 sync workers, DEBUG=false, collectstatic first,
   Redis (BENCH_REDIS_URL, default db 2), bench secrets, BENCH_HELLO on so /bench/hello/ answers, on its
   own port.
4. Measures every page with wrk (-t2 -c4, and -t1 -c1 for the one-connection p95), rounds interleaved page
   by page, and prints the medians as a Markdown table with the ratio to hello's req/s.
Signed-in pages send a session cookie made directly in the database (bench.data.session_cookie). Every request
says it accepts gzip, as browsers and calendar apps do (only the calendar feed is sent gzipped).

Nothing is asserted: speed is measured here, never in tests. wrk: `apt-get install wrk`.
"""

import argparse
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/2"
ACCEPT_ENCODING = "gzip, deflate"  # what browsers and calendar apps send

# p50, p95 and p99 in microseconds, requests, seconds and non-2xx answers, on one line.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %d %d %f %d %d\\n", latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.requests, summary.duration / 1e6,
    summary.errors.status, summary.errors.timeout + summary.errors.connect + summary.errors.read))
end
"""


def database_url(size: str) -> str:
    parts = urlsplit(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_{size}"))


def app_env(size: str, stripe_port: int) -> dict:
    """The environment the app runs with: production settings, bench secrets, the bench database."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(size),
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        DEBUG="false",
        BENCH_HELLO="true",
        DJANGO_SECRET_KEY="bench-secret-key-" + "x" * 40,
        STRIPE_SECRET_KEY="sk_test_bench",
        STRIPE_PUBLISHABLE_KEY="pk_test_bench",
        STRIPE_WEBHOOK_SECRET="whsec_bench",
        CALENDAR_SECRET_KEYS="NRk1s9Cs0o7Ms1Ti6fmNJhbW6rsdu-rDLt5fM8_Ccwg=",
        STRIPE_API_BASE=f"http://127.0.0.1:{stripe_port}",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="false",  # no TLS in front of it here
        STAFF_REQUIRE_MFA="false",  # the staff session has no second factor
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


# --- In-process steps (run in a child with the app's environment) -----------------------------------


def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentorship.settings")
    import django

    django.setup()


def step_build(size: str) -> None:
    """Empty the database, fill it, print what was made (JSON)."""
    _django()
    from dataclasses import asdict

    from django.core.cache import cache
    from django.core.management import call_command

    from bench.data import SIZES, build

    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    cache.clear()
    started = time.monotonic()
    made = build(SIZES[size])
    print(json.dumps({"made": asdict(made), "seconds": time.monotonic() - started}))


def step_queries(made_json: str) -> None:
    """Each page's status and SQL query count (second request), printed as JSON."""
    _django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.data import Made, pages, session_cookie

    made = Made(**json.loads(made_json))
    cookies = {}
    counts = {}
    for name, path, user_id in pages(made):
        client = Client()
        if user_id is not None:
            cookies.setdefault(user_id, session_cookie(user_id))
            client.cookies[settings.SESSION_COOKIE_NAME] = cookies[user_id]
        client.get(path)
        with CaptureQueriesContext(connection) as queries:
            status = client.get(path).status_code
        counts[name] = {"status": status, "queries": len(queries)}
    cookies = {str(k): v for k, v in cookies.items()}
    print(json.dumps({"counts": counts, "cookies": cookies, "pages": pages(made)}))


# --- The orchestration ---------------------------------------------------------------------------------


def run_step(env: dict, *args: str) -> dict:
    done = subprocess.run([PYTHON, __file__, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{args[1]} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def wrk(url: str, *, cookie: str | None, connections: int, duration: int, script: str) -> dict:
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "-s", script]
    command += ["-H", f"Accept-Encoding: {ACCEPT_ENCODING}"]
    if cookie:
        command += ["-H", f"Cookie: sessionid={cookie}"]
    out = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    p50, p95, p99, requests, seconds, non_2xx, errors = line.split()[1:]
    return {
        "rps": int(requests) / float(seconds),
        "p50": int(p50) / 1000,
        "p95": int(p95) / 1000,
        "p99": int(p99) / 1000,
        "bad": int(non_2xx) + int(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["tiny", "small", "large"], default="large")
    parser.add_argument("--duration", type=int, help="seconds per wrk run (default 5; 1 for tiny)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; 1 for tiny)")
    parser.add_argument("--keep-data", action="store_true", help="reuse the data the last run built")
    parser.add_argument("--step", nargs=2, help=argparse.SUPPRESS)  # internal: runs in a child process
    args = parser.parse_args()
    if args.step:
        {"build": step_build, "queries": step_queries}[args.step[0]](args.step[1])
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`.")
    tiny = args.size == "tiny"
    duration = args.duration or (1 if tiny else 5)
    rounds = args.rounds or (1 if tiny else 3)
    sizes = [args.size] if tiny or args.size == "small" else ["small", args.size]
    stripe_port, web_port = free_port(), free_port()
    children: list[subprocess.Popen] = []
    try:
        stripe = subprocess.Popen(
            [PYTHON, "-m", "tests.stripe_server", "--port", str(stripe_port), "--webhook-secret", "whsec_bench"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        children.append(stripe)
        subprocess.run(  # pages name the hashed files: the manifest must exist before any is drawn
            [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
            env=app_env(args.size, stripe_port),
            cwd=ROOT,
            check=True,
        )
        made, counts, cookies = {}, {}, {}
        state = ROOT / "var" / "bench"
        state.mkdir(parents=True, exist_ok=True)
        for size in sizes:
            env = app_env(size, stripe_port)
            create_database(env["DATABASE_URL"])
            saved = state / f"{size}.json"
            if args.keep_data and saved.exists():
                made[size] = json.loads(saved.read_text())
            else:
                print(f"building the {size} data set into {env['DATABASE_URL']} ...", file=sys.stderr, flush=True)
                built = run_step(env, "--step", "build", size)
                print(f"  {built['made']['bookings']} bookings in {built['seconds']:.0f} s", file=sys.stderr)
                made[size] = built["made"]
                saved.write_text(json.dumps(made[size]))
            wait_for(f"http://127.0.0.1:{stripe_port}/", 10) if size == sizes[0] else None
            result = run_step(env, "--step", "queries", json.dumps(made[size]))
            counts[size] = result["counts"]
            cookies = result["cookies"]  # the measured size is last: its sessions are the ones wrk sends

        env = app_env(args.size, stripe_port)
        procfile = (ROOT / "Procfile").read_text()
        assert "gunicorn mentorship.wsgi --config gunicorn.conf.py" in procfile
        web = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "mentorship.wsgi",
                "--config",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{web_port}",
                "--workers",
                "2",
                "--max-requests",
                "0",  # no worker recycled mid-measurement (a restart is a second of imports)
            ],  # fmt: skip
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        children.append(web)
        base = f"http://127.0.0.1:{web_port}"
        wait_for(base + "/bench/hello/")

        page_list = result["pages"]  # the measured size's (the last counted)
        results: dict[str, list[dict]] = {name: [] for name, _, _ in page_list}
        single: dict[str, list[dict]] = {name: [] for name, _, _ in page_list}
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_SCRIPT)
        seconds = {}  # per page: long enough for about 8 requests even where one takes seconds
        for name, path, user_id in page_list:  # each worker compiles its templates and fills its caches first
            cookie = cookies.get(str(user_id)) if user_id else None
            for _ in range(4):
                request = urllib.request.Request(
                    base + path, headers={"Cookie": f"sessionid={cookie}"} if cookie else {}
                )
                started = time.monotonic()
                urllib.request.urlopen(request, timeout=60).read()
            slow = math.ceil(8 * (time.monotonic() - started))
            seconds[name] = duration if tiny else min(60, max(duration, slow))
        for round_no in range(rounds):
            print(f"round {round_no + 1} of {rounds} ...", file=sys.stderr, flush=True)
            for name, path, user_id in page_list:
                cookie = cookies.get(str(user_id)) if user_id else None
                url = base + path
                for runs, connections in ((results, 4),) if tiny else ((results, 4), (single, 1)):
                    runs[name].append(
                        wrk(url, cookie=cookie, connections=connections, duration=seconds[name], script=script.name)
                    )
        os.unlink(script.name)
        print(table(page_list, results, single, counts, sizes, args.size, duration, rounds))
    finally:
        for child in reversed(children):
            if child.poll() is None:
                if child is children[-1] and len(children) > 1:
                    os.killpg(child.pid, signal.SIGTERM)  # gunicorn and its workers
                else:
                    child.terminate()
                child.wait(timeout=30)


def table(page_list, results, single, counts, sizes, size, duration, rounds) -> str:
    def median(runs, key):
        return statistics.median(run[key] for run in runs)

    hello = median(results["hello"], "rps")
    header = f"| page ({size}) | req/s | p50 ms | p99 ms | % of hello | p95 ms, 1 conn | " + " | ".join(
        f"queries ({s})" for s in sizes
    )
    lines = [header + " |", "|---" * (6 + len(sizes)) + "|"]
    for name, _, _ in page_list:
        runs = results[name]
        rps = median(runs, "rps")
        bad = sum(run["bad"] for run in runs + single[name])
        p95 = f"{median(single[name], 'p95'):,.1f}" if single[name] else "—"
        query_cells = []
        for s in sizes:
            c = counts[s][name]
            query_cells.append(f"{c['queries']}" + ("" if c["status"] == 200 else f" (HTTP {c['status']})"))
        lines.append(
            f"| {name}{f' ({bad} errors/non-2xx)' if bad else ''} | {rps:,.1f} | {median(runs, 'p50'):,.1f} | "
            f"{median(runs, 'p99'):,.1f} | {100 * rps / hello:.1f} % | {p95} | " + " | ".join(query_cells) + " |"
        )
    lines.append(
        f"\nwrk -t2 -c4 and -t1 -c1, {duration} s each (slow pages up to 60 s, for about 8 requests), "
        f"median of {rounds} interleaved round(s); gunicorn 2 sync "
        "workers, DEBUG=false, PostgreSQL + Redis. Queries: the second request of a page, in-process."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

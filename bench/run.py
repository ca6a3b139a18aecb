#!/usr/bin/env python3
"""Runs spindle's benchmarks against its peers and writes bench/results/ (issue 3).

    bench/run.py --build-dir build            full mode (about half an hour)
    bench/run.py --build-dir build --quick    quick mode (under 3 minutes)
    bench/run.py --build-dir build --smoke    correctness pass of every program (make test)

Servers run pinned to core 0 and load generators to core 1 (taskset), both at nice -20 when
root. Peers are interleaved A B C, B C A, ... for several rounds and the median is reported.
The same raw-epoll load generator drives every server; each load generator reads its server's
CPU time (/proc/PID/task/*/schedstat) at the edges of its measured window, so CPU per operation
excludes start-up. Every wait is bounded, and every process started is stopped in a finally
block. See bench/README.md for the method and its caveats.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import (BenchError, Runner, find_twisted_python, raise_fd_limit,  # noqa: E402
                   read_line, rss_anon_bytes)
import report  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
LISTENING = r"listening on [\d.]+:(?P<port>\d+)"
SERVING = r"Serving .* on port (?P<port>\d+)\."
KIB, MIB = 1024, 1024 * 1024

MODES = {
    "quick": dict(
        rounds=3,
        pingpong=[(1, 16), (10, 4096), (100, 16384), (1000, 16)], pingpong_seconds=0.4,
        poetry=[(4 * KIB, 1000), (64 * KIB, 100), (4 * MIB, 1)], poetry_seconds=0.4,
        get_poetry=[(64 * KIB, 100)],
        pound=[100, 1000], pound_seconds=0.4,
        idle=1000,
        timers=300_000, timer_max_ms=100,
        threads=[1, 4], thread_calls=500_000,
        micro_min_time=0.01,
        client_compare=[(100, 4096)],
    ),
    "full": dict(
        rounds=5,
        pingpong=[(s, b) for b in (16, 4096, 16384) for s in (1, 10, 100, 1000)],
        pingpong_seconds=2.0,
        poetry=[(p, c) for p in (4 * KIB, 64 * KIB, 4 * MIB) for c in (1, 100, 1000)],
        poetry_seconds=2.0,
        get_poetry=[(4 * KIB, 1000), (64 * KIB, 100), (4 * MIB, 1)],
        pound=[100, 1000], pound_seconds=2.0,
        idle=10000,
        timers=1_000_000, timer_max_ms=1000,
        threads=[1, 4], thread_calls=2_000_000,
        micro_min_time=0.5,
        client_compare=[(1, 16), (100, 4096), (1000, 16)],
    ),
    "smoke": dict(
        rounds=1,
        pingpong=[(3, 4096)], pingpong_seconds=0.1,
        poetry=[(64 * KIB, 5)], poetry_seconds=0.1,
        get_poetry=[(64 * KIB, 3)],
        pound=[10], pound_seconds=0.1,
        idle=50,
        timers=2000, timer_max_ms=20,
        threads=[2], thread_calls=2000,
        micro_min_time=0.0005,
        client_compare=[(3, 4096)],
    ),
}

WORKLOADS = ["pingpong", "poetry", "pound", "idle", "timers", "threads", "micro"]


class Bench:
    def __init__(self, args, mode, runner, tmp):
        self.args, self.mode, self.r, self.tmp = args, MODES[mode], runner, Path(tmp)
        self.mode_name = mode
        self.smoke = mode == "smoke"
        self.build = Path(args.build_dir).resolve()
        self.bin = self.build / "bench"
        self.failures = []
        self._twisted = False  # not looked up yet

    @property
    def python_twisted(self):
        """A Python that has Twisted (Debian's python3-twisted is for /usr/bin/python3), or
        None; looked up once, on first use."""
        if self._twisted is False:
            self._twisted = find_twisted_python()
        return self._twisted

    # --- Programs -------------------------------------------------------------------------

    def program(self, name):
        for d in (self.bin, self.build / "bin"):
            if (d / name).exists():
                return d / name
        return None

    def pingpong_servers(self, twisted=False):
        servers = {
            "spindle": "pingpong-server", "epoll": "epoll-pingpong-server",
            "asio": "asio-pingpong-server", "libuv": "uv-pingpong-server",
            "libevent": "event-pingpong-server",
        }
        out = {k: [self.program(v)] for k, v in servers.items() if self.program(v)}
        if twisted and self.python_twisted:
            out["twisted"] = [self.python_twisted, BENCH_DIR / "peers/twisted_server.py",
                              "pingpong"]
        return self.only_peers(out)

    def poetry_servers(self):
        servers = {
            "spindle": "poetry-server", "spindle-lean": "spindle-poetry-server",
            "epoll": "epoll-poetry-server", "asio": "asio-poetry-server",
            "libuv": "uv-poetry-server", "libevent": "event-poetry-server",
        }
        out = {k: [self.program(v)] for k, v in servers.items() if self.program(v)}
        if self.python_twisted:
            out["twisted"] = [self.python_twisted, BENCH_DIR / "peers/twisted_server.py", "poetry"]
        return self.only_peers(out)

    def only_peers(self, servers):
        if not self.args.peers:
            return servers
        keep = set(self.args.peers.split(",")) | {"spindle"}
        return {k: v for k, v in servers.items() if k in keep}

    def need(self, name):
        p = self.program(name)
        if not p:
            raise BenchError(f"{name} not found under {self.build}; build the bench-programs "
                             f"target first")
        return p

    # --- Helpers --------------------------------------------------------------------------

    def rounds(self):
        return self.args.rounds or self.mode["rounds"]

    def interleaved(self, names, row=None, rounds=None):
        """Yields (round, name) in the order A B C, B C A, C A B, ... so no peer always runs
        first or right after the same neighbour. A peer that failed in `row` is not run again
        there: a failure is a finding, and retrying it only burns the time budget."""
        names = list(names)
        for r in range(rounds or self.rounds()):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                if row is None or not row.failed(name):
                    yield r, name

    def attempt(self, what, fn):
        """Runs one measurement; a failure is recorded and reported, not fatal (except in smoke
        mode, where any failure fails the run)."""
        try:
            return fn()
        except BenchError as e:
            msg = f"{what}: {str(e).strip().splitlines()[0] if str(e).strip() else e}"
            self.failures.append(msg)
            print(f"  FAILED {msg}", flush=True)
            if self.smoke:
                print(str(e))
            return None

    def start_servers(self, servers, extra, ready):
        started = {}
        for name, argv in servers.items():
            s = self.attempt(f"start {name}", lambda: self.r.start_server(
                name, argv + extra(name), ready))
            if s:
                started[name] = s
        return started

    def stop_servers(self, started):
        for s in started.values():
            self.r.stop(s.popen)

    def note_server_death(self, server):
        if not server.alive():
            raise BenchError(f"{server.name} server died: "
                             f"{server.log.read_text(errors='replace')[-500:]}")

    # --- Workload 1: ping-pong ------------------------------------------------------------

    def pingpong(self):
        load = self.need("pingpong-load")
        secs = self.mode["pingpong_seconds"]
        servers = self.pingpong_servers(twisted=self.args.twisted_pingpong)
        rows = []
        by_block = {}
        for sessions, block in self.mode["pingpong"]:
            by_block.setdefault(block, []).append(sessions)
        for block, session_list in by_block.items():
            # Asio's server sizes its session buffer by BLOCKSIZE, so servers restart per block.
            started = self.start_servers(
                servers, lambda n: [HOST, 0, 1, block], LISTENING)
            try:
                for sessions in session_list:
                    row = report.Row(f"{sessions} × {block} B")
                    for _, name in self.interleaved(started, row):
                        s = started[name]

                        def one():
                            self.note_server_death(s)
                            argv = [load, HOST, s.port, 1, block, sessions, secs,
                                    "--server-pid", s.pid]
                            if self.smoke:
                                argv.append("--verify")
                            res = self.r.run(argv, timeout=secs + 30)
                            msgs = res["messages"]
                            return dict(value=res["msgs_per_s"], second=res["mib_per_s"],
                                        cpu=res["server_cpu_s"] / msgs * 1e6 if msgs else None)
                        row.add(name, self.attempt(f"pingpong {row.label} {name}", one))
                    rows.append(row)
                    print(f"  pingpong {row.label}: {row.summary()}", flush=True)
            finally:
                self.stop_servers(started)
        return report.Section(
            "pingpong", "Ping-pong (common load generator pingpong-load)", rows,
            value_unit="msg/s", second_unit="MiB/s", cpu_unit="µs/msg",
            note=f"{secs} s per run; sessions × block; echo both ways, TCP_NODELAY; "
                 "messages = bytes received by the client ÷ block size.")

    def client_compare(self):
        """spindle's pingpong-client against the common load generator, on the raw epoll server:
        how much of a client's budget spindle costs."""
        clients = {"pingpong-load": self.need("pingpong-load"),
                   "spindle pingpong-client": self.need("pingpong-client")}
        epoll = self.need("epoll-pingpong-server")
        secs = self.mode["pingpong_seconds"]
        rows = []
        for sessions, block in self.mode["client_compare"]:
            s = self.r.start_server("epoll", [epoll, HOST, 0, 1, block], LISTENING)
            try:
                row = report.Row(f"{sessions} × {block} B")
                for _, name in self.interleaved(clients, row):
                    def one():
                        argv = [clients[name], HOST, s.port, 1, block, sessions, secs]
                        if self.smoke:
                            argv.append("--verify")
                        res = self.r.run(argv, timeout=secs + 30)
                        return dict(value=res["msgs_per_s"], second=res["mib_per_s"])
                    row.add(name, self.attempt(f"client {row.label} {name}", one))
                rows.append(row)
                print(f"  clients {row.label}: {row.summary()}", flush=True)
            finally:
                self.r.stop(s.popen)
        return report.Section(
            "clients", "Ping-pong clients against the raw epoll server", rows,
            value_unit="msg/s", second_unit="MiB/s", primary="spindle pingpong-client",
            note="The same server, two clients: spindle's pingpong-client (on the public API) "
                 "and the raw epoll load generator.")

    # --- Workload 2: poetry fan-in --------------------------------------------------------

    def poem_file(self, size):
        path = self.tmp / f"poem-{size}.txt"
        if not path.exists():
            path.write_bytes(make_poem(size))
        return path

    def poetry_rows(self, mode_key):
        """Yields (poem, started servers, size, conns) for each row of the mode's `mode_key`
        list. The servers for one poem size start once, serve that size's rows, and stop."""
        servers = self.poetry_servers()
        by_size = {}
        for size, conns in self.mode[mode_key]:
            by_size.setdefault(size, []).append(conns)
        for size, conn_list in by_size.items():
            poem = self.poem_file(size)
            started = self.start_servers(
                servers, lambda n: ["--port", 0, "--iface", HOST, "--delay", 0, poem], SERVING)
            try:
                for conns in conn_list:
                    yield poem, started, size, conns
            finally:
                self.stop_servers(started)

    def poetry(self):
        load = self.need("poetry-load")
        secs = self.mode["poetry_seconds"]
        rows = []
        for poem, started, size, conns in self.poetry_rows("poetry"):
            row = report.Row(f"{report.size(size)} × {conns}")
            # A round of 4 MiB × 1000 moves 4 GiB (seconds each): fewer rounds there.
            rounds = min(self.rounds(), 3) if size * conns >= 1 << 30 else None
            for _, name in self.interleaved(started, row, rounds):
                s = started[name]

                def one():
                    self.note_server_death(s)
                    argv = [load, HOST, s.port, conns, 1_000_000, size, "--seconds", secs,
                            "--server-pid", s.pid, "--round-timeout",
                            5 if self.mode_name != "full" else 30]
                    if self.smoke:
                        argv += ["--verify", poem]
                    res = self.r.run(argv, timeout=secs + 60)
                    poems = res["poems"]
                    return dict(value=res["poems_per_s"], second=res["mib_per_s"],
                                cpu=res["server_cpu_s"] / poems * 1e6 if poems else None)
                row.add(name, self.attempt(f"poetry {row.label} {name}", one))
            rows.append(row)
            print(f"  poetry {row.label}: {row.summary()}", flush=True)
        return report.Section(
            "poetry", "Poetry fan-in (common load generator poetry-load)", rows,
            value_unit="poems/s", second_unit="MiB/s", cpu_unit="µs/poem",
            note=f"poem size × connections opened at once per round, rounds for {secs} s. "
                 "spindle is apps/poetry's poetry-server --delay 0 as shipped; spindle-lean "
                 "is the same protocol on spindle's public API written like the peers "
                 "(SOMAXCONN backlog, no line printed per connection).")

    def get_poetry(self):
        client = self.need("get-poetry")
        secs = self.mode["poetry_seconds"]
        rows = []
        for poem, started, size, conns in self.poetry_rows("get_poetry"):
            row = report.Row(f"{report.size(size)} × {conns}")
            for _, name in self.interleaved(started, row):
                s = started[name]

                def one():
                    # Whole get-poetry runs, back to back, for the time budget (at
                    # least one, at most 1000): poems over their summed wall time.
                    self.note_server_death(s)
                    argv = [client, "--timeout", 20] + [f"{HOST}:{s.port}"] * conns
                    poems, wall = 0, 0.0
                    for _ in range(1000):
                        res = self.r.run(argv, timeout=40, check=False)
                        if f"Got {conns} poems in" not in res["_stdout"]:
                            tail = res["_stdout"].strip().splitlines()[-1:]
                            raise BenchError(f"get-poetry did not get every poem: {tail}")
                        poems, wall = poems + conns, wall + res["_wall"]
                        if wall >= secs:
                            break
                    return dict(value=poems / wall)
                row.add(name, self.attempt(f"get-poetry {row.label} {name}", one))
            rows.append(row)
            print(f"  get-poetry {row.label}: {row.summary()}", flush=True)
        return report.Section(
            "get_poetry", "Poetry fan-in with spindle's get-poetry as the client", rows,
            value_unit="poems/s",
            note="get-poetry fetches every poem at once and exits; it runs back to back for "
                 f"{secs} s per measurement, and poems/s counts whole runs (process start-up "
                 "included), so compare columns, not this table with the one above.")

    # --- Workload 3: connection rate ------------------------------------------------------

    def pound(self):
        load = self.need("pound-load")
        secs = self.mode["pound_seconds"]
        started = self.start_servers(self.pingpong_servers(), lambda n: [HOST, 0, 1, 16384],
                                     LISTENING)
        rows = []
        try:
            for conc in self.mode["pound"]:
                row = report.Row(f"{conc} outstanding")
                for _, name in self.interleaved(started, row):
                    s = started[name]

                    def one():
                        self.note_server_death(s)
                        argv = [load, HOST, s.port, conc, secs, "--server-pid", s.pid,
                                "--sources", self.args.pound_sources]
                        if not self.args.pound_fin:
                            argv.append("--reset")
                        res = self.r.run(argv, timeout=secs + 30)
                        n = res["connections"]
                        return dict(value=res["conns_per_s"],
                                    cpu=res["server_cpu_s"] / n * 1e6 if n else None,
                                    errors=res["errors"])
                    row.add(name, self.attempt(f"pound {row.label} {name}", one))
                rows.append(row)
                print(f"  pound {row.label}: {row.summary()}", flush=True)
        finally:
            self.stop_servers(started)
        return report.Section(
            "pound", "Connection rate (pound-load)", rows, value_unit="conn/s",
            cpu_unit="µs/conn",
            note=f"{secs} s per run; each connection connects, writes 4 bytes, reads the echo "
                 "and closes. " + (
                     "The client closes first, so TIME_WAIT stays on the client side; loopback "
                     "reuses it after ~1 s (net.ipv4.tcp_tw_reuse=2), which caps the rate near "
                     "14k/s." if self.args.pound_fin else
                     "The client closes with a reset (SO_LINGER 0), so no TIME_WAIT caps the "
                     "ephemeral ports; on two cores the single-threaded load generator is then "
                     "the limit, and server CPU per connection tells the servers apart."))

    # --- Workload 4: idle memory ----------------------------------------------------------

    def idle(self):
        load = self.need("idle-load")
        n = self.mode["idle"]
        hard = raise_fd_limit()
        if hard < n + 256:
            n = max(100, hard - 256)
            print(f"  idle: descriptor limit {hard}; measuring {n} connections")
        servers = self.pingpong_servers(twisted=True)
        rows = [report.Row(f"{n} idle connections")]
        for _, name in self.interleaved(servers, rows[0], rounds=min(self.rounds(), 2)):
            rows[0].add(name, self.attempt(
                f"idle {name}", lambda: dict(value=self.idle_one(name, servers[name], load, n))))
        print(f"  idle: {rows[0].summary()}", flush=True)
        return report.Section(
            "idle", "Idle memory: server RssAnon growth per connection", rows,
            value_unit="B/conn", higher_is_better=False,
            note="A fresh server per run serves 16 warm-up connections, then RssAnon (anonymous "
                 "resident memory: heap and stacks, not kernel socket buffers) is read before "
                 "and after idle-load holds the connections, each having echoed one byte. "
                 "Asio's sessions own a 16 KiB buffer (BLOCKSIZE 16384).")

    def idle_one(self, name, argv, load, n):
        s = self.r.start_server(name, argv + [HOST, 0, 1, 16384], LISTENING)
        try:
            self.r.run([load, HOST, s.port, 16, 0.05], timeout=30)
            time.sleep(0.2)
            before = rss_anon_bytes(s.pid)
            p = self.r.start([load, HOST, s.port, n, 120], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
            try:
                line = read_line(p, timeout=60)
                if not line.startswith("READY"):
                    raise BenchError(f"idle-load: {line or p.stderr.read().decode()[-500:]}")
                time.sleep(0.2)
                after = rss_anon_bytes(s.pid)
            finally:
                p.stdin.close()
                self.r.stop(p)
            return (after - before) / n
        finally:
            self.r.stop(s.popen)

    # --- Workloads 5 and 6: timers and cross-thread calls --------------------------------

    def timers(self):
        prog = self.need("timer-bench")
        n, max_ms = self.mode["timers"], self.mode["timer_max_ms"]
        libs = self.only_peers({k: None for k in ("spindle", "libuv", "asio")})
        rows = []
        for pattern in ("cancel-half", "idle-timeout"):
            row = report.Row(pattern)
            for _, lib in self.interleaved(libs, row):
                def one():
                    res = self.r.run([prog, lib, pattern, n, "--max-delay-ms", max_ms],
                                     core=self.r.server_core, timeout=120)
                    return dict(value=res["ops_per_cpu_s"], second=res["wall_s"])
                row.add(lib, self.attempt(f"timers {pattern} {lib}", one))
            rows.append(row)
            print(f"  timers {pattern}: {row.summary()}", flush=True)
        return report.Section(
            "timers", f"Timers: {n:,} timers, delays up to {max_ms} ms", rows,
            value_unit="ops/CPU-s", second_unit="s wall",
            note="cancel-half: arm N with random delays, cancel a random half, run the rest. "
                 "idle-timeout: 45% cancelled and 45% reset before firing, 10% untouched. Ops "
                 "are arms + cancels + resets + fires, per CPU second of the process; every "
                 "run checks that exactly the expected timers fired.")

    def threads(self):
        prog = self.need("threadcall-bench")
        n = self.mode["thread_calls"]
        libs = self.only_peers({k: None for k in ("spindle", "libuv", "asio")})
        rows = []
        for t in self.mode["threads"]:
            row = report.Row(f"{t} thread{'s' if t > 1 else ''} × {n:,}")
            for _, lib in self.interleaved(libs, row):
                def one():
                    # Producers and the loop need both cores: no pinning here.
                    res = self.r.run([prog, lib, t, n], core=None, timeout=120)
                    return dict(value=res["calls_per_s"])
                row.add(lib, self.attempt(f"threads {row.label} {lib}", one))
            rows.append(row)
            print(f"  threads {row.label}: {row.summary()}", flush=True)
        return report.Section(
            "threads", "Cross-thread calls into the loop", rows, value_unit="calls/s",
            note="spindle: callFromThread; libuv: mutex-guarded queue + uv_async_send doorbell; "
                 "Asio: asio::post. Every run checks no call was lost or reordered per thread.")

    def micro(self):
        prog = self.need("spindle-micro-bench")
        out = self.tmp / "micro.json"
        argv = [prog, f"--benchmark_min_time={self.mode['micro_min_time']}",
                "--benchmark_format=console", f"--benchmark_out={out}",
                "--benchmark_out_format=json"]
        if self.smoke:
            argv.append("--benchmark_filter=-.*/100000")  # the big heaps take seconds under ASan
        self.r.run(argv, core=self.r.server_core, timeout=300)
        data = json.loads(out.read_text())
        return report.MicroSection(data.get("benchmarks", []))


def make_poem(size):
    """`size` bytes of verse, deterministic, lines numbered so a misplaced chunk shows."""
    verse = [b"Whose woods these are I think I know.", b"His house is in the village though;",
             b"He will not see me stopping here", b"To watch his woods fill up with snow."]
    out, i = bytearray(), 0
    while len(out) < size:
        out += b"%06d %s\n" % (i, verse[i % 4])
        i += 1
    return bytes(out[:size])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=str(BENCH_DIR.parent / "build"),
                    help="CMake build directory holding bench/ and bin/ (default: build)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="the quick mode (under 3 minutes)")
    g.add_argument("--smoke", action="store_true",
                   help="run every program briefly and check bytes and counts; write nothing")
    ap.add_argument("--only", help="comma-separated workloads: " + ",".join(WORKLOADS))
    ap.add_argument("--peers", help="comma-separated peers to run beside spindle")
    ap.add_argument("--rounds", type=int, help="rounds of interleaved runs (median reported)")
    ap.add_argument("--out-dir", default=str(BENCH_DIR / "results"))
    ap.add_argument("--no-pin", action="store_true", help="do not pin to cores")
    ap.add_argument("--no-nice", action="store_true", help="do not raise priority")
    ap.add_argument("--pound-fin", action="store_true",
                    help="pound-load closes with a FIN (TIME_WAIT caps the rate) instead of a "
                         "reset")
    ap.add_argument("--pound-sources", type=int, default=1,
                    help="source addresses 127.0.0.1..N for pound-load (lifts the port cap)")
    ap.add_argument("--twisted-pingpong", action="store_true",
                    help="also run Twisted in the ping-pong workload")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every command")
    args = ap.parse_args()

    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    only = args.only.split(",") if args.only else WORKLOADS
    unknown = set(only) - set(WORKLOADS)
    if unknown:
        ap.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
    if not shutil.which("taskset"):
        args.no_pin = True
    raise_fd_limit()

    def interrupted(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupted)  # so the finally block below still runs
    signal.signal(signal.SIGHUP, interrupted)

    tmp = tempfile.mkdtemp(prefix="spindle-bench-")
    runner = Runner(tmp, pin=not args.no_pin and mode != "smoke",
                    nice=not args.no_nice and mode != "smoke", verbose=args.verbose)
    bench = Bench(args, mode, runner, tmp)
    sections = []
    started = time.monotonic()
    try:
        plan = {
            "pingpong": [bench.pingpong, bench.client_compare],
            "poetry": [bench.poetry, bench.get_poetry],
            "pound": [bench.pound], "idle": [bench.idle], "timers": [bench.timers],
            "threads": [bench.threads], "micro": [bench.micro],
        }
        for w in WORKLOADS:
            if w not in only:
                continue
            for step in plan[w]:
                print(f"== {step.__name__} ({mode})", flush=True)
                t0 = time.monotonic()
                sec = bench.attempt(step.__name__, step)
                if sec:
                    sections.append(sec)
                print(f"   ({time.monotonic() - t0:.1f} s)", flush=True)
    except KeyboardInterrupt:
        print("interrupted; stopping every process started", flush=True)
        return 130
    finally:
        runner.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.monotonic() - started

    if mode == "smoke":
        bad = [f for f in bench.failures]
        for s in sections:
            bad += s.missing()
        if bad:
            print("smoke FAILED:\n  " + "\n  ".join(bad))
            return 1
        print(f"smoke passed in {elapsed:.1f} s")
        return 0

    info = report.machine_info(bench.build)
    info.update(mode=mode, rounds=bench.rounds(), seconds=round(elapsed, 1),
                pinned=runner.pin, niced=runner.nice,
                background_cores=round(statistics.median(runner.background), 2)
                if runner.background else None)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md = report.markdown(sections, info, bench.failures)
    (out / "results.md").write_text(md)
    (out / "chart.svg").write_text(report.svg(sections, info))
    (out / "results.json").write_text(json.dumps(
        dict(info=info, failures=bench.failures, sections=[s.to_json() for s in sections]),
        indent=1))
    print(md)
    print(f"wrote {out / 'results.md'}, {out / 'chart.svg'} and {out / 'results.json'} "
          f"in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Where does a server spend its time? Profiles spindle's servers beside the raw epoll ones.

    bench/profile.py --build-dir build [--workload pingpong|poetry|pound] [--servers a,b]
                     [--sessions N --block B | --poem BYTES --connections C] [--seconds S]

For each server, under the same load as bench/run.py (server on core 0, load on core 1):
  1. `perf trace -s` counts the server's system calls per operation;
  2. `perf record -e cpu-clock` samples it, and the report splits CPU per operation between
     the kernel and user space and lists the hottest user-space functions.
Needs linux-perf and root (or a permissive kernel.perf_event_paranoid). Prints markdown.
perf trace drops events on a busy server: for poetry and pound, counts are per close() seen.
Build with -DCMAKE_BUILD_TYPE=RelWithDebInfo for symbol names inside inlined code.
"""
import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import BenchError, Runner, _die_with_parent, raise_fd_limit  # noqa: E402
import run as bench_run  # noqa: E402

PINGPONG = {"spindle": "pingpong-server", "epoll": "epoll-pingpong-server",
            "asio": "asio-pingpong-server", "libuv": "uv-pingpong-server",
            "libevent": "event-pingpong-server"}
POETRY = {"spindle": "poetry-server", "spindle-lean": "spindle-poetry-server",
          "epoll": "epoll-poetry-server", "asio": "asio-poetry-server",
          "libuv": "uv-poetry-server", "libevent": "event-poetry-server"}


def find(build, name):
    for d in (build / "bench", build / "bin"):
        if (d / name).exists():
            return d / name
    raise BenchError(f"{name} not found under {build}")


def start_server(r, args, build, name, tmp):
    if args.workload == "poetry":
        poem = Path(tmp) / "poem.txt"
        poem.write_bytes(bench_run.make_poem(args.poem))
        argv = [find(build, POETRY[name]), "--port", 0, "--iface", "127.0.0.1", "--delay", 0,
                poem]
        return r.start_server(name, argv, bench_run.SERVING)
    argv = [find(build, PINGPONG[name]), "127.0.0.1", 0, 1, args.block]
    return r.start_server(name, argv, bench_run.LISTENING)


def load_argv(args, build, s):
    if args.workload == "pingpong":
        return [find(build, "pingpong-load"), "127.0.0.1", s.port, 1, args.block, args.sessions,
                args.seconds, "--server-pid", s.pid], "messages", "message"
    if args.workload == "poetry":
        return [find(build, "poetry-load"), "127.0.0.1", s.port, args.connections, 1_000_000,
                args.poem, "--seconds", args.seconds, "--server-pid", s.pid,
                "--round-timeout", 10], "poems", "poem"
    return [find(build, "pound-load"), "127.0.0.1", s.port, args.connections, args.seconds,
            "--server-pid", s.pid], "connections", "connection"


def attach(tool_argv, r, load, seconds):
    """Runs `tool_argv` (perf attached to the server) around one load run."""
    tool = subprocess.Popen(tool_argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, preexec_fn=_die_with_parent)
    r.procs.append(tool)
    try:
        time.sleep(1.5)  # perf takes a moment to attach
        res = r.run(load, timeout=seconds + 60)
        out, _ = tool.communicate(timeout=seconds + 30)
        return res, out
    finally:
        r.stop(tool)


SYSCALL_LINE = re.compile(r"^\s+(\w+)\s+(\d+)\s+\d+\s+[\d.]+", re.M)
SAMPLE_LINE = re.compile(r"^\s+([\d.]+)%\s+(\S+)\s+\[([.k])\]\s+(.+?)\s*$", re.M)


def clean(symbol):
    """A symbol from perf report without its trailing empty columns."""
    return re.sub(r"(\s+-)+$", "", symbol).strip()


def profile(args, build, name, tmp):
    r = Runner(tmp, pin=True, nice=True)
    try:
        s = start_server(r, args, build, name, tmp)
        load, key, op = load_argv(args, build, s)
        # Warm-up, so lazily grown structures are in place.
        r.run(load, timeout=args.seconds + 60)
        res, trace = attach(["perf", "trace", "-s", "-p", str(s.pid), "--", "sleep",
                             str(args.seconds + 3)], r, load, args.seconds)
        calls = {m.group(1): int(m.group(2)) for m in SYSCALL_LINE.finditer(trace)}
        if not calls:
            raise BenchError(f"perf trace counted nothing for {name}:\n{trace[-1500:]}")
        # perf trace drops events when the server is busy; each connection closes exactly once,
        # so for the connection workloads close() is the exact count of operations traced.
        ops = calls.get("close", 0) if args.workload != "pingpong" else res[key]
        ops = ops or res[key]
        data = Path(tmp) / f"{name}.perf"
        res2, _ = attach(["perf", "record", "-e", "cpu-clock", "-F", "4999", "-p", str(s.pid),
                          "-o", str(data), "--", "sleep", str(args.seconds + 3)], r, load,
                         args.seconds)
        rep = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort",
                              "dso,symbol", "--stdio", "-g", "none", "--percent-limit", "0.2"],
                             capture_output=True, text=True, timeout=120).stdout
        samples = [(float(m.group(1)), m.group(2), m.group(3), clean(m.group(4)))
                   for m in SAMPLE_LINE.finditer(rep)]
        split = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort",
                                "dso", "--stdio", "-g", "none"],
                               capture_output=True, text=True, timeout=120).stdout
        dsos = {m.group(2): float(m.group(1))
                for m in re.finditer(r"^\s+([\d.]+)%\s+(\S+)", split, re.M)}
        cpu_per_op = res2["server_cpu_s"] / res2[key] * 1e6
        return dict(name=name, op=op, ops=ops, calls=calls, cpu=cpu_per_op, samples=samples,
                    kernel=sum(v for k, v in dsos.items() if k.startswith("[kernel")) / 100,
                    rate=res2.get("msgs_per_s") or res2.get("poems_per_s")
                    or res2.get("conns_per_s"))
    finally:
        r.stop_all()


def render(args, results):
    out = [f"## Profile: {args.workload} ({describe(args)})", ""]
    ops = {r["name"]: r for r in results}
    names = [r["name"] for r in results]
    out += ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    op = results[0]["op"]
    out.append(f"| server CPU µs/{op} | " + " | ".join(f"{ops[n]['cpu']:.2f}" for n in names)
               + " |")
    for part, share in (("kernel", lambda r: r["kernel"]),
                        ("user space", lambda r: 1 - r["kernel"])):
        out.append(f"| {part} µs/{op} | " + " | ".join(
            f"{ops[n]['cpu'] * share(ops[n]):.2f}" for n in names) + " |")
    out.append(f"| syscalls/{op} | " + " | ".join(
        f"{sum(ops[n]['calls'].values()) / ops[n]['ops']:.2f}" for n in names) + " |")
    allcalls = sorted({c for n in names for c in ops[n]["calls"]},
                      key=lambda c: -max(ops[n]["calls"].get(c, 0) for n in names))
    for c in allcalls:
        vals = [ops[n]["calls"].get(c, 0) / ops[n]["ops"] for n in names]
        if max(vals) >= 0.01:
            out.append(f"| &nbsp; {c} | " + " | ".join(f"{v:.2f}" for v in vals) + " |")
    for r in results:
        user = [(p, dso, sym) for p, dso, k, sym in r["samples"] if k == "."]
        out += ["", f"Hottest user-space functions of {r['name']} (% of its CPU, µs/{op}):", ""]
        for p, dso, sym in user[:args.top]:
            out.append(f"- {p:.2f}% ({r['cpu'] * p / 100:.3f} µs) {dso}: `{sym}`")
    return "\n".join(out)


def describe(args):
    if args.workload == "pingpong":
        return f"{args.sessions} sessions × {args.block} B"
    if args.workload == "poetry":
        return f"{args.poem} B poem × {args.connections} connections"
    return f"{args.connections} outstanding connections"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=str(Path(__file__).resolve().parent.parent / "build"))
    ap.add_argument("--workload", choices=("pingpong", "poetry", "pound"), default="pingpong")
    ap.add_argument("--servers", default=None, help="default: spindle,epoll "
                    "(poetry: spindle-lean,epoll)")
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--block", type=int, default=4096)
    ap.add_argument("--poem", type=int, default=65536)
    ap.add_argument("--connections", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    if not shutil.which("perf"):
        sys.exit("profile.py: perf not found (apt-get install linux-perf)")
    raise_fd_limit()
    build = Path(args.build_dir).resolve()
    servers = (args.servers or ("spindle-lean,epoll" if args.workload == "poetry"
                                else "spindle,epoll")).split(",")
    tmp = tempfile.mkdtemp(prefix="spindle-profile-")
    try:
        results = [profile(args, build, name, tmp) for name in servers]
    except BenchError as e:
        sys.exit(f"profile.py: {e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(render(args, results))


if __name__ == "__main__":
    main()

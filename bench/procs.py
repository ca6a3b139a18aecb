"""Process handling for bench/run.py: start servers and load generators, pinned and bounded,
read their figures, and stop every process started, whatever happens.

Every wait here has a timeout, and every process started is recorded so that stop_all() (called
from run.py's finally block) can end it by its own id.
"""
import ctypes
import os
import re
import resource
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child before exec: get SIGTERM if the driver dies, even by SIGKILL, so no server
    outlives it. (Survives exec through taskset and nice.)"""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

RESULT_RE = re.compile(r"^RESULT (.*)$", re.M)


class BenchError(Exception):
    """A program failed, printed no RESULT, or did not get ready in time."""


def parse_result(text):
    """The key=value pairs of the last RESULT line in `text` (numbers as floats)."""
    lines = RESULT_RE.findall(text)
    if not lines:
        raise BenchError("no RESULT line in output:\n" + text[-2000:])
    out = {}
    for item in lines[-1].split():
        key, _, value = item.partition("=")
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
    return out


def cpu_seconds(pid):
    """CPU time of process `pid` over all its threads (schedstat ns; /proc/PID/stat fallback)."""
    total, found = 0.0, False
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                    total += int(f.read().split()[0]) * 1e-9
                    found = True
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        pass
    if found:
        return total
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_anon_bytes(pid):
    """Anonymous resident memory of `pid` (heap, stacks): what its user space allocated."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise BenchError(f"no RssAnon for process {pid}")


def machine_busy():
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v) - idle, sum(v)


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Server:
    def __init__(self, name, popen, port, log):
        self.name, self.popen, self.port, self.log = name, popen, port, log

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None


class Runner:
    """Starts processes with an optional core pin and priority; remembers them all."""

    def __init__(self, tmpdir, pin=True, nice=True, verbose=False):
        self.tmp = Path(tmpdir)
        self.procs = []
        ncpu = os.cpu_count() or 1
        self.pin = pin and ncpu >= 2
        # nice -20 keeps unrelated work on the machine (builds) from skewing runs; root only.
        self.nice = nice and os.geteuid() == 0
        self.server_core, self.client_core = 0, 1
        self.verbose = verbose
        self.background = []  # cores used by other processes during each measurement
        self._count = 0

    def prefix(self, core):
        cmd = []
        if self.pin and core is not None:
            cmd += ["taskset", "-c", str(core)]
        if self.nice:
            cmd += ["nice", "-n", "-20"]
        return cmd

    def _log(self, *args):
        if self.verbose:
            print("  $", *args, flush=True)

    def start_server(self, name, argv, ready, timeout=15):
        """Starts `argv` on the server core; waits for `ready` (a regex with a `port` group) in
        its output. Output goes to a file, never a pipe, so a chatty server cannot block."""
        self._count += 1
        log = self.tmp / f"{self._count:03d}-{name}.log"
        cmd = self.prefix(self.server_core) + [str(a) for a in argv]
        self._log(" ".join(cmd))
        with open(log, "wb") as out:
            p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self.procs.append(p)
        pattern = re.compile(ready)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = log.read_text(errors="replace")
            m = pattern.search(text)
            if m:
                return Server(name, p, int(m.group("port")), log)
            if p.poll() is not None:
                raise BenchError(f"{name} exited with {p.returncode}:\n{text[-2000:]}")
            time.sleep(0.01)
        self.stop(p)
        raise BenchError(f"{name} did not print {ready!r} within {timeout} s")

    def run(self, argv, timeout, core="client", check=True):
        """Runs a load generator to completion (bounded by `timeout`); returns its RESULT.
        Records how many cores other processes kept busy meanwhile."""
        core = self.client_core if core == "client" else core
        cmd = self.prefix(core) + [str(a) for a in argv]
        self._log(" ".join(cmd))
        busy0, total0 = machine_busy()
        own0 = children_cpu()
        t0 = time.monotonic()
        try:
            cp = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, timeout=timeout, text=True,
                                preexec_fn=_die_with_parent)
        except subprocess.TimeoutExpired as e:
            raise BenchError(f"{argv[0]} did not finish within {timeout} s") from e
        wall = time.monotonic() - t0
        busy1, total1 = machine_busy()
        own = children_cpu() - own0
        if check and cp.returncode != 0:
            raise BenchError(f"{Path(str(argv[0])).name} failed ({cp.returncode}): "
                             f"{cp.stderr.strip()[-1500:]}\n{cp.stdout.strip()[-500:]}")
        result = parse_result(cp.stdout) if "RESULT" in cp.stdout else {}
        result["_wall"] = wall
        result["_stdout"] = cp.stdout
        hz = os.sysconf("SC_CLK_TCK")
        others = (busy1 - busy0) / hz - own - float(result.get("server_cpu_s", 0) or 0)
        if wall > 0.05:
            self.background.append(max(0.0, others / wall))
        return result

    def start(self, argv, core="client", stdin=None, stdout=None):
        """Starts a helper process (e.g. idle-load) that the caller will stop."""
        core = self.client_core if core == "client" else core
        cmd = self.prefix(core) + [str(a) for a in argv]
        self._log(" ".join(cmd))
        p = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
                             preexec_fn=_die_with_parent)
        self.procs.append(p)
        return p

    def stop(self, p, grace=3.0):
        """Ends `p` (SIGTERM, then SIGKILL after `grace` seconds) and reaps it."""
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=grace)
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            try:
                self.stop(p)
            except Exception as e:  # keep stopping the others
                print(f"warning: could not stop process {p.pid}: {e}")


def read_line(p, timeout):
    """One line of `p`'s stdout, waiting at most `timeout` seconds."""
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        raise BenchError(f"no output within {timeout} s")
    return p.stdout.readline().decode().strip()


def find_twisted_python():
    for exe in ("/usr/bin/python3", sys.executable):
        if exe and Path(exe).exists():
            r = subprocess.run([exe, "-c", "import twisted.internet.epollreactor"],
                               capture_output=True, timeout=30)
            if r.returncode == 0:
                return exe
    return None

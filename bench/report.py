"""Turns bench/run.py's measurements into bench/results/results.md and chart.svg.

A Section is one table: rows are configurations, columns are servers or libraries, each cell
the median of its rounds. Ratios are always spindle ÷ peer; whether higher is better is said
beside each table. The chart plots spindle's advantage (ratio oriented so > 1 means spindle is
better) on a log scale, one bar per peer.
"""
import datetime
import math
import os
from pathlib import Path
import platform
import statistics
import subprocess
from html import escape

PEER_COLOURS = {
    "epoll": "#4d4d4d", "asio": "#1f77b4", "libuv": "#2ca02c", "libevent": "#ff7f0e",
    "twisted": "#9467bd", "spindle-lean": "#17becf", "pingpong-load": "#4d4d4d",
}


def size(n):
    for unit, k in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= k and n % k == 0:
            return f"{n // k} {unit}"
    return f"{n} B"


def num(x):
    """A figure with three significant digits and k/M suffixes: 12.3k, 4.56M, 0.0712."""
    if x is None:
        return "—"
    a = abs(x)
    for suffix, k in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if a >= k:
            return f"{x / k:.3g}{suffix}"
    return f"{x:.3g}"


class Row:
    def __init__(self, label):
        self.label = label
        self.samples = {}  # name -> list of dicts (None for a failed run)

    def add(self, name, sample):
        self.samples.setdefault(name, []).append(sample)

    def failed(self, name):
        return any(s is None for s in self.samples.get(name, []))

    def median(self, name, key="value"):
        vals = [s[key] for s in self.samples.get(name, []) if s and s.get(key) is not None]
        return statistics.median(vals) if vals else None

    def spread(self, name):
        """(max - min) / median of the values, a rough noise figure."""
        vals = [s["value"] for s in self.samples.get(name, []) if s and s.get("value")]
        if len(vals) < 2:
            return None
        return (max(vals) - min(vals)) / statistics.median(vals)

    def summary(self):
        return ", ".join(f"{n} {num(self.median(n))}" for n in self.samples)


class Section:
    def __init__(self, key, title, rows, value_unit, second_unit=None, cpu_unit=None,
                 higher_is_better=True, primary="spindle", note=""):
        self.key, self.title, self.rows = key, title, rows
        self.value_unit, self.second_unit, self.cpu_unit = value_unit, second_unit, cpu_unit
        self.higher_is_better, self.primary, self.note = higher_is_better, primary, note

    def names(self):
        seen = [self.primary]
        for r in self.rows:
            for n in r.samples:
                if n not in seen:
                    seen.append(n)
        return seen

    def peers(self):
        return [n for n in self.names() if n != self.primary]

    def ratio(self, row, peer, key="value"):
        a, b = row.median(self.primary, key), row.median(peer, key)
        return a / b if a is not None and b else None

    def missing(self):
        return [f"{self.key} {r.label} {n}: no result" for r in self.rows for n in r.samples
                if r.median(n) is None]

    def to_json(self):
        return dict(key=self.key, title=self.title, value_unit=self.value_unit,
                    cpu_unit=self.cpu_unit, rows=[dict(label=r.label, samples=r.samples)
                                                  for r in self.rows])

    def markdown(self):
        out = [f"### {self.title}", ""]
        if self.note:
            out += [self.note, ""]
        better = "higher" if self.higher_is_better else "lower"
        out += [f"Median {self.value_unit}"
                + (f" (and {self.second_unit})" if self.second_unit else "")
                + f"; in brackets spindle ÷ peer ({better} is better for spindle).", ""]
        out += self._table("value", self.value_unit, with_second=True)
        if self.cpu_unit:
            out += ["", f"Server CPU time per operation, {self.cpu_unit} (lower is better; "
                        "in brackets spindle ÷ peer):", ""]
            out += self._table("cpu", self.cpu_unit)
        return "\n".join(out)

    def _table(self, key, unit, with_second=False):
        names = self.names()
        lines = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        for r in self.rows:
            cells = []
            for n in names:
                v = r.median(n, key)
                if v is None:
                    cells.append("fail" if n in r.samples else "")
                    continue
                text = num(v)
                if r.failed(n):
                    text += " †"
                if with_second and self.second_unit and r.median(n, "second") is not None:
                    text += f" · {num(r.median(n, 'second'))}"
                if n != self.primary:
                    ratio = self.ratio(r, n, key)
                    text += f" ({ratio:.2f}×)" if ratio else ""
                cells.append(text)
            lines.append(f"| {r.label} | " + " | ".join(cells) + " |")
        if any(r.failed(n) for r in self.rows for n in names):
            lines += ["", "† a run of this peer failed here (see Failures); later rounds were "
                          "skipped and the figure, if any, is from the runs that passed."]
        return lines


class MicroSection:
    key = "micro"
    title = "Micro-benchmarks (Google Benchmark)"

    def __init__(self, benchmarks):
        self.benchmarks = [b for b in benchmarks if b.get("run_type", "iteration") == "iteration"]

    def missing(self):
        return [] if self.benchmarks else ["micro: no benchmark ran"]

    def to_json(self):
        return dict(key=self.key, benchmarks=self.benchmarks)

    def markdown(self):
        out = [f"### {self.title}", "",
               "Line splitting is not measured yet: it waits for a LineReceiver in the API.", "",
               "| benchmark | CPU time | throughput |", "|---|---|---|"]
        for b in self.benchmarks:
            # CPU time: on a shared machine, wall time also counts being descheduled.
            t = f"{b['cpu_time']:.4g} {b.get('time_unit', 'ns')}"
            if "items_per_second" in b:
                rate = f"{num(b['items_per_second'])} items/s"
            elif "bytes_per_second" in b:
                rate = f"{b['bytes_per_second'] / (1 << 30):.3g} GiB/s"
            else:
                rate = ""
            out.append(f"| {b['name']} | {t} | {rate} |")
        return "\n".join(out)


def machine_info(build):
    """Where and on what the results were measured, for the header of results.md."""
    here = os.path.dirname(os.path.abspath(__file__))

    def git(*args):
        try:
            return subprocess.run(["git", "-C", here, *args], capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), "")
    except OSError:
        pass
    dirty = " (dirty)" if git("status", "--porcelain") else ""
    return dict(date=datetime.datetime.now().isoformat(timespec="seconds"),
                commit=git("rev-parse", "--short", "HEAD") + dirty, kernel=platform.release(),
                cpu=f"{cpu} × {os.cpu_count()}", build=_relative(build))


def _relative(path):
    """The build directory as the report shows it: relative to the repository when inside it,
    so a committed report names no path of the machine it ran on."""
    try:
        return str(Path(path).resolve().relative_to(Path(__file__).resolve().parent.parent))
    except ValueError:
        return Path(path).name


# --- Targets (issue 3) -------------------------------------------------------------------

def _best(row, sec, peers, key="value"):
    vals = [row.median(p, key) for p in peers if row.median(p, key) is not None]
    if not vals:
        return None
    return max(vals) if sec.higher_is_better and key == "value" else min(vals)


TARGETS = [
    # (section, description, peers compared, key, threshold, spindle must be >= or <=)
    ("pingpong", "throughput ≥ 1.0× best of Asio/libuv/libevent", ("asio", "libuv", "libevent"),
     "value", 1.0, ">="),
    ("pingpong", "throughput ≥ 0.9× raw epoll", ("epoll",), "value", 0.9, ">="),
    ("pingpong", "server CPU/message ≤ 1.1× raw epoll", ("epoll",), "cpu", 1.1, "<="),
    ("poetry", "poems/s ≥ 0.9× raw epoll", ("epoll",), "value", 0.9, ">="),
    ("poetry", "server CPU/poem ≤ 1.15× raw epoll", ("epoll",), "cpu", 1.15, "<="),
    ("poetry", "spindle-lean: poems/s ≥ 0.9× raw epoll", ("epoll",), "value", 0.9, ">=",
     "spindle-lean"),
    ("poetry", "spindle-lean: server CPU/poem ≤ 1.15× raw epoll", ("epoll",), "cpu", 1.15, "<=",
     "spindle-lean"),
    ("pound", "connections/s ≥ 1.0× best peer", ("epoll", "asio", "libuv", "libevent"),
     "value", 1.0, ">="),
    ("timers", "ops/CPU-s ≥ 1.0× libuv", ("libuv",), "value", 1.0, ">="),
]


def targets(sections):
    by_key = {s.key: s for s in sections}
    lines = ["| target | rows met | worst ratio (row) |", "|---|---|---|"]
    for key, desc, peers, metric, threshold, op, *who in TARGETS:
        sec = by_key.get(key)
        if not sec:
            continue
        primary = who[0] if who else sec.primary
        met, total, worst = 0, 0, None
        for r in sec.rows:
            mine = r.median(primary, metric)
            best = _best(r, sec, peers, metric)
            if mine is None or best is None:
                continue
            ratio = mine / best
            total += 1
            ok = ratio >= threshold if op == ">=" else ratio <= threshold
            met += ok
            if worst is None or (ratio < worst[0] if op == ">=" else ratio > worst[0]):
                worst = (ratio, r.label)
        if total:
            lines.append(f"| {desc} | {met}/{total} | {worst[0]:.2f}× ({worst[1]}) |")
        elif any(r.samples.get(primary) for r in sec.rows):
            lines.append(f"| {desc} | 0/{len(sec.rows)} | every run failed |")
    idle = by_key.get("idle")
    if idle:
        for r in idle.rows:
            v = r.median(idle.primary)
            if v is not None:
                lines.append(f"| idle connection ≤ 256 B | {'1/1' if v <= 256 else '0/1'} | "
                             f"{v:.0f} B ({r.label}) |")
    return lines


def markdown(sections, info, failures):
    out = ["# spindle benchmark results", ""]
    out.append(f"{info['mode']} mode, {info['rounds']} rounds interleaved (median reported), "
               f"{info['date']}, commit {info['commit']}, {info['cpu']}, Linux {info['kernel']}; "
               f"pinned: {info['pinned']}, nice -20: {info['niced']}; took {info['seconds']} s.")
    bg = info.get("background_cores")
    if bg is not None:
        warn = " **The machine was busy: treat throughput as noisy; CPU per operation holds " \
               "up better.**" if bg > 0.2 else ""
        out.append(f"Other processes kept {bg:.2f} cores busy (median over runs).{warn}")
    out += ["", "## Targets (issue 3)", ""] + targets(sections) + [""]
    for s in sections:
        out += [s.markdown(), ""]
    if failures:
        out += ["## Failures", ""] + [f"- {f}" for f in failures] + [""]
    return "\n".join(out)


# --- Chart -------------------------------------------------------------------------------

def svg(sections, info):
    """Two panels of horizontal bars: throughput advantage and server-CPU advantage of spindle
    over each peer (log scale; right of 1 means spindle is better)."""
    panels = []
    for metric, title in (("value", "Throughput (memory for idle): spindle's advantage"),
                          ("cpu", "Server CPU per operation: spindle's advantage")):
        groups = []
        for s in sections:
            if not isinstance(s, Section) or not s.peers():
                continue
            if metric == "cpu" and not s.cpu_unit:
                continue
            for r in s.rows:
                bars = []
                for p in s.peers():
                    ratio = s.ratio(r, p, metric)
                    if ratio:
                        better_high = s.higher_is_better and metric == "value"
                        bars.append((p, ratio if better_high else 1 / ratio))
                if bars:
                    groups.append((f"{s.key}: {r.label}", bars))
                elif r.failed(s.primary):
                    groups.append((f"{s.key}: {r.label}", [(f"{s.primary} failed", None)]))
        if groups:
            panels.append((title, groups))
    bar_h, gap, left, width = 9, 8, 230, 540
    lo, hi = -4, 4  # log2 range
    x = lambda v: left + (min(max(math.log2(v), lo), hi) - lo) / (hi - lo) * width  # noqa: E731
    y, parts = 54, []
    for title, groups in panels:
        parts.append(f'<text x="10" y="{y}" font-weight="bold">{escape(title)}</text>')
        y += 14
        top = y
        for label, bars in groups:
            parts.append(f'<text x="{left - 6}" y="{y + len(bars) * bar_h / 2 + 4}" '
                         f'text-anchor="end">{escape(label)}</text>')
            for peer, v in bars:
                if v is None:
                    parts.append(f'<text x="{left + 6}" y="{y + bar_h - 1}" fill="#d62728">'
                                 f'{escape(peer)}</text>')
                    y += bar_h
                    continue
                colour = PEER_COLOURS.get(peer, "#8c564b")
                x0, x1 = x(1), x(v)
                parts.append(f'<rect x="{min(x0, x1):.1f}" y="{y}" width="{abs(x1 - x0):.1f}" '
                             f'height="{bar_h - 1}" fill="{colour}"><title>{escape(peer)}: '
                             f'{v:.2f}×</title></rect>')
                y += bar_h
            y += gap
        for k in range(lo, hi + 1):
            xv = x(2 ** k)
            parts.append(f'<line x1="{xv:.1f}" y1="{top - 4}" x2="{xv:.1f}" y2="{y}" '
                         f'stroke="{"#000" if k == 0 else "#ccc"}" stroke-width="1"/>')
            lab = f"{2 ** k:g}×" if k >= 0 else f"1/{2 ** -k}×"
            parts.append(f'<text x="{xv:.1f}" y="{y + 12}" text-anchor="middle">{lab}</text>')
        y += 36
    shown = {p for _, gs in panels for _, bars in gs for p, _ in bars}
    legend_x = 10
    for peer, colour in PEER_COLOURS.items():
        if peer in shown:
            if legend_x > left + width - 100:
                legend_x, y = 10, y + 16
            parts.append(f'<rect x="{legend_x}" y="{y}" width="10" height="10" fill="{colour}"/>'
                         f'<text x="{legend_x + 14}" y="{y + 9}">{escape(peer)}</text>')
            legend_x += 120
    y += 24
    head = (f'<text x="10" y="16" font-size="13" font-weight="bold">spindle vs peers: '
            f'{escape(info["mode"])} mode, {escape(info["date"])}, commit '
            f'{escape(info["commit"])}</text><text x="10" y="30">Each bar is spindle\'s '
            f'advantage over one peer (its throughput ÷ the peer\'s, or the peer\'s cost ÷ '
            f'spindle\'s); right of 1× means spindle is better.</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 30}" height="{y}" '
            f'font-family="sans-serif" font-size="10">\n<rect width="100%" height="100%" '
            f'fill="white"/>\n{head}\n' + "\n".join(parts) + "\n</svg>\n")

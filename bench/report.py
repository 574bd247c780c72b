#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the output of snapmap_bench (and snapmap_kbench) into BENCHMARKS.md,
a table on the terminal and gnuplot PNG plots.

usage: report.py RESULTS --out BENCHMARKS.md --plots DIR [--env KEY=VALUE]...

RESULTS is the console output of scripts/vm-run: lines "fig ...",
"series ..." and "env ..." (indented by the runner) are read, the rest is
ignored.  Notes on where snapmap loses and why come from bench/notes.md,
appended as they are.
"""

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def parse(path):
    figs, series, env = {}, {}, {}
    for line in open(path, encoding="utf-8", errors="replace"):
        f = line.split()
        if not f:
            continue
        if f[0] == "fig" and len(f) == 8:
            figs[(f[1], f[2], f[3])] = (float(f[4]), float(f[5]),
                                        float(f[6]), f[7])
        elif f[0] == "series" and len(f) >= 4:
            series.setdefault(f[1], []).append([float(x) for x in f[2:]])
        elif f[0] == "env" and len(f) >= 3:
            env[f[1]] = " ".join(f[2:])
    return figs, series, env


def num(x):
    """A number as a person reads it: 3 significant digits, k/M suffixes."""
    a = abs(x)
    if a >= 1e7:
        return "%.1fM" % (x / 1e6)
    if a >= 1e6:
        return "%.2fM" % (x / 1e6)
    if a >= 1e4:
        return "%.0fk" % (x / 1e3)
    if a >= 1e3:
        return "%.2fk" % (x / 1e3)
    if a >= 100:
        return "%.0f" % x
    if a >= 10:
        return "%.1f" % x
    if a >= 0.01:
        return "%.2f" % x
    return "%.2g" % x


class Report:
    def __init__(self, figs, series, env, ifigs=None, prof=None):
        self.figs, self.series, self.env = figs, series, env
        # Flat profiles from the profiling boot, per target.
        self.prof = prof or {}
        # The same figures from the run whose clock counts instructions.
        self.ifigs = ifigs or {}
        self.md = []
        self.targets = []

    def icount(self):
        """The same report over the instruction-count run's figures."""
        return Report(self.ifigs, {}, self.env)

    def get(self, fig, row, sys_):
        return self.figs.get((fig, row, sys_))

    def med(self, fig, row, sys_):
        v = self.get(fig, row, sys_)
        return v[0] if v else None

    def cell(self, fig, row, sys_):
        v = self.get(fig, row, sys_)
        if not v:
            return "-"
        return "%s [%s-%s]" % (num(v[0]), num(v[1]), num(v[2]))

    def rows(self, fig):
        seen = []
        for (f, r, _) in self.figs:
            if f == fig and r not in seen:
                seen.append(r)
        return seen

    def table(self, fig, systems, ratio=None, ratio_name="ratio",
              row_name="", unit="", rows=None):
        """A markdown table of median [min-max] for each row (all of the
        figure's, or those of rows) and system, with a ratio column
        ratio=(numerator system, denominator system)."""
        head = [row_name] + systems + ([ratio_name] if ratio else [])
        out = ["| " + " | ".join(head) + " |",
               "|" + "|".join(["---"] * len(head)) + "|"]
        for r in (rows if rows is not None else self.rows(fig)):
            cells = [r] + [self.cell(fig, r, s) for s in systems]
            if ratio:
                a, b = self.med(fig, r, ratio[0]), self.med(fig, r, ratio[1])
                cells.append("%.2fx" % (a / b) if a and b else "-")
            out.append("| " + " | ".join(cells) + " |")
        if unit:
            out.append("")
            out.append("Unit: %s; median [min-max] of the repetitions." %
                       unit)
        return "\n".join(out)

    def target(self, name, ratio, goal, better, note="", iratio=None,
               failed=None):
        """Record a target: better is 'le' (ratio <= goal) or 'ge'.
        iratio is the same ratio in instructions, where measured; failed
        says where a measurement the target needs failed, which makes the
        target not met whatever the other measurements say."""
        imeas = "%.2fx" % iratio if iratio else "-"
        if failed:
            self.targets.append((name, "%.2fx" % ratio if ratio else "-",
                                 imeas, goal, better,
                                 "NOT met (measurement failed at %s)" %
                                 failed, note))
            return
        if ratio is None:
            self.targets.append((name, "-", imeas, goal, better,
                                 "not measured", note))
            return
        def ok(x):
            return x <= goal if better == "le" else x >= goal
        if not iratio or ok(ratio) == ok(iratio):
            verdict = "met" if ok(ratio) else "NOT met"
        elif ok(ratio):
            verdict = "met in time, NOT in instructions"
        else:
            verdict = "met in instructions, NOT in time"
        self.targets.append((name, "%.2fx" % ratio, imeas, goal, better,
                             verdict, note))


def ratio(a, b):
    return a / b if a and b else None


# One PUT against S pinning snapshots: S by decades, and the growth the
# target allows over one decade (linear growth: at most 10x).
PIN_DECADES = ("10", "100", "1000", "10000")
PIN_GOAL = 10.0


def pinned_rows(rep):
    return sorted(rep.rows("pinned"), key=int)


def pinned_growth(rep):
    """The worst growth of one PUT's time over a decade of pinning
    snapshots, time(S) / time(S/10), and a note saying where.  Where the
    setup of an S stopped short, the last setup PUTs bound time(S) from
    below: that bound decides only when it already exceeds the goal;
    otherwise the ratio is None (not measured)."""
    worst, where = None, None
    for s in PIN_DECADES:
        a = rep.med("pinned", s, "put")
        b = rep.med("pinned", str(int(s) // 10), "put")
        if a and b:
            if worst is None or a / b > worst:
                worst, where = a / b, s
            continue
        bound = rep.med("pinned", s, "put-bound")
        if b and bound:
            x = bound / b
            reached = rep.med("pinned", s, "reached")
            note = ("S=%s not reached: the setup stopped at %d snapshots, "
                    "whose last PUTs took %.1fx a PUT at S=%d (linear "
                    "growth: at most %.1fx), so time(S) / time(S/10) >= "
                    "%.1fx" % (s, reached, x, int(s) // 10,
                               reached / (int(s) // 10), x))
        else:
            x, note = None, "S=%s not measured" % s
        if worst is not None:
            note = "worst measured at S=%s; %s" % (where, note)
        top = max(v for v in (x, worst, 0) if v is not None)
        return (top if top > PIN_GOAL else None), note
    if worst is None:
        return None, "not measured"
    return worst, "worst at S=%s" % where


def pinned_table(rep, unit, long_unit):
    """The pinned figure as a markdown table: unit names the PUT column
    (microseconds), long_unit the setup and teardown (milliseconds)."""
    def ms(r, sys_):
        v = rep.get("pinned", r, sys_)
        if not v:
            return "-"
        return "%s [%s-%s]" % tuple(num(x * 1e3) for x in v[:3])

    out = ["| S | one PUT (%s) | / S÷10 | / S=0 | PUTs timed | setup (%s) "
           "| teardown (%s) | pinned bytes per snapshot |" % (
               unit, long_unit, long_unit),
           "|---|---|---|---|---|---|---|---|"]
    base = rep.med("pinned", "0", "put")
    for r in pinned_rows(rep):
        put = rep.med("pinned", r, "put")
        prev = rep.med("pinned", str(int(r) // 10), "put") \
            if int(r) >= 10 else None
        if put:
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r, rep.cell("pinned", r, "put"),
                "%.2fx" % (put / prev) if prev else "-",
                "%.2fx" % (put / base) if base else "-",
                "%d" % rep.med("pinned", r, "puts")
                if rep.med("pinned", r, "puts") else "-",
                ms(r, "setup"), ms(r, "teardown"),
                rep.cell("pinned", r, "pinned-bytes")))
            continue
        bound = rep.med("pinned", r, "put-bound")
        if not bound:
            continue
        out.append("| %s | >= %s (setup stopped at %d snapshots after "
                   "%s s: median of its last PUTs) | %s | %s | - | - | - "
                   "| - |" % (
                       r, num(bound), rep.med("pinned", r, "reached"),
                       num(rep.med("pinned", r, "setup-stopped") or 0),
                       ">= %.1fx" % (bound / prev) if prev else "-",
                       ">= %.1fx" % (bound / base) if base else "-"))
    unswept = ["%d at S=%s" % (rep.med("pinned", r, "unswept"), r)
               for r in pinned_rows(rep) if rep.med("pinned", r, "unswept")]
    if unswept:
        out.append("\nRepetitions whose map still held versions that only "
                   "its closed snapshots had pinned 10 s after they were "
                   "all closed (closing the map freed them): %s." %
                   ", ".join(unswept))
    return "\n".join(out)


# The large values of the values figure, and the small one of its floor.
VALUE_SIZES = ("1024", "65536")
VALUE_SMALL = "16"
# Map sizes every memory measurement must have.
MEM_SIZES = ("1000", "10000", "100000", "1000000")


def size_name(size):
    n = int(size)
    return "%d KiB" % (n // 1024) if n >= 1024 else "%d-byte" % n


def value_floor(rep, op, size):
    """The floor of a PUT or GET of a value of size bytes: one memcpy of
    the value in user space plus the same op with a 16-byte value."""
    copy = rep.med("values", size, "memcpy")
    small = rep.med("values", VALUE_SMALL, op)
    return copy + small if copy and small else None


def value_ratio(rep, op, size):
    """The op's time over its floor, and the floor."""
    floor = value_floor(rep, op, size)
    return ratio(rep.med("values", size, op), floor), floor


def memory_ratio(rep, fig, base):
    """snapmap's bytes per entry over base's, worst over the sizes: the
    ratio, a note saying where, and the sizes at which a measurement
    failed (-1, impossible or missing), or None."""
    failed, worst = [], None
    if not rep.rows(fig):
        return None, "", None
    for r in MEM_SIZES:
        a, b = rep.get(fig, r, "snapmap"), rep.get(fig, r, base)
        # Any repetition that failed or came out impossible fails it.
        if not a or not b or min(a[:3]) <= 0 or min(b[:3]) <= 0:
            failed.append(r)
            continue
        x = a[0] / b[0]
        if worst is None or x > worst[0]:
            worst = (x, r)
    return (worst[0] if worst else None,
            "at %s entries" % worst[1] if worst else "",
            "%s entries" % ", ".join(failed) if failed else None)


def writer_note(rep):
    """The writer target's note: the busy baseline, and a flag when the
    writer went faster during the read than alone."""
    parts = []
    busy = rep.med("writer", "snapmap-atomic", "ratio-busy")
    if busy:
        parts.append("during / other vCPU busy in user space: %.2fx" % busy)
    r = rep.get("writer", "snapmap-atomic", "ratio")
    if r and r[0] > 1:
        parts.append("during above alone: the writer ran faster while the "
                     "other vCPU read the snapshot than with it idle")
    elif r and r[2] > 1:
        parts.append("during above alone in some repetitions (up to "
                     "%.2fx)" % r[2])
    if rep.med("writer", "snapmap-atomic", "unsettled"):
        parts.append("in %d repetitions a sweep had not ended within its "
                     "bounded wait" %
                     rep.med("writer", "snapmap-atomic", "unsettled"))
    return "; ".join(parts)


PROF_TARGETS = ("prof-snapmap", "prof-bpf", "prof-batch-snapmap",
                "prof-batch-bpf")
PROF_TOP = 15


def parse_prof(path):
    """The profiling boot's flat profiles: lines "prof TARGET PCT% DSO
    [k] SYM" (indented by the runner); per target, (percent, DSO, symbol)
    from the largest share down."""
    prof, mod, both = {}, set(), set()
    for line in open(path, encoding="utf-8", errors="replace"):
        f = line.split()
        if len(f) == 3 and f[0] == "prof-mod":
            mod.add(f[2])
        if len(f) == 2 and f[0] == "prof-both":
            both.add(f[1])
        if len(f) >= 6 and f[0] == "prof" and f[2].endswith("%"):
            try:
                pct = float(f[2][:-1])
            except ValueError:
                continue
            dso = f[3].strip("[]")
            if dso == "kernel.kallsyms":
                dso = "kernel"
            prof.setdefault(f[1], []).append((pct, dso, " ".join(f[5:])))
    # perf in the guest names the kernel for the module's symbols too;
    # a name both have (an inline function's copy) stays ambiguous.
    for t, syms in prof.items():
        names = [sym for _, _, sym in syms]
        prof[t] = [(pct, ("snapmap.ko or kernel"
                          if sym in both or names.count(sym) > 1 else
                          "snapmap.ko")
                    if dso == "kernel" and sym in mod else dso, sym)
                   for pct, dso, sym in syms]
        prof[t].sort(key=lambda x: -x[0])
    return prof


def batch_rows(rep):
    """The batch figure's rows of operations (not its checks)."""
    return [r for r in rep.rows("batch") if r != "scan-pinned"]


def batch_guard(rep):
    n = rep.med("batch", "scan-pinned", "snapmap")
    if n is None:
        return ""
    if n == 0:
        return " in every repetition"
    return "; NOT in %d repetitions" % n


def batch_get_line(rep, unit):
    """A BATCH of GETs per key against BPF's single lookups, as
    information: BPF has no batch lookup of given keys."""
    get = rep.med("batch", "get", "snapmap")
    single = rep.med("op", "lookup", "bpf")
    if not get or not single:
        return ""
    scale = 1e9
    per = scale / get
    return ("For information: a snapmap `BATCH` of 256 GETs costs %s %s "
            "per key, against %s %s for one BPF (prealloc) lookup "
            "through bpf(2) in the single-op figure: %.2fx." % (
                num(per), unit, num(single), unit, per / single))


def values_table(rep, unit):
    """The values figure: each op, its floor's parts, the ratio."""
    out = ["| op | value | snapmap (%s) | memcpy of the value (%s) | same op, "
           "16-byte value (%s) | floor = sum (%s) | snapmap / floor |" %
           (unit, unit, unit, unit),
           "|---|---|---|---|---|---|---|"]
    for op in ("put", "get"):
        for size in (VALUE_SMALL,) + VALUE_SIZES:
            if not rep.get("values", size, op):
                continue
            if size == VALUE_SMALL:
                out.append("| %s | %s | %s | - | - | - | - |" % (
                    op.upper(), size_name(size),
                    rep.cell("values", size, op)))
                continue
            x, floor = value_ratio(rep, op, size)
            out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                op.upper(), size_name(size), rep.cell("values", size, op),
                rep.cell("values", size, "memcpy"),
                num(rep.med("values", VALUE_SMALL, op) or 0),
                num(floor) if floor else "-",
                "%.2fx" % x if x else "-"))
    out.append("")
    out.append("Unit: %s per operation; median [min-max] of the "
               "repetitions; the floor's parts are medians." % unit)
    return "\n".join(out)


def build(rep, plots_rel):
    f, md = rep, rep.md
    env = rep.env
    i = rep.icount()

    # Targets -------------------------------------------------------------
    for op, goal in (("lookup", 0.7), ("update", 0.8), ("insert", 0.8),
                     ("delete", 0.8)):
        f.target("single-op %s: ioctl / bpf(2) (prealloc) time" % op,
                 ratio(f.med("op", op, "snapmap"), f.med("op", op, "bpf")),
                 goal, "le",
                 iratio=ratio(i.med("op", op, "snapmap"),
                              i.med("op", op, "bpf")))
    for op, goal, what in (
            ("update", 1.5, "256 PUTs / BPF_MAP_UPDATE_BATCH"),
            ("delete", 1.5, "256 DELs / BPF_MAP_DELETE_BATCH"),
            ("scan", 1.0, "read(2) of 256 records / BPF_MAP_LOOKUP_BATCH")):
        f.target("batch %s: snapmap %s (prealloc) throughput" % (op, what),
                 ratio(f.med("batch", op, "snapmap"),
                       f.med("batch", op, "bpf")), goal, "ge",
                 iratio=ratio(i.med("batch", op, "snapmap"),
                              i.med("batch", op, "bpf")))
    for op in ("put", "get"):
        for size in VALUE_SIZES:
            x, _ = value_ratio(f, op, size)
            f.target("%s of a %s value / (memcpy of it + %s of 16 bytes)"
                     % (op.upper(), size_name(size), op.upper()),
                     x, 1.2, "le", iratio=value_ratio(i, op, size)[0])
    drow = (f.rows("dump") or ["1000000"])[0]
    f.target("ATOMIC full dump / BPF_MAP_LOOKUP_BATCH dump throughput",
             ratio(f.med("dump", drow, "snapmap-atomic"),
                   f.med("dump", drow, "bpf-lookup-batch")), 0.8, "ge")
    f.target("snapshot creation, 1M entries / 1k entries",
             ratio(f.med("snapcreate", "1000000", "snapmap-atomic"),
                   f.med("snapcreate", "1000", "snapmap-atomic")), 2.0, "le")
    worst = None
    for r in f.rows("snapcreate"):
        x = ratio(f.med("snapcreate", r, "snapmap-create-read"),
                  f.med("snapcreate", r, "rwlock-copy-read"))
        if x and (worst is None or x > worst[0]):
            worst = (x, r)
    f.target("ATOMIC snapshot taken and read whole / rwlock deep copy and "
             "its read, time, worst size", worst[0] if worst else None,
             1.0, "le", "at %s entries" % worst[1] if worst else "")
    growth, note = pinned_growth(f)
    f.target("pinned-snapshot PUT grows at most linearly: "
             "time(S) / time(S/10), worst decade to S = 10000",
             growth, PIN_GOAL, "le", note, iratio=pinned_growth(i)[0])
    f.target("writer throughput during an ATOMIC read / writer alone "
             "(other vCPU idle)",
             f.med("writer", "snapmap-atomic", "ratio"), 0.8, "ge",
             writer_note(f))
    f.target("kernel API lookup / raw rhashtable lookup",
             ratio(f.med("kapi", "lookup", "snapmap_lookup"),
                   f.med("kapi", "lookup", "rhashtable")), 1.3, "le",
             iratio=ratio(i.med("kapi", "lookup", "snapmap_lookup"),
                          i.med("kapi", "lookup", "rhashtable")))
    for fig, how in (("mem", "memory cgroup"),
                     ("memk", "slab + vmalloc + per-CPU")):
        for base in ("bpf-prealloc", "bpf-noprealloc"):
            x, note, failed = memory_ratio(f, fig, base)
            f.target("bytes per entry / %s, %s, worst size" % (base, how),
                     x, 1.0, "le", note, failed=failed)
    x = ratio(f.med("scale", "2w-disjoint", "snapmap"),
              f.med("scale", "1w", "snapmap"))
    others = ["%s %.2fx" % (s_, ratio(f.med("scale", "2w-disjoint", s_),
                                      f.med("scale", "1w", s_)))
              for s_ in ("bpf", "rwlock")
              if ratio(f.med("scale", "2w-disjoint", s_),
                       f.med("scale", "1w", s_))]
    # Two readers share nothing: what a second vCPU adds on this host.
    control = ["%s %.2fx" % (s_, ratio(f.med("scale", "2r", s_),
                                       f.med("scale", "1r", s_)))
               for s_ in ("snapmap", "bpf", "rwlock")
               if ratio(f.med("scale", "2r", s_), f.med("scale", "1r", s_))]
    notes = []
    if others:
        notes.append("same ratio for %s" % ", ".join(others))
    if control:
        notes.append("control, 2 readers / 1 reader: %s" %
                     ", ".join(control))
    f.target("2 writers on disjoint keys / 1 writer, 2 vCPUs, snapmap",
             x, 1.8, "ge", "; ".join(notes))
    f.target("CLEAR of 1M entries / CLEAR of 1k entries, caller's time",
             ratio(f.med("clear", "1000000", "snapmap"),
                   f.med("clear", "1000", "snapmap")), 2.0, "le")
    f.target("TXN of 16 PUTs / BATCH of the same 16 PUTs, time",
             ratio(f.med("txn", "16", "txn"), f.med("txn", "16", "batch")),
             1.3, "le",
             iratio=ratio(i.med("txn", "16", "txn"),
                          i.med("txn", "16", "batch")))
    # A transaction's writers scale as single PUTs' do: the ratio of the
    # two speed-ups, on the same host in the same run.
    put_x = ratio(f.med("scale", "2w-disjoint", "snapmap"),
                  f.med("scale", "1w", "snapmap"))
    txn_x = ratio(f.med("scale", "2w-disjoint-txn", "snapmap"),
                  f.med("scale", "1w-txn", "snapmap"))
    f.target("2 TXN writers on disjoint keys / 1, against the same for "
             "PUTs, 2 vCPUs",
             ratio(txn_x, put_x), 0.9, "ge",
             "TXN %.2fx, PUT %.2fx" % (txn_x, put_x)
             if txn_x and put_x else "")

    # Watchers: what they cost a writer, against a map that never had one.
    none = f.med("watch", "none", "snapmap")
    controls = [("16 watchers", "16"),
                ("1 watcher woken by a writer for every change, "
                 "watch_coalesce_us 0", "1-each"),
                ("1 watcher woken by a writer per 4 KiB (wakeup_bytes)",
                 "1-wakeup"),
                ("other vCPU busy in the kernel", "busy"),
                ("records through a pipe", "pipe")]
    f.target("writer throughput with 1 watcher, default wake-ups / with no "
             "watch ever, 2 vCPUs",
             ratio(f.med("watch", "1", "snapmap"), none), 0.8, "ge",
             ", ".join("%s %.2fx" % (name, ratio(f.med("watch", row,
                                                       "snapmap"), none))
                       for name, row in controls
                       if ratio(f.med("watch", row, "snapmap"), none)))
    f.target("writer throughput with 0 watchers (all closed) / with no "
             "watch ever", ratio(f.med("watch", "0", "snapmap"), none),
             0.95, "ge",
             iratio=ratio(i.med("watch", "0", "snapmap"),
                          i.med("watch", "none", "snapmap")))

    md.append("# snapmap benchmarks\n")
    md.append("Generated by `make bench` (`scripts/bench`, "
              "`bench/snapmap_bench.c`, `bench/kmod/snapmap_kbench.c`, "
              "`bench/report.py`); do not edit by hand: the notes at the end "
              "come from `bench/notes.md`.\n")
    md.append("All figures below: one run of `make bench`%s on %s, guest "
              "kernel %s, snapmap commit %s. Nothing in this file comes "
              "from another run or was typed by hand.\n" % (
                  "" if env.get("scope", "full") == "full" else
                  " (figures %s only)" % env["scope"],
                  env.get("date", "?"), env.get("kernel", "?"),
                  env.get("commit", "?")))
    md.append("Every figure is measured side by side with its baselines in "
              "one boot of one VM; each number is the median of the "
              "repetitions, with their range in brackets. Under emulation "
              "absolute times mean little; the ratios are what counts.\n")
    md.append("## Environment\n")
    md.append("| | |\n|---|---|")
    for k, label in (("kernel", "guest kernel"), ("vcpus", "vCPUs"),
                     ("accel", "accelerator"),
                     ("guest_memory_mib", "guest memory (MiB)"),
                     ("qemu", "QEMU"), ("host_cpu", "host CPU"),
                     ("host_cores", "host cores"),
                     ("host_load", "host load average at start"),
                     ("date", "date"), ("commit", "snapmap commit"),
                     ("guest_seconds", "suite run time in the guest (s)"),
                     ("total_seconds", "make bench wall time (s)")):
        if k in env:
            md.append("| %s | %s |" % (label, env[k]))
    md.append("")

    md.append("## Targets\n")
    md.append("`measured` is the ratio of the main run (wall-clock time "
              "under emulation, both vCPUs); `instructions`, the same "
              "ratio from a second boot whose clock counts instructions "
              "(QEMU `-icount`, one vCPU): deterministic, immune to the "
              "load of the host, but blind to what an instruction costs. "
              "Where both exist the verdict says whether each meets the "
              "goal.\n")
    md.append("| target | goal | measured | instructions | verdict |")
    md.append("|---|---|---|---|---|")
    for name, meas, imeas, goal, better, verdict, note in f.targets:
        md.append("| %s | %s %gx | %s%s | %s | %s |" % (
            name, "<=" if better == "le" else ">=", goal, meas,
            " (%s)" % note if note else "", imeas, verdict))
    md.append("\nWhere the time goes: see [Profiles](#profiles) (where "
              "the run made them) and, for the mechanisms, "
              "[Notes](#notes).\n")

    md.append("## Single operations: ioctl against bpf(2)\n")
    md.append("One syscall per operation on a 10k-entry map, 16-byte keys "
              "and values, random keys. `null` is a command the kernel "
              "rejects at once: the cost of the syscall alone. `bpf` is "
              "the default (preallocated) hash map, `bpf-noprealloc` one "
              "with `BPF_F_NO_PREALLOC`, which allocates per insert as "
              "snapmap does.\n")
    md.append(f.table("op", ["snapmap", "bpf", "bpf-noprealloc"],
                      ratio=("snapmap", "bpf"), ratio_name="snapmap / bpf",
                      row_name="op", unit="ns per operation"))
    md.append("\n![single operations](%s/ops.png)\n" % plots_rel)

    md.append("## Batches\n")
    md.append("256 operations per syscall on 10k-entry maps: snapmap's "
              "`BATCH` of PUTs of random present keys (32 batches per "
              "measurement) or of DELs of distinct present keys (16 "
              "batches, 4096 keys: fewer than half the map's, so that "
              "the deletions are timed on a map in use, not with the "
              "resizes of a table that empties, since snapmap's "
              "rhashtable shrinks below 30%% load and BPF's buckets are "
              "fixed) against `BPF_MAP_UPDATE_BATCH` and "
              "`BPF_MAP_DELETE_BATCH` of the "
              "same keys. Each system's updates are timed in a window of "
              "their own, then its deletions in another; the deleted keys "
              "are put back after that window, untimed; no other system "
              "runs in a window. What a system's writes leave to the "
              "background (RCU callbacks freeing snapmap's old versions, "
              "BPF's frees) can still run in the window that follows, so "
              "the order of the systems is reversed every other "
              "repetition: none always follows another. BPF has no batch "
              "lookup of given keys: `BPF_MAP_LOOKUP_BATCH` reads the "
              "next 256 entries in table order, which `scan` compares "
              "with read(2) of 256 records at a time from an ATOMIC "
              "snapshot, both from the start of the map; that snapshot is "
              "taken before the scan's window and closed after it, before "
              "any write, so it pins nothing and leaves no sweep behind "
              "(checked: the map's byte count after it is the count "
              "before it%s). `get` is snapmap's `BATCH` of 256 GETs of "
              "random keys, which BPF cannot do in one call.\n" %
              batch_guard(f))
    md.append(f.table("batch", ["snapmap", "bpf", "bpf-noprealloc"],
                      ratio=("snapmap", "bpf"),
                      ratio_name="snapmap / bpf", row_name="op",
                      unit="operations per second",
                      rows=batch_rows(f)))
    get_line = batch_get_line(f, "ns")
    if get_line:
        md.append("\n" + get_line)
    md.append("")

    if f.rows("txn"):
        md.append("## Transactions against batches\n")
        md.append("4096 PUTs of random present keys of a 10k-entry map per "
                  "measurement, n at a time: each n as one `BATCH` or as "
                  "one `TXN` with no condition (n distinct keys, the same "
                  "for both). Both arrays are built before the window; "
                  "only the ioctls are timed, and every result is checked "
                  "after it. The order of the two is reversed every other "
                  "measurement.\n")
        md.append(f.table("txn", ["batch", "txn"], ratio=("txn", "batch"),
                          ratio_name="txn / batch", row_name="n",
                          unit="ns per PUT"))
        md.append("")

    if f.rows("clear"):
        md.append("## CLEAR against map size\n")
        md.append("A fresh map of each size, filled untimed, then one "
                  "`CLEAR` timed: the caller's latency. What the clear "
                  "deleted is freed in the background after the call "
                  "returns; closing the map frees the rest, untimed.\n")
        md.append(f.table("clear", ["snapmap"], row_name="entries",
                          unit="microseconds"))
        md.append("")

    if f.rows("watch"):
        md.append("## Writers with watchers\n")
        md.append("One thread PUTs 100000 random present keys of a "
                  "10k-entry map, timed, while one other thread drains "
                  "every watch of the map with epoll, so that the "
                  "watchers take the other vCPU whatever their number; "
                  "after the window, each watcher must have read every "
                  "change. The log of a watch is full when the window "
                  "opens, as once a watch has run for a while (each "
                  "change then also lets the oldest record go): every "
                  "row first PUTs as many changes as a buffer of 4 MiB, "
                  "each watch's, holds records, kept by a watch that "
                  "never reads and is closed before the window. "
                  "`none`: a map that never had a watch; `0`: one "
                  "whose watch was opened and closed; in both, the other "
                  "thread sleeps through the window, as a second thread "
                  "makes each of the writer's ioctls take a reference to "
                  "the map's file, which every row then pays alike; `1`, "
                  "`16`: watches open, each woken for every change once "
                  "its reader has caught up, or, while its reader finds "
                  "several changes at once, by the module's timer "
                  "(`watch_coalesce_us`, 100 µs) instead of a writer; "
                  "`1-each`: one watch with that timer off "
                  "(`watch_coalesce_us` 0), woken by a writer for every "
                  "change its reader waits for; `1-wakeup`: one watch with "
                  "a `wakeup_bytes` of 4 KiB, woken once that much is "
                  "ready, whose reader "
                  "also reads what there is after 10 ms without a "
                  "wake-up. Two controls, on a map that never had a "
                  "watch: `busy`, the other thread reading /dev/zero, "
                  "the kernel writing to user memory as a watcher's "
                  "reader does, to tell what the watch costs the writer "
                  "from what a busy second vCPU costs it; `pipe`, the "
                  "writer also writing each change's record (the same "
                  "bytes as a watch's) to a pipe that the other thread "
                  "drains with epoll, the feed a program builds for "
                  "itself without watches. 11 repetitions, the order of "
                  "the eight turning every repetition.\n")
        md.append(f.table("watch", ["snapmap"], row_name="watchers",
                          unit="PUTs per second"))
        md.append("")
    if f.rows("watch-wakes"):
        md.append("The same windows, counted: the draining thread's "
                  "wake-ups, per 1000 PUTs, the times it slept (its "
                  "voluntary context switches) and a watch, or the pipe, "
                  "woke it, not its own timeout. A writer paid for each, "
                  "but for those of the module's timer (`1`, `16`): a "
                  "task's wake-up on the writer's path, epoll's callback, "
                  "the scheduler's choice of a CPU and, when the other "
                  "vCPU is idle, the interrupt that wakes it.\n")
        md.append(f.table("watch-wakes", ["snapmap"], row_name="watchers",
                          unit="wake-ups per 1000 PUTs"))
        md.append("")
    if f.rows("watch-latency"):
        md.append("## From a write to its watcher\n")
        md.append("1000 rounds of a PUT and its record read by a watcher "
                  "blocked in read(2), which answers through a pipe before "
                  "the next PUT: the time from just before the PUT to the "
                  "record read, its median and 99th percentile over the "
                  "rounds. `pipe`: the same round with a byte written to a "
                  "pipe instead of the PUT, the floor of any wake-up on "
                  "this host.\n")
        md.append(f.table("watch-latency", ["snapmap", "pipe"],
                          ratio=("snapmap", "pipe"),
                          ratio_name="snapmap / pipe", row_name="",
                          unit="microseconds"))
        md.append("")

    if f.rows("values"):
        md.append("## Large values\n")
        md.append("Single PUTs and GETs of 1 KiB and 64 KiB values, one "
                  "ioctl each, on a map with the module's default limits, "
                  "each against its floor: one `memcpy()` of the value in "
                  "user space, on the buffer the PUT reads and the GET "
                  "writes (warm, median of 101 runs of 32 copies), plus "
                  "the same op with a 16-byte value. Each size has 256 keys "
                  "holding values of that size: every PUT replaces a value "
                  "of its own length.\n")
        md.append(values_table(f, "ns"))
        md.append("")

    md.append("## Full dump\n")
    md.append("Every entry of a 1M-entry map copied to user space: an "
              "ATOMIC snapshot read with read(2) (256 KiB buffer), a WEAK "
              "walk, a `BPF_MAP_LOOKUP_BATCH` dump (4096 entries per call), "
              "and the rwlock map's deep copy (in user space, no syscall, "
              "writers stopped throughout).\n")
    md.append(f.table("dump", ["snapmap-atomic", "snapmap-weak",
                               "bpf-lookup-batch", "rwlock-copy"],
                      ratio=("snapmap-atomic", "bpf-lookup-batch"),
                      ratio_name="atomic / bpf", row_name="entries",
                      unit="entries per second"))
    md.append("")

    md.append("## Snapshot creation against map size\n")
    md.append("The `SNAPMAP_IOC_SNAPSHOT` ioctl alone (median of 201 "
              "creations per repetition), against the rwlock map's deep "
              "copy, which is the snapshot of that design.\n")
    md.append(f.table("snapcreate", ["snapmap-atomic", "snapmap-weak",
                                     "rwlock-copy"],
                      ratio=("rwlock-copy", "snapmap-atomic"),
                      ratio_name="copy / atomic", row_name="entries",
                      unit="microseconds"))
    md.append("\nThe rwlock map's copy hands its user the data; an ATOMIC "
              "snapshot alone does not. What a user who wants the data "
              "does in each: `snapmap-create-read` takes an ATOMIC "
              "snapshot and reads all of it with read(2) (256 KiB "
              "buffer); `rwlock-copy-read` takes the read lock, "
              "deep-copies the map, unlocks, then reads the copy. Both "
              "reads touch every key and value (they sum the first byte "
              "of each). Neither closing the snapshot nor freeing the "
              "copy is timed; the two take turns going first.\n")
    md.append(f.table("snapcreate", ["snapmap-create-read",
                                     "rwlock-copy-read"],
                      ratio=("snapmap-create-read", "rwlock-copy-read"),
                      ratio_name="snapmap / rwlock", row_name="entries",
                      unit="microseconds"))
    md.append("\n![snapshot creation](%s/snapshot-creation.png)\n" %
              plots_rel)

    md.append("## One PUT against snapshots pinning its key\n")
    md.append("With S ATOMIC snapshots open, each pinning a different "
              "version of one key, what one more PUT of that key costs: a "
              "write trims its key's chain of the versions no open "
              "snapshot needs, and that must grow at most linearly with "
              "S. For each S, a fresh map of 16-byte keys and values: S "
              "times a PUT of the key, then an ATOMIC snapshot whose fd "
              "stays open, so that each snapshot pins the version just "
              "written; then two untimed PUTs; then PUTs of the key timed "
              "one by one (51, or at least 3 and fewer once they took "
              "2 s). Each timed PUT finds the same chain: the S pinned "
              "versions under a head no snapshot pins, which the PUT "
              "replaces and frees. `one PUT` is the median of the timed "
              "PUTs of a repetition (then median [min-max] of 3 "
              "repetitions); `/ S÷10` is its growth over a decade of S: "
              "at most 10x for linear growth, 100x for quadratic; S=0 is "
              "the same map with no snapshot. Only the PUTs are timed: "
              "`setup` is taking the snapshots with their PUTs, "
              "`teardown` closing them, waiting for the map's byte count "
              "to come back to that of a map with no snapshot (the sweep "
              "that frees what they pinned is over) and closing the map, "
              "all before the next S. `pinned bytes` is what the map "
              "holds beyond a map with no snapshot, per snapshot; the "
              "oldest and the newest snapshot are read back and must each "
              "hold its own version. Where one PUT costs O(S^2), setting "
              "up S snapshots costs O(S^3): the setup stops after 60 s, "
              "and the median of its last 5 PUTs, each facing almost S "
              "snapshots, bounds a PUT at that S from below.\n")
    md.append(pinned_table(f, "us", "ms"))
    md.append("\n![one PUT against pinning snapshots](%s/pinned-put.png)\n"
              % plots_rel)

    md.append("## Writers while a 1M-entry snapshot is read\n")
    md.append("The target compares `during` with `alone`. Before each "
              "run, and after each read before anything else is "
              "measured, the figure waits for the sweep that frees what "
              "the closed snapshot pinned: it polls the map's byte count "
              "(`SNAPMAP_IOC_INFO`) until it is back to that of the map "
              "with no snapshot (bounded wait), so no sweep runs in the "
              "`alone`, `during` or `busy` window. `sweep` is the time "
              "from the end of the read to the end of that wait (for "
              "rwlock + copy, freeing the copy).\n")
    md.append("One thread PUTs random keys of the 1M-entry map; after 1.5 s "
              "the main thread takes a snapshot and reads all of it (or, "
              "for rwlock + copy, deep-copies the map under the read "
              "lock); once the sweep is over it spins in user space for "
              "as long as the read took. `during` is the writer's "
              "throughput during the read, `alone` before it (from 0.3 s "
              "to 1.5 s, the main thread asleep, the other vCPU idle), "
              "`busy` during the spin (the other vCPU busy, no snapshot); "
              "`during / alone` and `during / busy` are `during` over "
              "each; "
              "`max-stall` is the longest time between two completed "
              "writes during the read. On a host whose two cores are "
              "shared with other guests, a second busy vCPU slows the "
              "writer whatever it does: `during / busy` separates the "
              "cost of the snapshot from that.\n")
    systems = ["ratio", "ratio-busy", "alone", "during", "busy", "read",
               "sweep", "max-stall"]
    head = "| mode | " + " | ".join(
        ["during / alone (x)", "during / busy (x)", "alone (ops/s)",
         "during (ops/s)", "busy (ops/s)", "read (s)", "sweep (s)",
         "max stall (ms)"]) + " |"
    md.append(head)
    md.append("|" + "---|" * (len(systems) + 1))
    for r in f.rows("writer"):
        md.append("| %s | %s |" % (r, " | ".join(
            f.cell("writer", r, s) for s in systems)))
    for r in f.rows("writer"):
        if f.med("writer", r, "unsettled"):
            md.append("\n%s: in %d repetitions the map's bytes were not "
                      "back within the bounded wait." %
                      (r, f.med("writer", r, "unsettled")))
    md.append("\n![writer throughput over time](%s/writer-timeline.png)\n" %
              plots_rel)

    md.append("## What a map's limits cost a reader\n")
    md.append("ATOMIC dumps of two 100k-entry maps of 16-byte keys and "
              "values: one created with those sizes as its limits, one "
              "with the module's defaults (4 KiB keys, 1 MiB values), "
              "for which every read(2) used to allocate a buffer for the "
              "largest possible record.\n")
    md.append(f.table("readbuf", ["limits-16B", "limits-default"],
                      ratio=("limits-default", "limits-16B"),
                      ratio_name="default / 16B", row_name="entries",
                      unit="entries per second"))
    md.append("")

    md.append("## Clone against a full dump\n")
    md.append("`SNAPMAP_IOC_CLONE` (a new map holding an ATOMIC snapshot) "
              "against reading an ATOMIC snapshot of the same map to user "
              "space.\n")
    md.append(f.table("clone", ["clone", "atomic-dump"],
                      ratio=("clone", "atomic-dump"),
                      ratio_name="clone / dump", row_name="entries",
                      unit="milliseconds"))
    md.append("")

    md.append("## Kernel API against a raw rhashtable\n")
    md.append("From the `snapmap_kbench` module, on the same 100k 16-byte "
              "keys: `rhashtable_lookup_fast()` plus a copy of the value "
              "against `snapmap_lookup()` (copy-out) and "
              "`snapmap_lookup_rcu()`; inserts into an empty table "
              "(`rhashtable_lookup_insert_fast()` of a new object) and "
              "updates (`rhashtable_replace_fast()`, old object freed after "
              "a grace period) against `snapmap_update()`.\n")
    md.append("| op | system | ns [min-max] | / rhashtable |")
    md.append("|---|---|---|---|")
    for r in f.rows("kapi"):
        base = f.med("kapi", r, "rhashtable")
        for (ff, rr, s) in f.figs:
            if ff == "kapi" and rr == r:
                md.append("| %s | %s | %s | %s |" % (
                    r, s, f.cell("kapi", r, s),
                    "%.2fx" % (f.med("kapi", r, s) / base) if base else "-"))
    md.append("")

    md.append("## Memory per entry\n")
    md.append("Growth of the memory cgroup's `memory.current` per entry, "
              "16-byte keys and values, the same method for every system "
              "(maps under 100k entries are measured 100k entries at a "
              "time, so per-map overhead is included), each in a child "
              "process whose maps die with it; before the next "
              "measurement the figure waits (bounded) until the kernel "
              "has freed them. "
              "`snapmap+snapshot`: an ATOMIC snapshot open and every key "
              "rewritten once after it, so each key holds two versions. "
              "BPF maps are created with `max_entries` equal to the size. "
              "The rwlock map is user-space memory (malloc) and has no "
              "kernel overhead; its copy is a second full map.\n")
    md.append(f.table("mem", ["snapmap", "snapmap+snapshot",
                              "bpf-noprealloc", "bpf-prealloc", "rwlock",
                              "rwlock+copy"],
                      ratio=("snapmap", "bpf-prealloc"),
                      ratio_name="snapmap / bpf-prealloc",
                      row_name="entries", unit="bytes per entry"))
    md.append("\nThe same maps measured the second way: the growth of the "
              "kernel's slab, vmalloc and per-CPU memory (`/proc/meminfo`), "
              "which also sees what is not charged to a memory cgroup. "
              "This way is noisier (it sees the whole kernel).\n")
    md.append(f.table("memk", ["snapmap", "snapmap+snapshot",
                               "bpf-noprealloc", "bpf-prealloc"],
                      ratio=("snapmap", "bpf-prealloc"),
                      ratio_name="snapmap / bpf-prealloc",
                      row_name="entries", unit="bytes per entry"))
    unfreed = ["%s at %s entries (%d)" % (s_, r, f.med("memfree", r, s_))
               for (ff, r, s_) in f.figs if ff == "memfree"]
    if unfreed:
        md.append("\nMeasurements after which the kernel had not given "
                  "back what the measured maps held within the bounded "
                  "wait, so that the next measurement may have seen it go "
                  "(repetitions): %s.\n" % ", ".join(unfreed))
    md.append("\nWhy the two ways differ: in Linux 6.1 the rhashtable "
              "library allocates its bucket tables in "
              "`bucket_table_alloc()` (lib/rhashtable.c) with the flags "
              "its callers pass, `GFP_KERNEL` at creation and in the "
              "resize worker and `GFP_ATOMIC` when an insert must grow "
              "the table at once, never `__GFP_ACCOUNT`: they are charged "
              "to no memory cgroup, so the memory cgroup figure misses "
              "snapmap's buckets. BPF's hash map allocates its buckets in "
              "`htab_map_alloc()` (kernel/bpf/hashtab.c) with "
              "`bpf_map_area_alloc()`, which adds `__GFP_ACCOUNT`, and so "
              "are its elements (preallocated the same way, or from its "
              "accounted allocator without prealloc): the memory cgroup "
              "sees all of BPF's map. The slab + vmalloc + per-CPU figure "
              "counts both. A measurement that failed (or came out "
              "impossible: no more than 0 bytes) at any size makes its "
              "memory target not met.\n")
    md.append("\n![memory per entry](%s/memory.png)\n" % plots_rel)

    md.append("## Scaling with readers and writers (2 vCPUs)\n")
    md.append("Aggregate throughput of 1 or 2 reader threads (GET), 1 or 2 "
              "writer threads (PUT of present keys), and one of each, on "
              "100k-entry maps, random keys. In `2w` both writers draw "
              "from all keys; in `2w-disjoint` writer i of 2 writes only "
              "the keys whose number is i modulo 2, so they never write "
              "the same key. The `-txn` rows are snapmap's writers with "
              "each PUT sent as a `TXN` of one PUT.\n")
    md.append(f.table("scale", ["snapmap", "bpf", "rwlock"],
                      ratio=("snapmap", "bpf"), ratio_name="snapmap / bpf",
                      row_name="threads", unit="operations per second"))
    lines = []
    for s in ("snapmap", "bpf", "rwlock"):
        a, b = f.med("scale", "2r", s), f.med("scale", "1r", s)
        c, d = f.med("scale", "2w", s), f.med("scale", "1w", s)
        e = f.med("scale", "2w-disjoint", s)
        if a and b and c and d:
            lines.append("%s: 2 readers %.2fx one, 2 writers %.2fx one%s" %
                         (s, a / b, c / d,
                          ", 2 writers on disjoint keys %.2fx one" % (e / d)
                          if e else ""))
    if lines:
        md.append("\nSpeed-up from a second thread: " + "; ".join(lines) +
                  ".\n")
    md.append("\n![scaling](%s/scaling.png)\n" % plots_rel)

    if i.figs:
        md.append("## Instruction counts\n")
        md.append("The per-operation figures again, from a second boot of "
                  "the same run with "
                  "QEMU's `-icount shift=0` and one vCPU: the guest's "
                  "clock advances 1 ns per instruction, so each number is "
                  "the instructions executed per operation (user space, "
                  "kernel and any interrupt or softirq work that ran "
                  "meanwhile, such as RCU callbacks), exact to a few "
                  "percent from run to run.\n")
        md.append(i.table("op", ["snapmap", "bpf", "bpf-noprealloc"],
                          ratio=("snapmap", "bpf"),
                          ratio_name="snapmap / bpf", row_name="op",
                          unit="instructions per operation"))
        md.append("")
        md.append(i.table("batch", ["snapmap", "bpf", "bpf-noprealloc"],
                          ratio=("snapmap", "bpf"),
                          ratio_name="snapmap / bpf", row_name="batch op",
                          unit="operations per 10^9 instructions",
                          rows=batch_rows(i)))
        get_line = batch_get_line(i, "instructions")
        if get_line:
            md.append("\n" + get_line)
        md.append("")
        if i.rows("values"):
            md.append(values_table(i, "instructions"))
            md.append("")
        if i.rows("kapi"):
            md.append("| kernel API op | system | instructions [min-max] | "
                      "/ rhashtable |")
            md.append("|---|---|---|---|")
        for r in i.rows("kapi"):
            base = i.med("kapi", r, "rhashtable")
            for (ff, rr, s_) in i.figs:
                if ff == "kapi" and rr == r:
                    md.append("| %s | %s | %s | %s |" % (
                        r, s_, i.cell("kapi", r, s_),
                        "%.2fx" % (i.med("kapi", r, s_) / base)
                        if base else "-"))
        md.append("")
        if i.rows("readbuf"):
            md.append(i.table("readbuf", ["limits-16B", "limits-default"],
                              ratio=("limits-default", "limits-16B"),
                              ratio_name="default / 16B",
                              row_name="ATOMIC dump",
                              unit="entries per 10^9 instructions"))
            md.append("")
        if i.rows("pinned"):
            md.append(pinned_table(i, "thousand instructions",
                                   "million instructions"))
            md.append("")
        if i.rows("bufsize"):
            md.append(i.table("bufsize", ["snapmap"], row_name="GET or PUT",
                              unit="instructions per operation"))
            md.append("")

    if rep.prof:
        md.append("## Profiles\n")
        md.append("From a third boot of the same run: each program below "
                  "runs one system alone for 6 s of guest time under "
                  "`perf record -a -e cpu-clock` in the guest (emulated "
                  "CPUs have no hardware counters). That boot uses QEMU's "
                  "`-icount` with one vCPU, like the instruction counts "
                  "above, so the guest's clock counts instructions and "
                  "each percentage is a share of the instructions the "
                  "whole guest executed (the program, the kernel on its "
                  "behalf, workers and softirqs such as RCU callbacks), "
                  "not of wall-clock time. `prof-snapmap` and `prof-bpf` "
                  "loop over single lookups, updates, deletions and "
                  "inserts of a 10k-entry map (the default, preallocated "
                  "BPF map); `prof-batch-snapmap` and `prof-batch-bpf` "
                  "over the batch figure's updates, deletions and the "
                  "PUTs that put the deleted keys back. Top %d symbols "
                  "each.\n" % PROF_TOP)
        for t in PROF_TARGETS:
            syms = rep.prof.get(t)
            if not syms:
                md.append("`%s`: no samples.\n" % t)
                continue
            md.append("`%s`:\n" % t)
            md.append("| symbol | object | share |")
            md.append("|---|---|---|")
            for pct, dso, sym in syms[:PROF_TOP]:
                md.append("| `%s` | %s | %.2f%% |" % (sym, dso, pct))
            md.append("")

    notes = os.path.join(HERE, "notes.md")
    if os.path.exists(notes):
        md.append("## Notes\n")
        md.append(open(notes, encoding="utf-8").read().strip() + "\n")
    return "\n".join(md) + "\n"


def gnuplot(script, cwd):
    if "'None'" in script:
        return
    subprocess.run(["gnuplot"], input=script, text=True, cwd=cwd, check=True)


def plots(rep, outdir, datadir):
    f = rep
    os.makedirs(outdir, exist_ok=True)
    os.makedirs(datadir, exist_ok=True)
    term = "set terminal pngcairo size 900,500 font 'sans,10'\n"

    def write(name, rows):
        if not rows:
            return None
        path = os.path.join(datadir, name)
        with open(path, "w") as out:
            for r in rows:
                out.write(" ".join(str(x) for x in r) + "\n")
        return path

    # Single ops: clustered bars, snapmap / bpf / bpf-noprealloc.
    rows = []
    for op in f.rows("op"):
        rows.append([op] + [f.med("op", op, s) or 0
                            for s in ("snapmap", "bpf", "bpf-noprealloc")])
    d = write("ops.dat", rows)
    gnuplot(term + """
set output '%s/ops.png'
set title 'Single operations: one syscall each (lower is better)'
set ylabel 'ns per operation'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set yrange [0:*]
plot '%s' using 2:xtic(1) title 'snapmap ioctl', '' using 3 title 'bpf(2) hash', '' using 4 title 'bpf(2) hash, no prealloc'
""" % (outdir, d), datadir)

    # Snapshot creation vs size, log-log.
    rows = []
    for r in f.rows("snapcreate"):
        rows.append([r] + [f.med("snapcreate", r, s) or 0 for s in
                           ("snapmap-atomic", "snapmap-weak",
                            "rwlock-copy")])
    d = write("snapcreate.dat", rows)
    gnuplot(term + """
set output '%s/snapshot-creation.png'
set title 'Snapshot creation time against map size'
set xlabel 'entries'
set ylabel 'microseconds'
set logscale xy
set key top left
set grid
plot '%s' using 1:2 with linespoints lw 2 title 'snapmap ATOMIC', '' using 1:3 with linespoints title 'snapmap WEAK', '' using 1:4 with linespoints lw 2 title 'rwlock + deep copy'
""" % (outdir, d), datadir)

    # Writer timeline.
    parts = []
    spans = []
    colors = {"snapmap-atomic": "#1f77b4", "snapmap-weak": "#2ca02c",
              "rwlock-copy": "#d62728"}
    for mode in ("snapmap-atomic", "snapmap-weak", "rwlock-copy"):
        s = f.series.get("writer-" + mode)
        r = f.series.get("read-" + mode)
        if not s or not r:
            continue
        # Normalised by this run's own throughput before the read.
        before = [v for t, v in s if 0.3 <= t < r[0][0] - 0.05]
        base = sum(before) / len(before) if before else None
        if not base:
            continue
        d = write("writer-%s.dat" % mode,
                  [[t, v / base] for t, v in s])
        parts.append("'%s' using 1:2 with lines lw 2 lc rgb '%s' title '%s'"
                     % (d, colors[mode], mode))
        spans.append((r[0][0], r[0][1], colors[mode]))
        b = f.series.get("busy-" + mode)
        if b:
            spans.append((b[0][0], b[0][1], "#999999"))
    if parts:
        objs = ""
        for i, (a, b, c) in enumerate(spans):
            objs += ("set object %d rect from %f, graph %f to %f, graph %f "
                     "fc rgb '%s' fs transparent solid 0.12 noborder behind\n"
                     % (i + 1, a, 0.0, b, 1.0, c))
        gnuplot(term + """
set output '%s/writer-timeline.png'
set title 'Writer throughput while the main thread reads a 1M-entry snapshot (coloured: the read; grey: the main thread spins)'
set xlabel 'seconds'
set ylabel 'writer throughput / its throughput alone'
set yrange [0:1.6]
set key bottom right
set grid
%s
plot %s
""" % (outdir, objs, ", ".join(parts)), datadir)

    # Memory per entry.
    rows = []
    for r in f.rows("mem"):
        rows.append([r] + [f.med("mem", r, s) or 0 for s in
                           ("snapmap", "snapmap+snapshot", "bpf-noprealloc",
                            "bpf-prealloc")])
    d = write("mem.dat", rows)
    gnuplot(term + """
set output '%s/memory.png'
set title 'Memory per entry, 16-byte keys and values (memory cgroup)'
set xlabel 'entries'
set ylabel 'bytes per entry'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top right
set yrange [0:*]
plot '%s' using 2:xtic(1) title 'snapmap', '' using 3 title 'snapmap, snapshot open, keys rewritten', '' using 4 title 'bpf hash, no prealloc', '' using 5 title 'bpf hash, prealloc'
""" % (outdir, d), datadir)

    # One PUT against pinning snapshots, log-log, with a linear and a
    # quadratic line through S = 1000.
    rows = []
    for r in pinned_rows(f):
        v = f.get("pinned", r, "put")
        if v and int(r) > 0:
            rows.append([r, v[0], v[1], v[2]])
    d = write("pinned.dat", rows)
    bound = [[int(f.med("pinned", r, "reached")),
              f.med("pinned", r, "put-bound")] for r in pinned_rows(f)
             if f.med("pinned", r, "put-bound")
             and f.med("pinned", r, "reached")]
    b = write("pinned-bound.dat", bound)
    anchor = f.med("pinned", "1000", "put")
    base = f.med("pinned", "0", "put")
    if d:
        parts = ["'%s' using 1:2:3:4 with yerrorlines lw 2 pt 7 "
                 "title 'one PUT (median, range)'" % d]
        if b:
            parts.append("'%s' using 1:2 with points pt 9 ps 2 "
                         "title 'setup stopped: its last PUTs (lower "
                         "bound)'" % b)
        if anchor:
            parts.append("%g * x / 1000 with lines dt 2 lc rgb '#2ca02c' "
                         "title 'linear through S = 1000'" % anchor)
            parts.append("%g * (x / 1000) ** 2 with lines dt 2 "
                         "lc rgb '#d62728' title 'quadratic through "
                         "S = 1000'" % anchor)
        if base:
            parts.append("%g with lines dt 3 lc rgb '#777777' "
                         "title 'no snapshot (S = 0)'" % base)
        # The data, not the reference lines, set the vertical range.
        ys = [r[2] for r in rows] + [r[3] for r in rows] + \
            [r[1] for r in bound] + ([base] if base else [])
        gnuplot(term + """
set output '%s/pinned-put.png'
set title 'One PUT of a key against S snapshots each pinning a version of it'
set xlabel 'pinning snapshots S'
set ylabel 'microseconds per PUT'
set logscale xy
set xrange [0.7:20000]
set yrange [%g:%g]
set key top left
set grid
plot %s
""" % (outdir, min(ys) / 2, max(ys) * 3, ", ".join(parts)), datadir)

    # Scaling.
    rows = []
    for r in f.rows("scale"):
        rows.append([r] + [f.med("scale", r, s) or 0
                           for s in ("snapmap", "bpf")])
    d = write("scale.dat", rows)
    gnuplot(term + """
set output '%s/scaling.png'
set title 'Readers and writers on 2 vCPUs (aggregate, higher is better)'
set ylabel 'operations per second'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set yrange [0:*]
plot '%s' using 2:xtic(1) title 'snapmap', '' using 3 title 'bpf hash'
""" % (outdir, d), datadir)


def terminal_summary(rep):
    out = ["", "snapmap benchmarks: targets"]
    w = max(len(t[0]) for t in rep.targets)
    for name, meas, imeas, goal, better, verdict, note in rep.targets:
        out.append("  %-*s  %s %gx  %-6s (instructions %-6s) %s%s" % (
            w, name, "<=" if better == "le" else ">=", goal, meas, imeas,
            verdict, "  (%s)" % note if note else ""))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--out", required=True)
    ap.add_argument("--plots", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--icount-results")
    ap.add_argument("--prof-results")
    args = ap.parse_args()

    figs, series, env = parse(args.results)
    if not figs:
        sys.exit("report.py: no results in %s" % args.results)
    for kv in args.env:
        k, _, v = kv.partition("=")
        env[k] = v
    ifigs = parse(args.icount_results)[0] if args.icount_results else {}
    prof = parse_prof(args.prof_results) if args.prof_results else {}
    rep = Report(figs, series, env, ifigs, prof)
    plots_rel = os.path.relpath(args.plots, os.path.dirname(
        os.path.abspath(args.out)))
    text = build(rep, plots_rel)
    with open(args.out, "w", encoding="utf-8") as out:
        out.write(text)
    plots(rep, os.path.abspath(args.plots), os.path.abspath(args.data))
    # The tables, then the targets, on the terminal.
    for line in text.splitlines():
        if line.startswith("## Notes"):
            break
        if not line.startswith("!["):
            print(line)
    print(terminal_summary(rep))


if __name__ == "__main__":
    main()

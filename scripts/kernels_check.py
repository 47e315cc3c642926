#!/usr/bin/env python3
"""Host-side assertions on one VM run of tests/vm/suite.sh (scripts/kernels.sh).

  kernels_check.py --build BUILD --suite SUITE OUTDIR   checks one run; writes OUTDIR/check.json;
                                                         exit 1 when a check failed
  kernels_check.py --build BUILD --table OUTDIR...      prints the table kernel x case

Every figure comes from the VM: its console's "OVR" lines (the probe's calls, read just before
each call: Committed_AS), the shim's JSON reports, /proc/meminfo after each case, its snapshots.
The per-cpu band is computed here as the kernel computes its batch (mm/mm_init.c
mm_compute_batch, 5.9+: mode 2 batch = max(2*ncpus, 32, totalram/ncpus/256); the band is
batch x ncpus), independently of the shim's kmodel."""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile


def ovr_lines(out):
    lines = []
    with open(os.path.join(out, "console.log"), "rb") as f:
        for raw in f:
            s = raw.decode("utf-8", "replace").strip()
            i = s.find("OVR ")
            if i < 0:
                continue
            rec = {}
            parts = s[i + 4:].split()
            rec["_tag"] = parts[0] if parts and "=" not in parts[0] else ""
            for p in parts:
                if "=" in p:
                    k, v = p.split("=", 1)
                    rec[k] = v
            lines.append(rec)
    return lines


def meminfo(path):
    d = {}
    try:
        for l in open(path):
            k, v = l.split(":", 1)
            d[k] = int(v.split()[0])
    except OSError:
        return None
    return d


def enomem(path):
    try:
        for l in open(path):
            e = json.loads(l)
            if e.get("event") == "enomem":
                return e
    except (OSError, ValueError):
        pass
    return None


def band(env):
    n = int(env["ncpus"])
    ram = int(env["memtotal_kb"]) // 4
    return max(2 * n, 32, ram // n // 256) * n


class Checker:
    def __init__(self, suite, out, build):
        self.suite, self.out, self.build = suite, out, build
        self.results = []  # (row, user, ok, figure)
        self.lines = ovr_lines(out)
        self.envs = {r["tag"]: r for r in self.lines if r["_tag"] == "env"}
        self.cases = {}
        for r in self.lines:
            if "case" in r:
                self.cases[(r["case"], r.get("user", ""), r.get("run", ""))] = r

    def add(self, row, user, ok, fig):
        self.results.append((row, user, bool(ok), fig))

    def get(self, case, user, run):
        return self.cases.get((case, user, run))

    def refused(self, case, user, run, err=None):
        r = self.get(case, user, run)
        return r is not None and r.get("rc") != "ok" and (err is None or r.get("rc") == err)

    def passed(self, case, user, run="remedy"):
        r = self.get(case, user, run)
        return r is not None and r.get("rc", "ok") == "ok" and r.get("rc_exit") == "0"

    def report(self, case, user, cause, call, env, mode2):
        """The shim's report of a real refusal: cause, call, CommitLimit terms, the band."""
        e = enomem(os.path.join(self.out, f"{case}.{user}.jsonl"))
        if e is None:
            return False, "no report"
        v = e["verdict"]
        why = []
        if e.get("simulated"):
            why.append("simulated")
        if v.get("cause") != cause:
            why.append(f"cause {v.get('cause')}")
        if call and e["call"]["name"] not in call:
            why.append(f"call {e['call']['name']}")
        fig = f"{v.get('cause')}"
        if mode2:
            mi = meminfo(os.path.join(self.out, f"{case}.{user}.meminfo"))
            own = {k[:-3]: v for k, v in e["system"]["meminfo"].items() if k.endswith("_kb")}
            if own.get("CommitLimit") != (mi or own).get("CommitLimit"):
                why.append(f"CommitLimit changed: report {own.get('CommitLimit')} kB, after {mi and mi.get('CommitLimit')} kB")
            mi = mi or own
            keys = {"MemTotal", "Hugetlb", "vm.overcommit_ratio", "vm.overcommit_kbytes", "SwapTotal"}
            lim = sum(t["pages"] * (1 if t["op"] == "+" else -1) for t in v["terms"] if t.get("key") in keys)
            if mi is None or lim != mi["CommitLimit"] // 4:
                why.append(f"CommitLimit terms {lim} != {mi and mi['CommitLimit'] // 4}")
            shim = self.get(case, user, "shim") or {}
            b = band(env)
            if v.get("band_pages") != b:
                why.append(f"band_pages {v.get('band_pages')} != kernel's {b}")
            if "cas_kb" in shim:  # Committed_AS the probe read just before the call
                cas = int(shim["cas_kb"]) // 4
                d = v.get("committed_pages", 0) - cas
                if abs(d) > b:
                    why.append(f"Committed_AS {v.get('committed_pages')} vs read {cas}: {d} outside band {b}")
                fig += f" limit={lim} dCAS={d:+d}/{b}"
            else:
                fig += f" limit={lim}"
        else:
            fig += f" limit={v.get('limit_pages')}"
        return not why, fig + ("" if not why else " FAIL: " + "; ".join(why))

    def run(self):
        boot = self.envs.get("boot")
        if boot is None or not any(r["_tag"] == "done" for r in self.lines):
            self.add("suite ran to the end", "", False, "no 'done' line: see console.log")
            if boot is None:
                return
        # mode 0: one request against RAM + swap
        for sw in ("noswap", "swap"):
            env = self.envs.get(f"m0.{sw}")
            if env is None:
                self.add(f"mode 0 boundary {sw}", "", False, "not run")
                continue
            n = int(env["memtotal_kb"]) // 4 + int(env["swaptotal_kb"]) // 4
            for u in ("root", "nobody"):
                ok1 = self.passed(f"m0.{sw}.at", u)
                ok2 = self.refused(f"m0.{sw}.over", u, "bare", "ENOMEM")
                okr, fig = self.report(f"m0.{sw}.over", u, "overcommit_guess", ["mmap", "mmap64"], env, False)
                e = enomem(os.path.join(self.out, f"m0.{sw}.over.{u}.jsonl"))
                okl = e is not None and e["verdict"].get("limit_pages") == n
                self.add(f"mode 0 {sw}: RAM+swap passes, +1 refused", u, ok1 and ok2 and okr and okl,
                         f"{n} ok, {n + 1} ENOMEM; {fig}")
            x = self.get(f"explain.m0.{sw}", "root", "")
            if x:
                d = int(x["explain_largest"] or -1) - int(x["largest"])
                self.add(f"explain mode 0 {sw}", "root", d == 0, f"explain-real {d:+d}")
        # mode 2
        calls = {"mmap": (["mmap", "mmap64"], "ENOMEM"), "fixed": (["mmap", "mmap64"], "ENOMEM"),
                 "mprotect": (["mprotect"], "ENOMEM"), "mremap": (["mremap"], "ENOMEM"),
                 "brk": (["sbrk", "brk"], "ENOMEM"), "fork": (["fork"], "ENOMEM"),
                 "thread": (["pthread_create"], "EAGAIN")}
        for cfg in ("r50", "kb", "swap"):
            t = f"m2.{cfg}"
            env = self.envs.get(t)
            if env is None:
                self.add(f"{t}", "", False, "not run")
                continue
            b = band(env)
            for u in ("root", "nobody"):
                for c, (names, err) in calls.items():
                    row = f"{t} {c}"
                    refused = self.refused(f"{t}.{c}", u, "bare", err) and self.refused(f"{t}.{c}", u, "shim", err)
                    okr, fig = self.report(f"{t}.{c}", u, "overcommit_never", names, env, True)
                    if c == "fixed":
                        # what a failed MAP_FIXED leaves: <= 6.11 unmaps the old range first (a hole),
                        # 6.12+ checks before unmapping (the reservation stays); docs/kernel.md §2, §11
                        left = (self.get(f"{t}.{c}", u, "bare") or {}).get("left", "?")
                        want = "reservation" if self.version() >= (6, 12) else "hole"
                        if left != want:
                            okr = False
                        fig += f" left={left} (model: {want})"
                        # the largest commit the kernel took, against the report's limit - committed
                        lg = self.get(f"{t}.fixed_largest", u, "remedy")
                        e = enomem(os.path.join(self.out, f"{t}.{c}.{u}.jsonl"))
                        if lg and e:
                            pred = e["verdict"]["limit_pages"] - e["verdict"]["committed_pages"] - 1
                            d = pred - int(lg["largest"])
                            fig += f"; largest commit real {lg['largest']} model {pred} ({d:+d})"
                            if abs(d) > band(env) + 512:
                                okr = False
                    rem = self.get(f"{t}.{c}.{u}.at_most", u, "remedy")
                    okm = True
                    if c in ("mmap", "fixed", "fork"):
                        okm = rem is not None and self.passed(f"{t}.{c}.{u}.at_most", u)
                        fig += f"; remedy {rem and rem.get('args')}: {'passes' if okm else 'FAILS'}"
                    self.add(row, u, refused and okr and okm, fig)
                r = self.get(f"explain.{t}", u, "")
                if r:
                    d = int(r["explain_largest"] or -10**9) - int(r["largest"])
                    self.add(f"{t} explain", u, abs(d) <= b, f"explain {r['explain_largest']} real {r['largest']} ({d:+d}, band {b})")
                else:
                    self.add(f"{t} explain", u, False, "not run")
            # the largest each call got from the kernel, against the model's room in the report of
            # its refusal (limit - committed - 1, as the call's size; the fork: the parent bound)
            size_of = {"mprotect": 0, "mremap": 1, "brk": 0, "thread": 0}
            quick = cfg != "r50" and self.get(f"{t}.largest_brk", "root", "remedy") is None
            for u in ("root", "nobody"):
                for k in ("mprotect", "mremap", "brk", "thread", "fork"):
                    if quick:
                        break  # make test's quick run searches in ratio 50 only
                    lg = self.get(f"{t}.largest_{k}", u, "remedy")
                    e = enomem(os.path.join(self.out, f"{t}.{k}.{u}.jsonl"))
                    if lg is None or e is None:
                        self.add(f"{t} largest {k}", u, False, "not run")
                        continue
                    v = e["verdict"]
                    if k == "fork":
                        pred = v.get("fork_parent_bound_pages")
                    else:
                        pred = v["limit_pages"] - v["committed_pages"] - 1 + size_of[k]
                    real = int(lg["largest"])
                    d = (pred if pred is not None else -10**9) - real
                    self.add(f"{t} largest {k}", u, abs(d) <= b + 512, f"real {real} model {pred} ({d:+d}, band {b})")
                lm = self.get(f"{t}.largest_memfd", u, "remedy")
                x = self.get(f"explain.{t}", u, "")
                if lm and x and "grown_pages" in lm:  # fallocate's per-page charges against one private mmap's
                    d = int(lm["grown_pages"]) - int(x["largest"])
                    self.add(f"{t} memfd grown by fallocate vs largest mmap", u, lm.get("error") == "ENOSPC" and abs(d) <= b + 512,
                             f"fallocate took {lm['grown_pages']} pages then {lm.get('error')}, one private mmap {x['largest']} ({d:+d})")
            s = self.get(f"{t}.mmap.nobody.sysctl", "nobody", "remedy")
            self.add(f"{t} sysctl remedy", "nobody", s is not None and self.passed(f"{t}.mmap.nobody.sysctl", "nobody"),
                     "the refused mmap passes with the sysctl the report names" if s else "not run")
        # the snapshot, given to the simulator on the host
        env = self.envs.get("m2.r50")
        for u in ("root", "nobody"):
            snap = os.path.join(self.out, "snapshot.m2.r50.txt" if u == "root" else "snapshot.m2.r50.nobody.txt")
            r = self.get("snapshot.m2.r50", u, "")
            if env is None or r is None or not os.path.exists(snap):
                self.add("snapshot -> simulator", u, False, "not run")
                continue
            big = int(r["largest"])
            tol = band(env) + 512
            lo, hi = self.simulate(snap, big - tol), self.simulate(snap, big + tol)
            self.add("snapshot -> simulator", u, lo == 0 and hi == 1,
                     f"real largest {big}: sim {big - tol} {'passes' if lo == 0 else 'rc %d' % lo}, {big + tol} {'refused' if hi == 1 else 'rc %d' % hi}")
        # mode 1
        for u in ("root", "nobody"):
            ok = all(self.passed(f"m1.{c}", u) for c in ("mmap", "fixed", "fork"))
            env = self.envs.get("m1")
            self.add("mode 1 never refuses", u, ok and env is not None,
                     f"mmap, MAP_FIXED, fork of {env and int(env['memtotal_kb'])} pages (4 x RAM)" if env else "not run")
        # max_map_count
        for u in ("root", "nobody"):
            okr, fig = self.report("maps", u, "max_map_count", None, self.envs.get("maps") or boot, False)
            r = self.get("maps", u, "bare") or {}
            oks = self.passed(f"maps.{u}.sysctl", u)
            self.add("max_map_count", u, okr and self.refused("maps", u, "bare", "ENOMEM") and oks,
                     f"refused at map_count {r.get('map_count')} of 3000; {fig}; remedy {'passes' if oks else 'FAILS'}")
        # memfd: figures for the table (the charge in each mode)
        for m in ("0", "1", "2"):
            r = self.get(f"memfd.m{m}.32m", "root", "remedy")
            s = self.get(f"memfd_sparse.m{m}.32m", "root", "remedy")
            ok = r is not None and s is not None and r.get("fallocate") == "ok"
            self.add(f"memfd mode {m}", "root", ok,
                     f"fallocate +{r and r.get('fallocated_kb')} kB, mmap +{r and r.get('mapped_kb')}, close {r and r.get('closed_kb')}; "
                     f"sparse touch +{s and s.get('touched_kb')} kB" if ok else "not run")
        r = self.get("memfd.m2.over", "root", "remedy")
        self.add("memfd mode 2 past the limit", "root", r is not None and r.get("rc") != "ok",
                 f"fallocate {r and r.get('fallocate')}, size after {r and r.get('size_kb')} kB" if r else "not run")
        r = self.get("memfd_sparse.m2.over", "root", "remedy")
        env = self.envs.get("memfd.m2")
        if r is not None and env is not None:
            # each fault's charge is checked with the mapping in total_vm: the user reserve is
            # min(total_vm / 32, user_reserve_kbytes / 4) (root: no admin reserve)
            room = (int(env["commitlimit_kb"]) - int(env["committed_kb"])) // 4
            mapped = int(r["args"].split(",")[1])
            want = room - min(mapped // 32, int(env["user_kb"]) // 4)
            w = int(r.get("written_pages", "-1"))
            self.add("memfd mode 2 sparse, written past the limit", "root", r.get("sigbus") == "1" and abs(w - want) <= band(env) + 512,
                     f"SIGBUS after {w} pages written; room {room} less the user reserve of the mapping = {want} ({w - want:+d}); charged {r.get('charged_kb')} kB")
        self.oomkill()
        # the JVM
        j = self.get("jvm.heap", "root", "shim")
        if j is not None:
            okr, fig = self.report("jvm.heap", "root", "overcommit_never", ["mmap", "mmap64"], self.envs["jvm"], True)
            e = enomem(os.path.join(self.out, "jvm.heap.root.jsonl"))
            req = e and e["verdict"].get("request_pages")
            m = re.search(r"failed to map (\d+) bytes", open(os.path.join(self.out, "jvm.heap.out")).read())
            okq = m is not None and req is not None and req * 4096 == int(m.group(1))
            rem = self.get("jvm.heap.root.at_most", "root", "remedy")
            okm = rem is not None and rem.get("rc_exit") == "0"
            self.add("JVM -Xms > CommitLimit", "root", j.get("rc_exit") != "0" and okr and okq and okm,
                     f"-Xms{j['xms_mib']}m refused: HotSpot's {m and m.group(1)} bytes = {req} pages; {fig}; remedy -Xms{rem and rem.get('xms_mib')}m {'starts' if okm else 'FAILS'}")
            t = self.get("jvm.threads", "nobody", "shim")
            okr, fig = self.report("jvm.threads", "nobody", "thread_limit", ["pthread_create"], boot, False)
            rem = self.get("jvm.threads.nobody.ulimit", "nobody", "remedy")
            okm = rem is not None and rem.get("rc_exit") == "0"
            self.add("JVM out of threads (RLIMIT_NPROC)", "nobody", t is not None and okr and okm,
                     f"{fig}; remedy ulimit -u {rem and rem.get('nproc')} {'starts' if okm else 'FAILS'}")
        return self

    def oomkill(self):
        """A real OOM kill in the VM's memory cgroup (tests/vm/oomkill.sh): postmortem matched the
        kernel's Killed process line, whose total-vm and anon-rss are within 5% of the flight
        recorder's last sample; the VM and the suite went on."""
        row = "OOM kill: postmortem vs the kernel's Killed process line"
        r = self.get("oomkill", "root", "")
        if r is None:
            self.add(row, "root", False, "not run")
            return
        why = []
        if r.get("rc_exit") != "137":
            why.append(f"exit status {r.get('rc_exit')}, not 137 (SIGKILL)")
        # the kernel's line, read here from the VM's dmesg, independently of the shim's parser
        kl = None
        try:
            for l in open(os.path.join(self.out, "oom.dmesg"), errors="replace"):
                m = re.search(r"Killed process (\d+) \((.*?)\) total-vm:(\d+)kB, anon-rss:(\d+)kB", l)
                if m and m.group(1) == r.get("pid"):
                    kl = (int(m.group(3)), int(m.group(4)), l.strip())
        except OSError:
            pass
        if kl is None:
            why.append(f"no 'Killed process {r.get('pid')}' line in oom.dmesg")
        pm = {}
        try:
            pm = json.load(open(os.path.join(self.out, "oom.pm.json")))
        except (OSError, ValueError) as e:
            why.append(f"oom.pm.json: {e}")
        ok_ = (pm.get("kernel") or {}).get("oom_kill")
        ls = (ok_ or {}).get("last_sample") or {}
        if not ok_:
            why.append("postmortem matched no Killed process line")
        elif kl is not None:
            if (ok_["total_vm_kb"], ok_["anon_rss_kb"]) != kl[:2] or ok_["pid"] != pm.get("pid"):
                why.append(f"postmortem's line {ok_['total_vm_kb']}/{ok_['anon_rss_kb']} kB pid {ok_['pid']} != dmesg's {kl[0]}/{kl[1]} kB")
        if self.envs.get("oomkill", {}).get("mode") != "1":
            why.append("not in mode 1")
        if r.get("bound") == "cgroup" and r.get("memcg_oom_kill") != "1":
            why.append(f"memory.events oom_kill {r.get('memcg_oom_kill')}, not 1")
        if "after_oom" not in self.envs:
            why.append("the suite did not go on after the kill")
        fig = f"bound {r.get('bound')} {r.get('limit_mib')} MiB, chunks {r.get('chunk_mib')} MiB, {r.get('secs')} s"
        if ls and kl is not None:
            tv, ar = ls["vm_size_kb"], ls["rss_anon_kb"]
            dtv, dar = 100.0 * (kl[0] - tv) / tv, 100.0 * (kl[1] - ar) / ar
            if abs(dtv - ls["total_vm_diff_pct"]) > 0.01 or abs(dar - ls["anon_rss_diff_pct"]) > 0.01:
                why.append(f"postmortem's diff {ls['total_vm_diff_pct']}/{ls['anon_rss_diff_pct']} % != {dtv:.2f}/{dar:.2f} %")
            if abs(dtv) > 5 or abs(dar) > 5:
                why.append("more than 5% off")
            fig += (f"; total-vm: postmortem {tv} kB, kernel {kl[0]} kB ({dtv:+.2f}%); "
                    f"anon-rss: postmortem {ar} kB, kernel {kl[1]} kB ({dar:+.2f}%)")
        elif ok_:
            why.append("no last sample")
        self.add(row, "root", not why, fig + ("" if not why else " FAIL: " + "; ".join(why)))

    def version(self):
        m = re.match(r"(\d+)\.(\d+)", (self.envs.get("boot") or {}).get("kernel", "0.0"))
        return (int(m.group(1)), int(m.group(2))) if m else (0, 0)

    def simulate(self, snap, pages):
        with tempfile.TemporaryDirectory() as d:
            cmd = [os.path.join(self.build, "overshim"), "run", "--simulate", snap, "--json", os.path.join(d, "r.jsonl"),
                   "--log", "none", "--", os.path.join(self.build, "vmprobe"), "mmap", str(pages)]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode == 1:  # refused: by the simulator?
                e = enomem(os.path.join(d, "r.jsonl"))
                if not (e and e.get("simulated")):
                    return 3
            return p.returncode


def summary(runs):
    """The README's table: one column a kernel, the figures picked out of each check's text."""
    def fig(r, row, user):
        for x in r["results"]:
            if x["row"] == row and x["user"] == user:
                return x["figure"]
        return ""

    def num(r, row, user, pat, k=1):
        m = re.search(pat, fig(r, row, user))
        return m.group(k) if m else "?"

    def both(r, row, pat):
        return f"{num(r, row, 'root', pat)}; {num(r, row, 'nobody', pat)}"

    d = r"\(([-+]\d+)"
    first, word, pages, xms, nproc = r"^(\d+)", r"fallocate (\w+)", r"= (\d+) pages", r"remedy (-Xms\d+m) starts", r"remedy (ulimit -u \d+) starts"
    lines = [
        ("boot to poweroff, full suite with the JVM", lambda r: f"{r['boot_s']} s"),
        ("checks passed", lambda r: f"{sum(x['ok'] for x in r['results'])} of {len(r['results'])}"),
        ("mode 0: MemTotal+SwapTotal pages pass, +1 ENOMEM (root, nobody); the report's limit and explain's largest exact",
         lambda r: f"{num(r, 'mode 0 noswap: RAM+swap passes, +1 refused', 'root', first)}; "
                   f"{num(r, 'mode 0 swap: RAM+swap passes, +1 refused', 'root', first)} with swap"),
        ("mode 2 ratio 50: CommitLimit = sum of the report's terms = /proc/meminfo",
         lambda r: num(r, "m2.r50 mmap", "root", r"limit=(\d+)")),
        ("Committed_AS in the report - the probe's read just before / band",
         lambda r: num(r, "m2.r50 mmap", "root", r"dCAS=([-+]\d+/\d+)").replace("/", " / ")),
        ("causes of mmap, MAP_FIXED, mprotect, mremap, brk, fork, thread in ratio 50, kbytes, ratio 50 + swap",
         lambda r: "all `overcommit_never`" if all(x["ok"] for x in r["results"] if re.match(r"m2\.\w+ (mmap|fixed|mprotect|mremap|brk|fork|thread)$", x["row"])) else "**FAIL**"),
        ("explain - real largest: ratio 50 / kbytes / + swap (root; nobody)",
         lambda r: " / ".join(both(r, f"m2.{c} explain", d) for c in ("r50", "kb", "swap"))),
        ("a failed MAP_FIXED commit leaves", lambda r: num(r, "m2.r50 fixed", "root", r"left=(\w+)")),
        ("largest MAP_FIXED commit, model - real (root; nobody)", lambda r: both(r, "m2.r50 fixed", r"model \d+ \(([-+]\d+)")),
        ("largest mprotect / mremap / brk, model - real (root)",
         lambda r: " / ".join(num(r, f"m2.r50 largest {k}", "root", d) for k in ("mprotect", "mremap", "brk"))),
        ("largest thread stack, model - real (root; nobody)", lambda r: both(r, "m2.r50 largest thread", d)),
        ("largest parent that forks, model - real (root; nobody)", lambda r: both(r, "m2.r50 largest fork", d)),
        ("snapshot -> simulator: largest - band - 512 passes, + band + 512 refused (root, nobody)",
         lambda r: "yes" if all(x["ok"] for x in r["results"] if x["row"].startswith("snapshot")) else "**no**"),
        ("mode 1: mmap, MAP_FIXED, fork of 4 x RAM; max_map_count 3000 refused at 3001, remedy passes",
         lambda r: "yes" if all(x["ok"] for x in r["results"] if x["row"] in ("mode 1 never refuses", "max_map_count")) else "**no**"),
        ("memfd, every mode, Committed_AS kB: fallocate 32 MiB / mmap shared / close / sparse file written",
         lambda r: num(r, "memfd mode 2", "root", r"fallocate (\+\d+) kB, mmap (\+\d+), close (-\d+); sparse touch (\+\d+)", 0)
             .replace("fallocate ", "").replace(" kB, mmap ", " / ").replace(", close ", " / ").replace("; sparse touch ", " / ")),
        ("memfd, mode 2: fallocate past the room; grown 16 pages at a time vs one mmap (root); sparse written until SIGBUS vs the formula",
         lambda r: f"{num(r, 'memfd mode 2 past the limit', 'root', word)}; "
                   f"{num(r, 'm2.r50 memfd grown by fallocate vs largest mmap', 'root', d)}; "
                   f"{num(r, 'memfd mode 2 sparse, written past the limit', 'root', d)}"),
        ("OOM kill in a 448 MiB memory cgroup (mode 1, 16 MiB chunks): the flight recorder's last sample vs the kernel's Killed process line, total-vm; anon-rss (kB, diff)",
         lambda r: (lambda m: f"{m.group(1)} vs {m.group(2)} ({m.group(3)}%); {m.group(4)} vs {m.group(5)} ({m.group(6)}%)" if m else "**FAIL**")(
             re.search(r"total-vm: postmortem (\d+) kB, kernel (\d+) kB \(([-+][\d.]+)%\); anon-rss: postmortem (\d+) kB, kernel (\d+) kB \(([-+][\d.]+)%\)$",
                       fig(r, "OOM kill: postmortem vs the kernel's Killed process line", "root")))),
        ("JVM -Xms above CommitLimit: HotSpot's failed commit = the report's request; the remedy's -Xms starts",
         lambda r: f"{num(r, 'JVM -Xms > CommitLimit', 'root', pages)} pages; "
                   f"{num(r, 'JVM -Xms > CommitLimit', 'root', xms)}"),
        ("JVM at RLIMIT_NPROC 6 as nobody: `thread_limit`; the remedy's ulimit -u starts it",
         lambda r: num(r, "JVM out of threads (RLIMIT_NPROC)", "nobody", r"remedy (ulimit -u \d+) starts")),
    ]
    print("| | " + " | ".join(f"{r['release']} ({r['suite']})" for r in runs) + " |")
    print("| --- |" + " --- |" * len(runs))
    for name, f in lines:
        print(f"| {name} | " + " | ".join(f(r) for r in runs) + " |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--suite")
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--summary", action="store_true", help="with --table: the README's compact table")
    ap.add_argument("--rows", help="only rows whose name contains one of these, comma-separated (README's table)")
    ap.add_argument("outs", nargs="+")
    a = ap.parse_args()
    if not a.table:
        c = Checker(a.suite, a.outs[0], a.build).run()
        host = {}
        try:
            host = dict(x.split("=", 1) for x in open(os.path.join(a.outs[0], "host.txt")).read().split())
        except OSError:
            pass
        res = {"suite": a.suite, "release": host.get("release", "?"), "boot_s": host.get("boot_s", "?"),
               "results": [{"row": r, "user": u, "ok": ok, "figure": f} for r, u, ok, f in c.results]}
        json.dump(res, open(os.path.join(a.outs[0], "check.json"), "w"), indent=1)
        bad = [x for x in c.results if not x[2]]
        for r, u, ok, f in c.results:
            print(f"kernels: {a.suite}: {'ok  ' if ok else 'FAIL'} {r} [{u}] {f}")
        print(f"kernels: {a.suite}: {len(c.results) - len(bad)} checks passed, {len(bad)} failed")
        sys.exit(1 if bad or not c.results else 0)
    runs = []
    for o in a.outs:
        try:
            runs.append(json.load(open(os.path.join(o, "check.json"))))
        except (OSError, ValueError):
            pass
    if a.summary:
        summary(runs)
        return
    rows = []
    for r in runs:
        for x in r["results"]:
            k = (x["row"], x["user"])
            if k not in rows:
                rows.append(k)
    print("\n| case | user | " + " | ".join(f"{r['suite']} {r['release']} ({r['boot_s']} s)" for r in runs) + " |")
    print("| --- | --- |" + " --- |" * len(runs))
    if a.rows:
        want = a.rows.split(",")
        rows = [k for k in rows if any(w in k[0] for w in want)]
    total = ["checks passed"]
    for r in runs:
        n = sum(1 for x in r["results"] if x["ok"])
        total.append(f"{n} of {len(r['results'])}")
    print("| " + total[0] + " | | " + " | ".join(total[1:]) + " |")
    for k in rows:
        cells = []
        for r in runs:
            m = [x for x in r["results"] if (x["row"], x["user"]) == k]
            cells.append(("ok " if m[0]["ok"] else "**FAIL** ") + m[0]["figure"] if m else "-")
        print(f"| {k[0]} | {k[1]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark: how long does it take to start a container that runs /bin/true, and how much
memory does the runtime use doing it? Dockling's chapter binaries against runc and crun, in the
same run, on the same busybox root filesystem.

    bench/startup.py [--runs N] [--json FILE]

Run as root, after `make final` (or `make bench`, which does both). Each tool starts a container
N times; the table shows the median and 90th percentile wall time and the largest peak RSS of
the runtime process (from wait4's rusage). A tool that cannot run here is listed with its error.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "build" / "bin"


def run_once(argv):
    """(seconds, peak RSS in KiB, exit status, stderr) of one run of argv, measured by
    bench/measure.cpp (see there why Python cannot measure the peak RSS itself)."""
    read_end, write_end = os.pipe()
    proc = subprocess.run([str(BIN / "dockling-bench-measure"), str(write_end), *argv],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          pass_fds=(write_end,))
    os.close(write_end)
    with os.fdopen(read_end) as report:
        micros, rss = report.read().split()
    return int(micros) / 1e6, int(rss), proc.returncode, proc.stderr.decode(errors="replace")


def measure(name, make_argv, runs):
    times, peak = [], 0
    for i in range(runs):
        elapsed, rss, code, err = run_once(make_argv(i))
        if code != 0:
            return {"tool": name, "error": (err.strip().splitlines() or [f"exit {code}"])[-1][:100]}
        times.append(elapsed * 1000)
        peak = max(peak, rss)
    times.sort()
    return {"tool": name, "runs": runs, "median_ms": round(statistics.median(times), 2),
            "p90_ms": round(times[int(len(times) * 0.9) - 1], 2), "peak_rss_kib": peak}


def oci_bundle(workdir, rootfs):
    """A minimal OCI bundle for runc/crun running /bin/true in `rootfs`."""
    bundle = workdir / "bundle"
    bundle.mkdir()
    subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True)
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = ["/bin/true"]
    config["root"] = {"path": str(rootfs), "readonly": False}
    (bundle / "config.json").write_text(json.dumps(config))
    return bundle


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--json")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: run as root (containers need it)")

    with tempfile.TemporaryDirectory(prefix="dockling-bench-") as tmp:
        workdir = Path(tmp)
        rootfs = workdir / "rootfs"
        subprocess.run([str(ROOT / "tests/fixtures/make-rootfs.sh"), str(rootfs)], check=True)
        results = [measure("/bin/true (no container)", lambda i: ["/bin/true"], args.runs)]
        for binary in sorted(BIN.glob("dockling-ch[0-9]")) + [BIN / "dockling"]:
            if binary.exists():
                results.append(measure(binary.name, lambda i, b=binary: [str(b), "run", "--rootfs", str(rootfs),
                                                                         "/bin/true"], args.runs))
        for tool in ("runc", "crun"):
            if shutil.which(tool) is None:
                results.append({"tool": tool, "error": "not installed (make bench installs it)"})
                continue
            bundle = oci_bundle(workdir, rootfs) if not (workdir / "bundle").exists() else workdir / "bundle"
            results.append(measure(tool, lambda i, t=tool: [t, "run", "--bundle", str(bundle),
                                                            f"dockling-bench-{os.getpid()}-{i}"], args.runs))

    print(f"{'tool':<28} {'median ms':>10} {'p90 ms':>10} {'peak RSS KiB':>13}")
    for r in results:
        if "error" in r:
            print(f"{r['tool']:<28} {'-':>10} {'-':>10} {'-':>13}  ({r['error']})")
        else:
            print(f"{r['tool']:<28} {r['median_ms']:>10} {r['p90_ms']:>10} {r['peak_rss_kib']:>13}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

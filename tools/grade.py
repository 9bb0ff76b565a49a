#!/usr/bin/env python3
"""The grader: runs Dockling's tests against a binary and reports per exercise.

    tools/grade.py --chapter N          tests of chapters 1..N against build/bin/dockling-chN
    tools/grade.py --all                each chapter's tests against its own binary, then
                                        every test against the final build/bin/dockling
    --bin PATH      grade another build of the binary (a student's hand-in)
    --json FILE     also write the results as JSON (for a course's grading scripts)

Tests are Catch2 executables (build/tests/test-chNN, test-final). A test tagged [exN.K]
grades exercise N.K. A test that calls DOCKLING_SKIP is counted as skipped, with its
reason, never as passed. After the run a leak check fails the run when mounts, cgroups,
network namespaces, links, firewall rules or processes of Dockling's were left behind.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import exercises  # noqa: E402
import leaks  # noqa: E402

SKIP_MARK = "DOCKLING-SKIP:"


@dataclass
class TestResult:
    name: str
    tags: list
    suite: str
    outcome: str  # passed | failed | skipped
    detail: str = ""
    notes: list = field(default_factory=list)  # the test's WARN lines (e.g. "ran against a fake")


@dataclass
class Run:
    label: str
    results: list = field(default_factory=list)
    crashed: str = ""


def parse_catch_xml(text, suite):
    """Turns Catch2's XML report into TestResults."""
    results = []
    root = ET.fromstring(text)
    for case in root.iter("TestCase"):
        tags = re.findall(r"\[([^\]]+)\]", case.get("tags", ""))
        overall = case.find("OverallResult")
        warnings = [w.text.strip() for w in case.iter("Warning") if w.text]
        skips = [w[len(SKIP_MARK):].strip() for w in warnings if w.startswith(SKIP_MARK)]
        if overall is not None and overall.get("success") == "true":
            outcome, detail = ("skipped", skips[0]) if skips else ("passed", "")
        else:
            outcome, detail = "failed", failure_detail(case)
        notes = [w for w in warnings if not w.startswith(SKIP_MARK)]
        results.append(TestResult(case.get("name"), tags, suite, outcome, detail, notes))
    return results


def failure_detail(case):
    """The first failed expression or exception of a test case, on a few lines."""
    for node in case.iter():
        if node.tag == "Expression" and node.get("success") == "false":
            original = (node.findtext("Original") or "").strip()
            expanded = (node.findtext("Expanded") or "").strip()
            where = f'{Path(node.get("filename", "?")).name}:{node.get("line", "?")}'
            return f"{where}: {original}  (got: {expanded})"
        if node.tag in ("Exception", "FatalErrorCondition", "Failure"):
            where = f'{Path(node.get("filename", "?")).name}:{node.get("line", "?")}'
            return f"{where}: {(node.text or '').strip()}"
    return "failed"


def run_suite(executable, env, label):
    """Runs one Catch2 executable with the XML reporter."""
    run = Run(label)
    if not executable.exists():
        run.crashed = f"{executable} does not exist: build it first"
        return run
    proc = subprocess.run([str(executable), "-r", "xml"], env=env, capture_output=True, text=True)
    try:
        run.results = parse_catch_xml(proc.stdout, executable.name)
    except ET.ParseError:
        run.crashed = f"{executable.name} crashed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}"
    return run


def suite_env(binary, chapter, build):
    env = dict(os.environ)
    env["DOCKLING_BIN"] = str(binary)
    env["DOCKLING_CHAPTER"] = str(chapter)
    env["DOCKLING_BUILD"] = str(build)
    return env


def chapters_with_tests(build):
    found = sorted(build.glob("tests/test-ch[0-9][0-9]"))
    return [int(p.name[-2:]) for p in found]


def plan(args, build):
    """The (executable, binary, chapter, label) runs this invocation makes."""
    runs = []
    if args.chapter:
        binary = Path(args.bin) if args.bin else build / "bin" / f"dockling-ch{args.chapter}"
        for n in (n for n in range(1, args.chapter + 1) if exercises.has_code(ROOT, n)):
            runs.append((build / "tests" / f"test-ch{n:02}", binary, args.chapter,
                         f"chapter {n:02} tests on {binary.name}"))
        return runs
    final = Path(args.bin) if args.bin else build / "bin" / "dockling"
    # The final tool holds every chapter there is: its tests run as the last chapter's.
    last = max(chapters_with_tests(build), default=1)
    for n in chapters_with_tests(build):
        own = build / "bin" / f"dockling-ch{n}"
        runs.append((build / "tests" / f"test-ch{n:02}", own, n, f"chapter {n:02} tests on {own.name}"))
    for n in chapters_with_tests(build):
        runs.append((build / "tests" / f"test-ch{n:02}", final, last, f"chapter {n:02} tests on {final.name}"))
    runs.append((build / "tests" / "test-final", final, last, f"final tests on {final.name}"))
    return runs


def print_run(run, verbose):
    counts = {k: sum(r.outcome == k for r in run.results) for k in ("passed", "failed", "skipped")}
    print(f"== {run.label}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    if run.crashed:
        print(f"   CRASHED: {run.crashed}")
    for r in run.results:
        if r.outcome == "failed":
            print(f"   FAILED  {r.name}\n           {r.detail}")
        elif r.outcome == "skipped" and verbose:
            print(f"   skipped {r.name}: {r.detail}")
    for note in sorted({n for r in run.results for n in r.notes}):
        print(f"   note: {note}")


def grade_exercises(chapter, results):
    """Per exercise of `chapter`: its tests and whether all of them passed."""
    graded = []
    for ex in exercises.find(ROOT, chapter):
        mine = [r for r in results if f"ex{ex.number}" in r.tags]
        passed = bool(mine) and all(r.outcome == "passed" for r in mine)
        graded.append({"exercise": ex.number, "title": ex.title, "file": ex.file,
                       "tests": [r.name for r in mine], "passed": passed,
                       "points": ex.points if passed else 0, "max_points": ex.points})
    return graded


def print_exercises(chapter, graded):
    if not graded:
        return
    print(f"\nExercises of chapter {chapter:02}:")
    for g in graded:
        status = "passed" if g["passed"] else ("FAILED" if g["tests"] else "NO TESTS")
        print(f"  Exercise {g['exercise']:<5} {g['title']:<52} {status} ({len(g['tests'])} tests)")
    score = sum(g["points"] for g in graded)
    print(f"Score: {score}/{sum(g['max_points'] for g in graded)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--chapter", type=int, help="grade chapter N: tests of chapters 1..N")
    which.add_argument("--all", action="store_true", help="every chapter's tests and the final tool's")
    parser.add_argument("--bin", help="the dockling binary to test (default: this build's)")
    parser.add_argument("--build", default=str(ROOT / "build"), help="the build directory")
    parser.add_argument("--json", help="write the results as JSON to this file")
    parser.add_argument("--verbose", "-v", action="store_true", help="list skipped tests with their reasons")
    args = parser.parse_args()
    build = Path(args.build).resolve()

    before = leaks.snapshot()
    runs = []
    for executable, binary, chapter, label in plan(args, build):
        run = run_suite(executable, suite_env(binary, chapter, build), label)
        print_run(run, args.verbose)
        runs.append(run)
    left_behind = leaks.new_since(before)

    everything = [r for run in runs for r in run.results]
    graded = grade_exercises(args.chapter, everything) if args.chapter else []
    print_exercises(args.chapter, graded)
    if left_behind:
        print("\nLEAK CHECK FAILED: left behind on this machine:")
        for item in left_behind:
            print(f"  {item}")
    crashed = [run for run in runs if run.crashed]
    totals = {k: sum(r.outcome == k for r in everything) for k in ("passed", "failed", "skipped")}
    failed = totals["failed"] + len(crashed) + (1 if left_behind else 0)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "chapter": args.chapter, "exercises": graded, "leaks": left_behind,
            "tests": [vars(r) for r in everything], "crashed": [run.crashed for run in crashed],
            "passed": totals["passed"], "failed": failed, "skipped": totals["skipped"]}, indent=2))
    print(f"\ntotal: {totals['passed']} passed, {failed} failed, {totals['skipped']} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

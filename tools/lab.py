#!/usr/bin/env python3
"""Labs: student workspaces with a chapter's exercises stubbed, and the check that the
grader really grades them.

    tools/lab.py make N [--out DIR]   write a workspace for chapter N (default labs/chapter-N)
    tools/lab.py check [N ...]        for each chapter with exercises (default: all), prove that
                                      on the stubs exactly the exercise tests fail, and that
                                      the reference passes them all
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import exercises  # noqa: E402

SKIP_DIRS = {".git", "build", "labs", "__pycache__"}


def copy_tree(src, dest):
    def ignore(directory, names):
        return [n for n in names if n in SKIP_DIRS or n.startswith("build-")]
    shutil.copytree(src, dest, ignore=ignore, symlinks=True)


def make_workspace(chapter, out, force=False):
    """Writes a complete tree into `out` with chapter `chapter`'s exercises stubbed."""
    found = exercises.find(ROOT, chapter)
    if not found:
        raise SystemExit(f"lab: chapter {chapter:02} has no exercises")
    out = Path(out).resolve()
    if out.exists():
        if not force:
            raise SystemExit(f"lab: {out} already exists: it may hold your work; remove it or pass --force")
        shutil.rmtree(out)
    copy_tree(ROOT, out)
    for path in exercises.source_files(out, chapter):
        text = path.read_text()
        stubbed = exercises.stub_text(text, str(path))
        if stubbed != text:
            path.write_text(stubbed)
    return found


def build_chapter(tree, chapter, log):
    build = tree / "build"
    tested = [n for n in range(1, chapter + 1) if (tree / "tests" / f"ch{n:02}").is_dir()]  # chapters with tests
    targets = [f"dockling-ch{chapter}", "dockling-escape"] + [f"test-ch{n:02}" for n in tested]
    subprocess.run(["cmake", "-S", str(tree), "-B", str(build)], check=True, stdout=log, stderr=log)
    subprocess.run(["cmake", "--build", str(build), "-j2", "--target", *targets], check=True, stdout=log, stderr=log)
    return build


def grade(tree, chapter, json_path):
    subprocess.run([sys.executable, str(tree / "tools" / "grade.py"), "--chapter", str(chapter),
                    "--build", str(tree / "build"), "--json", str(json_path)],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads(Path(json_path).read_text())


def problems_on_stub(chapter, report):
    """What is wrong with a stub workspace's results: an exercise test that passed, or a
    test outside the exercises that failed."""
    numbers = {e.number for e in exercises.find(ROOT, chapter)}
    problems = []
    for test in report["tests"]:
        mine = [t for t in test["tags"] if t.startswith("ex") and t[2:] in numbers]
        if mine and test["outcome"] == "passed":
            problems.append(f"{test['name']} ({', '.join(mine)}) passed on the stub")
        if not mine and test["outcome"] == "failed":
            problems.append(f"{test['name']} is no exercise's test but failed on the stub: {test['detail']}")
    for g in report["exercises"]:
        if not g["tests"]:
            problems.append(f"exercise {g['exercise']} has no tests")
    problems += [f"crash: {c}" for c in report["crashed"]]
    return problems


def check_chapter(chapter, workdir):
    print(f"chapter {chapter:02}: ", end="", flush=True)
    log_path = workdir / f"chapter-{chapter}.log"
    with open(log_path, "w") as log:
        stub_tree = workdir / f"chapter-{chapter}"
        found = make_workspace(chapter, stub_tree, force=True)
        build_chapter(stub_tree, chapter, log)
        stub = grade(stub_tree, chapter, workdir / f"stub-{chapter}.json")
        reference = grade(ROOT, chapter, workdir / f"reference-{chapter}.json")
    problems = problems_on_stub(chapter, stub)
    for g in reference["exercises"]:
        if not g["passed"]:
            problems.append(f"the reference fails exercise {g['exercise']}")
    if reference["failed"]:
        problems.append(f"the reference has {reference['failed']} failing test(s)")
    if problems:
        print("FAILED")
        for p in problems:
            print(f"  {p}")
        return False
    stubbed = sum(1 for t in stub["tests"] if t["outcome"] == "failed")
    print(f"ok: {len(found)} exercises; on the stubs {stubbed} exercise tests fail and nothing else; "
          f"the reference passes all {reference['passed']} tests")
    return True


def chapters_with_exercises():
    return [n for n in range(1, 8) if exercises.find(ROOT, n)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    make = sub.add_parser("make", help="write a student workspace")
    make.add_argument("chapter", type=int)
    make.add_argument("--out", help="where (default labs/chapter-N)")
    make.add_argument("--force", action="store_true", help="replace an existing workspace")
    check = sub.add_parser("check", help="prove that every lab grades")
    check.add_argument("chapters", type=int, nargs="*")
    args = parser.parse_args()

    if args.action == "make":
        out = Path(args.out) if args.out else ROOT / "labs" / f"chapter-{args.chapter}"
        found = make_workspace(args.chapter, out, args.force)
        print(f"Lab for chapter {args.chapter:02} written to {out}")
        for e in found:
            print(f"  Exercise {e.number}: {e.title}  ({e.file})")
        print(f"Work there, then grade yourself with: cd {out} && sudo make chapter-{args.chapter} test")
        return 0
    chapters = args.chapters or chapters_with_exercises()
    (ROOT / "build").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="check-labs-", dir=ROOT / "build") as workdir:
        ok = all([check_chapter(n, Path(workdir)) for n in chapters])
    print("check-labs: every lab grades" if ok else "check-labs: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

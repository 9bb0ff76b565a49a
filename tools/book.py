#!/usr/bin/env python3
"""Keeps the book honest: its code is the real code, its "Try it" output is real output.

    tools/book.py check            every snippet in every chapter equals the code it quotes,
                                   and every figure's SVG is what its .dot source renders to
    tools/book.py fix              rewrites the snippets from the code (after a code change)
    tools/book.py demo N [--check] runs chapter N's "Try it" sessions, printing what they print;
                                   with --check, fails where the output differs from the book
    tools/book.py figures          renders every chapters/*/figures/*.dot to SVG

In a chapter's README.md a snippet is a fenced code block right after a line

    <!-- snippet: FILE#REGION -->

where FILE is relative to the chapter's folder and REGION is delimited in FILE by two
lines `//! [REGION]` (Doxygen's snippet markers). A "Try it" session is a ```console block
right after `<!-- try-it -->`: lines starting with "$ " are commands, run with bash as
root in build/demo/chapter-N (which holds `rootfs`, a busybox root filesystem) with
build/bin on PATH; the lines after a command are what it printed (stdout and stderr). In
the book's output "..." inside a line stands for any text, and a line that is only "..."
for any number of lines (ids, PIDs, times).
"""
import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNIPPET = re.compile(r"^<!-- snippet: (\S+?)#(\S+) -->\s*$")
TRY_IT = re.compile(r"^<!-- try-it -->\s*$")
FENCE = re.compile(r"^```")


def chapters():
    return sorted(p for p in (ROOT / "chapters").iterdir() if (p / "README.md").exists())


def chapter_dir(number):
    found = sorted((ROOT / "chapters").glob(f"{number:02}-*"))
    if not found:
        raise SystemExit(f"book: there is no chapter {number}")
    return found[0]


def fenced_block_after(lines, i):
    """(start, end) line indexes of the fenced block's body following line i."""
    j = i + 1
    if j >= len(lines) or not FENCE.match(lines[j]):
        raise ValueError(f"line {i + 1}: a fenced code block must follow")
    k = j + 1
    while k < len(lines) and not FENCE.match(lines[k]):
        k += 1
    return j + 1, k


def region(path, name):
    text = path.read_text().splitlines()
    marks = [i for i, line in enumerate(text) if line.strip() == f"//! [{name}]"]
    if len(marks) != 2:
        raise ValueError(f"{path}: region [{name}] needs exactly two '//! [{name}]' lines, found {len(marks)}")
    return text[marks[0] + 1:marks[1]]


def snippets(readme):
    """(line index, body start, body end, file, region) of every snippet in a README."""
    lines = readme.read_text().splitlines()
    for i, line in enumerate(lines):
        m = SNIPPET.match(line)
        if m:
            start, end = fenced_block_after(lines, i)
            yield i, start, end, m.group(1), m.group(2)


def check_snippets(fix=False):
    problems = []
    for chapter in chapters():
        readme = chapter / "README.md"
        lines = readme.read_text().splitlines()
        for i, start, end, file, name in reversed(list(snippets(readme))):
            try:
                code = region(chapter / file, name)
            except (OSError, ValueError) as error:
                problems.append(f"{readme.relative_to(ROOT)}:{i + 1}: {error}")
                continue
            if lines[start:end] != code:
                if fix:
                    lines[start:end] = code
                else:
                    problems.append(f"{readme.relative_to(ROOT)}:{i + 1}: snippet {file}#{name} differs from the code "
                                    f"(run tools/book.py fix)")
        if fix:
            readme.write_text("\n".join(lines) + "\n")
    return problems


def figures():
    return sorted((ROOT / "chapters").glob("*/figures/*.dot"))


def render(dot):
    return subprocess.run(["dot", "-Tsvg", str(dot)], check=True, capture_output=True, text=True).stdout


def check_figures():
    problems = []
    for dot in figures():
        svg = dot.with_suffix(".svg")
        if not svg.exists() or svg.read_text() != render(dot):
            problems.append(f"{svg.relative_to(ROOT)} is not what {dot.name} renders to (run make docs)")
    return problems


def sessions(readme):
    """Each "Try it" block as a list of (command, expected output lines)."""
    lines = readme.read_text().splitlines()
    for i, line in enumerate(lines):
        if TRY_IT.match(line):
            start, end = fenced_block_after(lines, i)
            steps = []
            for body_line in lines[start:end]:
                if body_line.startswith("$ "):
                    steps.append((body_line[2:], []))
                elif steps:
                    steps[-1][1].append(body_line)
            yield i + 1, steps


def matches(expected, actual):
    """Does the book's `expected` output describe the `actual` output?"""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    if not actual:
        return False
    pattern = "^" + ".*".join(re.escape(part) for part in expected[0].split("...")) + "$"
    return re.match(pattern, actual[0]) is not None and matches(expected[1:], actual[1:])


def prepare_demo(number):
    """build/demo/chapter-N with a fresh busybox rootfs in it."""
    demo = ROOT / "build" / "demo" / f"chapter-{number}"
    subprocess.run(["rm", "-rf", str(demo)], check=True)
    demo.mkdir(parents=True)
    fixture = ROOT / "build" / "fixtures" / "busybox-rootfs"
    if not (fixture / "bin" / "busybox").exists():
        subprocess.run([str(ROOT / "tests" / "fixtures" / "make-rootfs.sh"), str(fixture)], check=True)
    subprocess.run(["cp", "-a", str(fixture), str(demo / "rootfs")], check=True)
    return demo


def run_session(steps, demo):
    """Runs a session's commands in one bash, returning each command's output lines."""
    marker = "@@dockling-book-step@@"
    # The marker's echo must not hide the command's status from the next command's "$?".
    script = "".join(f"{command}\n__status=$?; echo {marker}; (exit $__status)\n" for command, _ in steps)
    env = dict(os.environ, PATH=f"{ROOT / 'build' / 'bin'}:{os.environ.get('PATH', '')}", LC_ALL="C")
    proc = subprocess.run(["bash", "-c", script], cwd=demo, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, timeout=600)
    outputs = proc.stdout.split(marker + "\n")
    return [out.splitlines() for out in outputs[:len(steps)]]


def demo(number, check):
    chapter = chapter_dir(number)
    readme = chapter / "README.md"
    demo_dir = prepare_demo(number)
    failures = 0
    print(f"Try it, chapter {chapter.name} (in {demo_dir.relative_to(ROOT)}):")
    for line, steps in sessions(readme):
        for (command, expected), actual in zip(steps, run_session(steps, demo_dir)):
            print(f"$ {command}")
            for out in actual:
                print(out)
            if check and not matches(expected, actual):
                failures += 1
                print(f"!! README.md:{line}: the book shows instead:")
                for out in expected:
                    print(f"!!   {out}")
    subprocess.run(["rm", "-rf", str(demo_dir)], check=True)
    if check:
        print(f"chapter {chapter.name}: " + ("the book shows what the programs print" if failures == 0
                                             else f"{failures} command(s) print something else than the book"))
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("check")
    sub.add_parser("fix")
    sub.add_parser("figures")
    d = sub.add_parser("demo")
    d.add_argument("chapters", type=int, nargs="+")
    d.add_argument("--check", action="store_true")
    args = parser.parse_args()

    if args.action == "figures":
        for dot in figures():
            dot.with_suffix(".svg").write_text(render(dot))
        return 0
    if args.action in ("check", "fix"):
        problems = check_snippets(fix=args.action == "fix") + (check_figures() if args.action == "check" else [])
        for p in problems:
            print(p)
        if args.action == "check":
            print("book: snippets and figures match the code" if not problems else f"book: {len(problems)} problem(s)")
        return 1 if problems else 0
    failures = sum(demo(n, args.check) for n in args.chapters)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

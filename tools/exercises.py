"""Exercise regions in the reference code, and their stubs.

An exercise is written in the code it belongs to:

    // EXERCISE 1.2 BEGIN: finding the command on PATH
    //   hint: one or more lines telling the student how to start
    ...the reference solution...
    // EXERCISE 1.2 STUB
    //: the stub's code, one line per "//:" line (it must compile and fail,
    //: usually by throwing dockling::ExerciseNotDone("1.2", "..."))
    // EXERCISE 1.2 END

The lab keeps the BEGIN and hint lines, replaces the solution with the stub's code, and
drops the STUB and END markers' contents. Tests tagged [ex1.2] grade the exercise.
"""
import re
from dataclasses import dataclass
from pathlib import Path

BEGIN = re.compile(r"^\s*// EXERCISE (\d+\.\d+) BEGIN: (.+?)\s*$")
MARK = re.compile(r"^\s*// EXERCISE (\d+\.\d+) (STUB|END)\s*$")
STUB_LINE = re.compile(r"^(\s*)//: ?(.*)$")
SOURCE_SUFFIXES = {".cpp", ".hpp", ".h", ".c"}


@dataclass
class Exercise:
    number: str
    title: str
    file: str
    points: int = 1


class ExerciseError(Exception):
    pass


def chapter_dir(root, chapter):
    found = sorted(Path(root, "chapters").glob(f"{chapter:02}-*"))
    return found[0] if found else None


def has_code(root, chapter):
    """True when chapter `chapter` has code (and so tests) yet, not only its README."""
    directory = chapter_dir(root, chapter)
    return directory is not None and (directory / "CMakeLists.txt").exists()


def source_files(root, chapter):
    directory = chapter_dir(root, chapter)
    if directory is None:
        return []
    return sorted(p for p in directory.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file())


def find(root, chapter):
    """The exercises of `chapter`, in the order of their numbers."""
    found = []
    for path in source_files(root, chapter):
        for line in path.read_text().splitlines():
            match = BEGIN.match(line)
            if match:
                found.append(Exercise(match.group(1), match.group(2), str(path.relative_to(root))))
    return sorted(found, key=lambda e: tuple(int(x) for x in e.number.split(".")))


def stub_text(text, where="<text>"):
    """`text` with every exercise region's solution replaced by its stub."""
    out, state, number = [], "outside", None
    for lineno, line in enumerate(text.splitlines(keepends=True), 1):
        begin, mark = BEGIN.match(line), MARK.match(line)
        if state == "outside":
            if mark:
                raise ExerciseError(f"{where}:{lineno}: EXERCISE {mark.group(1)} {mark.group(2)} without BEGIN")
            out.append(line)
            if begin:
                state, number = "hint", begin.group(1)
        elif state == "hint" and line.lstrip().startswith("//   "):
            out.append(line)
        elif state in ("hint", "solution"):
            state = "solution"
            if begin:
                raise ExerciseError(f"{where}:{lineno}: EXERCISE {begin.group(1)} inside {number}")
            if mark and mark.group(1) == number and mark.group(2) == "STUB":
                state = "stub"
        elif state == "stub":
            if mark and mark.group(1) == number and mark.group(2) == "END":
                out.append(line)
                state = "outside"
                continue
            stub = STUB_LINE.match(line)
            if not stub:
                raise ExerciseError(f"{where}:{lineno}: exercise {number}: stub lines must start with //:")
            out.append(stub.group(1) + stub.group(2) + "\n")
    if state != "outside":
        raise ExerciseError(f"{where}: exercise {number} has no STUB/END")
    return "".join(out)

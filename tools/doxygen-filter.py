#!/usr/bin/env python3
"""Doxygen input filter: makes the top-level README.md the book's main page.

Doxygen's USE_MDFILE_AS_MAINPAGE matches by file name, and every chapter is a README.md too,
so the top-level one is marked explicitly here; every other file passes through unchanged.
"""
import sys
from pathlib import Path

path = Path(sys.argv[1])
text = path.read_text()
if path.resolve() == (Path(__file__).resolve().parent.parent / "README.md"):
    first, _, rest = text.partition("\n")
    text = "@mainpage " + first.lstrip("# ") + "\n" + rest
sys.stdout.write(text)

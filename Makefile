# Dockling's front door. `make help` lists what it can do.
#
#   make deps                  install the Debian packages Dockling needs
#   make chapter-N             build build/bin/dockling-chN (chapter N's runtime)
#   make chapter-N test        grade chapters 1..N against dockling-chN, per exercise
#   make chapter-N demo        run chapter N's "Try it" session
#   make chapter-N lab         write a student workspace for chapter N (labs/chapter-N)
#   make final                 build build/bin/dockling, the complete tool
#   make test                  every test, every chapter, the final tool and the book
#   make demo                  the tour: every chapter's "Try it", in order
#   make check-labs            prove that every lab's grader grades
#   make docs                  the book and API reference (build/docs/html/index.html)
#   make bench                 benchmarks against runc and crun (bench/README.md)
#   make SANITIZE=1 ...        the same with AddressSanitizer and UBSan (in build-sanitize/)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
BUILD ?= build
CMAKE_FLAGS ?=
ifeq ($(SANITIZE),1)
  BUILD := build-sanitize
  CMAKE_FLAGS += -DSANITIZE=ON
endif
JOBS ?= $(shell nproc)

# "make chapter-N ACTION": the chapter goal builds, and the action applies to chapter N.
CHAPTER := $(patsubst chapter-%,%,$(firstword $(filter chapter-%,$(MAKECMDGOALS))))
CHAPTERS_WITH_CODE := $(sort $(foreach f,$(wildcard chapters/0*/main.cpp),$(patsubst 0%,%,$(firstword $(subst -, ,$(notdir $(patsubst %/,%,$(dir $(f)))))))))
LAST_CHAPTER := $(lastword $(CHAPTERS_WITH_CODE))

.PHONY: help deps configure final all test demo lab check-labs docs bench clean
.DEFAULT_GOAL := help

help:
	@sed -n '2,15s/^# \{0,1\}//p' Makefile

deps:
	@tools/deps.sh

configure: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

chapter-%: configure
	@if [ -z "$(filter $*,$(CHAPTERS_WITH_CODE))" ]; then \
	  dir=$$(ls -d chapters/0$*-* 2>/dev/null || true); \
	  echo "make: chapter $* has no code yet$${dir:+ (see $$dir/README.md)}; chapters with code: $(CHAPTERS_WITH_CODE)" >&2; \
	  exit 1; fi
	cmake --build $(BUILD) -j$(JOBS) --target dockling-ch$* dockling-escape \
	  $(foreach n,$(CHAPTERS_WITH_CODE),$(if $(shell [ $(n) -le $* ] && echo y),test-ch0$(n)))

final all: configure
	cmake --build $(BUILD) -j$(JOBS)

ifneq ($(CHAPTER),)
test: chapter-$(CHAPTER)
	@python3 tools/grade.py --chapter $(CHAPTER) --build $(BUILD) $(if $(JSON),--json $(JSON)) $(if $(BIN),--bin $(BIN))
demo: chapter-$(CHAPTER)
	@python3 tools/book.py demo $(CHAPTER)
lab:
	@python3 tools/lab.py make $(CHAPTER)
else
test: all
	@python3 tools/book.py check
	@python3 tools/book.py demo --check $(CHAPTERS_WITH_CODE)
	@python3 tools/grade.py --all --build $(BUILD) $(if $(JSON),--json $(JSON))
demo: all
	@python3 tools/book.py demo $(CHAPTERS_WITH_CODE)
lab:
	@echo "make: say which chapter: make chapter-N lab" >&2; exit 1
endif

check-labs: deps
	@python3 tools/lab.py check

docs: deps
	@python3 tools/book.py figures
	@mkdir -p $(BUILD)/docs
	@DOCKLING_FIGURES="$(wildcard chapters/*/figures)" doxygen docs/Doxyfile
	@echo "the book: $(BUILD)/docs/html/index.html"

bench: all
	@tools/deps.sh runc crun
	@python3 bench/startup.py

clean:
	rm -rf build build-sanitize

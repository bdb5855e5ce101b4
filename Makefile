# piOS - top-level commands. `make help` lists them.
#
# L selects a lesson: L=2, L=02, L=02-uart (or L=uart) all mean lessons/02-uart.

LESSONS := $(sort $(notdir $(wildcard lessons/[0-9][0-9]-*)))
TOOLS   := harness/tools

# ---- resolving L ---------------------------------------------------------------------
L_PAD := $(if $(filter 1 2 3 4 5 6 7 8 9,$(L)),0$(L),$(L))
LDIR  := $(firstword $(filter $(L_PAD)-% $(L_PAD) %-$(L),$(LESSONS)))
define need_lesson
$(if $(L),,$(error this target needs a lesson: make $@ L=NN   (lessons: $(LESSONS))))
$(if $(LDIR),,$(error no lesson '$(L)'. The lessons are: $(LESSONS)))
endef

# Every target that needs tools first runs `setup-host --install GROUP`: it installs
# what is missing, checks again, and fails with one line naming what is still
# missing and how to install it. Never put a make variable that could be empty at
# the start of a recipe line: an empty one leaves the next word (or a `-`, which
# make reads as "ignore errors") in command position.
SETUP = @$(TOOLS)/setup-host --install
# The Python that has pytest and pexpect (not necessarily the python3 first on
# PATH): pios-python fails with the fix when there is none. PIOS_PYTHON, or
# `make test PYTHON=path`, picks one by hand.
ifeq ($(origin PYTHON),command line)
ifneq ($(strip $(PYTHON)),)
export PIOS_PYTHON := $(PYTHON)
endif
endif
override PYRUN := $(TOOLS)/pios-python
# -n auto: one pytest worker per core (pytest-xdist).
PYTEST_FLAGS ?= -n auto

.PHONY: all build run debug qemu-gdb gdb test test-course bench diff diff-html clean slides setup help \
        sdcard pictures chainloader sdcard-loader install grade starter course gradescope carry lint pt mutants

all: build

build:
	$(if $(L),$(call need_lesson))
	$(SETUP) build
	@for l in $(if $(L),$(LDIR),$(LESSONS)); do \
	    $(MAKE) --no-print-directory -s -C lessons/$$l || exit 1; done

run debug qemu-gdb gdb:
	$(call need_lesson)
	$(SETUP) $(if $(filter run,$@),run,debug)
	@$(MAKE) --no-print-directory -s -C lessons/$(LDIR) $@

# Test one lesson (with the tests of every earlier lesson), or all of them.
# STRETCH=1: the stretch exercises' tests instead (harness/stretch/), which fail
# until the exercise is done. The
# course checks (every lesson's reference and starter, and every mutant, through
# the grader: a few minutes) are left out; `make test-course` runs them.
test:
	$(if $(L),$(call need_lesson))
	$(SETUP) test
	@$(MAKE) --no-print-directory build
	$(PYRUN) -m pytest -c harness/pytest.ini harness $(PYTEST_FLAGS) \
	    -m "$(if $(STRETCH),stretch,not course and not stretch)" \
	    $(if $(L),--lesson $(LDIR)) $(ARGS)

test-course:
	$(SETUP) test
	@$(MAKE) --no-print-directory build
	$(PYRUN) -m pytest -c harness/pytest.ini harness $(PYTEST_FLAGS) -m course $(ARGS)

# The mutation campaign (docs/grading.md): every mutant of harness/grading/mutants.py
# graded with the tests meant to kill it, 2 at a time; prints the table and the kill
# rate, fails if a mutant QEMU can show survives. MAP=1: which mutants hit each
# solution region, no grading. The reference repository only (never handed out).
mutants:
	$(if $(L),$(call need_lesson))
	$(SETUP) grade
	@test -f harness/grading/mutants.py || { echo "piOS: make mutants needs the reference repository (harness/grading/mutants.py)" >&2; exit 1; }
	$(PYRUN) $(TOOLS)/pios-mutants $(if $(MAP),--map) $(LDIR) $(ARGS)

# What the kernel paths cost in guest instructions (docs/performance.md): every
# lesson, or L=NN; fails when an operation is over its budget in harness/bench/.
bench:
	$(if $(L),$(call need_lesson))
	$(SETUP) run
	@$(MAKE) --no-print-directory build
	$(PYRUN) $(TOOLS)/pios-bench --no-build $(if $(L),$(LDIR)) $(ARGS)

# Grading (docs/grading.md): one submission, or a folder of them (BATCH=dir).
grade:
	$(call need_lesson)
	$(if $(SUB)$(BATCH),,$(error give a submission: make grade L=$(L) SUB=path  (or BATCH=folder)))
	$(SETUP) grade
	$(PYRUN) $(TOOLS)/pios-grade $(LDIR) $(if $(BATCH),--batch $(BATCH),$(SUB)) \
	    $(if $(OUT),--out $(OUT)) $(ARGS)

# The Gradescope autograder bundle for a lesson (grades/gradescope-NN-name.zip).
gradescope:
	$(call need_lesson)
	$(SETUP) grade
	$(PYRUN) $(TOOLS)/pios-gradescope $(ARGS) $(LDIR) $(OUT)

# Student starter code: one lesson's tree (DEST=dir), or one git repository per
# lesson, to hand out one at a time (make course DEST=dir [L=NN]).
starter:
	$(call need_lesson)
	$(if $(DEST),,$(error give the folder to write: make starter L=$(L) DEST=dir))
	$(SETUP) grade
	$(PYRUN) $(TOOLS)/pios-starter $(LDIR) $(DEST) $(if $(FROM),--from $(FROM)) $(if $(CARRY),--carry-expected)
# In a student's tree: this lesson's earlier-lesson code replaced by your own.
carry:
	$(if $(FROM),,$(error give your previous lesson: make carry FROM=path/to/your/previous/lesson))
	$(SETUP) build
	@command -v git >/dev/null || { echo "piOS: make carry needs git. Install with: sudo apt-get install -y git" >&2; exit 1; }
	$(PYRUN) $(TOOLS)/pios-carry $(FROM)
course:
	$(if $(DEST),,$(error give the folder to write: make course DEST=dir))
	$(SETUP) grade
	@command -v git >/dev/null || { echo "piOS: make course needs git. Install with: sudo apt-get install -y git" >&2; exit 1; }
	$(if $(L),$(call need_lesson))
	$(PYRUN) $(TOOLS)/pios-starter --course $(DEST) $(LDIR) $(if $(CARRY),--carry-expected)

# What a lesson's code adds to the previous one (harness/pios/lessondiff.py): new
# files in full, the solution markers and their TODO text left out, READMEs left out
# (they always differ). diff-html: the same side by side, one page per lesson (every
# lesson without L) in build/diff/.
# Plain Python 3 is enough (no pytest).
DIFF_DIR := build/diff
NEED_PY3 = @command -v python3 >/dev/null || { echo "piOS: make $@ needs Python 3. Install with: sudo apt-get install -y python3" >&2; exit 1; }
diff:
	$(call need_lesson)
	$(NEED_PY3)
	@python3 $(TOOLS)/pios-diff $(LDIR)

diff-html:
	$(if $(L),$(call need_lesson))
	$(NEED_PY3)
	@python3 $(TOOLS)/pios-diff --html $(DIFF_DIR) $(LDIR)

# The CP15 and barrier lint (harness/pios/lint.py): cache cleans, TLB invalidates,
# barriers and the ASID switch, checked in the built kernel because QEMU cannot show
# them. Every lesson that has rules (07 on) without L. FIXTURES=1: build every
# mutant and correct variant the lint is tested on and print the table (minutes).
lint:
	$(if $(L),$(call need_lesson))
	$(SETUP) build
	$(NEED_PY3)
	@$(MAKE) --no-print-directory build $(if $(L),L=$(L))
	@python3 $(TOOLS)/pios-lint $(if $(FIXTURES),--fixtures,$(if $(L),$(LDIR),--all))

# The running kernel's page tables, drawn (harness/pios/pagetable.py): boots the
# lesson, types CMDS (commands separated by ';'), reads the tables from QEMU's
# physical memory and writes lessons/NN-name/build/pt.html. Lessons 07 on.
pt:
	$(call need_lesson)
	$(SETUP) grade
	@$(MAKE) --no-print-directory build L=$(L)
	$(PYRUN) $(TOOLS)/pios-pt $(LDIR) $(if $(CMDS),-c "$(CMDS)") $(if $(OUT),-o $(OUT))

# The lesson pictures (lessons/NN-name/pictures/*.svg), drawn by
# harness/pios/pictures.py from the code's constants and the built kernel's symbols;
# harness/test_pictures.py fails when a committed one is stale.
pictures:
	$(if $(L),$(call need_lesson))
	$(SETUP) build
	@$(MAKE) --no-print-directory build $(if $(L),L=$(L))
	$(PYRUN) $(TOOLS)/pios-pictures $(if $(L),$(LDIR))

slides:
	$(SETUP) slides
	@$(MAKE) --no-print-directory -C slides

# An SD card image for a real Pi: the lesson's kernel.img, config.txt and the
# firmware files from FIRMWARE (not redistributed here: see docs/hardware.md).
sdcard:
	$(call need_lesson)
	$(if $(FIRMWARE),,$(error give the firmware folder: make sdcard L=$(L) FIRMWARE=path/to/boot))
	$(SETUP) hardware
	@$(MAKE) --no-print-directory -s -C lessons/$(LDIR)
	$(TOOLS)/mksdcard lessons/$(LDIR)/build/sdcard.img lessons/$(LDIR)/build/kernel.img $(FIRMWARE)

# The UART chainloader, and an SD card that boots it: install it once, then
# `make install L=05 PORT=/dev/ttyUSB0` sends any lesson over the serial cable.
chainloader:
	@# A student tree before lesson 03 has none (harness/pios/starter.py, CHAINLOADER_FROM)
	@test -f harness/chainloader/loader.c || { echo "piOS: the chainloader comes with lesson \
	03's tree (it holds the UART code lessons 01 and 02 ask you to write). Until \
	then, boot from the SD card: make sdcard L=NN FIRMWARE=dir (docs/hardware.md)." >&2; exit 1; }
	$(SETUP) build
	@$(MAKE) --no-print-directory -s -C harness/chainloader
sdcard-loader: chainloader
	$(if $(FIRMWARE),,$(error give the firmware folder: make sdcard-loader FIRMWARE=path/to/boot))
	$(SETUP) hardware
	$(TOOLS)/mksdcard harness/chainloader/build/sdcard.img harness/chainloader/build/kernel.img $(FIRMWARE)
install:
	$(call need_lesson)
	$(if $(PORT),,$(error give the serial port: make install L=$(L) PORT=/dev/ttyUSB0))
	$(SETUP) hardware
	@$(MAKE) --no-print-directory -s -C lessons/$(LDIR)
	$(PYRUN) $(TOOLS)/pios-send $(PORT) lessons/$(LDIR)/build/kernel.img

setup:
	$(TOOLS)/setup-host --install all

clean:
	@for l in $(LESSONS); do $(MAKE) --no-print-directory -s -C lessons/$$l clean; done
	@$(MAKE) --no-print-directory -s -C harness/chainloader clean
	rm -rf harness/logs grades $(DIFF_DIR)

help:
	@echo "piOS: make [target] [L=lesson]"
	@echo "  make                 build every lesson"
	@echo "  make run L=02        boot lesson 02 in QEMU, console on this terminal (quit: Ctrl-A X)"
	@echo "  make debug L=02      QEMU halted at the entry + gdb-multiarch with the symbols"
	@echo "  make qemu-gdb L=02   QEMU with the console, waiting for GDB (then: make gdb L=02)"
	@echo "  make test            every lesson's tests;  make test L=02: one lesson (+ earlier tests)"
	@echo "  make test L=10 STRETCH=1   the tests of lesson 10's stretch exercises (when you did one)"
	@echo "  make test-course     every lesson's reference, starter and mutants through the grader"
	@echo "  make lint L=10       the CP15/barrier rules QEMU cannot show, checked in the kernel"
	@echo "  make pt L=08 CMDS=\"map 0xb0000000\"  the page tables after the commands, drawn: build/pt.html"
	@echo "  make mutants [L=05]  rerun the mutation campaign: every mutant graded, the kill rate"
	@echo "  make bench [L=08]    guest instructions per kernel operation, checked against budgets"
	@echo "  make diff L=02       what lesson 02 adds to lesson 01"
	@echo "  make diff-html [L=02]  the same side by side: build/diff/02-uart.html"
	@echo "  make slides          render the Marp slide decks"
	@echo "  make pictures [L=07] redraw the lesson pictures (SVG) from the code"
	@echo "  make grade L=05 SUB=path     grade a submission (folder, .zip, .tar.gz)"
	@echo "  make grade L=05 BATCH=dir    grade every submission in dir, in parallel"
	@echo "  make gradescope L=05         the Gradescope autograder zip for lesson 05"
	@echo "  make starter L=05 DEST=dir   a student's starter tree for lesson 05 (FROM=my-04: with that code)"
	@echo "  make carry FROM=my-04        (in a student's tree) your own earlier code in place of the reference's"
	@echo "  make course DEST=dir [L=05]  one git repo per lesson (DEST/lesson-NN), to hand out"
	@echo "  make sdcard L=02 FIRMWARE=dir   an SD card image for a real Pi"
	@echo "  make sdcard-loader FIRMWARE=dir  an SD card with the UART chainloader"
	@echo "  make install L=02 PORT=/dev/ttyUSB0  send a lesson to the chainloader, then a terminal"
	@echo "  make setup           install what is missing (Debian/Ubuntu, apt-get)"
	@echo "  make clean           remove build outputs and test logs"
	@echo "  lessons: $(LESSONS)"

#!/bin/sh
# Gradescope runs this once, as root, when it builds the autograder image
# (Ubuntu). It installs what the piOS grader needs: the ARM cross compiler, QEMU,
# GDB (a graded test drives it), make, bubblewrap (the sandbox students' builds run
# in) and Debian's Python packages for pytest and pexpect: setup-host's grade group.
# What is installed already is not installed again. Then it checks that the sandbox
# works here, so an image where it cannot fails now, not on every submission.
# AUTOGRADER moves the whole layout (harness/test_grading.py runs it in a folder).
set -e
cd "${AUTOGRADER:-/autograder}/source"
if ! harness/tools/setup-host grade 2>/dev/null; then
    apt-get update -q
    harness/tools/setup-host --install grade
fi
@CHECK@

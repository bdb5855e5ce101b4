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
# QEMU has had the raspi0 machine since 5.2: Ubuntu 18.04 and 20.04 ship older ones
if ! qemu-system-arm -M help | grep -q '^raspi0 '; then
    echo "setup.sh: this image's QEMU ($(qemu-system-arm --version | head -1)) has no" \
         "raspi0 machine: choose the Ubuntu 22.04 or 24.04 base image" >&2
    exit 1
fi
@CHECK@

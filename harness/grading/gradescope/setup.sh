#!/bin/sh
# Gradescope runs this once, as root, when it builds the autograder image
# (Ubuntu). It installs what the piOS grader needs: the ARM cross compiler, QEMU,
# GDB (a graded test drives it), make, and Debian's Python packages for pytest
# and pexpect: setup-host's grade group.
set -e
cd "${AUTOGRADER:-/autograder}/source"
apt-get update -q
harness/tools/setup-host --install grade

"""piOS test harness: find lessons, build them, boot them in QEMU, talk to them."""

"""Micro-benchmarks of the system calls on the forwarding path (issue 4)."""

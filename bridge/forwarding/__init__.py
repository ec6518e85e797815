"""Pure per-packet forwarding decisions (no I/O, no clock reads)."""

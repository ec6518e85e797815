"""Pure RTP/RTCP packet code: parsing, rewriting, feedback, statistics (no I/O)."""

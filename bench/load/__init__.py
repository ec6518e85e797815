"""Load generator: synthetic sites that join like browsers, publish pre-encoded media
and count what they receive, and the scenarios that drive them against a bridge
(`python -m bench.load --help`)."""

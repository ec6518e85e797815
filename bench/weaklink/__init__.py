"""Weak-link benchmark (issue 3): real Chromium sites across an emulated rural link.

For each profile of ``../shared/link-profiles.toml`` and each direction, one run:

- ``down``: a publisher (fiber namespace) and two viewers, one behind the shaped link
  (measured) and one on fiber (the "others" whose bitrate must not move);
- ``up``: the publisher behind the shaped link, a viewer on fiber (measured).

The bridge (``signaling serve``, ``DIEMCAU_ADAPTIVE_BITRATE`` on or off) runs in the link's
bridge namespace (topology.py). Each page samples its own ``getStats`` every 500 ms
(sampler.py); metrics.py turns the samples into the issue's figures and report.py into the
table of docs/benchmarks.md. Namespaces, browsers and the bridge are removed on exit, also
on error and Ctrl-C.

    .venv/bin/python -m bench.weaklink [--profiles edge,rural-3g,collapse,outage]
        [--seconds 60] [--direction down,up] [--adaptive on,off] [--no-docs] [--logs DIR]
"""

"""What e2e tests and benchmarks share: namespaces and processes in them (``netns``),
Chromium driven by Playwright inside a namespace (``browser``), fake camera/microphone
files (``media``), meeting tokens (``tokens``) and the web client's join flow (``client``).
"""

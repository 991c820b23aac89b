"""Hostile inputs: every case of issue 9, with the exit code, one line, and nothing written outside its place."""

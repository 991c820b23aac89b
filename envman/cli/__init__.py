"""Thin Typer layer: parse, call, print. The only place that maps errors to exit codes."""

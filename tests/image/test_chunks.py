"""The R install's chunks (pure): dependencies always first, sizes bounded, and membership
stable when a root is added, on the Debian-derived CRAN graph of the benchmarks."""

from __future__ import annotations

import random

from envman.ecosystems.r.chunks import MAX_BUCKETS, MAX_CHAIN_CHUNKS, heights, plan_chunks
from tests.r.debian_index import packages_records
from tests.r.test_debian_graph import top_roots


def _graph() -> dict[str, list[str]]:
    return {r["Package"]: [d.strip().split(" ")[0] for d in r.get("Imports", "").split(",") if d.strip()] for r in packages_records()}


def _closure(graph: dict[str, list[str]], roots: list[str]) -> dict[str, list[str]]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen or name not in graph:
            continue
        seen.add(name)
        stack += graph[name]
    return {n: [d for d in graph[n] if d in seen] for n in seen}


def _installed_in_order(chunks, edges) -> None:
    """Chain chunks one after another, each height in turn; a leaf bucket sees the whole chain."""
    done: set[str] = set()
    for chunk in chunks:
        if chunk.leaves:
            for _, name in chunk.packages:
                assert set(edges[name]) <= done, name
            continue
        for height in sorted({h for h, _ in chunk.packages}, reverse=True):
            level = [n for h, n in chunk.packages if h == height]
            for name in level:
                assert set(edges[name]) <= done, (chunk.name, name)
            done.update(level)
    assert not {n for c in chunks if c.leaves for _, n in c.packages} & done


def test_heights_put_every_dependency_above_its_dependents():
    edges = {"a": ["b", "c"], "b": ["c"], "c": [], "d": ["c"], "e": ["e"], "f": ["g"], "g": ["f"]}
    h = heights(list(edges), edges)
    assert h["a"] == 0 and h["b"] == 1 and h["c"] == 2 and h["d"] == 0 and h["e"] == 0
    assert {h["f"], h["g"]} == {0, 1}  # a cycle is broken, every package still has a height


def test_chunks_of_the_benchmark_closure_install_dependencies_first_and_stay_stable():
    graph = _graph()
    roots = top_roots(100)
    edges = _closure(graph, roots)
    chunks = plan_chunks(list(edges), edges)
    assert sorted(n for c in chunks for _, n in c.packages) == sorted(edges)
    _installed_in_order(chunks, edges)
    chain = [c for c in chunks if not c.leaves]
    leaves = [c for c in chunks if c.leaves]
    assert len(chain) <= MAX_CHAIN_CHUNKS and 2 <= len(leaves) <= MAX_BUCKETS
    assert max(len(c.packages) for c in chunks) <= 48
    assert chunks == plan_chunks(sorted(edges, reverse=True), edges)  # input order does not matter

    # a root that adds only itself (the benchmark's rebuild) changes one leaf bucket, unless it
    # imports a package that had no dependents: that one moves into the chain
    before = {c.name: c.packages for c in chunks}
    candidates = sorted(n for n, deps in graph.items() if n not in edges and set(deps) <= set(edges))
    only_one = 0
    for extra in random.Random(3).sample(candidates, 12):
        after = plan_chunks([*edges, extra], {**edges, extra: graph[extra]})
        changed = [c.name for c in after if before.get(c.name) != c.packages]
        assert changed, extra
        if len(changed) == 1:
            assert changed[0].startswith("leaves-")
            only_one += 1
    assert only_one >= 6

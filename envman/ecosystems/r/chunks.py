"""How the R packages of an image are split into separately cached build steps (pure).

Each package gets its *height*: the length of the longest chain of packages in the lock that
depend on it (0: nothing in the lock depends on it, as for a root just added). Packages are
installed by decreasing height, so every package comes after all its dependencies (a
dependency is always at least one higher than its dependent), and packages of one height do
not depend on each other, so one height can be installed in parallel.

- The packages of height 1 and more form the *chain*: chunks installed one after another in
  the R builder stage, one COPY (that chunk's tarballs only) and one RUN each. Adjacent
  small heights are merged up to `CHAIN_MIN` packages, a height bigger than `CHAIN_MAX` is
  split into buckets by a stable hash of the package name. A change in one chunk re-runs
  that chunk and the chunks after it; the chunks before keep their cache.
- The packages of height 0 are split into *leaf buckets* by the same stable hash, each
  built in a stage of its own FROM the chain (nothing else depends on them), and copied into
  the library by the final stage. An added root, or a changed package nothing depends on,
  re-runs its bucket only.

Membership is stable under additions: an added package joins the bucket its name hashes to,
and moves another package only when it lengthens that package's chain of dependents.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Chunk", "heights", "plan_chunks", "CHAIN_MIN", "CHAIN_MAX", "LEAVES_PER_BUCKET", "MAX_BUCKETS"]

CHAIN_MIN = 16  # adjacent heights are merged until a chunk has this many packages
CHAIN_MAX = 48  # a height with more packages is split into buckets of about CHAIN_MIN..CHAIN_MAX
LEAVES_PER_BUCKET = 6  # about this many packages of height 0 per leaf bucket
MAX_BUCKETS = 16  # leaf buckets at most (each is a stage plus one COPY in the final image)
MAX_CHAIN_CHUNKS = 24  # chain chunks at most (two layers each in the builder stage; overlay2 stops at 127)


@dataclass(frozen=True)
class Chunk:
    name: str  # "chain-NN" or "leaves-NN": the context folder r/<name>/ and the stage suffix
    leaves: bool  # a leaf bucket (its own stage) or a chain chunk (in the R builder stage)
    packages: tuple[tuple[int, str], ...]  # (height, name), by decreasing height, then name


def heights(names: Sequence[str], edges: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Height of every package of `names`: 0 when nothing among `names` depends on it, else
    one more than its highest dependent. Edges point from a package to its dependencies;
    edges to packages outside `names` are ignored, and a cycle (CRAN forbids them) is broken
    where it is met, so every package still gets a height."""
    wanted = set(names)
    dependents: dict[str, list[str]] = {name: [] for name in wanted}
    for name in sorted(wanted):
        for dep in sorted(set(edges.get(name, ()))):
            if dep in wanted and dep != name:
                dependents[dep].append(name)
    height: dict[str, int] = {}
    visiting: set[str] = set()
    for start in sorted(wanted):
        if start in height:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        visiting.add(start)
        while stack:
            node, index = stack[-1]
            children = dependents[node]
            if index < len(children):
                stack[-1] = (node, index + 1)
                child = children[index]
                if child not in height and child not in visiting:
                    visiting.add(child)
                    stack.append((child, 0))
                continue
            stack.pop()
            visiting.discard(node)
            height[node] = max((height[c] + 1 for c in children if c in height), default=0)
    return height


def _bucket(name: str, count: int) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % count


def _power_of_two(n: int, limit: int) -> int:
    """The largest power of two <= n (at least 1, at most `limit`): the bucket count, which
    changes only when a group doubles or halves, so buckets rarely reshuffle."""
    count = 1
    while count * 2 <= min(n, limit):
        count *= 2
    return count


def plan_chunks(names: Sequence[str], edges: Mapping[str, Sequence[str]]) -> list[Chunk]:
    """The chunks of the R install, in build order: chain chunks first, then leaf buckets
    (empty buckets are left out)."""
    height = heights(names, edges)
    by_height: dict[int, list[str]] = {}
    for name, h in height.items():
        by_height.setdefault(h, []).append(name)
    chain: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for h in sorted((h for h in by_height if h > 0), reverse=True):
        members = sorted(by_height[h], key=lambda n: (n.lower(), n))
        if len(members) > CHAIN_MAX:
            if current:
                chain.append(current)
                current = []
            count = _power_of_two(len(members) // CHAIN_MIN, MAX_BUCKETS)
            for index in range(count):
                part = [(h, n) for n in members if _bucket(n, count) == index]
                if part:
                    chain.append(part)
            continue
        current.extend((h, n) for n in members)
        if len(current) >= CHAIN_MIN:
            chain.append(current)
            current = []
    if current:
        chain.append(current)
    while len(chain) > MAX_CHAIN_CHUNKS:  # a very deep graph: merge the smallest neighbours
        index = min(range(len(chain) - 1), key=lambda i: len(chain[i]) + len(chain[i + 1]))
        chain[index : index + 2] = [chain[index] + chain[index + 1]]
    chunks = [Chunk(f"chain-{i:02d}", False, tuple(part)) for i, part in enumerate(chain)]
    leaves = sorted(by_height.get(0, []), key=lambda n: (n.lower(), n))
    count = _power_of_two(len(leaves) // LEAVES_PER_BUCKET, MAX_BUCKETS)
    for index in range(count):
        bucket = tuple((0, n) for n in leaves if _bucket(n, count) == index)
        if bucket:
            chunks.append(Chunk(f"leaves-{index:02d}", True, bucket))
    return chunks

"""The package's structure: one direction of imports, one solver door, a project that stands on
its own (no citations of files a user who clones it does not have)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from helpers import REPO

SRC = REPO / "src"
PKG = "bheard"


def _modules() -> dict[str, Path]:
    out = {}
    for p in (SRC / PKG).rglob("*.py"):
        rel = p.relative_to(SRC).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        out[name] = p
    return out


def _imports(path: Path, mod: str) -> set[str]:
    """Every module named by an import statement anywhere in the file (at any depth)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    found: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            found.update(a.name for a in n.names)
        elif isinstance(n, ast.ImportFrom):
            if n.level:
                b = base[: len(base) - (n.level - 1)]
                m = ".".join(b + ([n.module] if n.module else []))
            else:
                m = n.module or ""
            found.add(m)
            found.update(f"{m}.{a.name}" for a in n.names)
    return found


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(edges between bheard modules, every import of each module). An edge into the module's
    own ancestor package (its ``__init__`` re-exports) is left out."""
    mods = _modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    raw: dict[str, set[str]] = {}
    for m, p in mods.items():
        raw[m] = _imports(p, m)
        for imp in raw[m]:
            parts = imp.split(".")
            for k in range(len(parts), 0, -1):
                cand = ".".join(parts[:k])
                if cand in mods and cand != m:
                    if not m.startswith(cand + "."):
                        edges[m].add(cand)
                    break
    return edges, raw


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None (iterative depth-first search)."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(edges, WHITE)
    for root in sorted(edges):
        if colour[root] != WHITE:
            continue
        stack = [(root, iter(sorted(edges[root])))]
        path = [root]
        colour[root] = GREY
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node] = BLACK
                stack.pop()
                path.pop()
                continue
            if colour[nxt] == GREY:
                return path[path.index(nxt):] + [nxt]
            if colour[nxt] == WHITE:
                colour[nxt] = GREY
                stack.append((nxt, iter(sorted(edges[nxt]))))
                path.append(nxt)
    return None


def test_cycle_finder_finds_a_planted_cycle():
    """The checker itself: a -> b -> c -> a is found; a DAG is not flagged."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_import_graph_has_no_cycles():
    """No bheard module imports (at any depth, even inside a function) one that imports it
    back: imports follow the stages scenario -> problem -> model -> solver <- optimize ->
    plan -> evaluate/report/frontier/batch -> cli."""
    edges, _ = import_graph()
    assert len(edges) > 40
    assert find_cycle(edges) is None, f"import cycle: {find_cycle(edges)}"


def test_only_the_solver_door_talks_to_highs():
    """Only bheard.solver.highs imports pyomo.contrib (the solver interfaces) or highspy."""
    _, raw = import_graph()
    talkers = sorted(m for m, imps in raw.items()
                     if any(i.startswith("pyomo.contrib") or i.split(".")[0] == "highspy"
                            for i in imps))
    assert talkers == ["bheard.solver.highs"]


def test_formulations_do_not_import_the_solver_or_the_drivers():
    """Formulations build models from arrays; solving them is the drivers' business."""
    edges, _ = import_graph()
    for m, deps in edges.items():
        if m.startswith("bheard.model") or m.startswith("bheard.problem") \
                or m.startswith("bheard.scenario"):
            bad = sorted(d for d in deps if d.startswith(("bheard.solver", "bheard.optimize",
                                                          "bheard.plan", "bheard.cli")))
            assert not bad, f"{m} imports {bad}"


CITATION = re.compile(r"\.\./shared|facts\.md|facts rows?\b|PERFORMANCE_NOTES")


def test_the_project_cites_its_own_sources():
    """README, docs, models, scenarios and the code cite docs/sources.md, never files a user who
    clones the repository does not have (the raw-data build script is the one exception: it
    reads the public raw files from a development checkout)."""
    allowed = {"src/bheard/data/build.py", "src/bheard/cli/data.py",
               "src/bheard/data/__main__.py"}
    files = [REPO / "README.md", *(REPO / "docs").rglob("*.md"), *(REPO / "models").glob("*.md"),
             *(REPO / "scenarios").rglob("*.yaml"), *(REPO / "src").rglob("*.py")]
    bad = []
    for f in files:
        rel = f.relative_to(REPO).as_posix()
        if rel in allowed or rel == "docs/sources.md":
            continue
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if CITATION.search(line) and "data build" not in line:
                bad.append(f"{rel}:{i}: {line.strip()[:80]}")
    assert not bad, "\n".join(bad)


def test_cited_source_ids_exist():
    """Every S-/A-/P- id cited anywhere is a heading of docs/sources.md."""
    text = (REPO / "docs" / "sources.md").read_text(encoding="utf-8")
    known = set(re.findall(r"^### ([SAP]-[a-z0-9-]+)", text, flags=re.M))
    assert len(known) > 50
    files = [REPO / "README.md", *(REPO / "models").glob("*.md"),
             *(REPO / "scenarios").rglob("*.yaml"), *(REPO / "src").rglob("*.py")]
    cited = set()
    for f in files:
        cited.update(re.findall(r"\b([SAP]-[a-z][a-z0-9]*(?:-[a-z0-9]+)*)\b",
                                f.read_text(encoding="utf-8")))
    unknown = sorted(c for c in cited if c not in known)
    assert not unknown, unknown

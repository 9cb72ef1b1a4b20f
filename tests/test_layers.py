"""The layers import downwards only: math < data, nn, train < memories < experiments (< scripts)."""

from __future__ import annotations

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(ROOT, "assocmem")

# Rank of each top-level part of the package (a module directly in assocmem/ is the math layer).
RANKS = {"data": 1, "nn": 1, "train": 1, "memories": 2, "experiments": 3}


def _rank(module: str) -> int:
  parts = module.split(".")
  if parts[0] != "assocmem" or len(parts) == 1:
    return -1                                   # not ours, or the package itself
  return RANKS.get(parts[1], 0)


def _imports(path: str) -> list[tuple[int, str]]:
  tree = ast.parse(open(path, encoding="utf-8").read())
  out = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      out += [(node.lineno, a.name) for a in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
      out += [(node.lineno, f"{node.module}.{a.name}" if node.module == "assocmem" else node.module)
              for a in node.names]
  return out


def test_no_module_imports_a_higher_layer():
  bad = []
  for dirpath, _, names in os.walk(PKG):
    for name in names:
      if not name.endswith(".py"):
        continue
      path = os.path.join(dirpath, name)
      rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
      if rel == "assocmem.__init__":
        continue                                # the public re-exports span every layer
      own = _rank(rel.removesuffix(".__init__"))
      for line, module in _imports(path):
        if _rank(module) > own:
          bad.append(f"{rel}:{line} imports {module}")
  assert not bad, "upward imports:\n" + "\n".join(bad)


def test_the_check_sees_an_upward_import(tmp_path):
  # A math module importing an experiment is caught by the same rule.
  assert _rank("assocmem.experiments.table1") > _rank("assocmem.scores")
  assert _rank("assocmem.memories.registry") > _rank("assocmem.train.score") > _rank("assocmem.bank")

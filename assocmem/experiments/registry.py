"""The experiment registry: every experiment `make reproduce`, the scripts and the report know of.

Built-in experiments are listed below, in the order `make reproduce` runs them and the report shows
them. A user's own experiment registers the same way:

    from assocmem.experiments import registry
    registry.register(my_experiment)            # an `assocmem.experiments.base.Experiment`
"""

from __future__ import annotations

from assocmem.experiments import (bootstrapping, capacity, collapse, consolidation, consolidation_shapes3d, figure2b,
                                   landscapes, learned_capacity, memorisation, probabilistic_recall, reconstructive,
                                   table1, trajectories)
from assocmem.experiments.base import Experiment
from assocmem.registry import Registry

REGISTRY: Registry[Experiment] = Registry("experiment")


def register(experiment: Experiment, *, replace: bool = False) -> Experiment:
  """Adds `experiment` under its name (ValueError if taken, unless `replace`)."""
  if not isinstance(experiment, Experiment):
    raise ValueError(f"experiment must be an assocmem.experiments.base.Experiment, got {type(experiment).__name__}")
  return REGISTRY.register(experiment.name, experiment, replace=replace)


def get(name: str) -> Experiment:
  """The experiment `name` (ValueError naming the registered experiments if unknown)."""
  return REGISTRY.get(name)


def experiments() -> tuple[Experiment, ...]:
  """Every registered experiment, in run and report order."""
  return tuple(e for _, e in REGISTRY.items())


# Built-in experiments, in run and report order (one line each).
_BUILTIN: tuple[Experiment, ...] = (
    table1.EXPERIMENT,
    capacity.EXPERIMENT,
    trajectories.EXPERIMENT,
    landscapes.EXPERIMENT,
    figure2b.EXPERIMENT,
    learned_capacity.EXPERIMENT,
    memorisation.EXPERIMENT,
    probabilistic_recall.EXPERIMENT,
    collapse.EXPERIMENT,
    reconstructive.EXPERIMENT,
    bootstrapping.EXPERIMENT,
    consolidation.EXPERIMENT,
    consolidation_shapes3d.EXPERIMENT,
)

for _experiment in _BUILTIN:
  register(_experiment)

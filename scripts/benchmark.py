r"""Speed of the library's hot paths, each as a fraction of a plain matmul measured in the same run.

  python scripts/benchmark.py --out=results/benchmark.json
  python scripts/benchmark.py --out=/tmp/b.json --cases=mhn_retrieve,exact_ode_sampler --repeats=7

Writes a JSON list of records, one per case:

  name              case name
  seconds           best wall time of one call, compile excluded (warmed up, block_until_ready)
  median_seconds    median wall time of one call
  gflops            4·B·N·d flops per update or step (two (B×d)·(d×N)-shaped matmuls), over `seconds`
  matmul_gflops     a plain jit-compiled f32 matmul (B×d)·(d×N) of the case's own shape, best of
                    the runs interleaved with the case's runs (2·B·N·d flops)
  fraction_of_matmul        gflops / matmul_gflops
  fraction_of_matmul_paired median over repeats of the same ratio taken from adjacent runs
                            (case run and the matmul runs right before and after it)
  fraction_of_matmul_cpu    the paired ratio from process CPU time instead of wall time
  numpy_seconds     best wall time of a plain NumPy reference of the same computation
  speedup_vs_numpy  numpy_seconds / seconds
  max_abs_diff_vs_numpy     largest |JAX − NumPy| over the case's outputs
  compile_seconds   trace + lower + compile time of the case's jitted function (ahead of time);
                    for multi-jit cases (table1, capacity_sweep) the first call's wall time minus `seconds`

The machine is shared, so absolute times move with the load; ratios against a matmul
timed in the same run (and the CPU-time ratio) are the figures to compare. The method
and the measured figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from typing import Any, Callable

from absl import app, flags, logging
import jax
import jax.numpy as jnp
import numpy as np

import assocmem
from assocmem import files, mixture
from assocmem.experiments import cli
from assocmem.experiments import capacity, table1
from benchcases import numpy_ref   # scripts/ is on sys.path when this script runs

FLAGS = flags.FLAGS
flags.DEFINE_string("out", None, "Output JSON file (list of records).", required=True)
flags.DEFINE_list("cases", None, "Cases to run (default: all). Known: see CASES.")
flags.DEFINE_integer("repeats", 5, "Timed runs per case (each between matmul runs).", lower_bound=1)
flags.DEFINE_integer("numpy_repeats", 2, "Timed runs of each NumPy reference.", lower_bound=1)

MHN_SHAPE = dict(batch=4096, n_patterns=1024, dim=256, steps=20)
ODE_SHAPE = dict(batch=4096, n_patterns=1024, dim=64, steps=300)
MATMUL_RUNS = 3          # matmul runs before and after each case run; the best is kept


@dataclasses.dataclass
class Case:
  """One benchmark: a warmed-up callable, its flop count and matmul shape, and a NumPy reference."""
  fn: Callable[[], Any]                           # runs the JAX computation, returns arrays
  numpy_fn: Callable[[], Any] | None              # same computation in NumPy, same output structure
  flops: float | None                             # 4·B·N·d per update or step, summed
  matmul: tuple[tuple[int, ...], tuple[int, ...]] | None   # shapes (.., B, d), (.., d, N)
  extra: dict[str, Any] = dataclasses.field(default_factory=dict)
  compile: Callable[[], Any] | None = None        # ahead-of-time trace + lower + compile, if one jit
  compare: Callable[[Any, Any], float] | None = None
  numpy_alt_fn: Callable[[], Any] | None = None   # a second NumPy formulation, reported beside


def _block(x: Any) -> Any:
  return jax.block_until_ready(x)


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
  """(wall seconds, process CPU seconds, output) of one blocking call."""
  w, c = time.perf_counter(), time.process_time()
  out = _block(fn())
  return time.perf_counter() - w, time.process_time() - c, out


def _max_abs_diff(a: Any, b: Any) -> float:
  return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


# ----------------------------------------------------------------------------- cases

def _mhn_case() -> Case:
  b, n, d, steps = (MHN_SHAPE[k] for k in ("batch", "n_patterns", "dim", "steps"))
  patterns = assocmem.random_binary_patterns(jax.random.PRNGKey(0), n, d)
  queries = jax.random.normal(jax.random.PRNGKey(1), (b, d), jnp.float32)
  beta = 5.0 / np.sqrt(d)    # keeps the softmax soft at d = 256, so every update does real work
  retrieve = jax.jit(jax.vmap(lambda q: assocmem.mhn_retrieve(patterns, q, beta, steps)))
  pats_np, q_np = np.asarray(patterns)[None], np.asarray(queries)[None]
  return Case(fn=lambda: retrieve(queries), compile=lambda: retrieve.lower(queries).compile(),
              numpy_fn=lambda: numpy_ref.mhn_retrieve_np(q_np, pats_np, beta, steps)[0],
              flops=4.0 * b * n * d * steps, matmul=((b, d), (d, n)),
              extra={"shape": {"B": b, "N": n, "d": d, "updates": steps, "beta": beta}})


def _ode_case() -> Case:
  b, n, d, steps = (ODE_SHAPE[k] for k in ("batch", "n_patterns", "dim", "steps"))
  patterns = assocmem.random_binary_patterns(jax.random.PRNGKey(0), n, d)
  cues = jax.random.normal(jax.random.PRNGKey(1), (b, d), jnp.float32)
  sde = assocmem.VPSDE(0.8)
  t_start = float(sde.t_start(0.68))
  score_fn = assocmem.exact_score_fn(sde)
  bank = assocmem.make_bank(patterns)
  sample = jax.jit(jax.vmap(lambda x: assocmem.ode_sample(score_fn, bank, sde, x, t_start, n_steps=steps)))
  pats_np, cues_np = np.asarray(patterns)[None], np.asarray(cues)[None]
  return Case(fn=lambda: sample(cues), compile=lambda: sample.lower(cues).compile(),
              numpy_fn=lambda: numpy_ref.ode_sample_np(cues_np, pats_np, sde.gamma, t_start,
                                                       assocmem.samplers.DEFAULT_T_END, steps)[0],
              flops=4.0 * b * n * d * steps, matmul=((b, d), (d, n)),
              extra={"shape": {"B": b, "N": n, "d": d, "steps": steps, "gamma": sde.gamma,
                               "t_start": t_start}})


def _table1_case() -> Case:
  cfg = table1.PRESETS["reproduce"]
  flops = 0.0
  for n in cfg.n_patterns:
    cues = cfg.repeats * cfg.n_cues(n)
    flops += len(cfg.tasks) * 4.0 * cues * n * cfg.d * (cfg.mhn_steps + cfg.ode_steps)
  n_max = max(cfg.n_patterns)
  rows_of = lambda rows: np.array([[r[m] for m in table1.MODELS] for r in rows])
  # numpy_fn is the plain reference (a loop over repeats, each vectorised over its cues);
  # numpy_alt_fn vectorises over repeats too, with stacked matmuls (see docs/benchmarks.md).
  return Case(fn=lambda: table1.run_table1(cfg),
              numpy_fn=lambda: numpy_ref.run_table1_numpy(cfg, batched=False),
              numpy_alt_fn=lambda: numpy_ref.run_table1_numpy(cfg, batched=True),
              flops=flops,
              # The largest row's batched shape: per repeat, (cues × d)·(d × N).
              matmul=((cfg.repeats, cfg.n_cues(n_max), cfg.d), (cfg.repeats, cfg.d, n_max)),
              compare=lambda a, b: _max_abs_diff(rows_of(a), rows_of(b)),
              extra={"config": "PRESETS['reproduce']", "rows": len(cfg.tasks) * len(cfg.n_patterns),
                     "flops_note": "MHN updates + ODE steps only (classical Hopfield and inputs not counted)"})


def _bf16_case() -> Case:
  """mhn_retrieve with bfloat16 similarities (float32 accumulation); records its accuracy cost."""
  b, n, d, steps = (MHN_SHAPE[k] for k in ("batch", "n_patterns", "dim", "steps"))
  patterns = assocmem.random_binary_patterns(jax.random.PRNGKey(0), n, d)
  queries = jax.random.normal(jax.random.PRNGKey(1), (b, d), jnp.float32)
  beta = 5.0 / np.sqrt(d)
  bank = assocmem.make_bank(patterns)
  run = lambda mode: jax.jit(jax.vmap(lambda q: assocmem.mhn_retrieve(bank, q, beta, steps, mode=mode)))  # noqa: E731
  low, full = run(mixture.Dense(jnp.bfloat16)), run(mixture.DENSE)
  ref = full(queries)
  out = low(queries)
  err = np.abs(np.asarray(out) - np.asarray(ref))
  agree = float(np.mean(np.argmax(np.asarray(out) @ np.asarray(patterns).T, -1)
                        == np.argmax(np.asarray(ref) @ np.asarray(patterns).T, -1)))
  return Case(fn=lambda: low(queries), compile=lambda: low.lower(queries).compile(), numpy_fn=None,
              flops=4.0 * b * n * d * steps, matmul=((b, d), (d, n)),
              extra={"shape": {"B": b, "N": n, "d": d, "updates": steps, "beta": beta},
                     "bf16_max_abs_err_vs_f32": float(err.max()), "bf16_mean_abs_err_vs_f32": float(err.mean()),
                     "bf16_same_nearest_pattern": agree})


STREAM_SHAPE = dict(batch=1024, n_patterns=2**20, dim=128, steps=2, chunk=16384)

_STREAM_RSS_SCRIPT = """
import resource, sys, json, jax, jax.numpy as jnp
sys.path.insert(0, {scripts!r})
import benchmark
bank, queries, retrieve = benchmark._stream_setup()
jax.block_until_ready(retrieve(bank, queries))
print(json.dumps({{"peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}}))
"""


def _stream_setup():
  """(bank, queries, jitted retrieval) of the streaming case; the bank is filled on the device."""
  b, n, d, steps, chunk = (STREAM_SHAPE[k] for k in ("batch", "n_patterns", "dim", "steps", "chunk"))
  # Filled in place, 64k slots at a time (donated buffers), as a bank larger than memory would be
  # streamed in: peak memory is the bank plus one chunk, never a second N×d copy.
  fill_rows = 2**16
  fill = jax.jit(lambda bk, k, start: assocmem.write_many(
      bk, start, jax.random.uniform(k, (fill_rows, d), jnp.float32, -1.0, 1.0)), donate_argnums=0)
  bank = assocmem.empty_bank(n, d)
  for i, k in enumerate(jax.random.split(jax.random.PRNGKey(0), n // fill_rows)):
    bank = fill(bank, k, i * fill_rows)
  queries = jax.random.uniform(jax.random.PRNGKey(1), (b, d), jnp.float32, -1.0, 1.0)
  mode = mixture.Streaming(chunk)
  beta = 8.0 / np.sqrt(d)
  retrieve = jax.jit(jax.vmap(lambda q, bk: assocmem.mhn_retrieve(bk, q, beta, steps, mode=mode), (0, None)),
                     static_argnums=())
  return bank, queries, lambda bk, q: retrieve(q, bk)


def _peak_rss_of_streaming() -> int:
  import subprocess
  here = os.path.dirname(os.path.abspath(__file__))
  res = subprocess.run([sys.executable, "-c", _STREAM_RSS_SCRIPT.format(scripts=here)], capture_output=True,
                       text=True, check=True, env=dict(os.environ))
  return int(json.loads(res.stdout.strip().splitlines()[-1])["peak_rss_bytes"])


def _streaming_case() -> Case:
  b, n, d, steps, chunk = (STREAM_SHAPE[k] for k in ("batch", "n_patterns", "dim", "steps", "chunk"))
  peak = _peak_rss_of_streaming()
  bank, queries, retrieve = _stream_setup()
  bank_bytes = sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(bank))
  # accuracy against the dense path on a slice of the bank where both fit
  small = jax.tree.map(lambda x: x[: 2**16] if x.ndim and x.shape[0] == n else x, bank)
  qs = queries[:256]
  beta = 8.0 / np.sqrt(d)
  dense = jax.vmap(lambda q: assocmem.mhn_retrieve(small, q, beta, steps))(qs)
  stream = jax.vmap(lambda q: assocmem.mhn_retrieve(small, q, beta, steps, mode=mixture.Streaming(chunk)))(qs)
  return Case(fn=lambda: retrieve(bank, queries), numpy_fn=None,
              flops=4.0 * b * n * d * steps, matmul=((b, d), (d, chunk)),
              extra={"shape": {"B": b, "N": n, "d": d, "updates": steps, "chunk": chunk, "beta": beta},
                     "peak_rss_bytes": peak, "bank_bytes": int(bank_bytes),
                     "peak_rss_minus_bank_bytes": int(peak - bank_bytes),
                     "within_bank_plus_1GiB": bool(peak <= bank_bytes + 2**30),
                     "max_abs_diff_vs_dense_2e16_slice": _max_abs_diff(stream, dense)})


def _external_case(module: str, fn_name: str) -> Callable[[], Case]:
  """A case defined in scripts/benchcases/<module>.py as a dict {fn, flops, matmul, extra}."""
  def build() -> Case:
    mod = __import__(f"benchcases.{module}", fromlist=[fn_name])
    spec = getattr(mod, fn_name)()
    return Case(fn=spec["fn"], numpy_fn=None, flops=spec.get("flops"), matmul=spec.get("matmul"),
                extra=dict(spec.get("extra", {})), compile=spec.get("compile"))
  return build


def _capacity_case() -> Case:
  run = capacity.benchmark_case()
  return Case(fn=run, numpy_fn=None, flops=None, matmul=None,
              extra={"config": "capacity.BENCHMARK_CONFIG"})


CASES: dict[str, Callable[[], Case]] = {
    "mhn_retrieve": _mhn_case,
    "exact_ode_sampler": _ode_case,
    "table1": _table1_case,
    "capacity_sweep": _capacity_case,
    "mhn_retrieve_streaming": _streaming_case,
    "mhn_retrieve_bf16": _bf16_case,
    "score_mlp_train": _external_case("score_mlp", "score_mlp_train_case"),
    "vae_train": _external_case("vae", "vae_train_case"),
    "replay": _external_case("replay", "replay_case"),
}


# ----------------------------------------------------------------------------- measurement

def _matmul_fn(shapes) -> Callable[[], Any]:
  a = jax.random.normal(jax.random.PRNGKey(2), shapes[0], jnp.float32)
  b = jax.random.normal(jax.random.PRNGKey(3), shapes[1], jnp.float32)
  mm = jax.jit(jnp.matmul)
  _block(mm(a, b))
  return lambda: mm(a, b)


def _best_of(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
  times = [_timed(fn)[:2] for _ in range(runs)]
  return min(t[0] for t in times), min(t[1] for t in times)


def measure(name: str, repeats: int, numpy_repeats: int) -> dict[str, Any]:
  """Times one case: compile, `repeats` runs interleaved with matmul runs, then NumPy."""
  logging.info("case %s: building", name)
  case = CASES[name]()
  compile_wall = None
  if case.compile is not None:
    start = time.perf_counter()
    case.compile()
    compile_wall = time.perf_counter() - start
  first_wall, _, out = _timed(case.fn)
  mm = _matmul_fn(case.matmul) if case.matmul is not None else None
  walls, cpus, mm_walls, mm_cpus = [], [], [], []
  for r in range(repeats):
    if mm is not None:
      w0, c0 = _best_of(mm, MATMUL_RUNS)
    wall, cpu, out = _timed(case.fn)
    if mm is not None:
      w1, c1 = _best_of(mm, MATMUL_RUNS)
      mm_walls.append(min(w0, w1))
      mm_cpus.append(min(c0, c1))
    walls.append(wall)
    cpus.append(cpu)
    logging.info("case %s: run %d/%d %.4fs", name, r + 1, repeats, wall)
  seconds = min(walls)
  rec: dict[str, Any] = {"name": name, "seconds": seconds, "median_seconds": statistics.median(walls),
                         "compile_seconds": (compile_wall if compile_wall is not None
                                             else max(first_wall - seconds, 0.0))}
  if case.flops is not None and mm is not None:
    mm_flops = 2.0 * float(np.prod(case.matmul[0])) * case.matmul[1][-1]
    rec["gflops"] = case.flops / seconds / 1e9
    rec["matmul_gflops"] = mm_flops / min(mm_walls) / 1e9
    rec["fraction_of_matmul"] = rec["gflops"] / rec["matmul_gflops"]
    paired = [(case.flops / w) / (mm_flops / m) for w, m in zip(walls, mm_walls)]
    paired_cpu = [(case.flops / c) / (mm_flops / m) for c, m in zip(cpus, mm_cpus)]
    rec["fraction_of_matmul_paired"] = statistics.median(paired)
    rec["fraction_of_matmul_cpu"] = statistics.median(paired_cpu)
    rec["matmul_shape"] = [list(case.matmul[0]), list(case.matmul[1])]
  else:
    rec.update(gflops=None, matmul_gflops=None, fraction_of_matmul=None)
  if case.numpy_fn is not None:
    np_times = []
    for _ in range(numpy_repeats):
      w, _, ref = _timed(case.numpy_fn)
      np_times.append(w)
    rec["numpy_seconds"] = min(np_times)
    rec["speedup_vs_numpy"] = rec["numpy_seconds"] / seconds
    compare = case.compare or _max_abs_diff
    rec["max_abs_diff_vs_numpy"] = compare(out, ref)
    if case.numpy_alt_fn is not None:
      alt = [_timed(case.numpy_alt_fn)[0] for _ in range(numpy_repeats)]
      rec["numpy_batched_seconds"] = min(alt)
      rec["speedup_vs_numpy_batched"] = rec["numpy_batched_seconds"] / seconds
  else:
    rec.update(numpy_seconds=None, speedup_vs_numpy=None)
    if isinstance(out, dict):
      rec["result"] = _jsonable(out)
  rec.update(case.extra)
  rec["repeats"] = repeats
  return rec


def _jsonable(tree: Any) -> Any:
  """`tree` with its arrays (jax or NumPy, e.g. a training call's metrics) as plain lists/floats."""
  return jax.tree.map(lambda x: np.asarray(x).tolist() if hasattr(x, "shape") else x, tree)


def _environment() -> dict[str, Any]:
  return {"jax": jax.__version__, "numpy": np.__version__, "python": platform.python_version(),
          "nproc": os.cpu_count(), "machine": platform.machine(), "processor": platform.processor(),
          "backend": jax.default_backend(), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
          "load_average_before": list(os.getloadavg())}


@dataclasses.dataclass(frozen=True)
class Settings:
  out: str
  cases: tuple[str, ...]
  repeats: int
  numpy_repeats: int


def settings() -> Settings:
  names = tuple(FLAGS.cases or CASES)
  unknown = [n for n in names if n not in CASES]
  if unknown:
    raise ValueError(f"unknown cases {unknown}; known: {', '.join(CASES)}")
  return Settings(FLAGS.out, names, FLAGS.repeats, FLAGS.numpy_repeats)


def main(s: Settings) -> None:
  records = []
  for name in s.cases:
    env = _environment()
    rec = measure(name, s.repeats, s.numpy_repeats)
    env["load_average_after"] = list(os.getloadavg())
    rec["environment"] = env
    records.append(rec)
    logging.info("%s", json.dumps({k: v for k, v in rec.items() if k != "environment"}))
    files.write_text(s.out, json.dumps(records, indent=1) + "\n")     # after every case, so a long run keeps what it has
  print(json.dumps(records, indent=1), file=sys.stdout)


if __name__ == "__main__":
  cli.run(main, settings)

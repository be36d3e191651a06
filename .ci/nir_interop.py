"""NIR interoperability with the reference implementation (the `nir` package over h5py/libhdf5).

Usage: nir_interop.py check EXPORTED.nir REWRITTEN.nir
  Reads a graph spikeburn exported with nir.read (type checks on), checks its node types and
  that every edge joins nodes of matching sizes, and writes it again with nir.write (h5py,
  gzip-compressed datasets) for spikeburn to import.
"""
import sys

import nir
import numpy as np


def check(src, dst):
    g = nir.read(src)
    kinds = {k: type(v).__name__ for k, v in g.nodes.items()}
    assert kinds["input"] == "Input" and kinds["output"] == "Output", kinds
    layers = sorted(k for k in kinds if k.startswith("lif"))
    assert layers and all(kinds[k] in ("CubaLIF", "CubaLI") for k in layers), kinds
    for k in layers:
        n = g.nodes[k]
        assert n.tau_syn.shape == n.tau_mem.shape == n.w_in.shape, k
        assert np.all(n.tau_syn > 0) and np.all(n.tau_mem > 0), k
        fc = g.nodes["fc" + k[3:]]
        assert fc.weight.shape[0] == n.tau_syn.shape[0], (k, fc.weight.shape)
    assert g.metadata["spikeburn_method"] in ("ttfs", "surrogate"), g.metadata
    nir.write(dst, g)
    print(f"{src}: nir {nir.version} read {len(g.nodes)} nodes ({', '.join(f'{k}: {kinds[k]}' for k in layers)}); rewritten to {dst}")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "check":
        sys.exit(__doc__)
    check(sys.argv[2], sys.argv[3])

"""``python -m bearing_workbench.serve cluster [--workers N]``: the cluster process of `serve`."""

import sys

from bearing_workbench.serve import cluster_main

if sys.argv[1:2] != ["cluster"]:
    raise SystemExit("usage: python -m bearing_workbench.serve cluster [--workers N]")
raise SystemExit(cluster_main(sys.argv[2:]))

"""``python -m bearing_workbench.serve cluster [--workers N]`` and ``... voila <apps> [--Voila.*]``: the
cluster process and the Voilà process of `serve`."""

import sys

command, argv = sys.argv[1:2], sys.argv[2:]
if command == ["cluster"]:
    from bearing_workbench.serve import cluster_main

    raise SystemExit(cluster_main(argv))
if command == ["voila"]:
    from bearing_workbench.serve.voila_app import main

    raise SystemExit(main(argv))
raise SystemExit(
    "usage: python -m bearing_workbench.serve cluster [--workers N] | voila <apps folder> [--Voila.*]"
)

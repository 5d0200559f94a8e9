"""Tools for people: the programs a person runs, built on the library and the emulator.

The library never imports this package (only the ``__main__`` entry points do); it is
what the ``rxgateway`` command and ``python -m`` run:

* :mod:`.cli`: the ``rxgateway`` command (``demo``, ``run``, ``emulate``), also
  ``python -m rxgateway``;
* :mod:`.demo`: ``rxgateway demo``, shards on the embedded emulator with faults, watched live;
* :mod:`.emulate`: ``rxgateway emulate``, the gateway emulator until Ctrl-C, also
  ``python -m rxgateway.emulator``;
* :mod:`.soak`: the chaos soak, ``python3 dev.py soak`` or ``python -m rxgateway.tools.soak``.
"""

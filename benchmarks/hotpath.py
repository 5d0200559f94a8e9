"""The receive path without a socket: a fixed stream replayed through it, for counting
instructions under callgrind (repeatable on a busy shared machine, where CPU time is not).

    .venv/bin/python -O benchmarks/hotpath.py --path pipe --compression zstd-stream --events 20000
    benchmarks/hotpath.py --callgrind --paths floor,transport,raw,pipe,none   # instructions per event

What is replayed: the emulator host's pools (``emulator_host.build_pools``: the same
seed and builders, so the same bytes as the suite's bursts), each payload written in
the gateway's layout (``{"t":..,"s":..,"op":0,"d":..}``) and compressed through one
per-connection context like the emulator's (zstd level 1 with a 256 KiB window, zlib
level 1 with a sync flush). A websocket stand-in hands the frames to the code under
test from a list; aiohttp's own frame parsing is not in the figures, for any path.

Paths (``--path``):

``floor``      inflate + ``orjson.loads`` + ``frame["op"]``/``frame["s"]`` + a counting call;
``transport``  inflate only, a counting call per payload;
``raw``        ``shard.subscribe(fn)``;
``pipe``       ``shard.pipe(ops.on(READY | MESSAGE_CREATE)).subscribe(fn)``;
``typed``      ``shard.pipe(ops.on(MESSAGE_CREATE))`` reading ``.content`` and ``.author.id``;
``pipe3``      ``shard.pipe(ops.on(..), ops.filter(..), ops.map(..)).subscribe(fn)``;
``none``       ``on(GUILD_BAN_ADD)`` over the filtered pool (every event unwanted);
``transport-filtered``  ``transport`` over the filtered pool: ``none``'s floor.

The rxgateway paths run :meth:`Shard._receive`, the real receive loop, on a real
:class:`~rxgateway.shard.Shard` brought to Active by feeding its machine Hello and
READY. ``--callgrind`` runs each path twice under ``valgrind --tool=callgrind`` (N and
5N events, one ``PYTHONHASHSEED`` for both) and takes (instructions(5N) -
instructions(N)) / 4N: the per-event cost with start-up and imports cancelled out. It
does so under each of :data:`SEEDS` and prints the median, and the lowest and highest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import tempfile
import re
import statistics
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
#: Where ``rxgateway`` is imported from: the working tree, or ``HOTPATH_ROOT`` (a copy of
#: an older tree, to count its instructions the same way: a before/after comparison).
sys.path.insert(0, os.environ.get("HOTPATH_ROOT", str(ROOT)))

PATHS = ("floor", "transport", "raw", "pipe", "typed", "pipe3", "none", "transport-filtered")
#: The paths replayed over the filtered pool (the others: the MESSAGE_CREATE pool).
FILTERED = ("none", "transport-filtered")


def stream(pool_name: str, count: int, compression: str) -> tuple[list[bytes | str], list[bytes | str]]:
    """(Hello + READY frames, ``count`` dispatch frames), compressed as the emulator does.
    Read from ``HOTPATH_FRAMES`` (a pickle :func:`callgrind` writes once per stream,
    so valgrind does not count building the pools) when that is set."""
    saved = os.environ.get("HOTPATH_FRAMES")
    if saved:
        with open(saved, "rb") as file:
            head, frames = pickle.load(file)
        return head, frames[:count]
    import orjson
    import zstandard

    from emulator_host import SEED, build_pools
    from rxgateway.emulator import GatewayEmulator

    emu = GatewayEmulator(seed=SEED, guilds=10)
    pool = build_pools(emu)[pool_name]
    hello = orjson.dumps({"t": None, "s": None, "op": 10, "d": {"heartbeat_interval": 41250}})
    ready = orjson.dumps({"t": "READY", "s": 1, "op": 0, "d": {"session_id": "s", "resume_gateway_url": "ws://r", "v": 10}})
    payloads = [
        b'{"t":"%b","s":%d,"op":0,"d":%b}' % (pool[i % len(pool)].t.encode(), i + 2, pool[i % len(pool)].data)
        for i in range(count)
    ]
    if compression == "zstd-stream":
        params = zstandard.ZstdCompressionParameters.from_level(1, window_log=18)
        obj = zstandard.ZstdCompressor(compression_params=params).compressobj()

        def pack(p: bytes) -> bytes | str:
            return obj.compress(p) + obj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    elif compression == "zlib-stream":
        zobj = zlib.compressobj(1)

        def pack(p: bytes) -> bytes | str:
            return zobj.compress(p) + zobj.flush(zlib.Z_SYNC_FLUSH)
    else:

        def pack(p: bytes) -> bytes | str:
            return p  # a text frame: Socket(text=True) hands it over as str or bytes

    return [pack(hello), pack(ready)], [pack(p) for p in payloads]


class Socket:
    """A websocket stand-in: ``receive()`` hands over the next frame, then a close.

    Each message is made as it is received, as aiohttp's reader makes one per frame
    (made beforehand, 5N of them would be traversed by the collector and freed at the
    end, a cost that grows with N and so would not cancel out of the differenced
    counts)."""

    def __init__(self, frames: list[bytes | str], text: str | None = None) -> None:
        """``text``: frames are text frames, handed over as ``"str"`` (aiohttp's default,
        what the floor gets) or ``"bytes"`` (``decode_text=False``, what a shard asks
        for); ``None``: binary frames."""
        import aiohttp

        kind = aiohttp.WSMsgType
        self._kind = kind.BINARY if text is None else kind.TEXT
        if text == "str":
            frames = [f.decode() if isinstance(f, bytes) else f for f in frames]
        self._next = iter(frames).__next__
        self._message = aiohttp.WSMessage
        self._close = aiohttp.WSMessage(kind.CLOSE, 1000, "done")

    async def receive(self) -> Any:
        try:
            return self._message(self._kind, self._next(), None)
        except StopIteration:
            return self._close


async def replay(path: str, compression: str, events: int) -> tuple[int, float]:
    """Replay ``events`` frames through ``path``; returns (count, CPU seconds)."""
    import aiohttp  # noqa: F401

    pool = "filtered" if path in FILTERED else "messages"
    head, frames = stream(pool, events, compression)
    path = "transport" if path == "transport-filtered" else path
    seen = [0]

    def count(_: Any) -> None:
        seen[0] += 1

    loop = asyncio.get_running_loop()
    comp = None if compression == "none" else compression
    if path in ("floor", "transport"):
        import orjson

        from rxgateway.machine.inflate import make_inflater

        inflater = make_inflater(comp)
        feed = inflater.feed if inflater is not None else None
        for f in head:
            if feed is not None:
                feed(f)
        ws = Socket(frames, "str" if comp is None else None)
        import aiohttp as _a

        BINARY, TEXT = _a.WSMsgType.BINARY, _a.WSMsgType.TEXT
        c0 = time.process_time()
        receive, loads = ws.receive, orjson.loads
        if path == "floor":
            while True:
                msg = await receive()
                data = msg.data
                if msg.type is BINARY:
                    payload = feed(data) if feed is not None else data
                    if payload is None:
                        continue
                elif msg.type is TEXT:
                    payload = data
                else:
                    break
                frame = loads(payload)
                if frame["op"] == 0:
                    frame["s"]
                    count(frame)
        else:
            while True:
                msg = await receive()
                if msg.type is BINARY:
                    if feed is not None and feed(msg.data) is None:
                        continue
                elif msg.type is not TEXT:
                    break
                count(None)
        return seen[0], time.process_time() - c0

    from rxgateway import Config, EventTypeFlags, Intents, Shard, ShardId, ops

    shard = Shard(ShardId(0, 1), Config("bench-token", Intents.all(), compression=comp))
    if path == "raw":
        shard.subscribe(count)
    elif path == "pipe":
        shard.pipe(ops.on(EventTypeFlags.READY | EventTypeFlags.MESSAGE_CREATE)).subscribe(count)
    elif path == "typed":
        def read(event: Any) -> None:
            event.content, event.author.id
            seen[0] += 1

        shard.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE)).subscribe(read)
    elif path == "pipe3":
        shard.pipe(
            ops.on(EventTypeFlags.MESSAGE_CREATE),
            ops.filter(lambda e: e.raw is not None),
            ops.map(lambda e: e.sequence),
        ).subscribe(count)
    elif path == "none":
        shard.pipe(ops.on(EventTypeFlags.GUILD_BAN_ADD)).subscribe(count)
    else:
        raise SystemExit(f"unknown path {path!r}")
    machine = shard._machine
    machine.start(0.0)
    machine.on_connected(0.0)
    machine.on_frame(0.0, head[0])
    machine.on_identify_granted(0.0)
    machine.on_frame(0.0, head[1])
    seen[0] = 0
    base = machine.dispatches
    c0 = time.process_time()
    await shard._receive(Socket(frames, "bytes" if comp is None else None), loop)  # type: ignore[arg-type]
    cpu = time.process_time() - c0
    return (machine.dispatches - base if path == "none" else seen[0]), cpu


#: The hash seeds :func:`callgrind` runs each path under. Python salts str hashes per
#: process, and where a set or dict probe lands moves instructions; counted with a
#: different salt each, the N and 5N runs of one pair differed by up to ~700
#: instructions per event that were not the code's. One seed per pair cancels that
#: out; the median over three keeps one lucky layout from deciding.
SEEDS = (1, 2, 3)


def callgrind_runs(path: str, compression: str, events: int, seeds: tuple[int, ...] = SEEDS) -> list[float]:
    """Instructions per event of ``path``, once per hash seed: two runs under
    callgrind (N and 5N events, the same seed), differenced."""
    pool = "filtered" if path in FILTERED else "messages"
    saved = Path(tempfile.gettempdir()) / f"hotpath-{pool}-{compression}-{5 * events}.pickle"
    if not saved.exists():  # written whole, then renamed: a concurrent run never reads half of it
        partial = saved.with_suffix(f".{os.getpid()}.tmp")
        with open(partial, "wb") as file:
            pickle.dump(stream(pool, 5 * events, compression), file)
        os.replace(partial, saved)
    per_seed = []
    for seed in seeds:
        env = dict(os.environ, HOTPATH_FRAMES=str(saved), PYTHONHASHSEED=str(seed))
        counts = []
        for n in (events, 5 * events):
            command = [
                "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                sys.executable, "-O", __file__, "--path", path, "--compression", compression, "--events", str(n),
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
            found = re.search(r"Collected : (\d+)", done.stderr)
            if not found:
                raise RuntimeError(f"callgrind gave no count for {path}: {done.stderr[-500:]}")
            counts.append(int(found.group(1)))
        per_seed.append((counts[1] - counts[0]) / (4 * events))
    return per_seed


def callgrind(path: str, compression: str, events: int, seeds: tuple[int, ...] = SEEDS) -> float:
    """Instructions per event of ``path``: the median of :func:`callgrind_runs`."""
    return statistics.median(callgrind_runs(path, compression, events, seeds))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", choices=PATHS, default="pipe")
    parser.add_argument("--paths", help="with --callgrind: comma-separated paths (default all)")
    parser.add_argument("--compression", default="zstd-stream", choices=["zstd-stream", "zlib-stream", "none"])
    parser.add_argument("--compressions", help="with --callgrind: comma-separated compressions")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--callgrind", action="store_true", help="instructions per event under valgrind")
    args = parser.parse_args()
    if args.callgrind:
        paths = args.paths.split(",") if args.paths else list(PATHS)
        comps = args.compressions.split(",") if args.compressions else [args.compression]
        events = min(args.events, 4000)
        for comp in comps:
            floor = unwanted_floor = None
            for path in paths:
                runs = callgrind_runs(path, comp, events)
                per = statistics.median(runs)
                if path == "floor":
                    floor = per
                elif path == "transport-filtered":
                    unwanted_floor = per
                if path == "none" and unwanted_floor:
                    ratio = f"  {per / unwanted_floor:.3f}x transport-filtered"
                else:
                    ratio = f"  {per / floor:.3f}x floor" if floor else ""
                spread = f"  (seeds {min(runs):.0f}-{max(runs):.0f})"
                print(f"{comp:11} {path:9} {per:10.0f} instructions/event{ratio}{spread}", flush=True)
        return 0
    seen, cpu = asyncio.run(replay(args.path, args.compression, args.events))
    print(f"{args.path} {args.compression}: {seen} events, {cpu / max(args.events, 1) * 1e6:.2f} µs CPU/event")
    return 0 if seen == args.events else 1


if __name__ == "__main__":
    sys.exit(main())

"""Measure the emulator's burst throughput to one plain aiohttp client.

The emulator runs in its own process (``python -m rxgateway.emulator --port 0``),
pinned to CPU 1 with this client on CPU 0 where the machine has two. The client
connects, identifies, asks for a burst over the control API and reads every frame
(without decompressing), timing from the first burst frame to the last. It prints one
JSON line per compression, with the emulator's CPU time per event (from /proc).

    .venv/bin/python tests/emulator/burst_throughput.py [--count 200000] [--mix messages=1]

Not a test (no timed assertions): a figure to report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time

import aiohttp
import orjson

from rxgateway.emulator import DEFAULT_TOKEN as TOKEN
from rxgateway.protocol import ALL_INTENTS

PROPERTIES = {"os": "linux", "browser": "bench", "device": "bench"}
#: How long the emulator may take to print its address.
STARTUP_TIMEOUT_S = 10.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    pid: int, url: str, http_url: str, compress: str | None, count: int, mix: str
) -> dict[str, object]:
    async with aiohttp.ClientSession() as http:
        params = {"v": "10", "encoding": "json", **({"compress": compress} if compress else {})}
        ws = await http.ws_connect(url, params=params, max_msg_size=0)
        await ws.receive()  # Hello
        # Every intent (the emulator's app allows the privileged ones): every event arrives.
        identify = {"token": TOKEN, "intents": ALL_INTENTS, "properties": PROPERTIES}
        await ws.send_str(orjson.dumps({"op": 2, "d": identify}).decode())
        await asyncio.sleep(0.5)  # READY and GUILD_CREATEs arrive; drain them below
        while True:
            try:
                await ws.receive(timeout=0.2)
            except TimeoutError:
                break
        cpu_before = cpu_seconds(pid)
        await http.post(f"{http_url}/_emulator/burst", json={"count": count, "mix": mix})
        await ws.receive()
        start = time.perf_counter()
        received = wire = 1
        for _ in range(count - 1):
            msg = await ws.receive()
            received += 1
            wire += len(msg.data)
        elapsed = time.perf_counter() - start
        emulator_cpu = cpu_seconds(pid) - cpu_before
        await ws.close()
    return {
        "compression": compress or "none",
        "frames": received,
        "seconds": round(elapsed, 3),
        "frames_per_s": round(received / elapsed),
        "wire_bytes_per_frame": round(wire / received),
        "emulator_cpu_us_per_event": round(emulator_cpu / received * 1e6, 2),
    }


async def main(args: argparse.Namespace) -> None:
    emulator = subprocess.Popen(
        [sys.executable, "-m", "rxgateway.emulator", "--port", "0", "--guilds", "10", "--identify-window", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    if len(os.sched_getaffinity(0)) >= 2:
        os.sched_setaffinity(emulator.pid, {1})
        os.sched_setaffinity(0, {0})
    try:
        assert emulator.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(emulator.stdout.readline), STARTUP_TIMEOUT_S)
        url = line.split()[1]
        http_url = url.replace("ws://", "http://")
        for compress in (None, "zlib-stream", "zstd-stream"):
            result = await measure(emulator.pid, url, http_url, compress, args.count, args.mix)
            print(json.dumps(result), flush=True)
    finally:
        emulator.terminate()
        emulator.wait(timeout=STARTUP_TIMEOUT_S)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--mix", default="messages=1")
    asyncio.run(main(parser.parse_args()))

"""What Redis knows of a cluster, read without joining it (``rxgateway cluster status``).

Example::

    report = await cluster_status(redis, app="mybot")
    print(format_status(report))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .redis_link import Keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["cluster_status", "format_status"]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def cluster_status(redis: Redis, *, app: str) -> dict[str, Any]:
    """Members, leases, sessions and the identify budget of the cluster ``app``, as a
    JSON-ready dict. Session ids are shortened; nothing secret is stored to show."""
    keys = Keys(app)
    now_s, now_us = await redis.time()
    now_ms = int(now_s) * 1000 + int(now_us) // 1000
    shape: Any = await redis.hmget(keys.config, ["total", "generation", "next_total", "next_generation"])
    total = int(shape[0]) if shape[0] is not None else 0
    generation = int(shape[1]) if shape[1] is not None else 0
    reshard: dict[str, Any] | None = None
    if shape[2] is not None and shape[3] is not None:
        next_total, next_generation = int(shape[2]), int(shape[3])
        next_holders: Any = await redis.mget([keys.lease(n, next_generation) for n in range(next_total)])
        active: Any = await redis.scard(keys.active(next_generation))
        reshard = {
            "total": next_total,
            "generation": next_generation,
            "held": sum(1 for h in next_holders if h is not None),
            "active": int(active),
        }
    members_raw: Any = await redis.zrange(keys.members, 0, -1, withscores=True)
    members = {
        _text(member): {"alive_for_s": round((score - now_ms) / 1000, 1), "shards": []}
        for member, score in members_raw
        if score > now_ms
    }
    leases: dict[str, str | None] = {}
    if total:
        holders: Any = await redis.mget([keys.lease(n, generation) for n in range(total)])
        for n, holder in enumerate(holders):
            name = None if holder is None else _text(holder)
            leases[str(n)] = name
            if name in members:
                members[name]["shards"].append(n)
    sessions: dict[str, dict[str, Any]] = {}
    for n in range(total):
        record: Any = await redis.hgetall(keys.session(n, generation))
        if record:
            fields = {_text(k): _text(v) for k, v in record.items()}
            if "session_id" in fields:
                fields["session_id"] = fields["session_id"][:8] + "…"
            sessions[str(n)] = fields
    budget_raw: Any = await redis.hgetall(keys.budget)
    budget: dict[str, Any] = {_text(k): _text(v) for k, v in budget_raw.items()} if budget_raw else {}
    if budget:
        ttl: Any = await redis.pttl(keys.budget)
        budget["resets_in_s"] = round(ttl / 1000, 1) if ttl and ttl > 0 else None
    return {
        "app": app,
        "total": total,
        "generation": generation,
        "reshard": reshard,
        "members": members,
        "leases": leases,
        "free": [int(n) for n, holder in leases.items() if holder is None],
        "sessions": sessions,
        "identify_budget": budget,
    }


def format_status(report: dict[str, Any]) -> str:
    """The report as a few readable lines."""
    lines = [f"cluster {report['app']!r}: {report['total']} shards, {len(report['members'])} members"]
    reshard = report.get("reshard")
    if report.get("generation"):
        lines[0] += f", generation {report['generation']}"
    if reshard:
        lines.append(
            f"  resharding to {reshard['total']} shards (generation {reshard['generation']}): "
            f"{reshard['held']} held, {reshard['active']} were Active"
        )
    for member, info in sorted(report["members"].items()):
        shards = ",".join(str(n) for n in info["shards"]) or "-"
        lines.append(f"  {member}: {len(info['shards'])} shards ({shards}), alive for {info['alive_for_s']} s more")
    if report["free"]:
        lines.append(f"  free (no holder): {report['free']}")
    lines.append(f"  sessions saved: {len(report['sessions'])} of {report['total']}")
    budget = report["identify_budget"]
    if budget:
        lines.append(
            f"  identify budget: {budget.get('remaining', '?')} of {budget.get('total', '?')} left, "
            f"resets in {budget.get('resets_in_s')} s"
        )
    else:
        lines.append("  identify budget: not set yet (no identify so far)")
    return "\n".join(lines)

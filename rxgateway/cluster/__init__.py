"""Past one process: the shards of one bot spread over processes and machines,
coordinated in Redis (``pip install 'rxgateway[redis]'``).

- :class:`RedisQueue`: the identify queue every process shares (one identify per
  rate-limit key per window, a daily budget with a floor), decided on the server.
- :class:`RedisSessionStore`: sessions saved where any process can resume them.
- :class:`Member`: one process's part of a cluster, holding a fair share of the
  shards by lease, taking over a dead member's shards (they RESUME), handing shards
  to members that join; an Observable of its shards' events, like a ShardGroup.

The machine does not know it is in a cluster: it gets a session to resume and an
identify grant, as in one process. Redis is imported only when one of these is
used, so ``import rxgateway`` works without the extra.

Example::

    member = Member(Config(token, intents), "redis://:pw@redis.internal:6379/0", app="mybot")
    member.pipe(on(EventTypeFlags.MESSAGE_CREATE)).subscribe(handle)
    async with member:
        await member.closed()
"""

from .member import Member, MemberSender
from .redis_queue import RedisQueue
from .redis_store import RedisSessionStore

__all__ = ["Member", "MemberSender", "RedisQueue", "RedisSessionStore"]

"""Events and commands across processes: a bus on NATS JetStream or Redis Streams.

The gateway side forwards what its shards receive, unparsed
(``shards.pipe(ops.publish(broker))``, or ``rxgateway cluster run --bus URL``); the
consumer side is a :class:`Bus`, an Observable of the same typed events a local shard
gives, with the event types pushed down to the broker, and ``bus.sender`` for
commands back to whichever process holds the shard.

- :class:`~rxgateway.bus.bus_event.BusEvent`: one dispatch and its metadata; its key
  ``shard:session:sequence`` makes a resume's replay a duplicate the broker skips.
- :class:`~rxgateway.bus.broker.Broker`: the contract; :class:`JetStreamBroker`
  (``pip install 'rxgateway[nats]'``) and :class:`RedisStreamsBroker`
  (``rxgateway[redis]``) implement it. The broker clients are imported when used.
- :class:`~rxgateway.bus.publisher.Publisher`: the gateway side.
- :class:`Bus`, :class:`BusSender`: the consumer side.

Example::

    broker = JetStreamBroker("nats://127.0.0.1:4222", app="mybot")
    shards.pipe(ops.publish(broker)).subscribe()                     # the gateway process
    Bus(broker, group="moderation").pipe(ops.on(EventTypeFlags.MESSAGE_CREATE)).subscribe(moderate)
"""

from .broker import Broker, BusCommand, CommandDelivery, Delivery, Published
from .bus import Bus, BusSender
from .bus_event import BusEvent
from .nats_jetstream import JetStreamBroker
from .publisher import Publisher
from .redis_streams import RedisStreamsBroker

__all__ = [
    "Broker",
    "Bus",
    "BusCommand",
    "BusEvent",
    "BusSender",
    "CommandDelivery",
    "Delivery",
    "JetStreamBroker",
    "Published",
    "Publisher",
    "RedisStreamsBroker",
]

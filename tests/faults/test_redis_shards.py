"""Two Redis shards (``REDIS_URLS``) behind three server processes: every topic
delivers across processes; one shard stops, and the topics on the other go on
delivering live, while the clients of topics on the stopped one are told (1011)
and, once it is back, resume with nothing lost.

On the pub/sub layer no connection of the other shard's topics is closed, and
every process stays ready. The core layer keeps each process's inbox on one
shard its random name picks: a process whose inbox was on the stopped shard
can deliver nothing, says so on /readyz (503) and closes its connections; the
other processes carry on as on the pub/sub layer, and nothing is lost."""

import asyncio
import json
import time
import uuid

import httpx
import pytest
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

from realtime.hub.shards import shard_of
from realtime.protocol.layer import CONTROL_GROUP
from realtime.protocol.topics import group_name, user_group_name
from tests.e2e.api import Api
from tests.e2e.servers import Database, Server, Site

from .clients import Resumer
from .conftest import PrivateRedis, async_wait_until, drop_site, private_redis_needed

SERVERS = 3
WRITES_DURING_OUTAGE = 3

pytestmark = pytest.mark.timeout(240)


# Lists bob adds to his family (carol is in it): topics that differ only in a
# digit often share a shard (the ring takes 12 bits of a CRC32), and the test
# needs a topic on each.
EXTRA_LISTS = 8


def site_ids(site: Site) -> dict:
    """Bob's lists in a family with carol (adding ``EXTRA_LISTS``), and carol's
    user id, from the site's database."""
    code = (
        "import json; from django.contrib.auth.models import User; "
        "from giftlists.models import GiftList; "
        "first = GiftList.objects.filter(owner__username='bob').first(); "
        f"[GiftList.objects.create(family=first.family, owner=first.owner, "
        f"title=f'extra {{n}}') for n in range({EXTRA_LISTS})]; "
        "print(json.dumps({'lists': sorted(GiftList.objects.filter("
        "family=first.family, owner__username='bob').values_list('pk', flat=True)), "
        "'carol': User.objects.get(username='carol').pk}))"
    )
    return json.loads(site.manage("shell", "-c", code).strip().splitlines()[-1])


def shard_plan(kind: str, urls: list[str], lists: list[int], carol: int) -> dict:
    """A prefix under which the layer puts the control group, carol's own
    group and one of her lists on one shard and another list on the other,
    computed as channels-redis computes it (the core layer hashes the group
    name alone, the pub/sub layer the prefix too)."""
    pubsub = RedisPubSubChannelLayer(hosts=urls)
    for _ in range(1000):
        prefix = f"e2e{uuid.uuid4().hex[:10]}"
        if kind == "pubsub":
            layer = pubsub
            layer._get_layer().prefix = prefix  # as the servers' layers have it
        else:
            layer = RedisChannelLayer(hosts=urls, prefix=prefix)
        kept = shard_of(layer, CONTROL_GROUP)
        if shard_of(layer, user_group_name(carol)) != kept:
            continue
        by_shard: dict[int, str] = {}
        for list_id in lists:
            topic = f"gift-list:{list_id}"
            by_shard.setdefault(shard_of(layer, group_name(topic)), topic)
        if len(by_shard) == 2:
            return {
                "prefix": prefix,
                "kept": kept,
                "kept_topic": by_shard[kept],
                "stopped_topic": by_shard[1 - kept],
            }
    raise AssertionError(f"no prefix spreads {lists} over both shards")


async def write(api: Api, topic: str, title: str) -> None:
    list_id = int(topic.split(":")[1])
    await asyncio.to_thread(
        api.post, "/api/gifts/", json={"list": list_id, "title": title}
    )


@pytest.mark.parametrize("layer", ["pubsub", "core"])
async def test_a_stopped_shard_stops_only_its_topics_and_loses_nothing(layer, tmp_path):
    private_redis_needed()
    shards = [PrivateRedis(tmp_path).start(), PrivateRedis(tmp_path).start()]
    urls = [shard.url for shard in shards]
    site = Site(
        Database.create(tmp_path),
        redis=None,
        extra_env={
            "DJANGO_SETTINGS_MODULE": "tests.faults.settings",
            "REALTIME_TEST_SETTINGS": json.dumps(
                {"LAYER_CHECK_INTERVAL": 0.5, "LAYER_CHECK_TIMEOUT": 2}
            ),
            "REALTIME_CHANNEL_LAYER": layer,
            "REDIS_URLS": ",".join(urls),
        },
    )
    servers: list[Server] = []
    clients: list[Resumer] = []
    try:
        site.prepare()
        ids = site_ids(site)
        plan = shard_plan(layer, urls, ids["lists"], ids["carol"])
        site.prefix = plan["prefix"]
        kept_topic, stopped_topic = plan["kept_topic"], plan["stopped_topic"]
        stopped = shards[1 - plan["kept"]]
        servers = [
            Server(site, tmp_path / f"server{n}.log", kind="uvicorn").start()
            for n in range(SERVERS)
        ]
        # Bob writes through each process in turn; carol follows each topic
        # on each process: every event crosses processes through Redis.
        writers = [Api.login(server.http_url, "bob") for server in servers]
        carol = Api.login(servers[0].http_url, "carol")
        kept_clients = [
            Resumer([server.ws_url], carol.token, [kept_topic]).start()
            for server in servers
        ]
        stopped_clients = [
            Resumer([server.ws_url], carol.token, [stopped_topic]).start()
            for server in servers
        ]
        clients = kept_clients + stopped_clients
        for client in clients:
            await asyncio.wait_for(client.ready.wait(), 30)
        starts = {
            kept_topic: kept_clients[0].seqs[kept_topic],
            stopped_topic: stopped_clients[0].seqs[stopped_topic],
        }
        written = dict.fromkeys(starts, 0)

        async def write_each(label: str) -> None:
            for topic in starts:
                writer = writers[sum(written.values()) % SERVERS]
                await write(writer, topic, f"{label} {written[topic]}")
                written[topic] += 1

        def expected(topic: str) -> list[int]:
            return list(range(starts[topic] + 1, starts[topic] + written[topic] + 1))

        def caught_up(client: Resumer, topic: str) -> bool:
            return client.seen(topic) == expected(topic)

        # Both shards up: every topic delivers to every process.
        await write_each("before")
        for client in clients:
            await async_wait_until(lambda c=client: caught_up(c, c.topics[0]))

        stopped.stop()
        stopped_at = time.monotonic()
        for n in range(WRITES_DURING_OUTAGE):
            await write_each(f"down {n}")
        # The stopped shard's clients are told, so they do not wait deaf.
        for client in stopped_clients:
            await async_wait_until(lambda c=client: 1011 in c.closes)
        told = time.monotonic() - stopped_at
        # Every process the load balancer keeps (/readyz 200) goes on
        # delivering the other shard's topic live: no close, no resume. Only
        # a core-layer process whose inbox was on the stopped shard is out.
        deaf = []
        for server, client in zip(servers, kept_clients, strict=True):

            def settled(server: Server = server, client: Resumer = client) -> str:
                ready = httpx.get(f"{server.http_url}/readyz", timeout=10)
                if ready.status_code == 503:
                    assert "every shard failed" in ready.text, ready.text
                    return "out"
                assert ready.status_code == 200, ready.text
                return "in" if caught_up(client, kept_topic) else ""

            if await async_wait_until(settled) == "out":
                deaf.append(server)
            else:
                assert client.closes == [] and client.refusals == 0, client.closes
        if layer == "pubsub":
            assert deaf == []

        stopped.start()  # empty: its groups are gone
        back_at = time.monotonic()
        for client in stopped_clients:
            await async_wait_until(lambda c=client: caught_up(c, stopped_topic))
        caught = time.monotonic() - back_at
        # They resumed from the log: the reply says nothing was lost.
        for client in stopped_clients:
            assert client.replies[-1]["recovered"] is True, client.replies[-1]
            assert set(client.closes) <= {1011}, client.closes

        # Live again everywhere: one more event per topic reaches everyone.
        await write_each("after")
        for client in clients:
            await async_wait_until(lambda c=client: caught_up(c, c.topics[0]))
        live = time.monotonic() - back_at
        print(
            f"\n{layer} layer, shard stopped: processes out (/readyz 503): "
            f"{len(deaf)} of {SERVERS}; its topics' clients told (1011) in "
            f"{told:.1f} s; "
            f"after it came back: every missed event delivered in {caught:.1f} s, "
            f"a new event live on every process at {live:.1f} s"
        )
    finally:
        for client in clients:
            await client.stop()
        for server in servers:
            server.stop()
        for shard in shards:
            shard.stop()
        drop_site(site)

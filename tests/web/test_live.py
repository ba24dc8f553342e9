"""Live channels (pingan.web.live): one poller per process and channel, whatever the number of
streams; what a module declares is two functions, which these tests replace with a list."""

from __future__ import annotations

import asyncio
import logging
from typing import NamedTuple

import pytest

from pingan.web import live


class Item(NamedTuple):
    id: int
    side: str


class Table:
    """The rows a poll sees (committed so far), and the polls made."""

    def __init__(self, *rows: Item):
        self.rows = list(rows)
        self.polls: list[int] = []
        self.failing = False

    def poll(self, *, db, after: int, limit: int) -> list[Item]:
        self.polls.append(after)
        if self.failing:
            raise RuntimeError("the database is away")
        return sorted((r for r in self.rows if r.id > after), key=lambda r: r.id)[:limit]

    def latest(self, *, db) -> int:
        return max((r.id for r in self.rows), default=0)


def channel_over(table: Table, **options) -> live.Channel:
    return live.Channel("test", poll=table.poll, latest=table.latest, **{"poll_seconds": 3600.0, **options})


def everything(_item) -> bool:
    return True


@pytest.mark.anyio
async def test_a_late_lower_id_is_sent_once_within_the_look_back_and_never_before_the_start(db):
    table = Table(Item(1, "a"), Item(2, "a"))
    channel = channel_over(table, lookback_ids=3, batch=10)
    subscriber = await channel.subscribe(visible=everything, last_id=None, replay_limit=100)
    try:
        table.rows += [Item(4, "a"), Item(5, "a")]  # 3 is not committed yet
        await channel.poll_now()
        assert [i.id for i in subscriber.take()] == [4, 5]
        table.rows += [Item(3, "a"), Item(0, "a")]  # 3 commits late; 0 is before where the poller started
        await channel.poll_now()
        await channel.poll_now()
        assert [i.id for i in subscriber.take()] == [3]
        table.rows += [Item(n, "a") for n in range(6, 9)]
        await channel.poll_now()
        assert [i.id for i in subscriber.take()] == [6, 7, 8]
        assert table.polls == [2, 2, 2, 2]  # the newest less the look-back, never before the start
        await channel.poll_now()
        assert table.polls[-1] == 5 and subscriber.take() == []
    finally:
        channel.unsubscribe(subscriber)


@pytest.mark.anyio
async def test_each_stream_keeps_what_its_filter_accepts(db):
    table = Table()
    channel = channel_over(table)
    a = await channel.subscribe(visible=lambda i: i.side == "a", last_id=None, replay_limit=100)
    b = await channel.subscribe(visible=lambda i: i.side == "b", last_id=None, replay_limit=100)
    try:
        table.rows += [Item(1, "a"), Item(2, "b"), Item(3, "a")]
        await channel.poll_now()
        assert ([i.id for i in a.take()], [i.id for i in b.take()]) == ([1, 3], [2])
        assert len(table.polls) == 1
    finally:
        channel.unsubscribe(a)
        channel.unsubscribe(b)


@pytest.mark.anyio
async def test_a_full_batch_says_more_is_waiting(db):
    table = Table()
    channel = channel_over(table, lookback_ids=1, batch=2)
    subscriber = await channel.subscribe(visible=everything, last_id=None, replay_limit=100)
    try:
        table.rows += [Item(n, "a") for n in range(1, 6)]
        assert await channel.poll_now() is True
        assert await channel.poll_now() is True  # 2 (seen) and 3
        assert [i.id for i in subscriber.take()] == [1, 2, 3]
    finally:
        channel.unsubscribe(subscriber)
    with pytest.raises(ValueError):
        channel_over(table, lookback_ids=2, batch=2)


@pytest.mark.anyio
async def test_a_stream_too_far_behind_or_ahead_or_that_falls_behind_gets_a_snapshot(db):
    table = Table(*(Item(n, "a") for n in range(1, 11)))
    channel = channel_over(table, max_pending=3)
    behind = await channel.subscribe(visible=everything, last_id=2, replay_limit=5)
    ahead = await channel.subscribe(visible=everything, last_id=99, replay_limit=5)
    near = await channel.subscribe(visible=everything, last_id=7, replay_limit=5)
    try:
        assert (behind.snapshot, ahead.snapshot, near.snapshot) == (10, 10, None)
        assert behind.take() == [] and [i.id for i in near.take()] == [8, 9, 10]
        table.rows += [Item(n, "a") for n in range(11, 16)]  # five new: more than three pending
        await channel.poll_now()
        assert near.fell_behind and near.take() == []
    finally:
        for subscriber in (behind, ahead, near):
            channel.unsubscribe(subscriber)


@pytest.mark.anyio
async def test_the_poller_runs_while_streams_listen_and_a_failed_poll_is_logged(db, caplog):
    table = Table()
    channel = channel_over(table, poll_seconds=0.0)
    subscriber = await channel.subscribe(visible=everything, last_id=None, replay_limit=100)
    task = channel._task
    table.failing = True
    with caplog.at_level(logging.ERROR, logger="pingan.live"):
        while "poll failed" not in caplog.text:
            await asyncio.sleep(0)
    table.failing = False
    table.rows.append(Item(1, "a"))
    await asyncio.wait_for(subscriber.wait(3600), 60)  # the poller goes on after a failure
    assert [i.id for i in subscriber.take()] == [1]
    channel.unsubscribe(subscriber)
    await asyncio.wait_for(task, 60)  # no stream left: the poller ends
    polls = len(table.polls)
    await asyncio.sleep(0)
    assert len(table.polls) == polls and channel.subscribers == 0
    again = await channel.subscribe(visible=everything, last_id=None, replay_limit=100)  # and starts again
    assert channel._task is not task and not channel._task.done()
    channel.unsubscribe(again)
    await asyncio.wait_for(channel._task, 60)

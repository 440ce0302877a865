"""Topic grammar, group names and cursor text."""

import re

import pytest

from realtime.protocol.topics import (
    InvalidCursor,
    InvalidTopic,
    format_cursor,
    group_name,
    parse_cursor,
    parse_topic,
)


@pytest.mark.parametrize(
    "topic",
    ["gift-list:17", "a:b", "user:3", "x" * 40 + ":" + "Y" * 64, "room:a_b.c-d"],
)
def test_valid_topics_parse(topic):
    parsed = parse_topic(topic)
    assert str(parsed) == topic


@pytest.mark.parametrize(
    "topic",
    [
        "",
        "gift-list",
        "gift-list:",
        ":17",
        "Gift-list:17",
        "1list:17",
        "gift list:17",
        "gift-list:17:18",
        "gift-list:a b",
        "x" * 41 + ":1",
        "a:" + "y" * 65,
        "room:é",
        17,
        None,
    ],
)
def test_invalid_topics_are_refused(topic):
    with pytest.raises(InvalidTopic):
        parse_topic(topic)


def test_group_names_are_legal_for_channel_layers_and_distinct():
    topics = [
        "gift-list:17",
        "gift-list:1.7",
        "gift:list-17",
        "x" * 40 + ":" + "Y" * 64,
    ]
    names = [group_name(topic) for topic in topics]
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,99}", name)


def test_cursor_round_trips():
    positions = {"gift-list:17": 42, "family:5": 3}
    text = format_cursor(positions)
    assert text == "gift-list:17@42,family:5@3"
    assert parse_cursor(text) == positions
    assert parse_cursor("") == {}


@pytest.mark.parametrize(
    "text", ["gift-list:17", "gift-list:17@x", "bad topic@1", "a:1@1,a:1@2", "a:1@-1"]
)
def test_malformed_cursors_are_refused(text):
    with pytest.raises(InvalidCursor):
        parse_cursor(text)

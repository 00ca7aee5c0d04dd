"""Links that carry a lesson (issue 16, part 3): the v1 fragment checked against the same limits as any
message, each refusal naming the link's field and changing nothing; normalisation; and what opening a
link would change in the session (`POST /api/link`)."""

from __future__ import annotations

import json

import pytest

from server.web import links
from server.web.schemas import parse_client_message

from conftest_server import decode

pytest_plugins = ["conftest_server"]

LESSON = ("v=1&dataset=circle&hidden=8,8&activation=tanh&output=softmax&cost=cross_entropy&seed=3&lr=0.3&batch=10"
          "&mode=walkthrough&phase=4&hide=editor,checkpoints")

# A bad value for every field of a v1 link (and a few ways to be stale or malformed): the field it names.
BAD = [
    ("v=2&dataset=circle", "v"),
    ("dataset=circle&hidden=8", "v"),  # no version at all
    ("v=one", "v"),
    ("v=1&dataset=nope", "dataset"),
    ("v=1&dataset=circle&noise=2", "noise"),
    ("v=1&dataset=circle&noise=abc", "noise"),
    ("v=1&noise=0.1", "noise"),  # MNIST has no noise
    ("v=1&dataset=circle&points=5", "points"),
    ("v=1&dataset=custom&points=3", "points"),
    ("v=1&dataset=circle&test_fraction=1", "test_fraction"),
    ("v=1&dataset=gauss&classes=9", "classes"),
    ("v=1&dataset=xor&classes=3", "classes"),
    ("v=1&dataset=spiral&data_seed=-1", "data_seed"),
    ("v=1&dataset=spiral&data_seed=1.5", "data_seed"),
    ("v=1&hidden=1,2,3,4,5", "hidden"),
    ("v=1&hidden=600", "hidden"),
    ("v=1&hidden=0", "hidden"),
    ("v=1&hidden=8,,8", "hidden"),
    ("v=1&activation=softmax", "activation"),
    ("v=1&output=nope", "output"),
    ("v=1&cost=hinge", "cost"),
    ("v=1&cost=cross_entropy&output=relu", "cost"),
    ("v=1&seed=-1", "seed"),
    ("v=1&seed=3000000000", "seed"),
    ("v=1&seed=x", "seed"),
    ("v=1&lr=0", "lr"),
    ("v=1&lr=11", "lr"),
    ("v=1&lr=nan", "lr"),
    ("v=1&lr=fast", "lr"),
    ("v=1&batch=0", "batch"),
    ("v=1&batch=5000", "batch"),
    ("v=1&batch=2.5", "batch"),
    ("v=1&mode=sleep", "mode"),
    ("v=1&phase=3", "phase"),
    ("v=1&mode=walkthrough&phase=7", "phase"),
    ("v=1&mode=walkthrough&phase=two", "phase"),
    ("v=1&hide=editor,everything", "hide"),
    ("v=1&present=yes", "present"),
    ("v=1&color=red", "color"),  # not a field of v1
    ("v=1&lr=0.1&lr=0.2", "lr"),  # twice
    ("v=1&mode", "mode"),  # no value
    ("v=1&hidden=" + "8," * 1100 + "8", "link"),  # too long
]


@pytest.mark.parametrize("link,field", BAD, ids=[b[0][:40] for b in BAD])
def test_every_bad_field_is_named(link, field):
    with pytest.raises(links.LinkError) as e:
        links.parse(link)
    assert e.value.field == field
    assert str(e.value).startswith(f"{field}: ")


def test_a_bad_link_over_http_names_the_field_and_changes_nothing(test_client):
    with test_client() as c:
        before = c.get("/api/state").json()
        for link, field in BAD:
            r = c.post("/api/link", json={"link": link})
            assert r.status_code == 422, (link, r.text)
            detail = r.json()["detail"]
            # a link over the body's limit is refused by the body's check, in its words
            assert detail.startswith(f"{field}: ") or field == "link" and detail.startswith("The link must be at most 2048 characters long"), (link, detail)
        assert c.get("/api/state").json() == before
        # the body itself is checked like any other
        assert c.post("/api/link", json={"link": 3}).status_code == 422
        assert c.post("/api/link", json={"link": "v=1", "extra": 1}).status_code == 422


def test_a_link_is_normalised_and_reads_back_the_same():
    parsed = links.parse("#" + LESSON)
    assert parsed["network"] == {"dataset": "circle", "dataset_options": {"noise": 0.05, "points": 1000,
                                 "test_fraction": 0.2, "seed": 0}, "hidden": [8, 8], "activation": "tanh",
                                 "output_activation": "softmax", "cost": "cross_entropy", "seed": 3}
    assert parsed["params"] == {"learning_rate": 0.3, "batch_size": 10}
    assert parsed["view"] == {"mode": "walkthrough", "phase": 4, "hide": ["editor", "checkpoints"], "present": None}
    assert parsed["link"] == ("v=1&dataset=circle&noise=0.05&points=1000&test_fraction=0.2&data_seed=0&hidden=8,8"
                              "&activation=tanh&output=softmax&cost=cross_entropy&seed=3&lr=0.3&batch=10"
                              "&mode=walkthrough&phase=4&hide=editor,checkpoints")
    assert links.parse(parsed["link"]) == parsed  # a fixed point
    # any order, URL-encoding, a repeated hide part: the same lesson
    shuffled = "hide=checkpoints%2Ceditor,editor&mode=walkthrough&phase=4&lr=0.30&batch=10&seed=3&cost=cross_entropy" \
               "&output=softmax&activation=tanh&hidden=8%2C8&dataset=circle&v=1"
    assert links.parse(shuffled) == parsed


def test_defaults_make_a_link_mean_the_same_network_everywhere():
    parsed = links.parse("v=1&hidden=32")
    assert parsed["network"] == {"dataset": "mnist", "dataset_options": {}, "hidden": [32], "activation": "sigmoid",
                                 "output_activation": "sigmoid", "cost": "quadratic", "seed": 0}
    assert parsed["params"] == {}  # η and the batch size: unchanged unless given
    view_only = links.parse("v=1&mode=descent&hide=draw&present=1")
    assert view_only["network"] is None
    assert view_only["view"] == {"mode": "descent", "phase": None, "hide": ["draw"], "present": True}
    assert links.parse("v=1&hidden=")["network"]["hidden"] == []  # no hidden layer


CURRENT = {"config": {"sizes": [784, 16, 16, 10], "activation": "sigmoid", "output_activation": "sigmoid",
                      "cost": "quadratic", "seed": 0},
           "dataset": "mnist", "dataset_options": {}, "params": {"learning_rate": 3.0, "batch_size": 10,
                                                                "steps_per_second": None}, "iteration": 1234}


def test_a_link_matching_the_network_changes_only_the_view_or_params():
    same = links.compare(links.parse("v=1&dataset=mnist&hidden=16,16&mode=walkthrough&phase=2"), CURRENT)
    assert same == {"reset": None, "set_params": None, "changes": []}
    faster = links.compare(links.parse("v=1&hidden=16,16&lr=0.5&batch=10"), CURRENT)
    assert faster["reset"] is None and faster["set_params"] == {"type": "set_params", "learning_rate": 0.5}
    assert faster["changes"] == ["η: 3 → 0.5"]
    assert links.compare(links.parse("v=1&mode=descent&lr=1"), CURRENT)["set_params"] == {
        "type": "set_params", "learning_rate": 1.0}


def test_a_link_with_another_network_gives_the_reset_message_and_what_changes():
    diff = links.compare(links.parse(LESSON), CURRENT)
    assert diff["set_params"] is None
    assert diff["changes"] == ["dataset: mnist → circle (noise 0.05, points 1000, test_fraction 0.2, data_seed 0)",
                               "hidden layers: 16, 16 → 8, 8", "hidden σ: sigmoid → tanh",
                               "output σ: sigmoid → softmax", "cost: quadratic → cross_entropy", "seed: 0 → 3",
                               "η: 3 → 0.3"]
    # the message is exactly one the websocket accepts
    message = parse_client_message(json.dumps(diff["reset"]))
    assert message.hidden == [8, 8] and message.dataset == "circle" and message.learning_rate == 0.3
    circle = {**CURRENT, "dataset": "circle", "dataset_options": {"noise": 0.05, "points": 1000, "test_fraction": 0.2,
                                                                   "seed": 0},
              "config": {**CURRENT["config"], "sizes": [2, 8, 8, 2]}}
    noisier = links.compare(links.parse("v=1&dataset=circle&noise=0.2&hidden=8,8"), circle)
    assert noisier["changes"] == ["noise: 0.05 → 0.2"]


def test_opening_a_link_over_the_websocket_then_checking_it_again_changes_nothing_more(test_client):
    """The route's reset message applied as the page applies it: afterwards the link matches."""
    with test_client() as c:
        r = c.post("/api/link", json={"link": LESSON}).json()
        assert r["shared"] is True and r["confirm"] is True and r["iteration"] == 0
        assert r["reset"]["dataset"] == "circle"
        with c.websocket_connect("/ws") as ws:
            def receive():
                m = ws.receive()
                return decode(m.get("text") or m.get("bytes"))

            receive()  # hello
            ws.send_text(json.dumps(r["reset"]))
            while (m := receive())["type"] != "ack":
                assert m["type"] != "error", m
        again = c.post("/api/link", json={"link": r["link"]}).json()
        assert again["changes"] == [] and again["reset"] is None and again["set_params"] is None
        assert again["confirm"] is False
        state = c.get("/api/state").json()
        assert state["sizes"] == [2, 8, 8, 2] and state["learning_rate"] == 0.3 and state["seed"] == 3

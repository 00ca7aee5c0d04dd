"""Refusals a user reads (review item 4): the field in words and what it must be, in one line.

The page shows the server's `{"detail": ...}` and websocket `error` texts to people; pydantic's own
("weights.0.j: Input should be greater than or equal to 0") is not for them.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["conftest_server"]

CASES = [
    ("POST", "/api/descent/surface", {"plane": "weights", "weights": [{"layer": 0, "j": 0, "k": 0}, {"layer": 0, "j": -1, "k": 0}]},
     "Neuron j of weight 2 must be at least 0, not -1"),
    ("POST", "/api/walkthrough/batch", {"size": 33}, "The batch size must be at most 32, not 33"),
    ("POST", "/api/walkthrough/step", {"indices": []}, "The example indices must hold at least 1 item, not 0"),
    ("POST", "/api/checkpoints", {"name": "../x"},
     "The name may use only letters, digits, '-' and '_' (1 to 64 of them), not \"../x\""),
    ("POST", "/api/gradcheck", {"pixels": [0.0] * 784, "label": 3}, "The parameter is missing"),
    ("POST", "/api/predict", {"pixels": [0.5] * 783 + [1.5]}, "Pixel 784 must be at most 1, not 1.5"),
    ("POST", "/api/descent/surface", {"plane": "pizza"}, "The plane must be 'pca', 'random' or 'weights', not \"pizza\""),
    ("GET", "/api/model?iteration=-1", None, "The iteration must be at least 0, not -1"),
    ("GET", "/api/model?iteration=ten", None, "The iteration must be a whole number, not ten"),
]


@pytest.mark.parametrize("method, path, body, detail", CASES)
def test_http_refusals_name_the_field_in_words(test_client, method, path, body, detail):
    with test_client() as c:
        r = c.request(method, path, json=body)
    assert r.status_code == 422
    assert r.json() == {"detail": detail}


WS_CASES = [
    ({"type": "set_params", "learning_rate": 0}, "The learning rate η must be above 0, not 0"),
    ({"type": "set_params", "batch_size": 2.5}, "The mini-batch size must be a whole number, not 2.5"),
    ({"type": "set_params", "learning_rate": "1"}, "The learning rate η must be a number, not \"1\""),
    ({"type": "set_params", "learning_rate": 1, "momentum": 0.9}, "“momentum” is not something this request takes"),
    ({"type": "reset", "hidden": [16, 0]}, "Hidden layer 2 must be at least 1, not 0"),
    ({"type": "step", "unit": "year"}, "The step's unit must be 'batch', 'example' or 'epoch', not \"year\""),
]


@pytest.mark.parametrize("message, text", WS_CASES)
def test_websocket_refusals_name_the_field_in_words(test_client, message, text):
    with test_client() as c, c.websocket_connect("/ws") as ws:
        ws.send_json(message)
        while True:
            reply = ws.receive()
            if "text" in reply and reply["text"] and '"error"' in reply["text"]:
                break
    import json

    assert json.loads(reply["text"])["message"] == text


def test_no_refusal_speaks_pydantic(test_client):
    """Whatever the field, none of pydantic's phrases reaches the user."""
    with test_client() as c:
        for method, path, body, _ in CASES:
            detail = c.request(method, path, json=body).json()["detail"]
            for phrase in ("Input should", "Field required", "Extra inputs", "List should", "Value error", "body."):
                assert phrase not in detail, (path, detail)

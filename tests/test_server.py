"""The HTTP API and the websocket through FastAPI's TestClient (issue 3)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect

from server.engine import checkpoint
from server.web.stream import wire
from server.web.schemas import MAX_MESSAGE_BYTES

pytest_plugins = ["conftest_server"]
pytest.register_assert_rewrite("conftest_server")

from conftest_server import test_digit_image  # noqa: E402


def receive(ws) -> dict:
    m = ws.receive()
    if m.get("text") is not None:
        return json.loads(m["text"])
    if m.get("bytes") is not None:
        header, arrays = wire.decode(m["bytes"])
        header["_arrays"] = arrays
        return header
    raise WebSocketDisconnect(m.get("code", 1000), m.get("reason"))


def reply(ws) -> dict:
    """The next ack/error/prediction (frames and events of a paused session are skipped)."""
    while True:
        msg = receive(ws)
        if msg["type"] in ("ack", "error", "prediction"):
            return msg


# ----- HTTP -----------------------------------------------------------------------------------
def test_state_has_the_documented_fields(test_client):
    with test_client() as c:
        r = c.get("/api/state")
        assert r.status_code == 200
        s = r.json()
    for key in ("iteration", "epoch", "examples_seen", "running", "learning_rate", "batch_size",
                "steps_per_second", "sizes", "activation", "output_activation", "cost", "batch_cost", "seed"):
        assert key in s, key
    assert s["sizes"] == [784, 16, 16, 10]
    assert (s["activation"], s["output_activation"], s["cost"]) == ("sigmoid", "sigmoid", "quadratic")
    assert s["iteration"] == 0 and s["running"] is False
    assert s["learning_rate"] == 3.0 and s["batch_size"] == 10


def test_predict_with_pixels_and_image(test_client, trained_checkpoint, server_data):
    path, net, acc = trained_checkpoint
    assert acc > 0.85
    with test_client(load=str(path)) as c:
        # pixels: already MNIST format
        right = 0
        for i in range(10):
            x = (server_data.test_images[i] / 255).round(4).tolist()
            r = c.post("/api/predict", json={"pixels": x})
            assert r.status_code == 200, r.text
            body = r.json()
            assert len(body["input"]) == 784
            assert abs(sum(body["probabilities"]) - 1) < 1e-6 and len(body["probabilities"]) == 10
            assert [len(a) for a in body["activations"]] == [784, 16, 16, 10]
            assert body["digit"] == int(np.argmax(net.feedforward(np.asarray(x, np.float32))[0]))
            right += body["digit"] == server_data.test_labels[i]
        assert right >= 8
        # a raw drawing: a test digit upscaled to 280×280 is cropped, scaled and centred like MNIST
        right = 0
        for i in range(10):
            r = c.post("/api/predict", json={"image": test_digit_image(server_data, i)})
            assert r.status_code == 200, r.text
            body = r.json()
            assert len(body["input"]) == 784 and all(0 <= v <= 1 for v in body["input"])
            assert abs(sum(body["probabilities"]) - 1) < 1e-6
            assert set(body["stages"]) == {"cropped", "scaled", "boxed", "centered"}
            assert body["stages"]["centered"]["width"] == 28 and body["empty"] is False
            right += body["digit"] == server_data.test_labels[i]
        assert right >= 8
        # classifying never changes the network
        assert c.get("/api/state").json()["iteration"] == 0


@pytest.mark.parametrize("body, status, words", [
    ({"pixels": [0.5] * 783}, 422, "784"),
    ({"pixels": [0.5] * 785}, 422, "784"),
    ({"pixels": [0.5] * 783 + [1.5]}, 422, "Pixel 784 must be at most 1, not 1.5"),
    ({"pixels": [-0.1] + [0.5] * 783}, 422, "Pixel 1 must be at least 0, not -0.1"),
    ({"pixels": ["0.5"] * 784}, 422, "Pixel 1 must be a number, not \"0.5\""),
    ({"pixels": [None] * 784}, 422, "Pixel 1 must be a number, not null"),
    ({"pixels": [True] * 784}, 422, "Pixel 1 must be a number, not true"),
    ({"image": {"width": 4096, "height": 4096, "pixels": [0.0] * 16}}, 422, "1024"),
    ({"image": {"width": 2, "height": 2, "pixels": [0.0] * 3}}, 422, "4 pixels"),
    ({"pixels": [0.0] * 784, "image": {"width": 1, "height": 1, "pixels": [0.0]}}, 422, "not both"),
    ({}, 422, "either"),
    ({"pixels": [0.0] * 784, "extra": 1}, 422, "extra"),
    ([], 422, ""),
])
def test_predict_refuses_bad_payloads(test_client, body, status, words):
    with test_client() as c:
        r = c.post("/api/predict", json=body)
        assert r.status_code == status, r.text
        assert words in r.json()["detail"]


def test_predict_refuses_bad_json_nan_and_huge_images(test_client):
    with test_client() as c:
        r = c.post("/api/predict", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 400 and "invalid JSON" in r.json()["detail"]
        nan = "[" + ",".join(["0.5"] * 783 + ["NaN"]) + "]"
        r = c.post("/api/predict", content=f'{{"pixels": {nan}}}', headers={"content-type": "application/json"})
        assert r.status_code == 400 and "NaN" in r.json()["detail"]
        # a full 4096×4096 drawing: the body alone is over the limit
        huge = b'{"image": {"width": 4096, "height": 4096, "pixels": [' + b"0," * (4096 * 4096 - 1) + b"0]}}"
        r = c.post("/api/predict", content=huge, headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert c.get("/api/state").status_code == 200  # still serving


def test_model_download_is_a_loadable_checkpoint(test_client, trained_checkpoint):
    path, net, _ = trained_checkpoint
    with test_client(load=str(path)) as c:
        r = c.get("/api/model")
        assert r.status_code == 200
        assert "attachment" in r.headers["content-disposition"]
    loaded, extra = checkpoint.from_bytes(r.content)
    assert loaded.sizes == net.sizes and extra["iteration"] == 0
    for a, b in zip(loaded.weights + loaded.biases, net.weights + net.biases):
        np.testing.assert_array_equal(a, b)


BODY_ROUTES = {
    ("/api/predict", "PredictRequest"), ("/api/checkpoints", "SaveRequest"), ("/api/backprop", "BackpropRequest"),
    ("/api/walkthrough/batch", "BatchRequest"), ("/api/walkthrough/step", "StepRequest"),
    ("/api/teach", "TeachRequest"), ("/api/gradcheck", "GradCheckRequest"), ("/api/walkthrough/close", "CloseRequest"),
    ("/api/walkthrough/set", "SetParameterRequest"), ("/api/walkthrough/curve", "CurveRequest"),
    ("/api/walkthrough/open", "OpenRequest"),
    ("/api/branch", "BranchRequest"), ("/api/descent/line", "LineRequest"), ("/api/descent/surface", "SurfaceRequest"),
    ("/api/descent/runners", "RunnersRequest"),
    ("/api/maps", "MapsRequest"), ("/api/link", "LinkRequest"),
    ("/api/classroom/present", "PresentRequest"), ("/api/classroom/lock", "LockRequest"),
    ("/api/classroom/walkthrough", "WalkthroughView"),
}


def test_every_request_body_has_its_schema_in_openapi(test_client):
    """Every route that takes a JSON body declares it, so /docs shows its fields and limits."""
    with test_client() as c:
        spec = c.get("/openapi.json").json()
    declared = set()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                schema = content["application/json"]["schema"]
                ref = schema.get("$ref") or next(s["$ref"] for s in schema["anyOf"] if "$ref" in s)  # optional body
                declared.add((path, ref.rsplit("/", 1)[1]))
            elif method == "post" and path not in ("/api/undo", "/api/checkpoints/{name}/load", "/api/classroom/copy"):
                assert "application/octet-stream" in content, f"{path} has no declared body"
    assert declared == BODY_ROUTES
    schemas = spec["components"]["schemas"]
    assert schemas["StepRequest"]["properties"]["indices"]["maxItems"] == 32
    assert "exclusiveMinimum" in str(schemas["TeachRequest"]["properties"]["learning_rate"])


@pytest.mark.parametrize("path, body, status, words", [
    ("/api/walkthrough/step", {"indices": []}, 422, "The example indices must hold at least 1 item, not 0"),
    ("/api/walkthrough/batch", {"size": 33}, 422, "The batch size must be at most 32, not 33"),
    ("/api/teach", {"pixels": [0.0] * 784, "label": 3, "learning_rate": 0}, 422, "The learning rate η must be above 0, not 0"),
    ("/api/gradcheck", {"pixels": [0.0] * 784, "label": 3}, 422, "The parameter is missing"),
    ("/api/checkpoints", {"name": "../x"}, 422, "The name may use only letters, digits, '-' and '_'"),
    ("/api/walkthrough/batch", None, 400, "invalid JSON"),
])
def test_bodies_are_refused_in_one_line(test_client, path, body, status, words):
    """FastAPI's validation errors keep the protocol's format: {"detail": one line naming the field}."""
    with test_client() as c:
        r = c.post(path, json=body) if body is not None else c.post(path)
        assert r.status_code == status, r.text
        detail = r.json()["detail"]
        assert isinstance(detail, str) and words in detail, detail


def test_a_body_without_content_length_is_still_limited(test_client):
    """A chunked body is counted as it arrives: over 16 MiB gets 413 without being kept whole."""
    def chunks():
        yield b'{"pixels": ['
        for _ in range(17 * 1024):
            yield b"0," * 512
        yield b"0]}"

    with test_client() as c:
        r = c.post("/api/predict", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413 and "over" in r.json()["detail"]
        assert c.get("/api/state").status_code == 200


def test_openapi_docs_available(test_client):
    with test_client() as c:
        assert c.get("/docs").status_code == 200
        spec = c.get("/openapi.json").json()
        assert "/api/predict" in spec["paths"] and "/api/state" in spec["paths"]


def test_host_and_origin_checks_over_http(test_client):
    with test_client() as c:
        assert c.get("/api/state", headers={"host": "evil.example"}).status_code == 403
        assert c.get("/", headers={"host": "evil.example"}).status_code == 403
        pixels = {"pixels": [0.0] * 784}
        assert c.post("/api/predict", json=pixels, headers={"origin": "http://evil.example"}).status_code == 403
        assert c.post("/api/predict", json=pixels, headers={"origin": "http://testserver"}).status_code == 200
        assert c.post("/api/predict", json=pixels).status_code == 200  # no Origin: not a browser


# ----- websocket via TestClient -----------------------------------------------------------------
def test_ws_hello_then_commands(test_client):
    with test_client() as c, c.websocket_connect("/ws") as ws:
        hello = receive(ws)
        assert hello["type"] == "hello"
        assert hello["config"]["sizes"] == [784, 16, 16, 10]
        assert hello["params"] == {"learning_rate": 3.0, "batch_size": 10, "steps_per_second": None,
                                   "warmup": False}
        assert hello["state"]["iteration"] == 0 and hello["state"]["running"] is False
        assert hello["_arrays"]["W0"].shape == (16, 784) and hello["_arrays"]["b2"].shape == (10,)
        assert set(hello["limits"]) >= {"learning_rate", "batch_size", "hidden_layers", "neurons"}
        ws.send_text(json.dumps({"type": "step"}))
        # The ack and the step's frame may come in either order, and a frame of the unchanged state may
        # come first (the viewer's first frame is not tied to the step): read until both have arrived.
        acks, frames = [], []
        while not acks or not frames or frames[-1]["state"]["iteration"] < 1:
            m = receive(ws)
            (frames if m["type"] == "frame" else acks).append(m)
        assert acks == [{"type": "ack", "request": "step"}]
        assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
        frame = frames[-1]
        assert frame["state"]["iteration"] == 1
        assert frame["costs_start"] == 1 and len(frame["_arrays"]["costs"]) == 1


def test_ws_refuses_cross_site_origin_and_host(test_client):
    with test_client() as c:
        for headers in ({"origin": "http://evil.example"}, {"host": "evil.example"},
                        {"origin": "http://localhost:1"}):
            with pytest.raises(WebSocketDisconnect) as e:
                with c.websocket_connect("/ws", headers=headers) as ws:
                    ws.receive()
            assert e.value.code == 1008


def test_ws_oversize_message_is_closed_with_1009(test_client):
    with test_client() as c, c.websocket_connect("/ws") as ws:
        receive(ws)
        ws.send_text(json.dumps({"type": "set_params", "learning_rate": 1, "pad": "x" * MAX_MESSAGE_BYTES}))
        with pytest.raises(WebSocketDisconnect) as e:
            while True:
                receive(ws)
        assert e.value.code == 1009
        assert c.get("/api/state").json()["learning_rate"] == 3.0


def test_ws_predict(test_client, server_data):
    with test_client() as c, c.websocket_connect("/ws") as ws:
        receive(ws)
        x = (server_data.test_images[0] / 255).round(3).tolist()
        ws.send_text(json.dumps({"type": "predict", "id": 7, "pixels": x}))
        msg = reply(ws)
        assert msg["type"] == "prediction" and msg["id"] == 7
        assert abs(sum(msg["probabilities"]) - 1) < 1e-6 and len(msg["input"]) == 784
        ws.send_text(json.dumps({"type": "predict", "pixels": x[:-1]}))
        err = reply(ws)
        assert err["type"] == "error" and err["request"] == "predict" and "784" in err["message"]

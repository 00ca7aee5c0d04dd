"""The classroom's presenter (issue 16, part 2): the presenter key, follow (a read-only live view of the
presenter's session, the walkthrough step included), copy, lock, and the follower count. Each visitor is a
cookie jar (test_classroom.Visitor); the sessions are small (a 2-input plane network after a reset)."""

from __future__ import annotations

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed

from server.engine import checkpoint
from server.web.presenter import CLOSE_FOLLOW_CHANGED
from test_classroom import COOKIE, Visitor, classroom, seat_of, step  # noqa: F401  (classroom: the fixture)
from conftest_server import TIMEOUT, poll, ws_connect

pytest_plugins = ["conftest_server"]
KEY = "teacher-key-123"
PLANE = {"type": "reset", "hidden": [3], "activation": "tanh", "output_activation": "softmax",
         "cost": "cross_entropy", "seed": 1, "dataset": "xor"}


@pytest.fixture
def room(classroom):  # noqa: F811
    """A classroom server with a presenter key; ``people(n)`` opens n visitors' pages."""
    return classroom(presenter_key=KEY)


@pytest.fixture
def people(room):
    made = []

    def make(n):
        out = [Visitor(room) for _ in range(n)]
        for v in out:
            assert v.open().status_code == 200
        made.extend(out)
        return out

    yield make
    for v in made:
        v.close()


def follow_ws(v: Visitor):
    return ws_connect(v.srv.ws_url + "?follow=1", additional_headers={"Cookie": f"{COOKIE}={v.cookie}"})


def become_presenter(v: Visitor) -> dict:
    r = v.http.post("/api/classroom/present", json={"key": KEY})
    assert r.status_code == 200, r.text
    return r.json()


def classroom_msg(conn, pred=lambda m: True) -> dict:
    return conn.next(lambda m: m["type"] == "classroom" and pred(m))


def small_network(conn) -> None:
    assert conn.command(PLANE)["type"] == "ack"
    conn.next(lambda m: m["type"] == "hello" and m["config"]["sizes"] == [2, 3, 2])


def test_a_wrong_key_never_makes_a_presenter(room, people):
    (student,) = people(1)
    for wrong in ("teacher-key-124", "", "x" * 300, KEY.upper()):
        r = student.http.post("/api/classroom/present", json={"key": wrong})
        assert r.status_code in (403, 422) and r.json()["detail"]
    assert student.http.post("/api/classroom/present", json={"key": 123}).status_code == 422
    assert student.http.get("/api/classroom").json()["you_present"] is False
    assert room.app.state.classroom.presenter.visitor is None
    # and a student is refused the presenter's routes
    r = student.http.post("/api/classroom/lock", json={"locked": True})
    assert r.status_code == 403 and "presenter key" in r.json()["detail"]
    assert student.http.post("/api/classroom/walkthrough", json={"open": True}).status_code == 403
    assert become_presenter(student)["you_present"] is True  # the right key does


def test_a_follower_sees_the_presenter_advance_and_cannot_send_commands(room, people):
    teacher, student = people(2)
    become_presenter(teacher)
    with ws_connect(room, additional_headers={"Cookie": f"{COOKIE}={teacher.cookie}"}) as t:
        t.next(type="hello")
        small_network(t)
        with follow_ws(student) as f:
            hello = f.next(type="hello")
            assert hello["config"]["sizes"] == [2, 3, 2]  # the presenter's network, not the student's own
            assert classroom_msg(f, lambda m: m["following"])["presenter"] is True
            assert classroom_msg(t, lambda m: m["followers"] == 1)["you_present"] is True  # the live count
            step(t, 3)
            f.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] >= 3)
            for command in ({"type": "step"}, {"type": "play"}, {"type": "set_params", "learning_rate": 0.9}, PLANE):
                reply = f.command(command)
                assert reply["type"] == "error" and "following the presenter" in reply["message"]
            # reads over HTTP with the follow header are the presenter's; changes are refused
            follow = {"X-Backprop-Follow": "1"}
            assert student.http.get("/api/state", headers=follow).json()["iteration"] == 3
            r = student.http.post("/api/undo", headers=follow)
            assert r.status_code == 409 and "following the presenter" in r.json()["detail"]
            assert student.state()["iteration"] == 0  # the student's own session never moved
            assert teacher.state()["iteration"] == 3 and teacher.state()["learning_rate"] != 0.9
        assert classroom_msg(t, lambda m: m["followers"] == 0)  # the follower left


def test_the_presenters_walkthrough_step_reaches_followers(room, people):
    teacher, student = people(2)
    become_presenter(teacher)
    with follow_ws(student) as f:
        classroom_msg(f, lambda m: m["following"])
        example = {"source": "test", "label": 1, "index": 4, "request": {"input": [0.1, -0.2]}}
        r = teacher.http.post("/api/classroom/walkthrough", json={"open": True, "step": 7, "phase": 3,
                                                                  "example": example})
        assert r.status_code == 200 and r.json()["followers"] == 1
        seen = classroom_msg(f, lambda m: m["walkthrough"] is not None)["walkthrough"]
        assert seen == {"open": True, "step": 7, "phase": 3, "example": example}
        assert student.http.get("/api/classroom", headers={"X-Backprop-Follow": "1"}).json()["walkthrough"] == seen
        # bad input: named, and nothing changes
        for bad in ({"open": True, "phase": 9}, {"open": "yes"}, {"open": True, "example": {"x": "y" * 40000}}):
            r = teacher.http.post("/api/classroom/walkthrough", json=bad)
            assert r.status_code == 422 and r.json()["detail"]
        assert room.app.state.classroom.presenter.walkthrough["step"] == 7
        teacher.http.post("/api/classroom/walkthrough", json={"open": False})
        classroom_msg(f, lambda m: m["walkthrough"] is None)


def test_copy_gives_the_student_the_presenters_parameters_exactly_then_it_trains_on_its_own(room, people):
    teacher, student = people(2)
    r = student.http.post("/api/classroom/copy")
    assert r.status_code == 409 and "no presenter" in r.json()["detail"]
    become_presenter(teacher)
    with ws_connect(room, additional_headers={"Cookie": f"{COOKIE}={teacher.cookie}"}) as t:
        t.next(type="hello")
        small_network(t)
        step(t, 4)
    assert teacher.http.post("/api/classroom/copy").status_code == 422  # the presenter's own already
    r = student.http.post("/api/classroom/copy")
    assert r.status_code == 200, r.text
    assert "iteration 4" in r.json()["copied"]
    theirs = checkpoint.from_bytes(teacher.http.get("/api/model").content)[0]
    mine = checkpoint.from_bytes(student.http.get("/api/model").content)[0]
    assert mine.sizes == theirs.sizes == [2, 3, 2]
    for a, b in zip(mine.weights + mine.biases, theirs.weights + theirs.biases):
        np.testing.assert_array_equal(a, b)
    with student.ws() as s:
        s.next(type="hello")
        step_to = s.command({"type": "step"})
        assert step_to["type"] == "ack"
        s.next(lambda m: m["type"] == "frame" and m["state"]["iteration"] >= 5)
    assert student.state()["iteration"] == 5 and teacher.state()["iteration"] == 4


def test_lock_refuses_a_students_commands_and_unlock_releases_them(room, people):
    teacher, student = people(2)
    become_presenter(teacher)
    with ws_connect(room, additional_headers={"Cookie": f"{COOKIE}={teacher.cookie}"}) as t:
        t.next(type="hello")
        own = student.ws()
        own.next(type="hello")
        assert classroom_msg(own)["following"] is False
        r = teacher.http.post("/api/classroom/lock", json={"locked": True})
        assert r.status_code == 200 and r.json()["locked"] is True
        # the student's own socket is told, then closed so that its page reconnects to the presenter
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                own.recv()
        assert closed.value.rcvd.code == CLOSE_FOLLOW_CHANGED
        with student.ws() as s:  # without ?follow=1: locked, it follows anyway
            status = classroom_msg(s)
            assert status["following"] is True and status["locked"] is True
            reply = s.command({"type": "step"})
            assert reply["type"] == "error" and "locked" in reply["message"]
            for path in ("/api/undo", "/api/classroom/copy"):
                r = student.http.post(path)
                assert r.status_code == 409 and "locked" in r.json()["detail"]
            assert classroom_msg(t, lambda m: m["followers"] == 1)
            teacher.http.post("/api/classroom/lock", json={"locked": False})
            with pytest.raises(ConnectionClosed) as closed:  # closed again: back to its own session
                while True:
                    s.recv()
            assert closed.value.rcvd.code == CLOSE_FOLLOW_CHANGED
        with student.ws() as s:
            assert classroom_msg(s)["following"] is False
            assert s.command({"type": "step"})["type"] == "ack"
        own.close()


def test_the_follower_count_counts_visitors_not_tabs(room, people):
    teacher, a, b = people(3)
    become_presenter(teacher)
    with ws_connect(room, additional_headers={"Cookie": f"{COOKIE}={teacher.cookie}"}) as t:
        with follow_ws(a) as a1, follow_ws(a) as a2:
            classroom_msg(t, lambda m: m["followers"] == 1)
            with follow_ws(b):
                classroom_msg(t, lambda m: m["followers"] == 2)
                assert teacher.http.get("/api/classroom").json()["followers"] == 2
            classroom_msg(t, lambda m: m["followers"] == 1)
            a1.close()
            a2.next(type="hello")
        classroom_msg(t, lambda m: m["followers"] == 0)
    poll(lambda: room.app.state.classroom.presenter.followers() == 0, TIMEOUT)


def test_the_presenter_key_is_kept_in_the_checkpoint_folder_or_given(tmp_path):
    from server.cli.serve import presenter_key

    first, lines = presenter_key(None, tmp_path)
    assert len(first) >= 32 and (tmp_path / "presenter-key").read_text().strip() == first
    assert presenter_key(None, tmp_path)[0] == first  # the same after a restart
    assert (tmp_path / "presenter-key").stat().st_mode & 0o077 == 0
    assert presenter_key("my-own-key", tmp_path)[0] == "my-own-key"


def test_the_page_refuses_what_the_server_would_refuse_a_follower_with_the_same_words():
    """static/js/net/api.js refuses a follower's changes itself (no 409 to log): its list of what a
    follower may send, and its sentences, are the server's."""
    import json
    import re
    from pathlib import Path

    from server.web import classroom as web_classroom
    from server.web.presenter import FOLLOWING, LOCKED

    source = (Path(__file__).parent.parent / "static/js/net/api.js").read_text()
    listed = re.search(r"const FOLLOW_SENDS = new Set\(\[(.*?)\]\)", source, re.S).group(1)
    assert set(json.loads(f"[{listed}]")) == web_classroom.FOLLOW_READS | web_classroom.OWN_ALWAYS
    assert f'const FOLLOWING = "{FOLLOWING}";' in source
    assert f'const LOCKED = "{LOCKED}";' in source


def test_a_locked_students_own_session_is_kept_while_they_follow_and_put_away_when_they_leave(classroom):  # noqa: F811
    """Following (locked) keeps the student's own seat: their open page holds it (it is never idle), and
    unlocked they are back on their own network as they left it. Closed while locked, the page lets it
    be saved and put away like any idle seat, and it resumes, unchanged, when they return."""
    srv = classroom(presenter_key=KEY, idle_minutes=10)
    teacher, student = Visitor(srv), Visitor(srv)
    try:
        teacher.open(), student.open()
        become_presenter(teacher)
        with ws_connect(srv, additional_headers={"Cookie": f"{COOKIE}={teacher.cookie}"}) as t:
            t.next(type="hello")
            with student.ws() as own:
                own.next(type="hello")
                step(own, 3)
            seat = seat_of(srv, student)
            assert teacher.http.post("/api/classroom/lock", json={"locked": True}).status_code == 200
            with student.ws() as s:  # locked: the page follows
                assert classroom_msg(s)["following"] is True
                seat.last_seen -= 11 * 60  # ten minutes of following
                srv.call(srv.app.state.classroom.tidy)
                assert seat_of(srv, student) is seat and seat.session.alive  # kept: the page is open
                teacher.http.post("/api/classroom/lock", json={"locked": False})
            with student.ws() as s:
                assert s.next(type="hello")["state"]["iteration"] == 3  # their own, as they left it
                assert classroom_msg(s)["following"] is False
            # locked again, and the student closes the page: their seat is saved and put away
            teacher.http.post("/api/classroom/lock", json={"locked": True})
            with student.ws() as s:
                classroom_msg(s, lambda m: m["following"])
            poll(lambda: seat.connections == 0, what="the socket to close")
            pid = seat.session.pid
            seat.last_seen -= 11 * 60
            srv.call(srv.app.state.classroom.tidy)
            assert seat_of(srv, student) is None and (seat.folder / "autosave.npz").is_file()
            assert classroom_msg(t, lambda m: m["followers"] == 0)["presenter"] is True  # the presenter is not
            # they come back, still locked: they follow; unlocked, their own resumes from its save
            assert student.open().status_code == 200
            with student.ws() as s:
                assert classroom_msg(s)["following"] is True
                teacher.http.post("/api/classroom/lock", json={"locked": False})
            assert student.state()["iteration"] == 3 and seat_of(srv, student).session.pid != pid
    finally:
        teacher.close(), student.close()

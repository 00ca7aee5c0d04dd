"""Hosting on a LAN: the addresses students can use, the token (--token, kept across restarts), and
what the server prints at start."""

from __future__ import annotations

import io
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from server.cli import addresses, token as token_file
from server.cli.addresses import Address
from server.cli.serve import access_token, print_addresses
from server.cli.args import UsageError

from browser_helpers import LiveServer

pytest_plugins = ["conftest_server"]
ROOT = Path(__file__).resolve().parent.parent

# A classroom laptop: Wi-Fi (the default route), a wired link, Docker's bridge, loopback, link-local v6.
FOUND = [
    Address("192.168.1.23", default_route=True),
    Address("127.0.0.1", "lo"),
    Address("172.17.0.1", "docker0"),
    Address("10.0.0.7", "eth0"),
    Address("192.168.1.23", "wlan0"),
    Address("169.254.3.4", "eth1"),
    Address("fe80::1", "wlan0"),
    Address("2001:db8::23", "wlan0"),
    Address("::1", "lo"),
    Address("0.0.0.0"),
    Address("224.0.0.1", "wlan0"),
    Address("not an address"),
]


# ----- addresses --------------------------------------------------------------------------------------
def test_a_wildcard_bind_lists_every_usable_ipv4_address_the_default_route_first():
    listed = addresses.student_addresses("0.0.0.0", FOUND)
    # one entry per address; its name from whichever source knew it; loopback, multicast, v6 left out
    assert [(a.ip, a.interface) for a in listed] == [
        ("192.168.1.23", "wlan0"),  # the default route's, first
        ("10.0.0.7", "eth0"),
        ("169.254.3.4", "eth1"),  # link-local: after the real ones
        ("172.17.0.1", "docker0"),  # a container bridge: last
    ]
    assert listed[0].url(8000, "T0k3n-abc") == "http://192.168.1.23:8000/?token=T0k3n-abc"


def test_binding_ipv6_everywhere_adds_the_global_ipv6_addresses_in_brackets():
    listed = addresses.student_addresses("::", FOUND)
    v6 = [a for a in listed if a.version == 6]
    assert [a.ip for a in v6] == ["2001:db8::23"]  # fe80:: needs a zone id a browser cannot take; ::1 is loopback
    assert v6[0].url(8000, "tok") == "http://[2001:db8::23]:8000/?token=tok"
    assert listed[0].ip == "192.168.1.23"  # Linux binds :: dual-stack: IPv4 too, first


@pytest.mark.parametrize("host,expected", [
    ("192.168.1.23", ["192.168.1.23"]),  # bound to one address: that one
    ("lab.example.org", ["lab.example.org"]),  # a host name: the students' machines resolve it
    ("127.0.0.1", []),
    ("localhost", []),
    ("::1", []),
])
def test_a_specific_bind_lists_only_itself(host, expected):
    assert [a.ip for a in addresses.student_addresses(host, FOUND)] == expected


def test_interfaces_are_read_with_the_ioctl_and_proc(monkeypatch, tmp_path):
    """The Linux sources, with mocked interfaces: SIOCGIFADDR per interface, /proc/net/if_inet6."""
    import fcntl

    table = {"lo": "127.0.0.1", "wlan0": "192.168.1.23", "docker0": "172.17.0.1"}  # "tun0" has no IPv4

    def ioctl(fd, request, arg):
        assert request == addresses.SIOCGIFADDR
        name = arg[:16].rstrip(b"\0").decode()
        if name not in table:
            raise OSError(99, "Cannot assign requested address")
        return arg[:20] + socket.inet_aton(table[name]) + arg[24:]

    monkeypatch.setattr(socket, "if_nameindex", lambda: [(1, "lo"), (2, "wlan0"), (3, "tun0"), (4, "docker0")])
    monkeypatch.setattr(fcntl, "ioctl", ioctl)
    assert addresses.ipv4_by_interface() == [Address(ip, name) for name, ip in table.items()]

    proc = tmp_path / "if_inet6"
    proc.write_text(
        "fe800000000000000000000000000001 03 40 20 80    wlan0\n"  # link scope
        "20010db8000000000000000000000023 03 40 00 00    wlan0\n"  # global
        "00000000000000000000000000000001 01 80 10 80       lo\n"  # host scope
        "garbage\n")
    assert addresses.ipv6_by_interface(str(proc)) == [Address("2001:db8::23", "wlan0")]
    assert addresses.ipv6_by_interface(str(tmp_path / "missing")) == []  # not Linux: no error, nothing


def test_every_address_listed_here_is_really_this_machines():
    """On this machine: each address printed for a wildcard bind can be bound (so it is a local one)."""
    listed = addresses.student_addresses("::")
    assert all(addresses.usable(a.ip) for a in listed)
    for a in listed:
        family = socket.AF_INET6 if a.version == 6 else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((a.ip, 0))


# ----- what the server prints -------------------------------------------------------------------------
class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_start_up_lines_name_this_machine_then_every_student_address_with_the_token():
    out = io.StringIO()
    url, students = print_addresses("0.0.0.0", 8000, "Tok3n_xyz", ["the token is kept in X"], None, out, FOUND)
    assert [a.ip for a in students] == ["192.168.1.23", "10.0.0.7", "169.254.3.4", "172.17.0.1"]
    lines = out.getvalue().splitlines()
    assert url == "http://127.0.0.1:8000/?token=Tok3n_xyz"
    assert lines[0] == "Backprop Lab is running at http://127.0.0.1:8000/?token=Tok3n_xyz (this machine)"
    assert lines[1] == "Students open one of these (each carries the token):"
    assert lines[2] == "  http://192.168.1.23:8000/?token=Tok3n_xyz   (wlan0)"
    assert lines[3:6] == ["  http://10.0.0.7:8000/?token=Tok3n_xyz   (eth0)",
                          "  http://169.254.3.4:8000/?token=Tok3n_xyz   (eth1)",
                          "  http://172.17.0.1:8000/?token=Tok3n_xyz   (docker0)"]
    assert lines[6:] == ["the token is kept in X"]  # no QR code when not printing to a terminal


def test_a_qr_code_of_the_first_address_on_a_terminal_or_when_asked():
    out = Terminal()
    print_addresses("0.0.0.0", 8000, "Tok3n_xyz", [], None, out, FOUND)
    text = out.getvalue()
    assert "Scan for http://192.168.1.23:8000/?token=Tok3n_xyz:" in text
    assert text.count("\n") > 15 and "█" in text
    out = Terminal()
    print_addresses("0.0.0.0", 8000, "Tok3n_xyz", [], False, out, FOUND)  # --no-qr
    assert "█" not in out.getvalue()
    out = io.StringIO()
    print_addresses("0.0.0.0", 8000, "Tok3n_xyz", [], True, out, FOUND)  # --qr
    assert "█" in out.getvalue()


def test_loopback_prints_one_line_and_no_address_found_says_so():
    out = Terminal()
    print_addresses("127.0.0.1", 8000, None, ["checkpoints and autosaves: X"], None, out, FOUND)
    assert out.getvalue() == "Backprop Lab is running at http://127.0.0.1:8000/\ncheckpoints and autosaves: X\n"
    out = io.StringIO()
    print_addresses("0.0.0.0", 8000, "Tok3n_xyz", [], True, out, [Address("127.0.0.1", "lo")])
    assert "No network address found: students cannot reach this machine" in out.getvalue()
    assert "█" not in out.getvalue()


# ----- the token --------------------------------------------------------------------------------------
def test_the_token_is_kept_in_the_checkpoint_folder_owner_only(tmp_path):
    folder = tmp_path / "new" / "checkpoints"  # not there yet: made
    first, path, note = token_file.stable_token(folder)
    assert path == folder / "server-token" and note is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert token_file.TOKEN_RE.match(first) and len(first) >= 32
    again, _, _ = token_file.stable_token(folder)
    assert again == first
    assert [p.name for p in folder.iterdir()] == ["server-token"]  # no temporary file left behind


def test_a_token_file_readable_by_others_is_made_private(tmp_path):
    path = tmp_path / "server-token"
    path.write_text("class-7b-physics\n")
    os.chmod(path, 0o644)
    token, _, note = token_file.stable_token(tmp_path)
    assert token == "class-7b-physics"
    assert "was readable by others (mode 644): now 0600" in note
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_broken_token_file_is_replaced_and_an_unwritable_folder_still_serves(tmp_path):
    path = tmp_path / "server-token"
    path.write_text("no good\n")
    token, kept, note = token_file.stable_token(tmp_path)
    assert kept == path and path.read_text().strip() == token != "no good"
    assert "does not hold a valid token" in note
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    token, kept, note = token_file.stable_token(blocked / "checkpoints")  # cannot be created
    assert kept is None and token_file.TOKEN_RE.match(token)
    assert note.startswith("the token is not kept: cannot write")


def test_two_servers_sharing_the_folder_agree_on_one_token(tmp_path):
    results = []
    barrier = threading.Barrier(8)

    def start():
        barrier.wait()
        results.append(token_file.stable_token(tmp_path)[0])

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and results[0] == (tmp_path / "server-token").read_text().strip()


@pytest.mark.parametrize("given,ok", [
    ("class-7b-physics", True), ("A" * 128, True), ("a.b~c_d-e", True),
    ("short", False), ("A" * 129, False), ("has space", False), ("slash/es", False), ("amp&er", False),
])
def test_token_option_rules(given, ok, tmp_path):
    if ok:
        assert access_token("0.0.0.0", given, tmp_path)[0] == given
        assert not (tmp_path / "server-token").exists()  # a given token is never written
    else:
        with pytest.raises(UsageError, match="--token must be 8 to 128 letters"):
            access_token("0.0.0.0", given, tmp_path)


def test_loopback_has_no_token_unless_one_is_given(tmp_path):
    assert access_token("127.0.0.1", None, tmp_path) == (None, [])
    assert access_token("127.0.0.1", "my-own-token", tmp_path)[0] == "my-own-token"
    assert not (tmp_path / "server-token").exists()


def test_a_bad_token_option_is_one_line_before_anything_starts(tmp_path):
    run = subprocess.run([sys.executable, "-m", "server", "--host", "0.0.0.0", "--port", "0", "--token", "x y",
                          "--checkpoint-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "error: --token must be 8 to 128 letters, digits, '-', '_', '.' or '~'; got 3 characters"]
    assert list(tmp_path.iterdir()) == []


def test_a_start_that_fails_writes_no_token(tmp_path):
    folder = tmp_path / "checkpoints"
    run = subprocess.run([sys.executable, "-m", "server", "--host", "0.0.0.0", "--port", "0", "--checkpoint-dir",
                          str(folder), "--load", str(tmp_path / "missing.npz")], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2 and "no such checkpoint file" in run.stderr
    assert not folder.exists()


def test_a_restarted_server_keeps_its_token_and_token_fixes_it(tmp_path):
    """Bound beyond loopback: a restart in the same checkpoint folder keeps the token (open tabs keep
    working); --token sets one and the kept one is untouched."""
    srv = LiveServer(host="0.0.0.0", extra_args=["--checkpoint-dir", tmp_path, "--no-autosave"])
    try:
        srv.start()
        first = srv.token
        assert first and (tmp_path / "server-token").read_text().strip() == first
        log = srv.log_path.read_text()
        assert "Students open one of these (each carries the token):" in log
        assert f"the token is kept in {tmp_path / 'server-token'}" in log
        srv.restart()
        assert srv.token == first
        srv.stop()
        srv.extra_args += ["--token", "class-7b-physics"]
        srv.start()
        assert srv.token == "class-7b-physics"
        assert (tmp_path / "server-token").read_text().strip() == first
        assert "the token is the one given with --token" in srv.log_path.read_text()
    finally:
        srv.stop()


# ----- a page whose token is refused --------------------------------------------------------------------
def test_a_socket_with_a_wrong_token_is_closed_with_4401_and_a_bad_origin_still_with_1008(test_client):
    """The page of a server that restarted with another token can tell (4401, after the handshake: a
    browser sees a refused handshake only as 1006) and stops reconnecting; Host and Origin checks still
    refuse the handshake itself."""
    from starlette.websockets import WebSocketDisconnect

    from server.web.guard import Guard

    with test_client(guard=Guard(token="the-right-token")) as c:
        for query in ("?token=an-old-token", ""):
            with pytest.raises(WebSocketDisconnect) as e:
                with c.websocket_connect("/ws" + query) as ws:
                    ws.receive_bytes()  # nothing comes: the socket is closed at once
            assert e.value.code == 4401 and "new token" in e.value.reason
        with pytest.raises(WebSocketDisconnect) as e:
            with c.websocket_connect("/ws?token=an-old-token", headers={"origin": "http://evil.example"}) as ws:
                ws.receive()
        assert e.value.code == 1008
        with c.websocket_connect("/ws?token=the-right-token") as ws:
            assert ws.receive_bytes()  # the hello
        # the page itself: a wrong token is an old link, a missing one a half-copied address
        old = c.get("/?token=an-old-token")
        assert old.status_code == 401 and "This server restarted with a new address or token" in old.text
        bare = c.get("/")
        assert bare.status_code == 401 and "This server needs its token" in bare.text


def test_the_page_knows_the_student_addresses_and_whether_the_session_is_shared(test_client):
    """The Share button's links use an address students can reach (serve passes the printed ones)."""
    with test_client(share_hosts=("192.168.1.23:8000", "[2001:db8::23]:8000")) as c:
        page = c.get("/").text
        assert '<meta name="backprop-share-hosts" content="192.168.1.23:8000 [2001:db8::23]:8000">' in page
        assert '<meta name="backprop-shared" content="1">' in page

"""The addresses students can use to reach this machine: one per non-loopback network interface.

Found with the standard library only (no psutil, no `ip` command), from several sources, each of which
may fail on some system without harming the others:

- each interface's IPv4 address (``socket.if_nameindex`` and the ``SIOCGIFADDR`` ioctl; Linux),
- each interface's IPv6 addresses of global scope (``/proc/net/if_inet6``; Linux),
- the address the kernel would send from towards the wider network (a UDP socket ``connect``ed to a
  documentation address: nothing is sent), which is usually the one a classroom's Wi-Fi gave,
- whatever the host name resolves to (``socket.getaddrinfo(socket.gethostname())``).

Loopback, unspecified and IPv6 link-local addresses (which need a zone id a browser cannot take) are
left out. The address of the default route comes first; virtual interfaces (containers, bridges) last.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from dataclasses import dataclass

SIOCGIFADDR = 0x8915  # Linux: an interface's (primary) IPv4 address
IF_INET6 = "/proc/net/if_inet6"
# Where nothing is ever sent: connect() on a UDP socket only asks the kernel which source address it would use.
PROBE_V4 = ("192.0.2.1", 9)  # TEST-NET-1 (RFC 5737)
PROBE_V6 = ("2001:db8::1", 9)  # the documentation prefix (RFC 3849)
VIRTUAL_PREFIXES = ("docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "cni", "flannel", "tun", "tap", "zt", "lxc")
WILDCARDS = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class Address:
    ip: str
    interface: str = ""  # "" when the source does not say
    default_route: bool = False  # the kernel's choice towards the wider network

    @property
    def version(self) -> int:
        return 6 if ":" in self.ip else 4

    def url(self, port: int, token: str | None = None) -> str:
        host = f"[{self.ip}]" if self.version == 6 else self.ip
        return f"http://{host}:{port}/" + (f"?token={token}" if token else "")


def usable(ip: str) -> bool:
    """Can another machine reach this address (as far as this machine can tell)?"""
    try:
        a = ipaddress.ip_address(ip.split("%")[0])
    except ValueError:
        return False
    if a.is_loopback or a.is_unspecified or a.is_multicast:
        return False
    if a.version == 6 and (a.is_link_local or (a.ipv4_mapped is not None)):
        return False
    return True


# ----- the sources ----------------------------------------------------------------------------------
def ipv4_by_interface() -> list[Address]:
    """Each interface's IPv4 address (Linux's SIOCGIFADDR; elsewhere, or on any failure: none)."""
    try:
        import fcntl
    except ImportError:  # not a Unix
        return []
    out = []
    try:
        names = socket.if_nameindex()
    except OSError:
        return []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _, name in names:
            try:
                answer = fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            except OSError:  # no IPv4 address on this interface (or not Linux)
                continue
            out.append(Address(socket.inet_ntoa(answer[20:24]), name))
    return out


def ipv6_by_interface(path: str = IF_INET6) -> list[Address]:
    """Each interface's IPv6 addresses of global scope, from ``/proc/net/if_inet6`` (Linux)."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) < 6 or len(parts[0]) != 32:
            continue
        scope = int(parts[3], 16)
        if scope != 0:  # 0x00 global; 0x20 link, 0x10 host (loopback)
            continue
        try:
            ip = str(ipaddress.IPv6Address(bytes.fromhex(parts[0])))
        except ValueError:
            continue
        out.append(Address(ip, parts[5]))
    return out


def default_route(family: int = socket.AF_INET) -> list[Address]:
    """The source address of the route to the wider network (a UDP connect sends nothing)."""
    probe = PROBE_V4 if family == socket.AF_INET else PROBE_V6
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect(probe)
            return [Address(s.getsockname()[0], default_route=True)]
    except OSError:  # no route (offline, or no IPv6)
        return []


def by_host_name() -> list[Address]:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None)
    except OSError:
        return []
    return [Address(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]


def local_addresses(ipv6: bool = False) -> list[Address]:
    """Every address of this machine, from every source (duplicates included: see ``student_addresses``)."""
    found = default_route(socket.AF_INET) + ipv4_by_interface()
    if ipv6:
        found += default_route(socket.AF_INET6) + ipv6_by_interface()
    return found + by_host_name()


# ----- what to print --------------------------------------------------------------------------------
def merge(found: list[Address], ipv6: bool = False) -> list[Address]:
    """One entry per usable address (its interface name and default-route flag from whichever source
    knew them), the default route's first, then real interfaces, then virtual ones, IPv4 before IPv6."""
    merged: dict[str, Address] = {}
    for a in found:
        ip = a.ip.split("%")[0]
        if not usable(ip) or (ipaddress.ip_address(ip).version == 6 and not ipv6):
            continue
        old = merged.get(ip)
        merged[ip] = Address(ip, (old.interface if old else "") or a.interface,
                             (old.default_route if old else False) or a.default_route)

    def order(a: Address):
        virtual = a.interface.startswith(VIRTUAL_PREFIXES)
        link_local = ipaddress.ip_address(a.ip).is_link_local
        return (not a.default_route, virtual, link_local, a.version, a.interface or "~", a.ip)

    return sorted(merged.values(), key=order)


def is_wildcard(host: str) -> bool:
    return host in WILDCARDS


def student_addresses(host: str, found: list[Address] | None = None) -> list[Address]:
    """The addresses to print for a server bound to ``host``: every usable local address for a wildcard
    bind (IPv6 ones too for ``::``, which Linux binds dual-stack), else ``host`` itself when usable."""
    if not is_wildcard(host):
        try:
            ipaddress.ip_address(host)
        except ValueError:  # a host name: the students' machines resolve it
            return [] if host == "localhost" else [Address(host)]
        return [Address(host)] if usable(host) else []
    ipv6 = host == "::"
    return merge(local_addresses(ipv6) if found is None else found, ipv6)

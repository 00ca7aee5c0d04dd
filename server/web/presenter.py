"""The presenter of a classroom: the teacher's page, known by the presenter key, whom students can follow
(a read-only live view of the presenter's session, its walkthrough step included), copy (the presenter's
network into their own session), and be locked to follow.

State kept here, in the web process (one replica's; a presenter and their class use one replica, which
cookie affinity gives them): which visitor presents (the key of the visitor who last gave the presenter
key), whether the class is locked, the walkthrough step the presenter's page published, and every open
classroom socket, to tell each one the room's state in a ``classroom`` message when it changes. A lock
change closes (code 4003) the sockets whose view it changes; their pages reconnect to the right session.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections import Counter
from dataclasses import dataclass, field

CLOSE_FOLLOW_CHANGED = 4003  # websocket close: the presenter locked or unlocked the class (reconnect)
LOCKED = ("the presenter has locked the class to follow them: your own session cannot be changed until "
          "they unlock it")
FOLLOWING = "you are following the presenter: go back to your network to change it"
NO_PRESENTER = "there is no presenter yet: the teacher opens the page with the presenter key"


@dataclass(eq=False)
class Member:
    """One open classroom socket: whose it is, and whether it shows the presenter's session."""

    visitor: str
    viewer: object  # the socket's Viewer (send_text, ws)
    asked_follow: bool  # the page asked to follow (?follow=1)
    following: bool  # it streams the presenter's session
    greeting: object = None  # the task that tells it the room's state once its hello is sent


@dataclass
class Presenter:
    key: str | None  # the presenter key (None: nobody can present)
    visitor: str | None = None  # the visitor key of the presenter
    locked: bool = False
    walkthrough: dict | None = None  # what the presenter's walkthrough shows (published by their page)
    members: set = field(default_factory=set)

    # ----- who -----------------------------------------------------------------------------------
    def key_ok(self, given: str | None) -> bool:
        return bool(self.key) and isinstance(given, str) and hmac.compare_digest(given.encode(), self.key.encode())

    def is_presenter(self, visitor: str | None) -> bool:
        return visitor is not None and visitor == self.visitor

    def claim(self, visitor: str) -> None:
        if self.visitor != visitor:
            self.walkthrough = None
        self.visitor = visitor

    def is_locked(self, visitor: str | None, present: bool = True) -> bool:
        """Is this visitor locked to follow (there is a presenter, ``present``: their seat is live)?"""
        return self.locked and present and self.visitor is not None and not self.is_presenter(visitor)

    def followers(self) -> int:
        """How many visitors (not sockets) follow the presenter now."""
        return len({m.visitor for m in self.members if m.following and not self.is_presenter(m.visitor)})

    # ----- telling the pages ---------------------------------------------------------------------
    def status(self, visitor: str | None, following: bool = False, present: bool = True) -> dict:
        me = self.is_presenter(visitor)
        return {
            "type": "classroom",
            "presenter": self.visitor is not None and present,
            "you_present": me,
            "following": following,
            "locked": self.locked,
            "followers": self.followers(),
            "walkthrough": self.walkthrough if (following or me) else None,
        }

    async def announce(self, present: bool = True) -> None:
        """Send every open classroom socket the room's state (a ``classroom`` message)."""
        sends = [self._tell(m, present) for m in list(self.members)]
        if sends:
            await asyncio.gather(*sends)

    async def _tell(self, member: Member, present: bool) -> None:
        with contextlib.suppress(Exception):  # a socket going away: its own loop ends it
            await asyncio.wait_for(member.viewer.send_text(self.status(member.visitor, member.following, present)), 5)

    async def relock(self, present: bool = True) -> None:
        """After a lock change: close the sockets whose view changes (they reconnect to the right one)."""
        for m in list(self.members):
            if self.is_presenter(m.visitor):
                continue
            should_follow = m.asked_follow or self.is_locked(m.visitor, present)
            if should_follow != m.following:
                reason = "the presenter locked the class: following them" if should_follow else \
                    "the presenter unlocked the class"
                with contextlib.suppress(Exception):
                    await m.viewer.ws.close(code=CLOSE_FOLLOW_CHANGED, reason=reason)

    def counts(self) -> Counter:
        return Counter(m.visitor for m in self.members if m.following)

"""Connection state as a transport reports it, in words a dispatcher understands."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Phase(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting"  # backing off before the next attempt
    REFUSED = "refused"  # the broker answered and said no (credentials, client id…)


@dataclass(frozen=True, slots=True)
class ConnectionState:
    phase: Phase
    reason: str = ""
    retry_in: float | None = None  # seconds until the next attempt, when WAITING
    attempt: int = 0
    refused: bool = False  # WAITING after the broker said no: still a refusal, shown red
    # WAITING because the server's TLS certificate failed verification (self-signed, another
    # host's, expired): retrying cannot help until a certificate or a setting changes, so a
    # program that has to give up (`record`) gives up at once; the window keeps trying.
    untrusted: bool = False

    def why(self) -> str:
        """What went wrong, without the countdown ("refused: bad username or password")."""
        if self.phase is Phase.WAITING:
            return f"refused: {self.reason}" if self.refused else self.reason
        return self.describe()

    def describe(self) -> str:
        if self.phase is Phase.CONNECTED:
            return "connected"
        if self.phase is Phase.CONNECTING:
            return "connecting…" if self.attempt <= 1 else f"connecting (attempt {self.attempt})…"
        if self.phase is Phase.WAITING:
            why = f"{self.reason}; " if self.reason else ""
            if self.refused:
                why = f"refused: {why}"
            return f"{why}retrying in {self.retry_in:.0f} s"
        if self.phase is Phase.REFUSED:
            return f"refused: {self.reason}"
        return f"disconnected: {self.reason}" if self.reason else "disconnected"

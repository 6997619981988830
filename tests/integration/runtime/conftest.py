"""Real services for the runtime tests: an SMTP server (aiosmtpd) on loopback (Redis: the
``redis_url`` fixture of ``tests/conftest.py``)."""

from __future__ import annotations

import email
import email.message
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.helpers import free_port


@dataclass
class Mailbox:
    """What the SMTP server received; ``start()``/``stop()`` bring it up and down on one port."""

    port: int
    messages: list[email.message.Message] = field(default_factory=list)
    controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"

    @property
    def message_ids(self) -> list[str]:
        return [str(message["Message-ID"]) for message in self.messages]

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A running aiosmtpd server on a free loopback port, recording every message."""
    box = Mailbox(port=free_port())
    box.start()
    try:
        yield box
    finally:
        box.stop()

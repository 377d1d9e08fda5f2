"""SMTP servers on the loopback that misbehave on purpose (aiosmtpd): used by the delivery tests and bench/faults.py.

`FaultyServer(FaultyInbox(...))` listens on 127.0.0.1 on a free port. Each
connection takes the next entry of the inbox's `script`, a (stage, reply)
pair: the server answers `reply` at that stage (connect, helo, mail, rcpt,
data) and otherwise behaves. With the script used up, conversations succeed.
`greylist=True` answers 451 at RCPT the first time each address is seen, as
greylisting servers do. `slow_stage`/`delay` make one stage slow: "rcpt"
sleeps before accepting the address (nothing delivered yet), "data" keeps the
message and then sleeps before saying so (a client that dies meanwhile never
learns it was delivered).
"""

import asyncio
import collections
import email
import email.policy
import socket
import threading
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

STAGES = ("connect", "helo", "mail", "rcpt", "data")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smtp_mailers(port, timeout=5):
    """A MAILERS setting sending through 127.0.0.1:`port`."""
    return {"default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": timeout},
    }}


@dataclass(frozen=True)
class Received:
    to: tuple
    message_id: str
    subject: str


class FaultyInbox:
    def __init__(self, script=(), greylist=False, slow_stage=None, delay=0.0):
        self.script = collections.deque(script)
        self.greylist, self.greylisted = greylist, set()
        self.slow_stage, self.delay = slow_stage, delay
        self.received = []
        self.conversations = 0
        self.slow_now = 0  # conversations in the slow stage right now
        self.lock = threading.Lock()

    def next_fault(self):
        with self.lock:
            self.conversations += 1
            return self.script.popleft() if self.script else None

    def message_ids(self):
        with self.lock:
            return [r.message_id for r in self.received]

    @staticmethod
    def _fault(server, stage):
        fault = getattr(server, "fault", None)
        return fault[1] if fault and fault[0] == stage else None

    async def _slow(self, stage):
        if self.slow_stage != stage or not self.delay:
            return
        with self.lock:
            self.slow_now += 1
        try:
            await asyncio.sleep(self.delay)
        finally:
            with self.lock:
                self.slow_now -= 1

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if reply := self._fault(server, "helo"):
            return [reply]
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        if reply := self._fault(server, "helo"):
            return reply
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if reply := self._fault(server, "mail"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if reply := self._fault(server, "rcpt"):
            return reply
        if self.greylist:
            with self.lock:
                first_time = address not in self.greylisted
                self.greylisted.add(address)
            if first_time:
                return "451 4.7.1 Greylisted, please try again later"
        await self._slow("rcpt")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if reply := self._fault(server, "data"):
            return reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append(Received(tuple(envelope.rcpt_tos), message["Message-ID"], message["Subject"]))
        await self._slow("data")
        return "250 Message accepted for delivery"


class _RefuseConnection(asyncio.Protocol):
    """Answers the connection with a refusal instead of the 220 greeting, then hangs up."""

    def __init__(self, reply):
        self.reply = reply

    def connection_made(self, transport):
        transport.write(f"{self.reply}\r\n".encode())
        transport.close()


class FaultyServer(Controller):
    def __init__(self, inbox):
        super().__init__(inbox, hostname="127.0.0.1", port=free_port())
        self.armed = False  # start() opens one connection of its own to check the server: not a conversation

    def factory(self):
        fault = self.handler.next_fault() if self.armed else None
        if fault and fault[0] == "connect":
            return _RefuseConnection(fault[1])
        server = SMTP(self.handler, **self.SMTP_kwargs)
        server.fault = fault
        return server

    def start(self):
        super().start()
        self.armed = True

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


class SilentServer:
    """Accepts TCP connections (the kernel does) and never says a word: the client's timeout fires."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.port = self.socket.getsockname()[1]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.socket.close()

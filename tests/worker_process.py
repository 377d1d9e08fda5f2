"""A real Celery worker in a process of its own (deploy/Procfile's `worker` command), to be killed and restarted.

Used by tests/test_reminders_worker_crash.py and bench/faults.py. The worker
runs the production settings against the database and broker given, sends
through an SMTP server on the loopback, and consumes one queue of its own. It
runs in its own process group, so SIGKILL takes the pool's children with it,
as when a host or container dies.
"""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from celery import Celery
from kombu import Exchange, Queue

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SEND_TASK = "tracker.reminders.tasks.send_reminder"
# Variables of the test run that must not leak into the worker's production settings.
LEAKY = {"DEBUG", "TRACKER_INSECURE_DEV_KEY", "EMAIL_BACKEND", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE",
         "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"}


def database_url(settings_dict):
    s = settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def worker_command(queue, concurrency, pool="prefork"):
    for line in (ROOT / "deploy" / "Procfile").read_text().splitlines():
        if line.startswith("worker:"):
            argv = shlex.split(line.split(":", 1)[1])
            break
    else:
        raise AssertionError("no 'worker' line in deploy/Procfile")
    return [str(BIN / argv[0]), *argv[1:], "--queues", queue, "--concurrency", str(concurrency),
            "--pool", pool, "--hostname", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]


class WorkerProcess:
    def __init__(self, *, database_url, broker_url, smtp_port, queue, log_path, lease_seconds, visibility_seconds,
                 concurrency=2):
        self.queue, self.log_path, self.concurrency = queue, Path(log_path), concurrency
        self.env = {k: v for k, v in os.environ.items() if k not in LEAKY and not k.startswith("CELERY_")}
        self.env.update({
            "DJANGO_SETTINGS_MODULE": "tracker.settings",
            "SECRET_KEY": "worker-crash-test-" + "w" * 50,
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_VISIBILITY_TIMEOUT": str(visibility_seconds),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_TIMEOUT": "10",
            "REMINDER_SEND_LEASE_SECONDS": str(lease_seconds),
            "LOG_LEVEL": "INFO",
        })
        self.producer = Celery("worker-process-producer", set_as_current=False)
        # An explicit URL: Celery would otherwise take the CELERY_BROKER_URL of this process's environment.
        self.connection = self.producer.connection_for_write(broker_url)
        self.proc = None
        self.starts = 0

    def start(self, timeout=60):
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"\n===== start {self.starts} =====\n".encode())
        log.flush()
        offset = log.tell()
        self.proc = subprocess.Popen(worker_command(self.queue, self.concurrency), cwd=ROOT, env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log_path.read_bytes()[offset:]:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the worker did not start:\n{self.log()}")
            time.sleep(0.05)

    def send(self, reminder_id, attempt=1):
        self.producer.send_task(SEND_TASK, args=(reminder_id, attempt), queue=self.queue, connection=self.connection)

    def kill(self):
        """SIGKILL to the worker and its pool: nothing gets to finish, acknowledge or record anything."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self):
        """A warm shutdown (SIGTERM): tasks running finish; unacknowledged messages go back to the queue."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def close(self):
        """Stop the worker and remove what the broker still holds for its queue: the queue, and tasks a killed
        worker took that were not handed back yet (else a later worker on this Redis database would)."""
        self.stop()
        with self.connection as conn:
            channel = conn.default_channel
            for tag, raw in channel.client.hgetall(channel.unacked_key).items():
                _message, _exchange, routing_key = json.loads(raw)
                if routing_key == self.queue:
                    channel.client.zrem(channel.unacked_index_key, tag)
                    channel.client.hdel(channel.unacked_key, tag)
            # Declared here so this connection knows its bindings: queue_delete removes only what it knows of.
            queue = Queue(self.queue, Exchange(self.queue), routing_key=self.queue)(channel)
            queue.declare()
            queue.delete()
        self.producer.close()

    def log(self):
        return self.log_path.read_text(errors="replace")[-5000:]

"""Gunicorn settings for the web process, all overridable from the environment.

Start from the project directory with:  gunicorn --config gunicorn.conf.py
(the Django settings themselves come from the environment, see deploy/tracker.env.sample).
"""

import multiprocessing
import os

wsgi_app = "tracker.wsgi:application"
# Run from the project directory wherever the command is started from.
chdir = os.path.dirname(os.path.abspath(__file__))

# Behind the reverse proxy: listen on the loopback only unless told otherwise.
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:" + os.environ.get("PORT", "8000"))]

# Requests are short and mostly database-bound: a few processes with a few threads each.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10

# The proxy on the same host sets X-Forwarded-*; list other proxies' addresses here.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "tracker-web"

# Heartbeat files on tmpfs: a slow disk must not get workers killed as "silent".
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

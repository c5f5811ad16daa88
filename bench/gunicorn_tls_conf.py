"""gunicorn configuration for the benchmark's direct TLS baseline (bench/ingest.py --via-nginx).

gunicorn's own TLS (`--certfile`/`--keyfile`) builds a new SSL context for every connection: it reads
and parses the key file each time and can never resume a TLS session (each context has its own
session-ticket key). That would flatter nginx. This hook gives gunicorn the best TLS it can have: one
context, built in the master before the workers fork, so every worker shares its certificate, its
settings and its session-ticket key; a client offering an earlier session is resumed whichever
worker it reaches. Used as `gunicorn -c bench/gunicorn_tls_conf.py --certfile … --keyfile …`.
"""

from __future__ import annotations

import ssl

_shared_context: ssl.SSLContext | None = None


def _build(conf) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # as the role's nginx: TLS 1.2 and 1.3
    context.load_cert_chain(certfile=conf.certfile, keyfile=conf.keyfile)
    context.verify_mode = ssl.CERT_NONE
    return context


def when_ready(server) -> None:  # in the master, before the workers fork
    global _shared_context
    _shared_context = _build(server.cfg)


def ssl_context(conf, default_ssl_context_factory):  # per connection, in a worker
    return _shared_context if _shared_context is not None else _build(conf)

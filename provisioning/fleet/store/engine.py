"""The store's engine: SQLite tuned for many small writes (WAL, synchronous=NORMAL, busy_timeout,
``BEGIN IMMEDIATE`` for write transactions) or PostgreSQL by URL."""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from typing import Iterator

from flask import Flask, current_app
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 10000
SQLITE_PAGE_BYTES = 2048
# The WAL is checkpointed once it passes 40 MB (SQLite's default: 1000 pages): pages rewritten by many
# check-ins reach the database file (and its fsync) once per checkpoint, not once per few hundred commits.
WAL_CHECKPOINT_BYTES = 40 * 1024 * 1024
WAL_KEPT_BYTES = 4 * 1024 * 1024


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    if parsed.database and parsed.database != ":memory:":
        from pathlib import Path
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        # Takes effect only when the file is created. Small pages: the hot tables' rows are small and a
        # check-in's commit writes about ten pages to the WAL; 2 KB pages halve the bytes it writes.
        cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_BYTES}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # No automatic checkpoint: it would run inside a commit, while the writer lock is held (with its
        # fsync, tens of milliseconds every few hundred check-ins, during which every writer waits).
        # Writers checkpoint once they have released the lock (_checkpoint_if_due).
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        # Once the WAL starts over, its file is cut back to this size, so that its size tells how much
        # is waiting to be checkpointed.
        cursor.execute(f"PRAGMA journal_size_limit={WAL_KEPT_BYTES}")
        cursor.execute("PRAGMA cache_size=-16000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # A write transaction takes the write lock up front: no deadlock when two workers upgrade
        # from read to write at once; SQLite then queues writers with busy_timeout.
        immediate = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def init_app(app: Flask) -> None:
    app.extensions["fleet_engine"] = make_engine(app.config["FLEET_SETTINGS"].database_url)


def get_engine() -> Engine:
    return current_app.extensions["fleet_engine"]


def get_engine_of(app: Flask) -> Engine:
    return app.extensions["fleet_engine"]


_writer_locks: dict[str, int] = {}


def _writer_lock_fd(engine: Engine) -> int | None:
    """A lock file beside the SQLite database. Writers from all worker processes queue on it with
    flock(), which wakes the next one the moment the lock is released; SQLite's own busy handler
    would instead sleep 1, 2, 5, 10... ms between retries (idle time and a long p99)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    path = database + "-writer.lock"
    fd = _writer_locks.get(path)
    if fd is None:
        fd = _writer_locks[path] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    return fd


# A process looks at the WAL's size after every this many of its commits (a stat() per commit was a
# few percent of a check-in): the WAL passes the threshold by at most this many commits of each process.
WAL_CHECK_EVERY_COMMITS = 16
_commits_since_wal_check: dict[str, int] = {}


def _checkpoint_if_due(engine: Engine, driver_connection) -> None:
    """After a SQLite write, once the WAL is large: copy it back into the database file, mostly outside
    the writer lock (PASSIVE: it never waits for, nor blocks, writers and readers), then once more under
    the lock for the few pages committed meanwhile, so that the next writer can start the WAL over."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return
    commits = _commits_since_wal_check.get(database, WAL_CHECK_EVERY_COMMITS - 1) + 1
    if commits < WAL_CHECK_EVERY_COMMITS:
        _commits_since_wal_check[database] = commits
        return
    _commits_since_wal_check[database] = 0
    try:
        due = os.stat(database + "-wal").st_size > WAL_CHECKPOINT_BYTES
    except FileNotFoundError:
        return
    if not due:
        return
    driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    lock = _writer_lock_fd(engine)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that writes (SQLite: BEGIN IMMEDIATE); committed on success, rolled back on error."""
    lock = _writer_lock_fd(engine)
    with engine.connect() as connection:
        connection = connection.execution_options(write=True)
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with connection.begin():
                yield connection
        finally:
            if lock is not None:
                fcntl.flock(lock, fcntl.LOCK_UN)
        _checkpoint_if_due(engine, connection.connection.driver_connection)


@contextmanager
def raw_write_transaction(engine: Engine, dbapi_connection) -> Iterator:
    """A write transaction on a driver connection checked out with ``engine.raw_connection()``, for the
    check-in hot path: yields a cursor; commits on success, rolls back on any error."""
    sqlite = engine.dialect.name == "sqlite"
    lock = _writer_lock_fd(engine) if sqlite else None
    if lock is not None:
        fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        cursor = dbapi_connection.cursor()
        try:
            if sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            yield cursor
            dbapi_connection.commit()
        except BaseException:
            dbapi_connection.rollback()
            raise
        finally:
            cursor.close()
    finally:
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if sqlite:
        _checkpoint_if_due(engine, dbapi_connection.driver_connection)


class HeldConnections:
    """For the check-in hot path on SQLite: one driver connection per worker thread, kept from request to
    request. Checking a connection out of the pool and back costs a rollback and the pool's bookkeeping
    on every check-in (about a tenth of its work); a kept SQLite connection loses nothing (its page cache
    is checked against the WAL at each transaction) and leaves no transaction open between requests,
    since the connection is in autocommit mode outside the BEGIN the hot path issues itself.
    PostgreSQL connections keep going through the pool (pre-ping, reset on return): :meth:`get` returns
    None for them. A connection that met an unexpected error is dropped (:meth:`discard`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.enabled = engine.dialect.name == "sqlite"
        self._local = threading.local()

    def get(self):
        if not self.enabled:
            return None
        local = self._local
        held = getattr(local, "connection", None)
        if held is None or local.pid != os.getpid():  # none yet, or inherited through a fork
            held = local.connection = self.engine.raw_connection()
            local.pid = os.getpid()
        return held

    def discard(self) -> None:
        held = self._local.__dict__.pop("connection", None)
        if held is not None:
            try:
                held.invalidate()  # the pool forgets it and closes the driver connection
            except Exception:  # noqa: BLE001 - already broken: nothing more to release
                pass


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        with connection.begin():
            yield connection

"""Login throttling that an attacker cannot turn against a staff member.

Failures are counted over 15 minutes under three subjects, keyed on the real client address (behind the
number of trusted proxies the ``trusted_proxies`` setting declares, see provisioning/fleet/__init__.py):

- per (account, address): 5 failures lock that account *from that address* (even the right password);
- per address: 20 failures, whatever the accounts, lock that address;
- per account, from every address: 10 failures only *slow* the account down: a password is then tried at
  most once every 5 seconds for it, and never slowed from an address the account logged in from in the
  last 30 days. Guessing from many addresses stays slow; the real person is never locked out.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa

from provisioning.fleet.accounts import sessions
from provisioning.fleet.store.staff_schema import login_failures, users

FAILURE_WINDOW_S = 15 * 60
MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
MAX_FAILURES_PER_ADDRESS = 20
SLOW_AFTER_ACCOUNT_FAILURES = 10
SLOW_INTERVAL_S = 5
KEEP_FAILURES_S = 24 * 3600


class Verdict(enum.Enum):
    ALLOWED = "allowed"
    LOCKED = "locked"    # this address (for this account, or for every account) waits 15 minutes
    SLOWED = "slowed"    # this account is being guessed from many addresses: wait a few seconds


def _subjects(username: str, address: str) -> dict[str, str]:
    return {"pair": f"pair:{username}|{address}"[:128], "ip": f"ip:{address}"[:128], "user": f"user:{username}"[:128]}


def verdict(conn: sa.Connection, username: str, address: str, now: float) -> Verdict:
    since = now - FAILURE_WINDOW_S
    subjects = _subjects(username, address)

    def recent(subject: str):
        return conn.execute(sa.select(sa.func.count(), sa.func.max(login_failures.c.at)).where(
            login_failures.c.subject == subject, login_failures.c.at > since)).one()

    if (recent(subjects["pair"])[0] >= MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS
            or recent(subjects["ip"])[0] >= MAX_FAILURES_PER_ADDRESS):
        return Verdict.LOCKED
    count, latest = recent(subjects["user"])
    if count >= SLOW_AFTER_ACCOUNT_FAILURES and latest is not None and now - latest < SLOW_INTERVAL_S:
        user_id = conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar_one_or_none()
        if user_id is None or not sessions.known_address(conn, user_id, address, now):
            return Verdict.SLOWED
    return Verdict.ALLOWED


def record_failure(conn: sa.Connection, username: str, address: str, now: float) -> None:
    conn.execute(login_failures.insert(), [{"subject": subject, "at": now}
                                           for subject in _subjects(username, address).values()])
    conn.execute(login_failures.delete().where(login_failures.c.at < now - KEEP_FAILURES_S))

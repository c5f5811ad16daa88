"""Communes, one-time enrolment codes, and device tokens (issue, revoke, rotate)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, func, select, update

from provisioning.fleet.store.engine import write_transaction
from provisioning.fleet.errors import ApiError
from provisioning.fleet.store.schema import communes, device_tokens, devices, enrolment_codes
from provisioning.fleet.secrets_hashing import digest, new_secret

DEFAULT_EXPECTED_INTERVAL_S = 3600
ONLINE_INTERVALS = 2  # a machine seen within 2 expected intervals is "online" (dashboard/status.py)


class UnknownCommune(LookupError):
    pass


class UnknownDevice(LookupError):
    pass


def save_commune(connection: Connection, insee: str, name: str | None, expected_interval_s: int | None,
                 now: float) -> None:
    """Create the commune, or update its name/connection profile when given."""
    row = connection.execute(select(communes.c.insee).where(communes.c.insee == insee)).first()
    if row is None:
        if not name:
            raise UnknownCommune(insee)
        connection.execute(communes.insert().values(
            insee=insee, name=name, created_at=now,
            expected_interval_s=expected_interval_s or DEFAULT_EXPECTED_INTERVAL_S))
        return
    changes = {}
    if name:
        changes["name"] = name
    if expected_interval_s:
        changes["expected_interval_s"] = expected_interval_s
    if changes:
        connection.execute(update(communes).where(communes.c.insee == insee).values(**changes))


def create_enrolment_code(engine: Engine, insee: str, now: float, ttl_days: int, name: str | None = None,
                          expected_interval_s: int | None = None, asset_tag: str | None = None) -> str:
    """A new one-time code for a machine of ``insee``; only its digest is stored. With ``asset_tag``, a
    reinstall code (a staff decision): it enrols only that machine, whatever its state or commune."""
    code = new_secret()
    with write_transaction(engine) as connection:
        save_commune(connection, insee, name, expected_interval_s, now)
        if asset_tag is not None and connection.execute(
                select(devices.c.id).where(devices.c.asset_tag == asset_tag)).first() is None:
            raise UnknownDevice(asset_tag)
        connection.execute(enrolment_codes.insert().values(
            code_sha256=digest(code), commune_insee=insee, created_at=now, expires_at=now + ttl_days * 86400,
            asset_tag=asset_tag))
    return code


def _issue_token(connection: Connection, device_id: int, now: float, pending: bool = False) -> str:
    token = new_secret()
    connection.execute(device_tokens.insert().values(
        device_id=device_id, token_sha256=digest(token), created_at=now, pending=pending))
    return token


def enrol(engine: Engine, code: str, asset_tag: str, insee: str, now: float) -> dict:
    """Exchange a one-time code for a device token. The asset tag is the identity: enrolling an
    existing tag again (a reinstalled machine) keeps its history and revokes its old tokens, but only
    when :func:`_may_take_over` allows it (otherwise 409, and the code stays unused)."""
    refused = ApiError(403, "enrolment code unknown, already used or expired", ["/code"])
    with write_transaction(engine) as connection:
        row = connection.execute(
            select(enrolment_codes.c.id, enrolment_codes.c.commune_insee, enrolment_codes.c.expires_at,
                   enrolment_codes.c.used_at, enrolment_codes.c.used_by_device_id, enrolment_codes.c.asset_tag)
            .where(enrolment_codes.c.code_sha256 == digest(code))).first()
        if row is None or row.expires_at < now:
            raise refused
        if row.used_at is not None and not _answer_was_lost(connection, row, asset_tag):
            raise refused
        if row.commune_insee != insee:
            raise ApiError(403, "this enrolment code was made for another commune",
                           [f"/commune_insee: the code is for {row.commune_insee}"])
        if row.asset_tag is not None and row.asset_tag != asset_tag:
            raise ApiError(403, "this enrolment code was made for another machine",
                           [f"/asset_tag: the code is for the reinstall of {row.asset_tag}"])
        device = connection.execute(
            select(devices.c.id, devices.c.last_seq, devices.c.commune_insee, devices.c.last_seen_at)
            .where(devices.c.asset_tag == asset_tag)).first()
        if device is not None and row.used_by_device_id != device.id and not _may_take_over(
                connection, row, device, now):
            raise ApiError(409, "this asset tag belongs to a machine already enrolled that is still checking "
                                "in or belongs to another commune: its reinstall needs a code made for it by "
                                "the staff (fleet enrolment-code INSEE --asset-tag TAG)", ["/asset_tag"])
        if device is None:
            device_id = connection.execute(devices.insert().values(
                asset_tag=asset_tag, commune_insee=insee, enrolled_at=now, last_seq=0)).inserted_primary_key[0]
            seq_base = 0
        else:
            device_id, seq_base = device.id, device.last_seq
            connection.execute(update(devices).where(devices.c.id == device_id).values(
                commune_insee=insee, enrolled_at=now, rotate_requested_at=None))
            connection.execute(update(device_tokens).where(
                (device_tokens.c.device_id == device_id) & device_tokens.c.revoked_at.is_(None)
            ).values(revoked_at=now))
        token = _issue_token(connection, device_id, now)
        used = connection.execute(update(enrolment_codes).where(
            (enrolment_codes.c.id == row.id) & (enrolment_codes.c.used_at.is_(None)
                                                | (enrolment_codes.c.used_by_device_id == device_id))
        ).values(used_at=now, used_by_device_id=device_id))
        if used.rowcount != 1:
            raise refused
    return {"token": token, "device_id": device_id, "seq_base": int(seq_base)}


def _may_take_over(connection: Connection, code_row, device, now: float) -> bool:
    """Whether a code may re-enrol an already known machine (its old tokens die, the holder becomes it).

    Yes with a reinstall code made for this asset tag (a staff decision). With an ordinary code, only
    for a machine of the code's own commune that is not healthy: it has no live token (the staff revoked
    it), never checked in, or has not checked in for twice its commune's expected interval (it is no
    longer "online" on the dashboard, see dashboard/status.py). A healthy machine, or one of another
    commune, cannot be taken over with a code meant for new machines."""
    if code_row.asset_tag is not None:  # enrol() already refused it for any other tag
        return True
    if device.commune_insee != code_row.commune_insee:
        return False
    if count_active_tokens(connection, device.id) == 0 or device.last_seen_at is None:
        return True
    interval = connection.execute(select(communes.c.expected_interval_s).where(
        communes.c.insee == device.commune_insee)).scalar_one_or_none() or DEFAULT_EXPECTED_INTERVAL_S
    return now - device.last_seen_at > ONLINE_INTERVALS * interval


def _answer_was_lost(connection: Connection, code_row, asset_tag: str) -> bool:
    """The same machine presents its code again and never checked in since: the agent died (or the
    network failed) before it could save its token. The exchange is repeated (the unused token is
    revoked); once the machine has checked in with its token, the code is spent for good."""
    device = connection.execute(select(devices.c.id, devices.c.last_seen_at)
                                .where(devices.c.asset_tag == asset_tag)).first()
    return (device is not None and device.id == code_row.used_by_device_id
            and (device.last_seen_at is None or device.last_seen_at < code_row.used_at))


def _device_id(connection: Connection, asset_tag: str) -> int:
    row = connection.execute(select(devices.c.id).where(devices.c.asset_tag == asset_tag)).first()
    if row is None:
        raise UnknownDevice(asset_tag)
    return row.id


def revoke_tokens(engine: Engine, asset_tag: str, now: float) -> int:
    """Revoke every token of the machine; it must be enrolled again with a new code."""
    with write_transaction(engine) as connection:
        device_id = _device_id(connection, asset_tag)
        connection.execute(update(devices).where(devices.c.id == device_id).values(rotate_requested_at=None))
        return connection.execute(update(device_tokens).where(
            (device_tokens.c.device_id == device_id) & device_tokens.c.revoked_at.is_(None)
        ).values(revoked_at=now)).rowcount


def request_rotation(engine: Engine, asset_tag: str, now: float) -> None:
    """The machine gets a new token in its next check-in answer; the old one dies when the new one is used."""
    with write_transaction(engine) as connection:
        device_id = _device_id(connection, asset_tag)
        connection.execute(update(devices).where(devices.c.id == device_id).values(rotate_requested_at=now))


# Rotation inside a check-in (handing out and promoting pending tokens) lives in ingest.py, on the
# check-in's own transaction.


def count_active_tokens(connection: Connection, device_id: int) -> int:
    return connection.execute(select(func.count()).select_from(device_tokens).where(
        (device_tokens.c.device_id == device_id) & device_tokens.c.revoked_at.is_(None))).scalar_one()

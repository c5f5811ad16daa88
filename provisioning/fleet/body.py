"""Reading a request body safely: size limit on the wire and once inflated, gzip, strict JSON."""

from __future__ import annotations

import json
import zlib

from flask import Request

from kiosk.protocol import MAX_INFLATED_BYTES
from provisioning.fleet.errors import ApiError


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _inflate(raw: bytes) -> bytes:
    inflater = zlib.decompressobj(wbits=31)  # gzip container only
    try:
        data = inflater.decompress(raw, MAX_INFLATED_BYTES + 1)
    except zlib.error as error:
        raise ApiError(400, "the body is not valid gzip", [f"Content-Encoding: gzip: {error}"]) from None
    if len(data) > MAX_INFLATED_BYTES or inflater.unconsumed_tail:
        raise ApiError(413, f"the body is larger than {MAX_INFLATED_BYTES} bytes once decompressed")
    if not inflater.eof:
        raise ApiError(400, "the body is not valid gzip", ["Content-Encoding: gzip: truncated stream"])
    if inflater.unused_data:
        raise ApiError(400, "the body is not valid gzip", ["Content-Encoding: gzip: data after the stream"])
    return data


def read_json(request: Request, max_body_bytes: int):
    """The request's JSON document, or an :class:`ApiError` saying what is wrong with it."""
    if request.mimetype != "application/json":
        raise ApiError(415, "the body must be JSON (Content-Type: application/json)",
                       [f"Content-Type: {request.mimetype or 'missing'}"])
    length = request.content_length
    if length is not None and length > max_body_bytes:
        raise ApiError(413, f"the body is larger than {max_body_bytes} bytes")
    # Read what Content-Length announces (checked above), or up to the limit when it is absent.
    raw = request.stream.read(length if length is not None else max_body_bytes + 1)
    if len(raw) > max_body_bytes:
        raise ApiError(413, f"the body is larger than {max_body_bytes} bytes")
    encoding = (request.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding == "gzip":
        raw = _inflate(raw)
    elif encoding != "identity":
        raise ApiError(415, "unsupported Content-Encoding (use gzip or none)", [f"Content-Encoding: {encoding}"])
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, "the body is not valid JSON", [str(error)]) from None

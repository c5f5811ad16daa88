"""Raw health samples as stored (one compressed row per check-in and day): every value the protocol
accepts comes back exactly, with its type (Hypothesis over the protocol's own field ranges)."""

from __future__ import annotations

from hypothesis import given, strategies as st

from kiosk.protocol import HEALTH_FIELDS
from kiosk.protocol.validate import HEALTH_SPEC, MAX_SEQ
from provisioning.fleet.store import raw_health


def _value(kind: str, low, high):
    if kind == "boolean":
        return st.none() | st.booleans()
    if kind == "integer":
        return st.none() | st.integers(low, high)
    return st.none() | st.integers(low, high) | st.floats(low, high, allow_nan=False)


samples = st.lists(st.tuples(st.integers(1, MAX_SEQ), st.floats(1e9, 4e9, allow_nan=False),
                             st.fixed_dictionaries({name: _value(*HEALTH_SPEC[name]) for name in HEALTH_FIELDS})),
                   min_size=1, max_size=40, unique_by=lambda sample: sample[0])


@given(samples=samples)
def test_every_accepted_value_comes_back_exactly(samples):
    samples = sorted(samples)
    rows = raw_health.batch_rows(7, samples, received_at=4e9)
    decoded = [sample for row in rows for sample in raw_health.decode(row["samples"])]
    assert sorted(decoded, key=lambda sample: sample["seq"]) == [
        {"seq": seq, "at": at, **data} for seq, at, data in samples]
    for sample in decoded:
        for name in HEALTH_FIELDS:
            kind = HEALTH_SPEC[name][0]
            value = sample[name]
            assert value is None or type(value) is {"boolean": bool, "integer": int}.get(kind, type(value))
    assert sorted(seq for row in rows for seq in raw_health.seqs_in(row["samples"])) == [s[0] for s in samples]


@given(samples=samples)
def test_one_row_per_utc_day_bounding_its_sequence_numbers(samples):
    samples = sorted(samples)
    rows = raw_health.batch_rows(7, samples, received_at=4e9)
    assert len(rows) == len({int(at // 86400) for _seq, at, _data in samples})
    for row in rows:
        seqs = raw_health.seqs_in(row["samples"])
        assert (row["first_seq"], row["last_seq"]) == (min(seqs), max(seqs))
        ats = [sample["at"] for sample in raw_health.decode(row["samples"])]
        assert (row["at_first"], row["at_last"]) == (min(ats), max(ats))
        assert len({int(at // 86400) for at in ats}) == 1

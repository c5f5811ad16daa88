"""The window → agent event channel: nothing lost, nothing duplicated, nothing private can pass."""

import multiprocessing
import time

import pytest

from kiosk.events import CURRENT_FILE, Event, EventKind, EventLog, InvalidEvent


def _write_many(directory, start, count):
    log = EventLog(directory)
    for index in range(start, start + count):
        log.emit(Event.now(EventKind.PAGES_PRINTED, pages=index % 9999 + 1))


def test_concurrent_writers_and_reader_lose_and_duplicate_nothing(tmp_path):
    writers = [multiprocessing.Process(target=_write_many, args=(tmp_path, n * 1000, 1000)) for n in range(3)]
    for process in writers:
        process.start()
    taken: list[Event] = []
    while any(process.is_alive() for process in writers):
        EventLog(tmp_path).take(taken.extend)
        time.sleep(0.005)
    for process in writers:
        process.join()
        assert process.exitcode == 0
    EventLog(tmp_path).take(taken.extend)
    assert sorted(event.pages for event in taken) == sorted(n % 9999 + 1 for n in range(3000))


def test_events_stay_until_the_consumer_has_stored_them(tmp_path):
    log = EventLog(tmp_path)
    log.emit(Event.now(EventKind.SESSION_STARTED))

    def failing_store(events):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        log.take(failing_store)
    received = []
    assert log.take(received.extend) == 1
    assert received[0].kind is EventKind.SESSION_STARTED
    assert log.take(received.extend) == 0


def test_a_torn_line_after_a_power_cut_is_dropped_and_the_rest_kept(tmp_path):
    log = EventLog(tmp_path)
    log.emit(Event.now(EventKind.TILE_OPENED, tile_id="impots"))
    with open(tmp_path / CURRENT_FILE, "ab") as handle:
        handle.write(b'{"kind":"tile_opened","at":17')
    received = []
    log.take(received.extend)
    assert [event.tile_id for event in received] == ["impots"]


@pytest.mark.parametrize("fields", [
    {"kind": "navigation_refused", "host": "evil.example/path"},
    {"kind": "navigation_refused", "host": "https://evil.example"},
    {"kind": "navigation_refused", "host": "evil.example?q=nom"},
    {"kind": "tile_opened", "tile_id": "Jean Dupont"},
    {"kind": "session_ended", "duration_s": -3},
    {"kind": "pages_printed", "pages": 0},
    {"kind": "typed_text"},
])
def test_an_event_cannot_carry_a_path_a_query_or_free_text(fields):
    with pytest.raises((InvalidEvent, ValueError)):
        Event.now(**fields)


def test_a_tampered_event_file_is_filtered_on_the_way_out(tmp_path):
    (tmp_path / CURRENT_FILE).write_text(
        '{"kind":"navigation_refused","at":1700000000,"host":"a.fr/secret?nom=x"}\n'
        '{"kind":"idle_reset","at":1700000000,"comment":"hello"}\n'
        '{"kind":"idle_reset","at":1700000000}\n')
    received = []
    EventLog(tmp_path).take(received.extend)
    assert [event.kind for event in received] == [EventKind.IDLE_RESET]

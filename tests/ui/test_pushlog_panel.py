"""Push log panel: a real journal of real decoded pushes, a real AppContext, offscreen."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from live_rig import LiveRig
from PySide6.QtCore import QDateTime, QModelIndex, Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QHeaderView, QMainWindow

from app.journal.store import Journal
from app.protocol.decode import decode
from app.protocol.push import PushRecord, RawPush
from app.sim.fleet import Fleet
from app.ui.panels.pushlog.details import format_raw
from app.ui.panels.pushlog.model import PushLogModel
from app.ui.panels.pushlog.query import (
    COL_ERRORS,
    COL_SUMMARY,
    PAGE_SIZE,
    PushFilter,
    summarize,
    summary_fields,
)
from app.ui.panels.pushlog.widget import PushLogPanel

KEY = "TESTKEY"
BAD_PAYLOADS = (b"{bad", b"\xff", b'{"assetId":"1", "latitude": "north"', b"\xfe\x00garbage")


class Rig(LiveRig):
    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.sim = Fleet(KEY, devices=8, seed=5)
        self.clock = time.time() - 3600
        self.journal = Journal(self.path)
        self.records: dict[int, PushRecord] = {}  # everything written, by id

    def make(self, n: int, *, bad_every: int = 0, webhook_every: int = 0) -> list[PushRecord]:
        """n real decoded pushes from the simulator; every `bad_every`-th a malformed one."""
        out = []
        for i in range(1, n + 1):
            self.clock += 0.01
            source = "webhook" if webhook_every and i % webhook_every == 0 else "mqtt"
            if bad_every and i % bad_every == 0:
                dev = self.sim.device_ids[i % len(self.sim.device_ids)]
                payload = BAD_PAYLOADS[(i // bad_every) % len(BAD_PAYLOADS)]
                raw = RawPush(source, f"upload/{KEY}/{dev}/location", payload, self.clock, "test")
            else:
                topic, payload = self.sim.next_push()
                raw = RawPush(source, topic, payload, self.clock, "test")
            out.append(decode(raw))
        return out

    def write(self, records: list[PushRecord]) -> list[int]:
        ids = self.journal.write(records)
        self.records.update(zip(ids, records, strict=True))
        return ids

    def fill(self, n: int, **kw) -> list[int]:
        return self.write(self.make(n, **kw))

    def live(self, records: list[PushRecord]) -> list[int]:
        """As the journal writer does: commit, then hand the batch to the feed."""
        ids = self.write(records)
        self.feed.push(records, ids)
        self.feed.drain()
        return ids

    def expected(self, flt: PushFilter) -> list[int]:
        return sorted((i for i, r in self.records.items() if flt.matches(r)), reverse=True)

    def close(self) -> None:
        self.journal.close()
        super().close()


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    yield r
    r.close()


def make_panel(rig: Rig, qtbot) -> PushLogPanel:
    p = PushLogPanel(rig.ctx)
    qtbot.addWidget(p)
    qtbot.waitUntil(lambda: not p.model.loading, timeout=10_000)
    return p


@pytest.fixture
def panel(rig, qtbot):
    p = make_panel(rig, qtbot)
    yield p
    p.shutdown()


def ids_of(model: PushLogModel) -> list[int]:
    return [model.row_at(r).id for r in range(model.rowCount())]


def apply(panel: PushLogPanel, qtbot, **changes) -> None:
    """Set filter widgets like a user, wait for the debounced query to land."""
    if "device" in changes:
        panel.device_edit.setText(changes["device"])
    if "text" in changes:  # these tests search the raw payloads (the box ticked)
        panel.raw_check.setChecked(changes.get("raw", True))
        panel.text_edit.setText(changes["text"])
    if "kind" in changes:
        panel.kind_combo.setCurrentIndex(panel.kind_combo.findData(changes["kind"]))
    if "source" in changes:
        panel.source_combo.setCurrentIndex(panel.source_combo.findData(changes["source"]))
    if "errors_only" in changes:
        panel.errors_check.setChecked(changes["errors_only"])
    want = panel.current_filter()
    qtbot.waitUntil(lambda: panel.model.filter == want and not panel.model.loading,
                    timeout=10_000)


def load_all(model: PushLogModel, qtbot) -> None:
    while model.canFetchMore(QModelIndex()):
        n = model.rowCount()
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda n=n: model.rowCount() > n or model.exhausted, timeout=10_000)
    qtbot.waitUntil(lambda: not model.loading)


# -- paging ------------------------------------------------------------------------------


def test_model_passes_the_model_tester(rig, panel, qtbot, qtmodeltester):
    rig.fill(1200, bad_every=40)
    panel.requery()
    qtbot.waitUntil(lambda: panel.model.rowCount() == PAGE_SIZE)
    model = panel.model
    qtmodeltester.check(model)  # stays attached: every change below is checked too
    qtbot.waitUntil(lambda: not model.loading)
    model.fetchMore(QModelIndex())
    qtbot.waitUntil(lambda: not model.loading and model.rowCount() >= 2 * PAGE_SIZE)
    rig.live(rig.make(30, bad_every=7))  # insert at the top
    panel.follow_check.setChecked(False)
    rig.live(rig.make(5))
    panel.jump_to_newest()  # catch up from the journal
    qtbot.waitUntil(lambda: model.row_at(0).id == 1235)
    apply(panel, qtbot, kind="location")  # reset and a new first page
    assert model.rowCount() > 0


def test_lazy_paging_newest_first_contiguous(rig, qtbot):
    rig.fill(5000, bad_every=250)
    panel = make_panel(rig, qtbot)
    try:
        model = panel.model
        assert model.rowCount() == PAGE_SIZE  # one page, not the journal
        assert ids_of(model) == list(range(5000, 5000 - PAGE_SIZE, -1))
        assert model.canFetchMore(QModelIndex())

        n = model.rowCount()
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: model.rowCount() >= n + PAGE_SIZE)
        ids = ids_of(model)
        assert ids == list(range(5000, 5000 - len(ids), -1))

        load_all(model, qtbot)
        assert ids_of(model) == list(range(5000, 0, -1))  # strictly decreasing, none missing
        assert not model.canFetchMore(QModelIndex())
        assert "end of journal" in panel.status_label.text()
    finally:
        panel.shutdown()


def test_columns_and_summaries(rig, panel, qtbot):
    rig.write([decode(RawPush("mqtt", t, p, time.time(), "test"))
               for t, p in rig.sim.raise_alarm(rig.sim.device_ids[0], 46)])
    dev = rig.sim.device_ids[1]
    unlock = rig.sim.unlock(dev, 2)
    rig.write([decode(RawPush("webhook", t, p, time.time(), "hook")) for t, p in unlock])
    panel.requery()
    qtbot.waitUntil(lambda: not panel.model.loading and panel.model.rowCount() > 0)
    model = panel.model
    summaries = [model.index(r, COL_SUMMARY).data() for r in range(model.rowCount())]
    assert "Back cover opened (46)" in summaries
    assert "Unlock — remote" in summaries
    assert any(s.startswith("lat ") and ("%" in s or "charging" in s) for s in summaries)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Time", "Source", "Profile", "Kind", "Device", "Sub-lock", "Summary",
                       "Errors"]
    sources = {model.index(r, 1).data() for r in range(model.rowCount())}
    assert sources == {"mqtt", "webhook"}


def test_summary_of_every_kind():
    f = summary_fields
    assert summarize("alarm", f({"alarmType": 46, "alarmName": "Back cover opened"}), []) \
        == "Back cover opened (46)"
    assert summarize("event", f({"eventType": 1, "unLockType": 2, "eventName": "Unlock"}),
                     []) == "Unlock — remote"
    assert summarize("command", f({"commandType": "BASE1", "content": []}), []) \
        == "BASE1 answered"
    loc = {"latitude": 22.6701, "longitude": 113.9229, "battery": 85,
           "statusJson": {"lockStatus": 0}}
    assert summarize("location", f(loc), []) == "lat 22.6701 lon 113.9229 · 85 % · locked"
    assert summarize("unknown", {}, ["payload is not valid JSON"]) == \
        "⚠ payload is not valid JSON"


# -- live --------------------------------------------------------------------------------


def test_live_batch_is_one_insert_at_the_top(rig, panel, qtbot):
    rig.fill(300)
    panel.requery()
    qtbot.waitUntil(lambda: not panel.model.loading and panel.model.rowCount() == 300)
    model = panel.model
    inserts: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, first, last: inserts.append((first, last)))

    ids = rig.live(rig.make(40))
    assert inserts == [(0, 39)]
    assert ids_of(model)[:40] == sorted(ids, reverse=True)
    assert ids_of(model) == list(range(340, 0, -1))

    # only the rows matching the filter enter
    device = rig.sim.device_ids[2]
    apply(panel, qtbot, device=device)
    inserts.clear()
    batch = rig.make(200)
    ids = rig.live(batch)
    matching = [i for i, r in zip(ids, batch, strict=True) if r.device == device]
    assert matching
    assert inserts == [(0, len(matching) - 1)]
    assert ids_of(model)[: len(matching)] == sorted(matching, reverse=True)
    assert ids_of(model) == rig.expected(PushFilter(device=device))


def test_paused_counts_new_pushes_and_catches_up(rig, panel, qtbot):
    rig.fill(100)
    panel.requery()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 100)
    model = panel.model
    panel.follow_check.setChecked(False)
    inserts: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, first, last: inserts.append((first, last)))
    before = ids_of(model)

    rig.live(rig.make(25))
    rig.live(rig.make(12))
    assert inserts == []  # the view does not move
    assert ids_of(model) == before
    assert model.new_count == 37
    assert not panel.new_button.isHidden()
    assert "37 new pushes" in panel.new_button.text()

    panel.new_button.click()  # "click to show": newest, following again
    qtbot.waitUntil(lambda: model.rowCount() == 137)
    assert inserts == [(0, 36)]
    assert ids_of(model) == list(range(137, 0, -1))
    assert panel.follow_check.isChecked()
    assert panel.new_button.isHidden()


def test_scrolled_away_counts_instead_of_moving(rig, panel, qtbot):
    rig.fill(2000)
    panel.requery()
    qtbot.waitUntil(lambda: panel.model.rowCount() == PAGE_SIZE)
    panel.resize(900, 500)
    panel.show()
    qtbot.waitExposed(panel)
    sb = panel.table.verticalScrollBar()
    qtbot.waitUntil(lambda: sb.maximum() > 10)
    sb.setValue(10)
    assert not panel.model.following
    top = panel.model.row_at(0).id
    rig.live(rig.make(5))
    assert panel.model.row_at(0).id == top
    assert panel.model.new_count == 5
    sb.setValue(0)  # back at the top: what arrived comes in from the journal
    qtbot.waitUntil(lambda: panel.model.row_at(0).id == top + 5)
    assert panel.model.new_count == 0


def test_window_is_bounded_and_trimmed_rows_come_back(rig, qtbot):
    rig.fill(1000)
    model = PushLogModel(str(rig.path), page_size=100, max_rows=300, async_queries=False)
    try:
        model.reload()
        assert model.rowCount() == 100
        for _ in range(2):
            model.fetchMore(QModelIndex())
        assert ids_of(model) == list(range(1000, 700, -1))
        removes: list[tuple[int, int]] = []
        model.rowsRemoved.connect(lambda _p, first, last: removes.append((first, last)))
        ids = rig.live(rig.make(50))
        model.add_records(list(zip(ids, [rig.records[i] for i in ids], strict=True)))
        assert removes == [(300, 349)]  # the oldest, in one go
        assert model.rowCount() == 300
        assert model.canFetchMore(QModelIndex())
        model.fetchMore(QModelIndex())
        assert ids_of(model)[-1] == 1050 - 300 - 99  # they come back from the journal
        # scrolling deep trims the newest instead; live rows are then only counted
        for _ in range(3):
            model.fetchMore(QModelIndex())
        assert model.rowCount() == 300
        assert ids_of(model) == list(range(ids_of(model)[0], ids_of(model)[0] - 300, -1))
        ids = rig.live(rig.make(3))
        model.add_records(list(zip(ids, [rig.records[i] for i in ids], strict=True)))
        assert model.new_count == 3
        assert max(ids_of(model)) < ids[0]
    finally:
        model.shutdown()


def test_a_flood_batch_keeps_the_newest_page_and_the_rest_pages_in(rig, qtbot):
    """A batch bigger than the live page does not build a row per push: the newest page
    replaces the rows, and scrolling brings the older ones back from the journal, in order."""
    rig.fill(300)
    model = PushLogModel(str(rig.path), page_size=100, max_rows=300, async_queries=False)
    try:
        model.reload()
        assert model.live_rows == 100
        ids = rig.live(rig.make(250))
        model.add_records(list(zip(ids, [rig.records[i] for i in ids], strict=True)))
        assert ids_of(model) == list(range(550, 450, -1))
        assert model.canFetchMore(QModelIndex())
        model.fetchMore(QModelIndex())
        model.fetchMore(QModelIndex())
        assert ids_of(model) == list(range(550, 250, -1))  # contiguous, none missing
    finally:
        model.shutdown()


# -- filters -----------------------------------------------------------------------------


def test_filters_return_the_right_rows(rig, panel, qtbot):
    rig.fill(3000, bad_every=97, webhook_every=13)
    panel.requery()
    qtbot.waitUntil(lambda: not panel.model.loading and panel.model.rowCount() == PAGE_SIZE)
    model = panel.model
    device = rig.sim.device_ids[3]

    apply(panel, qtbot, device=device)
    load_all(model, qtbot)
    assert ids_of(model) == rig.expected(PushFilter(device=device))
    assert {model.index(r, 4).data() for r in range(model.rowCount())} == {device}

    apply(panel, qtbot, device="", kind="alarm")
    load_all(model, qtbot)
    assert ids_of(model) == rig.expected(PushFilter(kind="alarm"))
    assert len(ids_of(model)) > 0

    apply(panel, qtbot, kind="", errors_only=True)
    load_all(model, qtbot)
    expected = rig.expected(PushFilter(errors_only=True))
    assert ids_of(model) == expected
    assert len(expected) >= 3000 // 97

    apply(panel, qtbot, errors_only=False, source="webhook")
    load_all(model, qtbot)
    assert ids_of(model) == rig.expected(PushFilter(source="webhook"))

    # text: in the raw payload, ASCII case-insensitive, like SQL LIKE
    apply(panel, qtbot, source="", text='"ALARMTYPE":4')
    load_all(model, qtbot)
    expected = rig.expected(PushFilter(text='"alarmType":4'))
    assert expected and ids_of(model) == expected
    apply(panel, qtbot, text="100%_")  # LIKE wildcards are literal
    assert model.rowCount() == 0
    assert "no pushes match" in panel.status_label.text()

    # combined, and the time range
    mid = rig.records[1500].raw.received_at
    panel.text_edit.clear()
    flt = PushFilter(device=device, kind="location", since=mid)
    panel.model.set_filter(flt)
    panel.model.reload()
    qtbot.waitUntil(lambda: not model.loading)
    load_all(model, qtbot)
    assert ids_of(model) == rig.expected(flt)
    assert all(i >= 1500 for i in ids_of(model))


def test_time_range_from_the_widgets(rig, panel, qtbot):
    rig.fill(80)
    gap_start = rig.clock
    rig.clock += 900  # fifteen quiet minutes
    later = rig.fill(70)
    panel.requery()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 150)
    assert panel.current_filter().since is None  # "From: any time"
    panel.from_edit.stepBy(1)  # the first step starts from now, not from the year 2000
    since = panel.current_filter().since
    assert since is not None and abs(since - time.time()) < 120
    panel.from_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(gap_start + 400)))
    qtbot.waitUntil(lambda: panel.model.filter.since is not None and not panel.model.loading
                    and panel.model.filter.since <= gap_start + 400)
    assert ids_of(panel.model) == sorted(later, reverse=True)
    panel.to_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(gap_start + 500)))
    qtbot.waitUntil(lambda: panel.model.filter.until is not None and not panel.model.loading)
    assert panel.model.rowCount() == 0
    panel.clear_filters()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 150)
    assert panel.current_filter() == PushFilter()


def test_ctrl_f_is_ours_even_with_a_window_wide_ctrl_f(rig, panel, qtbot):
    """The Devices panel binds Ctrl+F window-wide; inside the push log it searches here."""
    window = QMainWindow()
    qtbot.addWidget(window)
    other = QAction("Search devices", window, shortcut=QKeySequence.StandardKey.Find)
    other.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    fired: list[bool] = []
    other.triggered.connect(lambda: fired.append(True))
    window.addAction(other)
    window.setCentralWidget(panel)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    panel.table.setFocus()
    qtbot.waitUntil(panel.table.hasFocus)
    qtbot.keyClick(panel.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert panel.text_edit.hasFocus()
    assert fired == []
    window.takeCentralWidget()  # the panel fixture shuts it down


def test_filter_by_the_selected_device(rig, panel, qtbot):
    rig.fill(200)
    assert not panel.pick_device.isEnabled()
    device = rig.sim.device_ids[1]
    rig.ctx.selection.select(device)
    assert panel.pick_device.isEnabled()
    panel.pick_device.click()
    qtbot.waitUntil(lambda: panel.model.filter.device == device and not panel.model.loading)
    assert ids_of(panel.model) == rig.expected(PushFilter(device=device))


def test_filter_is_debounced(rig, panel, qtbot):
    rig.fill(50)
    panel.requery()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 50)
    panel.device_edit.setText("8")
    panel.device_edit.setText("80")
    assert panel.model.filter == PushFilter()  # not yet: the user is still typing
    qtbot.waitUntil(lambda: panel.model.filter.device == "80")


def test_text_search_is_capped_and_can_be_stopped(rig, panel, qtbot):
    rig.fill(1500)
    panel.model.text_cap = 120
    apply(panel, qtbot, text="assetId")
    load_all(panel.model, qtbot)
    assert panel.model.rowCount() == 120
    assert panel.model.capped and not panel.model.canFetchMore(QModelIndex())
    assert "first 120 matches" in panel.status_label.text()
    # a stop while loading keeps what is there and says so
    panel.model.text_cap = 10_000
    panel.requery()
    panel.model.cancel()
    qtbot.waitUntil(lambda: not panel.model.loading)
    assert not panel.model.canFetchMore(QModelIndex())


# -- errors and details ------------------------------------------------------------------


def test_error_rows_are_highlighted(rig, panel, qtbot):
    rig.fill(60, bad_every=20)
    panel.requery()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 60)
    model = panel.model
    bad = [r for r in range(60) if rig.records[model.row_at(r).id].errors]
    good = [r for r in range(60) if not rig.records[model.row_at(r).id].errors]
    assert bad and good
    for r in bad:
        fg = model.index(r, 0).data(Qt.ItemDataRole.ForegroundRole)
        bg = model.index(r, 0).data(Qt.ItemDataRole.BackgroundRole)
        assert isinstance(fg, QColor) and isinstance(bg, QColor)
        assert fg.red() > fg.green() and bg.red() > bg.green()
        assert model.index(r, COL_ERRORS).data()  # count / first error shown
        # readable: text and ground far apart in lightness
        assert abs(fg.lightness() - bg.lightness()) > 100
    for r in good:
        assert model.index(r, 0).data(Qt.ItemDataRole.ForegroundRole) is None
        assert model.index(r, COL_ERRORS).data() == ""
    model.dark = True  # the dark pair is readable too
    fg = model.index(bad[0], 0).data(Qt.ItemDataRole.ForegroundRole)
    bg = model.index(bad[0], 0).data(Qt.ItemDataRole.BackgroundRole)
    assert fg.lightness() - bg.lightness() > 100


def test_details_raw_and_decoded_side_by_side(rig, panel, qtbot):
    recs = rig.make(3)
    dev = rig.sim.device_ids[0]
    recs.append(decode(RawPush("mqtt", f"upload/{KEY}/{dev}/location", b"\xff\x00{", 1e9, "t")))
    ids = rig.write(recs)
    panel.requery()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 4)
    row = panel.model.row_of(ids[-1])
    panel.table.selectRow(row)
    d = panel.details
    assert d.row is not None and d.row.id == ids[-1]
    assert "not UTF-8" in d.raw.note.text()
    assert "ff 00 7b" in d.raw.text.toPlainText()
    assert d.errors.isVisibleTo(panel) and d.errors.count() == len(recs[-1].errors)
    assert f"#{ids[-1]}" in d.header.text() and "location" in d.header.text()

    panel.table.selectRow(panel.model.row_of(ids[0]))
    assert d.row.id == ids[0]
    raw = recs[0].raw.payload
    assert d.raw.text.toPlainText() == json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    assert json.loads(d.decoded.text.toPlainText()) == json.loads(json.dumps(recs[0].data))
    assert not d.errors.isVisibleTo(panel)
    d.copy_raw()
    assert QGuiApplication.clipboard().text() == raw.decode()
    d.copy_decoded()
    assert json.loads(QGuiApplication.clipboard().text()) == json.loads(json.dumps(recs[0].data))
    assert recs[0].raw.topic in d.header.text()


def test_format_raw():
    assert format_raw(b'{"a":1}')[0] == '{\n  "a": 1\n}'
    text, note = format_raw(b"{bad")
    assert text == "{bad" and "not JSON" in note
    text, note = format_raw(b"\xff")
    assert text.startswith("000000  ff") and "\\xff" in text and "not UTF-8" in note


# -- export ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_of_the_filter(rig, panel, qtbot, tmp_path, fmt):
    rig.fill(1200, bad_every=50)
    apply(panel, qtbot, kind="alarm")
    expected = rig.expected(PushFilter(kind="alarm"))
    assert expected
    out = tmp_path / f"alarms.{fmt}"
    job = panel.start_export(str(out), fmt, start=False)
    with qtbot.waitSignal(job.sig_export_finished, timeout=20_000) as blocker:
        job.start()
    written, path, error = blocker.args
    assert (written, path, error) == (len(expected), str(out), "")
    if fmt == "csv":
        with out.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        ids = [int(r["id"]) for r in rows]
        assert {r["kind"] for r in rows} == {"alarm"}
    else:
        ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert ids == sorted(expected)  # oldest first, all of them
    qtbot.waitUntil(lambda: bool(panel.last_export_message))
    assert f"Exported {len(expected):,} pushes" in panel.status_label.text()
    assert not (tmp_path / f"alarms.{fmt}.part").exists()


def test_export_cancel_leaves_no_file(rig, panel, qtbot, tmp_path):
    rig.fill(200)
    out = tmp_path / "all.csv"
    job = panel.start_export(str(out), "csv", start=False)
    job.cancel()
    with qtbot.waitSignal(job.sig_export_finished, timeout=20_000) as blocker:
        job.start()
    assert blocker.args[2] == "cancelled"
    assert not out.exists() and not (tmp_path / "all.csv.part").exists()
    qtbot.waitUntil(lambda: "cancelled" in panel.status_label.text())


# -- keyboard, layout, state -------------------------------------------------------------


def test_keyboard(rig, panel, qtbot):
    rig.fill(1500)
    panel.requery()
    qtbot.waitUntil(lambda: panel.model.rowCount() == PAGE_SIZE)
    panel.resize(900, 500)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    panel.table.setFocus()
    qtbot.waitUntil(panel.table.hasFocus)

    qtbot.keyClick(panel.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert panel.text_edit.hasFocus()

    panel.table.setFocus()
    sb = panel.table.verticalScrollBar()
    qtbot.waitUntil(lambda: sb.maximum() > 10)
    sb.setValue(20)
    panel.follow_check.setChecked(False)
    rig.live(rig.make(4))
    assert panel.model.new_count == 4
    qtbot.keyClick(panel.table, Qt.Key.Key_Home)
    assert sb.value() == 0 and panel.follow_check.isChecked()
    qtbot.waitUntil(lambda: panel.model.new_count == 0 and panel.model.row_at(0).id == 1504)

    panel.device_edit.setText(rig.sim.device_ids[0])  # F5 runs it now, no debounce
    qtbot.keyClick(panel.table, Qt.Key.Key_F5)
    assert panel.model.filter.device == rig.sim.device_ids[0]


def test_header_is_interactive_rows_uniform_and_state_saved(rig, qtbot):
    panel = make_panel(rig, qtbot)
    hh = panel.table.horizontalHeader()
    modes = {hh.sectionResizeMode(c) for c in range(hh.count())}
    assert QHeaderView.ResizeMode.ResizeToContents not in modes
    assert panel.table.verticalHeader().sectionResizeMode(0) == QHeaderView.ResizeMode.Fixed
    hh.resizeSection(COL_SUMMARY, 444)
    panel.shutdown()
    assert rig.settings.value("pushlog/header") is not None
    again = make_panel(rig, qtbot)
    try:
        assert again.table.horizontalHeader().sectionSize(COL_SUMMARY) == 444
    finally:
        again.shutdown()


def test_deleted_without_shutdown_does_not_abort(rig, qtbot):
    import gc

    from shiboken6 import Shiboken

    panel = make_panel(rig, qtbot)
    thread = panel.model._thread
    assert thread is not None and thread.isRunning()
    Shiboken.delete(panel)  # as a parent window would
    gc.collect()
    assert not Shiboken.isValid(thread) or not thread.isRunning()


@pytest.mark.parametrize("kind_id_index", [True, False])
def test_pages_match_a_brute_force_scan(rig, monkeypatch, kind_id_index):
    """Every query plan (window walk, index ids + residual, (kind, id) range) pages to
    exactly the rows a plain scan finds, in order, with no gap and no repeat."""
    import random

    from app.journal import push_query
    from app.ui.panels.pushlog import query

    rig.fill(1500, bad_every=31, webhook_every=7)
    monkeypatch.setattr(push_query, "SCAN_WINDOW", 40)
    monkeypatch.setattr(push_query, "ID_CHUNK", 30)
    conn = rig.journal.conn
    if not kind_id_index:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND "
                                    "tbl_name='push' AND sql LIKE '%(kind, id)%'").fetchall():
            conn.execute(f"DROP INDEX {name}")
    assert ("kind" in push_query.keyed_columns(conn)) == kind_id_index
    rng = random.Random(9)
    devices = rig.sim.device_ids
    times = sorted(r.raw.received_at for r in rig.records.values())
    for _ in range(40):
        flt = PushFilter(
            device=rng.choice(["", "", *devices]),
            kind=rng.choice(["", "", "location", "alarm", "event", "sublock", "unknown"]),
            source=rng.choice(["", "", "", "webhook"]),
            text=rng.choice(["", "", "", "alarm", "LATITUDE", "garbage", "GARBAGE", "{b"]),
            since=rng.choice([None, None, times[300]]),
            until=rng.choice([None, None, times[1200]]),
            errors_only=rng.random() < 0.15,
        )
        got: list[int] = []
        before = None
        while True:
            page = query.fetch_page(conn, flt, before, limit=25)
            got += [r.id for r in page]
            if len(page) < 25:
                break
            before = page[-1].id
        assert got == rig.expected(flt), flt


def test_a_tab_behind_others_skips_live_rows_and_catches_up_when_shown(rig, panel, qtbot):
    """In a dock behind another tab the push log builds no rows (nobody sees them); shown
    again, it brings in the newest from the journal."""
    from PySide6.QtWidgets import QLabel, QTabWidget

    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tabs.addTab(QLabel("alarms"), "Alarms")
    tabs.addTab(panel, "Push log")
    tabs.setCurrentIndex(1)
    tabs.show()
    qtbot.waitUntil(lambda: not panel.model.loading)
    first = rig.live(rig.make(20))
    qtbot.waitUntil(lambda: ids_of(panel.model)[:1] == [first[-1]])

    tabs.setCurrentIndex(0)  # the push log goes behind the alarms
    assert not panel.isVisible()
    hidden = rig.live(rig.make(30))
    assert ids_of(panel.model)[0] == first[-1]  # no rows built while hidden

    tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: ids_of(panel.model)[:1] == [hidden[-1]])
    assert ids_of(panel.model)[:50] == sorted(first + hidden, reverse=True)
    tabs.removeTab(1)
    panel.setParent(None)  # the panel fixture shuts it down


def test_a_selected_push_holds_the_live_log_still(rig, panel, qtbot):
    """Live mode holds still under the hand, as the alarm and event tables do: a selected
    row is the same push however many arrive; Home lets them in."""
    rig.fill(50)
    panel.requery()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 50)
    panel.resize(900, 500)
    panel.show()
    qtbot.waitExposed(panel)
    model = panel.model
    assert model.following
    panel.table.selectRow(3)
    chosen = model.row_at(3).id
    assert not model.following
    rig.live(rig.make(20))
    assert model.row_at(3).id == chosen
    assert model.new_count == 20 and not panel.new_button.isHidden()
    panel.jump_to_newest()  # Home
    qtbot.waitUntil(lambda: model.rowCount() == 70)
    assert model.following and not panel.table.selectionModel().hasSelection()

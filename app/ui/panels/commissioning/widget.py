"""Commissioning panel: scan device ids, watch each checklist turn green, hand over a PDF.

The session (app/commissioning/session.py) sends BASE,1 / BASE,2 / WLNET,1,0 through
`ctx.connections.publish` with the device's profile and pairs the replies with its own
CommandTracker, fed — like every other piece of evidence — from the records of the feed's
batches (`ctx.feed.view_batches()`), once per batch. Finished sessions, their checklists
and reports live in the journal (table `commissioning`) and can be reopened from the list
at the bottom.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QBrush, QColor, QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import paths
from app.commands import audit
from app.commands.serials import SerialCounter
from app.commissioning.checks import DeviceChecklist, State, Verdict
from app.commissioning.report import COLOURS, ReportInfo
from app.commissioning.session import CommissioningSession
from app.commissioning.store import CommissioningStore, SessionSummary
from app.commissioning.templates import (
    DEFAULT_TEMPLATE,
    Template,
    TemplateError,
    default_path,
    load_templates,
    save_templates,
)
from app.fleet.state import FleetChange
from app.journal.url import JOURNAL_ERRORS
from app.ui.commissioning_pdf import render_pdf
from app.ui.context import AppContext
from app.ui.panel import Panel
from app.ui.widgets.flow import FlowLayout
from app.ui.widgets.reload import Reload

log = logging.getLogger(__name__)

_ID_SPLIT = re.compile(r"[\s,;]+")
_ID_OK = re.compile(r"[A-Za-z0-9]{1,32}")
COL_NAME, COL_STATE, COL_EVIDENCE, COL_TIME = range(4)
ROLE_DEVICE = Qt.ItemDataRole.UserRole
ROLE_KEY = Qt.ItemDataRole.UserRole + 1


def _hms(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S") if ts else ""


class CommissioningPanel(Panel):
    KEY = "commissioning"
    TITLE = "Commissioning"
    SHORTCUT = "Ctrl+0"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session: CommissioningSession | None = None
        self.viewing: list[DeviceChecklist] | None = None  # a reopened past session
        self.viewing_batch = ""
        self.pending: list[str] = []  # ids entered before Start
        self._dirty: set[str] = set()
        self._flush_scheduled = False
        self._saved_passed = False
        self._device_items: dict[str, QTreeWidgetItem] = {}
        self.templates_path = default_path(paths.data_dir())
        try:
            self.templates = load_templates(self.templates_path)
        except TemplateError as exc:
            log.warning("commissioning templates: %s", exc)
            self.templates = load_templates(None)
        self.store = CommissioningStore(ctx.journal_path)
        self.audit = audit.AuditLog(ctx.journal_path)
        self._build()
        self._batches = ctx.feed.view_batches()  # this view's turn
        self._batches.connect(self._on_batch)
        ctx.navigator.sig_show_device_requested.connect(self._on_show_device)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        # On a desk, sessions other desks start or finish: read again off the GUI thread.
        self._reader: CommissioningStore | None = None  # used by one reload at a time
        self._session_audit: audit.AuditLog | None = None  # a shared journal's, per session
        self._shown_sessions: list[SessionSummary] | None = None
        self._shared = Reload(self._read_sessions, self._show_sessions, self)
        ctx.shared.sig_table_changed.connect(self._on_shared_change)
        self.reload_sessions()
        self._update_buttons()

    # ---- layout ----------------------------------------------------------------------

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        row = FlowLayout()
        self.ids_edit = QLineEdit()
        self.ids_edit.setPlaceholderText("Device id — type, paste or scan; Enter adds")
        self.ids_edit.returnPressed.connect(self._add_from_edit)
        self.add_btn = QPushButton("Add")
        self.add_btn.clicked.connect(self._add_from_edit)
        row.addWidget(self.ids_edit, 1)
        row.addWidget(self.add_btn)
        lay.addLayout(row)

        row = FlowLayout()
        row.addWidget(QLabel("Template"))
        self.template_combo = QComboBox()
        self._fill_templates(str(self.ctx.settings.value("commissioning/template", "")))
        self.template_combo.currentTextChanged.connect(
            lambda t: self.ctx.settings.setValue("commissioning/template", t)
        )
        row.addWidget(self.template_combo, 1)
        self.edit_tpl_btn = QToolButton()
        self.edit_tpl_btn.setText("Edit…")
        self.edit_tpl_btn.setToolTip("Edit the thresholds and checks of this template")
        self.edit_tpl_btn.clicked.connect(self._edit_template)
        row.addWidget(self.edit_tpl_btn)
        row.addWidget(QLabel("Technician"))
        self.technician = QLineEdit(
            str(self.ctx.settings.value("commissioning/technician", "") or self.ctx.operator)
        )
        self.technician.editingFinished.connect(
            lambda: self.ctx.settings.setValue("commissioning/technician", self.technician.text())
        )
        row.addWidget(self.technician, 1)
        lay.addLayout(row)

        row = FlowLayout()
        self.start_btn = QPushButton("Start")
        self.start_btn.setToolTip("Send the queries and start collecting evidence")
        self.start_btn.clicked.connect(self.start)
        self.finish_btn = QPushButton("Finish")
        self.finish_btn.setToolTip("Freeze the checklists: what still waits fails")
        self.finish_btn.clicked.connect(self.finish)
        self.new_btn = QPushButton("New batch")
        self.new_btn.clicked.connect(self.new_batch)
        self.report_btn = QPushButton("Report PDF…")
        menu = QMenu(self.report_btn)
        menu.addAction("Selected device…", lambda: self._report_dialog(selected_only=True))
        menu.addAction("Whole batch…", lambda: self._report_dialog(selected_only=False))
        self.report_btn.setMenu(menu)
        for b in (self.start_btn, self.finish_btn, self.new_btn):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.report_btn)
        lay.addLayout(row)

        self.progress = QLabel("No devices yet")
        self.progress.setWordWrap(True)
        self.progress.setObjectName("commissioningProgress")
        lay.addWidget(self.progress)

        split = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Device / check", "State", "Evidence", "Time"])
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COL_EVIDENCE, QHeaderView.ResizeMode.Stretch)
        self.tree.setColumnWidth(COL_NAME, 170)
        self.tree.setColumnWidth(COL_STATE, 110)
        self.tree.setColumnWidth(COL_TIME, 70)
        self.tree.currentItemChanged.connect(lambda *_: self._show_detail())
        tl.addWidget(self.tree, 1)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        tl.addWidget(self.detail)
        row = FlowLayout()
        self.na_btn = QPushButton("Mark not applicable…")
        self.na_btn.clicked.connect(self._mark_na_dialog)
        self.applies_btn = QPushButton("Applies again")
        self.applies_btn.clicked.connect(self._mark_applicable)
        self.remove_btn = QPushButton("Remove device")
        self.remove_btn.clicked.connect(self._remove_pending)
        row.addWidget(self.na_btn)
        row.addWidget(self.applies_btn)
        row.addWidget(self.remove_btn)
        row.addStretch(1)
        tl.addLayout(row)
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("Notes for the report (site, container, seal number …)")
        self.notes.setMaximumHeight(70)
        tl.addWidget(self.notes)
        split.addWidget(top)

        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(QLabel("Past sessions (double-click to reopen)"))
        self.sessions = QTreeWidget()
        self.sessions.setHeaderLabels(["Started", "Batch", "Devices", "Verdict", "Report"])
        self.sessions.setRootIsDecorated(False)
        self.sessions.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.sessions.setColumnWidth(0, 130)
        self.sessions.setColumnWidth(1, 170)
        self.sessions.itemDoubleClicked.connect(lambda it, _c: self.reopen(it.data(0, ROLE_DEVICE)))
        bl.addWidget(self.sessions, 1)
        row = FlowLayout()
        self.reopen_btn = QPushButton("Reopen")
        self.reopen_btn.clicked.connect(self._reopen_selected)
        self.open_pdf_btn = QPushButton("Open stored PDF")
        self.open_pdf_btn.clicked.connect(self._open_stored_pdf)
        row.addWidget(self.reopen_btn)
        row.addWidget(self.open_pdf_btn)
        row.addStretch(1)
        bl.addLayout(row)
        split.addWidget(bottom)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)

    def _fill_templates(self, current: str = "") -> None:
        self.template_combo.blockSignals(True)
        self.template_combo.clear()
        for name, t in self.templates.items():
            self.template_combo.addItem(name)
            self.template_combo.setItemData(
                self.template_combo.count() - 1, t.description, Qt.ItemDataRole.ToolTipRole
            )
        idx = self.template_combo.findText(current or DEFAULT_TEMPLATE)
        self.template_combo.setCurrentIndex(max(0, idx))
        self.template_combo.blockSignals(False)

    @property
    def template(self) -> Template:
        return self.templates.get(self.template_combo.currentText()) or self.templates[
            DEFAULT_TEMPLATE
        ]

    # ---- devices -----------------------------------------------------------------------

    def add_devices(self, text: str) -> list[str]:
        """Add every id in `text` (scanned, typed or pasted; separated by spaces/commas/lines)."""
        if self.viewing is not None:
            self.new_batch()
        added = []
        for raw in _ID_SPLIT.split(text.strip()):
            if not raw:
                continue
            if not _ID_OK.fullmatch(raw):
                self.progress.setText(f"Not a device id: {raw!r}")
                continue
            if raw in self.pending or (self.session and raw in self.session.checklists):
                continue
            added.append(raw)
            if self.session is not None:
                self.session.add_device(raw, self.template)
                self._seed_from_journal([raw])
            else:
                self.pending.append(raw)
        for d in added:
            self._refresh_device(d)
        self._update_progress()
        self._update_buttons()
        return added

    def _on_show_device(self, panel: str, device: str) -> None:
        """'Commission it' from anywhere: the lock joins the batch (once) and is selected."""
        if panel != self.KEY or not device:
            return
        self.add_devices(device)
        item = self._device_items.get(device)
        if item is not None:
            self.tree.setCurrentItem(item)

    def _add_from_edit(self) -> None:
        self.add_devices(self.ids_edit.text())
        self.ids_edit.clear()

    def _remove_pending(self) -> None:
        d = self._selected_device()
        if d and d in self.pending:
            self.pending.remove(d)
            item = self._device_items.pop(d)
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
            self._update_progress()
            self._update_buttons()

    # ---- session -----------------------------------------------------------------------

    def _profiles(self) -> list[str]:
        c = self.ctx.connections
        return sorted(set(c.connected_profiles()) | set(c.settings))

    def profile_for(self, device: str) -> str | None:
        profiles = self._profiles()
        dev = self.ctx.fleet.devices.get(device)
        if dev is not None and dev.profile in profiles:
            return dev.profile
        return profiles[0] if len(profiles) == 1 else None

    def _access_key(self, profile: str) -> str:
        s = self.ctx.connections.settings.get(profile)
        return getattr(s, "access_key", "") or ""

    def _publish(self, cmd) -> bool | str:  # type: ignore[no-untyped-def]
        profile = self.profile_for(cmd.device)
        if profile is None:
            return "no connection profile for this device (connect one first)"
        key = self._access_key(profile)
        if not key:
            return f"profile {profile!r} has no access key"
        info = self.ctx.connections.publish(profile, cmd.topic(key), cmd.text, 1)
        rc = getattr(info, "rc", 0)
        return True if rc == 0 else f"the MQTT client refused the publish (rc {rc})"

    def start(self) -> None:
        if self.session is not None or not self.pending:
            return
        t = self.template
        self.session = CommissioningSession(
            t,
            self._publish,
            technician=self._technician(),
            serials=SerialCounter(seed=self._seed_serial),
        )
        self._saved_passed = False
        # One audit writer per session: the tracker's ids restart with each session. It
        # shares the panel's SQLite connection; a shared journal's connection (not a sqlite3
        # one, which AuditLog would take for a path) is a new one, closed with the next.
        if isinstance(self.audit.conn, sqlite3.Connection):
            audit.AuditLog(self.audit.conn).attach(self.session.tracker)
        else:
            if self._session_audit is not None:
                self._session_audit.close()
            self._session_audit = audit.AuditLog(self.ctx.journal_path)
            self._session_audit.attach(self.session.tracker)
        self.session.add_listener(self._on_session_change)
        devices, self.pending = self.pending, []
        for d in devices:
            self.session.add_device(d, t)
        self._seed_from_journal(devices)
        self.session.start()
        self._refresh_all()
        self._update_buttons()
        self.save()  # in the journal from its start: other desks see it, a crash keeps it

    def _seed_serial(self, device: str) -> str | None:
        try:
            return audit.last_serial(self.audit.conn, device)
        except Exception:
            return None

    def _seed_from_journal(self, devices: list[str]) -> None:
        """Recent pushes (within the template's online window) count as evidence too."""
        if self.session is None:
            return
        since = time.time() - self.session.template.online_within_s
        try:
            journal = self.ctx.open_journal()
        except Exception:
            log.exception("cannot open the journal")
            return
        try:
            for d in devices:
                rows = list(journal.rows(device=d, since=since, newest_first=True, limit=200))
                rows.reverse()
                records = [
                    SimpleNamespace(
                        kind=r.kind, device=r.device, sublock=r.sublock, data=r.data,
                        raw=SimpleNamespace(received_at=r.received_at, topic=r.topic,
                                            profile=r.profile),
                    )
                    for r in rows
                    if r.kind != "command"  # old replies must not pair with new commands
                ]
                self.session.on_records(records, [r.id for r in rows if r.kind != "command"])
        finally:
            journal.close()

    def finish(self) -> None:
        if self.session is None:
            return
        self.session.notes = self.notes.toPlainText()
        self.session.finish()
        self.save()
        self._refresh_all()
        self._update_buttons()

    def save(self) -> None:
        if self.session is None:
            return
        batch, checklists = self.session.batch, list(self.session.checklists.values())
        technician, notes = self._technician(), self.notes.toPlainText()
        try:
            self._on_store(lambda store: store.save(batch, checklists, technician=technician,
                                                    notes=notes))
        except Exception:
            log.exception("cannot save the commissioning session")
        self.reload_sessions()

    def _on_store(self, work):
        """`work(store)`; on a desk, once more on a new connection when the shared journal
        dropped the old one (a restart, a network blip)."""
        try:
            return work(self.store)
        except JOURNAL_ERRORS:
            if not self.ctx.desk:
                raise
            old, self.store = self.store, CommissioningStore(self.ctx.journal_path)
            try:
                old.close()
            except Exception:
                log.debug("closing a dropped journal connection", exc_info=True)
            return work(self.store)

    def new_batch(self) -> None:
        if self.session is not None and not self.session.all_done:
            self.save()  # kept as in progress; nothing is lost
        self.session = None
        self.viewing = None
        self.viewing_batch = ""
        self.pending = []
        self.notes.clear()
        self.tree.clear()
        self._device_items.clear()
        self._update_progress()
        self._update_buttons()

    # ---- evidence ----------------------------------------------------------------------

    def _on_batch(self, change: FleetChange) -> None:
        s = self.session
        if s is None or not change.records:
            return
        wanted = s.checklists
        pairs = [(i, r) for i, r in change.records if r.device in wanted]
        if pairs:
            s.on_records([r for _, r in pairs], [i for i, _ in pairs])

    def _on_session_change(self, device: str, keys: set[str]) -> None:
        self._dirty.add(device)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            QTimer.singleShot(0, self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        dirty, self._dirty = self._dirty, set()
        for d in dirty:
            self._refresh_device(d)
        self._update_progress()
        self._show_detail()
        s = self.session
        if s is not None and s.all_passed and not self._saved_passed:
            self._saved_passed = True
            self.save()  # every device passed: the verdicts are final

    def _tick(self) -> None:
        if self.session is not None:
            self.session.tick()
            for d, c in self.session.checklists.items():
                if not c.done:
                    self._refresh_device(d)
        self._update_progress()

    # ---- the technician ----------------------------------------------------------------

    def _technician(self) -> str:
        """Who commissions: the name typed here, else the desk's operator."""
        return self.technician.text().strip() or self.ctx.operator

    def _selected(self) -> tuple[str | None, str | None]:
        item = self.tree.currentItem()
        if item is None:
            return None, None
        return item.data(0, ROLE_DEVICE), item.data(0, ROLE_KEY)

    def _selected_device(self) -> str | None:
        return self._selected()[0]

    def mark_not_applicable(self, device: str, key: str, reason: str) -> None:
        if self.session is None:
            return
        self.session.mark_not_applicable(device, key, reason)

    def _mark_na_dialog(self) -> None:
        device, key = self._selected()
        if self.session is None or not device or not key:
            return
        label = self.session.checklists[device][key].label
        reason, ok = QInputDialog.getText(
            self, "Not applicable", f"Why does “{label}” not apply to {device}?"
        )
        if ok and reason.strip():
            self.mark_not_applicable(device, key, reason)

    def _mark_applicable(self) -> None:
        device, key = self._selected()
        if self.session is not None and device and key:
            self.session.mark_applicable(device, key)

    # ---- the tree ----------------------------------------------------------------------

    def _checklists(self) -> dict[str, DeviceChecklist]:
        if self.viewing is not None:
            return {c.device_id: c for c in self.viewing}
        return dict(self.session.checklists) if self.session else {}

    def _refresh_all(self) -> None:
        for d in list(self._checklists()) + self.pending:
            self._refresh_device(d)
        self._update_progress()

    def _device_item(self, device: str) -> QTreeWidgetItem:
        item = self._device_items.get(device)
        if item is None:
            item = QTreeWidgetItem([device, "", "", ""])
            item.setData(0, ROLE_DEVICE, device)
            font = item.font(0)
            font.setBold(True)
            item.setFont(0, font)
            self.tree.addTopLevelItem(item)
            self._device_items[device] = item
        return item

    def _refresh_device(self, device: str) -> None:
        top = self._device_item(device)
        c = self._checklists().get(device)
        if c is None:  # pending: not started yet
            top.setText(COL_STATE, "ready")
            top.setText(COL_EVIDENCE, "press Start to send the queries")
            return
        ok, total = c.progress()
        verdict = c.verdict
        top.setText(COL_STATE, verdict.value if verdict is not Verdict.IN_PROGRESS
                    else f"{ok} / {total}")
        key = verdict.value if verdict is not Verdict.IN_PROGRESS else "waiting"
        self._paint(top, COL_STATE, key)
        top.setText(COL_EVIDENCE, ("waiting: " + c.waiting_for()) if c.waiting_for() else
                    f"{ok} of {total} checks passed")
        top.setText(COL_TIME, _hms(c.finished_at or c.started_at))
        while top.childCount() < len(c.items):
            child = QTreeWidgetItem(["", "", "", ""])
            top.addChild(child)
        for i, item in enumerate(c.items.values()):
            child = top.child(i)
            child.setData(0, ROLE_DEVICE, device)
            child.setData(0, ROLE_KEY, item.key)
            child.setText(COL_NAME, item.label)
            child.setText(COL_STATE, item.state.label)
            self._paint(child, COL_STATE, item.state.value)
            if item.state is State.PASSED and item.evidence:
                text = "; ".join(e.summary for e in item.evidence)
            else:
                text = item.reason
            child.setText(COL_EVIDENCE, text)
            last = item.evidence[-1].at if item.evidence else None
            child.setText(COL_TIME, _hms(last))
            tip = "\n".join(e.describe() for e in item.evidence) or item.reason
            for col in range(4):
                child.setToolTip(col, tip)
        if top.childCount() and not top.isExpanded() and not c.done:
            top.setExpanded(True)

    def _paint(self, item: QTreeWidgetItem, col: int, key: str) -> None:
        fg, bg = COLOURS.get(key, COLOURS["waiting"])
        item.setForeground(col, QBrush(QColor(fg)))
        item.setBackground(col, QBrush(QColor(bg)))

    def _show_detail(self) -> None:
        device, key = self._selected()
        c = self._checklists().get(device or "")
        if c is None:
            self.detail.setText("")
            return
        if key is None:
            info = ", ".join(f"{k}: {v}" for k, v in c.info.items()) or "no reply yet"
            pos = f"{c.position[0]:.5f}, {c.position[1]:.5f}" if c.position else "no fix yet"
            self.detail.setText(f"{device} — {c.verdict.value}. Position: {pos}. {info}")
            return
        item = c[key]
        lines = [f"{item.label}: {item.state.label}" + (f" — {item.reason}" if item.reason else "")]
        lines += [e.describe() for e in item.evidence]
        self.detail.setText("\n".join(lines))

    def _update_progress(self) -> None:
        if self.session is not None:
            self.progress.setText(self.session.summary())
        elif self.viewing is not None:
            vs = [c.verdict.value for c in self.viewing]
            self.progress.setText(
                f"Reopened {self.viewing_batch}: {vs.count('PASS')} passed, "
                f"{vs.count('FAIL')} failed of {len(vs)}"
            )
        elif self.pending:
            self.progress.setText(f"{len(self.pending)} device(s) ready — press Start")
        else:
            self.progress.setText("No devices yet — type, paste or scan device ids")

    def _update_buttons(self) -> None:
        running = self.session is not None
        finished = running and all(c.finished for c in self.session.checklists.values())
        self.start_btn.setEnabled(not running and bool(self.pending))
        self.finish_btn.setEnabled(running and not finished)
        self.report_btn.setEnabled(bool(self._checklists()))
        self.na_btn.setEnabled(running and not finished)
        self.applies_btn.setEnabled(running and not finished)
        self.remove_btn.setEnabled(not running and self.viewing is None)
        self.template_combo.setEnabled(not running)

    # ---- templates ---------------------------------------------------------------------

    def _edit_template(self) -> None:
        from app.ui.panels.commissioning.editor import TemplateEditor

        dlg = TemplateEditor(self.template, self)
        if dlg.exec() and dlg.result_template is not None:
            self.save_template(dlg.result_template)

    def save_template(self, t: Template) -> None:
        self.templates[t.name] = t
        try:
            save_templates(self.templates_path, self.templates)
        except (OSError, TemplateError) as exc:
            QMessageBox.warning(self, "Templates", f"Cannot save the templates: {exc}")
        self._fill_templates(t.name)

    # ---- reports -----------------------------------------------------------------------

    def write_report(self, path: str | Path, devices: list[str] | None = None) -> bytes:
        """The PDF of the batch (or of `devices`), kept in the journal with the session."""
        all_cls = self._checklists()
        chosen = [all_cls[d] for d in (devices or list(all_cls)) if d in all_cls]
        if not chosen:
            raise ValueError("no device to report on")
        batch = self.session.batch if self.session else self.viewing_batch
        if self.session is not None:
            self.session.notes = self.notes.toPlainText()
            self.save()
        info = ReportInfo(batch, self.technician.text().strip(), self.notes.toPlainText())
        pdf = render_pdf(chosen, info, path)
        try:
            self.store.attach_report(batch, pdf, str(Path(path).resolve()),
                                     [c.device_id for c in chosen])
        except Exception:
            log.exception("cannot keep the report in the journal")
        self.reload_sessions()
        return pdf

    def _report_dialog(self, selected_only: bool) -> None:
        devices = None
        if selected_only:
            d = self._selected_device()
            if not d:
                QMessageBox.information(self, "Report", "Select a device first.")
                return
            devices = [d]
        batch = self.session.batch if self.session else self.viewing_batch
        name = f"{batch}{'-' + devices[0] if devices else ''}.pdf"
        start_dir = str(self.ctx.settings.value("commissioning/report_dir", str(Path.home())))
        path, _ = QFileDialog.getSaveFileName(
            self, "Save commissioning report", str(Path(start_dir) / name), "PDF (*.pdf)"
        )
        if not path:
            return
        self.ctx.settings.setValue("commissioning/report_dir", str(Path(path).parent))
        try:
            self.write_report(path, devices)
        except Exception as exc:
            QMessageBox.warning(self, "Report", f"Cannot write the report: {exc}")
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    # ---- past sessions -----------------------------------------------------------------

    def reload_sessions(self) -> None:
        try:
            sessions = self._on_store(lambda store: store.sessions(limit=200))
        except Exception:
            log.exception("cannot read past sessions")
            return
        self._show_sessions(sessions)

    def _on_shared_change(self, table: str) -> None:
        if self.ctx.shared.concerns(table, "commissioning"):
            self._shared.request()

    def _read_sessions(self) -> list[SessionSummary]:  # a reload thread
        for attempt in (1, 2):  # the second on a new connection: the old may be dropped
            try:
                if self._reader is None:
                    self._reader = CommissioningStore(self.ctx.journal_path)
                return self._reader.sessions(limit=200)
            except JOURNAL_ERRORS:
                reader, self._reader = self._reader, None
                if reader is not None:
                    reader.close()
                if attempt == 2:
                    raise
        return []

    def _show_sessions(self, sessions: list[SessionSummary]) -> None:
        if sessions == self._shown_sessions:
            return  # as shown: the list and its selection stay as they are
        self._shown_sessions = sessions
        self.sessions.clear()
        for s in sessions:
            item = QTreeWidgetItem([
                datetime.fromtimestamp(s.started_at).strftime("%Y-%m-%d %H:%M"),
                s.batch,
                ", ".join(s.devices),
                s.verdict,
                "PDF" if s.has_report else "",
            ])
            item.setData(0, ROLE_DEVICE, s.batch)
            self._paint(item, 3, s.verdict if s.verdict in COLOURS else "waiting")
            self.sessions.addTopLevelItem(item)

    def _reopen_selected(self) -> None:
        item = self.sessions.currentItem()
        if item is not None:
            self.reopen(item.data(0, ROLE_DEVICE))

    def reopen(self, batch: str) -> None:
        stored = self.store.load(batch)
        if stored is None:
            return
        self.new_batch()
        self.viewing = stored.checklists
        self.viewing_batch = batch
        self.notes.setPlainText(stored.notes)
        if stored.technician:
            self.technician.setText(stored.technician)
        self._refresh_all()
        self._update_buttons()

    def _open_stored_pdf(self) -> None:
        item = self.sessions.currentItem()
        if item is None:
            return
        stored = self.store.load(item.data(0, ROLE_DEVICE))
        if stored is None or stored.report_pdf is None:
            QMessageBox.information(self, "Report", "No report was produced for this session.")
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the stored report", f"{stored.batch}.pdf", "PDF (*.pdf)"
        )
        if path:
            Path(path).write_bytes(stored.report_pdf)
            QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    # ---- life --------------------------------------------------------------------------

    def shutdown(self) -> None:
        self._timer.stop()
        if self.session is not None:
            self.save()
        self.store.close()
        self.audit.close()
        if self._session_audit is not None:
            self._session_audit.close()
        if self._reader is not None and not self._shared.running:
            self._reader.close()

"""The alarm panel: live alarms, filters, acknowledgement that survives a restart, and critical
alarms that sound, notify and stay red until someone acknowledges them."""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QSlider,
    QSpinBox,
    QStyle,
    QSystemTrayIcon,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.fleet.severity import CRITICAL_CODES, Severity, SeverityTable
from app.fleet.state import FleetChange
from app.protocol.codes import ALARM_TYPES
from app.ui.acknowledgements import UNDO_S
from app.ui.bounds import ALARM_ROWS, UNACKNOWLEDGED, Bound, Held, bounds_page
from app.ui.context import AppContext
from app.ui.device_menu import DeviceSteps
from app.ui.panels.alarms.dialogs import AcknowledgeDialog, SeverityEditor, severity_dialog
from app.ui.panels.alarms.model import (
    ACK,
    ALARM,
    CODE,
    CSV_HEADER,
    DESCRIPTION,
    DEVICE,
    POSITION,
    SEVERITY,
    SPEED,
    TIME,
    AlarmFilterProxy,
    AlarmRow,
    AlarmTableModel,
    row_from_entry,
    rows_from_journal,
)
from app.ui.panels.alarms.notify import CriticalNotifier
from app.ui.panels.alarms.sound import (
    MUTE_CHOICES_MIN,
    SETTINGS_SOUND,
    AlarmSound,
    mute_text,
)
from app.ui.shift_report_dialog import open_shift_report
from app.ui.widgets.flow import FlowLayout
from app.ui.widgets.history_loader import HistoryLoader
from app.ui.widgets.live_format import thousands
from app.ui.widgets.live_panel import LiveTablePanel

log = logging.getLogger(__name__)

SETTINGS_CRITICAL = "alarms/critical"  # before severities: the critical codes (read once)
SETTINGS_SEVERITIES = "alarms/severities"  # SeverityTable.to_text(): the user's changes
SETTINGS_ESCALATE = "alarms/escalate_after_min"
DEFAULT_ESCALATE_MIN = 5
ESCALATION_CHECK_MS = 10_000
SETTINGS_HEADER = "alarms/header_v3"  # v2: Acknowledged moved after Code; v3: Severity
SETTINGS_MAX_ROWS = ALARM_ROWS.key  # rows kept: File › Settings › Alarms (app/ui/bounds.py)
SETTINGS_HISTORY = "alarms/history_rows"
ACK_KEYS = {
    Qt.Key.Key_Space.value,
    QKeySequence("Ctrl+Shift+A")[0].toCombined(),
}
DEFAULT_WIDTHS = {TIME: 120, SEVERITY: 90, DEVICE: 110, ALARM: 240, CODE: 50, ACK: 150,
                  POSITION: 150, SPEED: 70, DESCRIPTION: 160}


def _legacy_critical(settings) -> set[int] | None:
    value = settings.value(SETTINGS_CRITICAL)
    if value is None:
        return None
    items = value if isinstance(value, list) else str(value).split(",")
    out = set()
    for item in items:
        try:
            out.add(int(str(item).strip()))
        except ValueError:
            continue
    return out


def load_severities(settings) -> SeverityTable:
    """The user's severity table; a choice of critical types made before severities existed
    becomes one (those critical, the other defaults' critical ones warnings)."""
    text = settings.value(SETTINGS_SEVERITIES)
    if text is not None:
        return SeverityTable.from_text(str(text))
    legacy = _legacy_critical(settings)
    if legacy is None:
        return SeverityTable()
    return critical_only(SeverityTable(), legacy)


def critical_only(table: SeverityTable, codes: set[int]) -> SeverityTable:
    """`table` with exactly `codes` critical (the others that were become warnings)."""
    known = set(ALARM_TYPES) | set(table.overrides) | set(codes)
    changes = {c: Severity.CRITICAL for c in codes}
    for code in table.codes(Severity.CRITICAL, known) - set(codes):
        changes[code] = Severity.WARNING
    return table.with_overrides(changes)


def critical_codes(table: SeverityTable) -> set[int]:
    return table.codes(Severity.CRITICAL, set(ALARM_TYPES) | set(table.overrides))


def load_critical(settings) -> set[int] | None:
    """The critical alarm codes the user chose, or None when they never chose."""
    if settings.value(SETTINGS_SEVERITIES) is None and settings.value(SETTINGS_CRITICAL) is None:
        return None
    return critical_codes(load_severities(settings))


class CriticalTypesDialog(QDialog):
    """Which alarm types are critical: the seed's alarm table as a checkable list."""

    def __init__(self, current: set[int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Critical alarm types")
        self.resize(420, 520)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(
            "Critical alarms beep, raise a notification and stay red until acknowledged."
        ))
        self.search = QLineEdit(placeholderText="Find an alarm type…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        layout.addWidget(self.search)
        self.list = QListWidget()
        codes = sorted(set(ALARM_TYPES) | set(current))
        for code in codes:
            item = QListWidgetItem(f"{code:>5}  {ALARM_TYPES.get(code, f'Unknown alarm {code}')}")
            item.setData(Qt.ItemDataRole.UserRole, code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if code in current
                               else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            lambda: self.set_codes(set(CRITICAL_CODES))
        )
        layout.addWidget(buttons)

    def _filter(self, text: str) -> None:
        text = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(text) and text not in item.text().lower())

    def set_codes(self, codes: set[int]) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole)
                               in codes else Qt.CheckState.Unchecked)

    def codes(self) -> set[int]:
        out = set()
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.add(int(item.data(Qt.ItemDataRole.UserRole)))
        return out


class AlarmsPanel(LiveTablePanel):
    KEY = "alarms"
    TITLE = "Alarms"
    SHORTCUT = "Ctrl+4"
    NOUN = "alarm"
    CSV_HEADER = CSV_HEADER
    DEFAULT_WIDTHS = DEFAULT_WIDTHS
    ID_COLUMNS = (DEVICE,)
    NAME_COLUMN = ALARM
    NAMES = tuple(ALARM_TYPES.values())
    SETTINGS_HEADER = SETTINGS_HEADER
    SETTINGS_MAX_ROWS = SETTINGS_MAX_ROWS
    SETTINGS_HISTORY = SETTINGS_HISTORY
    ROWS_BOUND = ALARM_ROWS

    model: AlarmTableModel
    proxy: AlarmFilterProxy

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 max_rows: int | None = None, history: int | None = None) -> None:
        super().__init__(ctx, parent, max_rows=max_rows, history=history)
        self.severity_table = SeverityTable()
        self.sound = AlarmSound(ctx.settings, parent=self)
        self._escalated_at: dict[int, float] = {}  # push id → when it last sounded as overdue
        self.overdue: list[AlarmRow] = []
        self._apply_saved_critical()

        self.model = AlarmTableModel(lambda: self.ctx.fleet.critical_alarms, self.max_rows, self,
                                     severities=lambda: self.severity_table)
        self.proxy = AlarmFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.notifier = CriticalNotifier(self._show_notification, parent=self)
        self._tray: QSystemTrayIcon | None = None
        self._latest_critical: AlarmRow | None = None

        self._build()
        self._restore_header()

        # The unacknowledged alarms restored from the journal, merged with the newest history,
        # made into rows on the loader thread and shown page by page, newest first.
        entries = list(ctx.fleet.unacknowledged.values())
        self._start_history(HistoryLoader(
            ctx.journal_path, "alarm", self.history_limit, rows_from_journal,
            seed=lambda: entries, seed_convert=lambda chunk: [row_from_entry(e) for e in chunk],
            max_rows=self.max_rows, parent=self,
        ), always=True)  # the restored alarms come through the loader even with no history
        ctx.acknowledgements.sig_alarms_acknowledged.connect(self._on_acknowledged)
        ctx.acknowledgements.sig_acknowledgement_undone.connect(self._on_undone)
        ctx.navigator.sig_show_device_requested.connect(self._on_show_device)
        self._escalation = QTimer(self, interval=ESCALATION_CHECK_MS,
                                  timeout=self.check_overdue)
        self._escalation.start()
        self._go_live()

    # -- building -----------------------------------------------------------------------

    def _build(self) -> None:
        layout = self._new_layout()
        self.unacked_box = QCheckBox("Unacknowledged only")
        self.unacked_box.toggled.connect(self.proxy.set_unacked_only)
        self.severity_chips = SeverityChips()
        self.severity_chips.sig_severities_chosen.connect(self.proxy.set_severities)
        self.critical_button = QPushButton("Severities…")
        self.critical_button.setToolTip("Which alarm types are critical, warnings or info")
        self.critical_button.clicked.connect(self.edit_severities)
        layout.addLayout(self._filter_bar(extra=[*self.severity_chips.buttons, self.unacked_box],
                                          buttons=[self.critical_button]))

        self.banner = QFrame()
        self.banner.setObjectName("criticalBanner")
        self.banner.setStyleSheet(
            "#criticalBanner { background: #b3261e; border-radius: 3px; }"
            " #criticalBanner QLabel { color: white; font-weight: bold; }"
        )
        banner_box = QVBoxLayout(self.banner)
        banner_box.setContentsMargins(8, 4, 4, 4)
        banner_box.setSpacing(2)
        banner_layout = FlowLayout()
        self.banner_label = QLabel()
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        show_button = QPushButton("Show unacknowledged")
        show_button.clicked.connect(lambda: self.unacked_box.setChecked(True))
        self.mute_button = QToolButton(text="Mute")
        self.mute_button.setToolTip("Silence critical alarms for a while (they still show)")
        self.mute_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        mute_menu = QMenu(self.mute_button)
        for minutes in MUTE_CHOICES_MIN:
            mute_menu.addAction(f"Mute for {minutes} minutes",
                                lambda m=minutes: self.sound.mute_for(m))
        mute_menu.addAction("Sound again now", self.sound.unmute)
        self.mute_button.setMenu(mute_menu)
        self.mute_label = QLabel("")
        dismiss = QPushButton("Dismiss")
        dismiss.clicked.connect(self.banner.hide)
        banner_box.addWidget(self.banner_label)  # the whole width: read at a glance
        banner_layout.addStretch(1)
        for w in (self.mute_label, self.mute_button, show_button, dismiss):
            banner_layout.addWidget(w)
        banner_box.addLayout(banner_layout)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.sound.sig_mute_changed.connect(self._update_mute)
        self._mute_clock = QTimer(self, interval=1000, timeout=self._update_mute)

        layout.addWidget(self._table_view(), 1)
        self.view.horizontalHeader().moveSection(SEVERITY, 1)  # read right after the time

        self.ack_action = QAction("Acknowledge selected", self)
        self.ack_action.setShortcuts([QKeySequence(Qt.Key.Key_Space),
                                      QKeySequence("Ctrl+Shift+A")])
        self.ack_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.ack_action.triggered.connect(self.acknowledge_selected)
        self.view.addAction(self.ack_action)
        self.note_action = QAction("Acknowledge with a reason or note…", self)
        self.note_action.setShortcut(QKeySequence(Qt.Key.Key_N))
        self.note_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.note_action.triggered.connect(self.acknowledge_selected_with_note)
        self.view.addAction(self.note_action)
        self.undo_action = QAction("Undo acknowledge", self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.undo_action.triggered.connect(self.undo_acknowledge)
        self.addAction(self.undo_action)

        self.steps = DeviceSteps(self.ctx, self.view, self._current_device)  # keys and menu

        self.ack_button = QPushButton("Acknowledge selected")
        self.ack_button.setToolTip("Space or Ctrl+Shift+A; N to add a reason or a note")
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.note_button = QPushButton("With note…")
        self.note_button.setToolTip("Acknowledge the selected alarms with a reason and a note (N)")
        self.note_button.clicked.connect(self.acknowledge_selected_with_note)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip(f"Take the last acknowledgement back (Ctrl+Z), for "
                                    f"{int(UNDO_S)} s after it was made")
        self.undo_button.clicked.connect(self.undo_acknowledge)
        self.undo_button.setEnabled(False)
        self.ack_all_button = QPushButton("Acknowledge all shown…")
        self.ack_all_button.setToolTip("Acknowledge every unacknowledged alarm the filters show")
        self.ack_all_button.clicked.connect(self.acknowledge_visible)
        layout.addLayout(self._footer([self.ack_button, self.note_button, self.undo_button,
                                       self.ack_all_button]))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() == QEvent.Type.KeyPress \
                and isinstance(event, QKeyEvent):
            combined = event.keyCombination().toCombined()
            if combined in ACK_KEYS:
                self.acknowledge_selected()
                return True
            if combined == Qt.Key.Key_N.value:
                self.acknowledge_selected_with_note()
                return True
            if event.matches(QKeySequence.StandardKey.Undo):
                self.undo_acknowledge()
                return True
        return super().eventFilter(watched, event)

    # -- live data ------------------------------------------------------------------------

    def _on_batch(self, change: FleetChange) -> None:
        if not change.alarms:
            return
        self._add_live([row_from_entry(e) for e in change.alarms])

    def _rows_added(self, rows: list[AlarmRow]) -> None:
        crit = self.ctx.fleet.critical_alarms
        hot = [r for r in rows if r.code in crit and r.push_id in self.model.unacked]
        if hot:
            self._latest_critical = hot[-1]
            self.notifier.add(hot)
        self.severity_chips.count(self.model, self.model.unacked.values())

    def _on_history_page(self, rows: list[AlarmRow]) -> None:
        self.model.add_rows(rows)  # the status follows on the next tick
        self.hold.update()

    def _on_tick(self) -> None:
        super()._on_tick()
        self.undo_button.setEnabled(self.ctx.acknowledgements.undoable() is not None)
        self._update_status()

    def _type_items(self) -> list[tuple[int, str]]:
        return [(code, name) for code, name in sorted(self.model.types.items(),
                                                      key=lambda kv: (kv[1].lower(), kv[0] or 0))
                if code is not None]

    def _update_status(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        unacked = len(self.model.unacked)
        critical = len(self.model.critical_unacked()) if unacked else 0
        parts = [f"{thousands(shown)} of {thousands(total)} alarms shown"
                 if shown != total else f"{thousands(total)} alarms"]
        parts.append(f"{thousands(unacked)} unacknowledged" if unacked else "all acknowledged")
        fleet = self.ctx.fleet
        if fleet.dropped_unacknowledged and len(fleet.unacknowledged) >= fleet.max_unacknowledged:
            # The bound on unacknowledged alarms in memory is reached: say where the rest is.
            parts.append(f"newest {thousands(fleet.max_unacknowledged)} unacknowledged kept, "
                         "older ones are in the journal")
        if critical:
            parts.append(f"{thousands(critical)} critical")
        if not self.history_done:
            parts.append("loading history…")
        self.status_label.setText(" · ".join(parts))
        self.severity_chips.count(self.model, self.model.unacked.values())
        if not critical:
            if not self.banner.isHidden():
                self.banner.hide()
        elif not self.banner.isHidden():
            text = (f"⚠ {thousands(critical)} critical alarm{'s' if critical != 1 else ''} "
                    "waiting for acknowledgement")
            overdue = [r for r in self.overdue if r.acked_at is None]
            if overdue:
                text += (f" ({thousands(len(overdue))} overdue, waiting over "
                         f"{self.escalate_after_min()} min)")
            latest = self._latest_critical
            if latest is not None and latest.acked_at is None:
                text += f" — latest: {latest.name} on {latest.device} at " \
                        f"{time.strftime('%H:%M:%S', time.localtime(latest.at))}"
            self.banner_label.setText(text)

    def _update_mute(self, *_args: object) -> None:
        left = self.sound.mute_left_s()
        self.mute_label.setText(mute_text(left))
        self.mute_button.setText("Muted" if left else "Mute")
        if left and not self._mute_clock.isActive():
            self._mute_clock.start()
        elif not left:
            self._mute_clock.stop()

    # -- selection --------------------------------------------------------------------------

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        menu = QMenu(self)
        row = self.model.row_at(self.proxy.mapToSource(index).row()) if index.isValid() else None
        if row is not None and row.device:
            self.steps.add_to(menu, row.device)  # the device's next steps, as everywhere
            menu.addSeparator()
        menu.addAction(self.ack_action)
        menu.addAction(self.note_action)
        if row is not None:
            n = len(self._device_unacked(row.device))
            act = menu.addAction(f"Acknowledge all alarms of {row.device} ({n})")
            act.setEnabled(n > 0)
            act.triggered.connect(lambda: self.acknowledge_device(row.device))
            same = self._type_unacked(row.code)
            act = menu.addAction(f"Acknowledge all “{row.name}” alarms ({len(same)})…")
            act.setEnabled(bool(same))
            act.triggered.connect(lambda: self.acknowledge_type(row.code, row.name))
            menu.addSeparator()
            only = menu.addAction(f"Show only {row.device}")
            only.triggered.connect(lambda: self.device_edit.setText(row.device))
            copy = menu.addAction("Copy row")
            copy.triggered.connect(lambda: QApplication.clipboard().setText(
                "\t".join(self.model.display(row, c) for c in range(self.model.columnCount()))))
        if self.ctx.acknowledgements.undoable() is not None:
            menu.addSeparator()
            menu.addAction(self.undo_action)
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def _current_device(self) -> str:
        index = self.view.currentIndex()
        if not index.isValid():
            return ""
        return self.model.row_at(self.proxy.mapToSource(index).row()).device

    def _on_show_device(self, panel_key: str, device_id: str) -> None:
        """"Its alarms" from another panel: this table shows that device's alarms."""
        if panel_key == self.KEY:
            self.device_edit.setText(device_id)
            self.proxy.set_device_text(device_id)  # at once, not after the typing pause

    # -- acknowledging ---------------------------------------------------------------------

    def _device_unacked(self, device: str) -> list[int]:
        ids = {r.push_id for r in self.model.unacked.values() if r.device == device}
        ids.update(self.ctx.fleet.unacknowledged_of(device))
        return sorted(ids)

    def _type_unacked(self, code: int | None) -> list[int]:
        ids = {r.push_id for r in self.model.unacked.values() if r.code == code}
        ids.update(i for i, e in self.ctx.fleet.unacknowledged.items() if e.alarm_type == code)
        return sorted(ids)

    def acknowledge(self, push_ids: list[int], reason: str = "", note: str = "") -> list[int]:
        """Acknowledge those of these alarms still waiting (`ctx.acknowledgements` tells every
        view, this table included, and stores it in the journal)."""
        return self.ctx.acknowledgements.acknowledge(
            (i for i in push_ids if i in self.model.unacked or i in self.ctx.fleet.unacknowledged),
            reason, note)

    def _on_acknowledged(self, push_ids: list[int], at: float, by: str) -> None:
        """Acknowledged here or in another panel: the rows say so, the banner counts down."""
        last = self.ctx.acknowledgements.last
        reason, note = (last.reason, last.note) if last and last.at == at else ("", "")
        self.model.mark_acknowledged(push_ids, at, by, reason, note)
        # Undo takes back this desk's own; another desk's (a shared journal) is not ours.
        self.undo_button.setEnabled(self.ctx.acknowledgements.undoable() is not None)
        self._update_status()

    def _on_undone(self, push_ids: list[int]) -> None:
        self.model.mark_unacknowledged(push_ids)
        for push_id in push_ids:
            self._escalated_at.pop(push_id, None)
        self.undo_button.setEnabled(self.ctx.acknowledgements.undoable() is not None)
        self._update_status()

    def acknowledge_selected(self) -> list[int]:
        return self.acknowledge([r.push_id for r in self.selected_rows()
                                 if r.acked_at is None])

    def acknowledge_selected_with_note(self) -> list[int]:
        ids = [r.push_id for r in self.selected_rows() if r.acked_at is None]
        if not ids:
            return []
        dialog = AcknowledgeDialog(len(ids), self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return []
        return self.acknowledge(ids, *dialog.values())

    def acknowledge_device(self, device: str) -> list[int]:
        return self.acknowledge(self._device_unacked(device))

    def acknowledge_type(self, code: int | None, name: str) -> list[int]:
        ids = self._type_unacked(code)
        if ids and self._confirm("Acknowledge alarms",
                                 f"Acknowledge all {thousands(len(ids))} waiting “{name}” "
                                 "alarms?"):
            return self.acknowledge(ids)
        return []

    def acknowledge_visible(self) -> list[int]:
        ids = [r.push_id for r in self.proxy.visible_rows() if r.acked_at is None]
        if not ids:
            QMessageBox.information(self, "Acknowledge", "No unacknowledged alarm is shown.")
            return []
        n = len(ids)
        if not self._confirm("Acknowledge alarms",
                             f"Acknowledge {thousands(n)} alarm{'s' if n != 1 else ''} "
                             "shown in the table?"):
            return []
        return self.acknowledge(ids)

    def undo_acknowledge(self) -> list[int]:
        """Take the last acknowledgement back (within a minute of it)."""
        done = self.ctx.acknowledgements.undo()
        if done:
            self.status_label.setText(f"{thousands(len(done))} alarm"
                                      f"{'s' if len(done) != 1 else ''} waiting again")
        return done

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    # -- severities and critical alarms --------------------------------------------------------

    def _apply_saved_critical(self) -> None:
        self.apply_severities(load_severities(self.ctx.settings), save=False)

    def apply_severities(self, table: SeverityTable, *, save: bool = True) -> None:
        """The user's severities: the fleet learns which alarms are critical (its rule), the
        settings keep the table, the rows redraw."""
        self.severity_table = table
        changed = self.ctx.fleet.set_critical_alarms(critical_codes(table))
        if save:
            self.ctx.settings.setValue(SETTINGS_SEVERITIES, table.to_text())
        if hasattr(self, "model"):
            self.model.critical_changed(changed)
            self.model.severities_changed()
            self._update_status()

    def set_critical_codes(self, codes: set[int], *, save: bool = True) -> None:
        """Exactly these alarm types critical (the others that were become warnings)."""
        self.apply_severities(critical_only(self.severity_table, set(codes)), save=save)

    def edit_severities(self) -> None:
        severity_dialog(self.severity_table, self.apply_severities, self).exec()

    def edit_critical_types(self) -> None:
        dialog = CriticalTypesDialog(set(self.ctx.fleet.critical_alarms), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.set_critical_codes(dialog.codes())

    # -- sound, notification, escalation ------------------------------------------------------

    def escalate_after_min(self) -> int:
        try:
            return max(1, int(self.ctx.settings.value(SETTINGS_ESCALATE, DEFAULT_ESCALATE_MIN)))
        except (TypeError, ValueError):
            return DEFAULT_ESCALATE_MIN

    def check_overdue(self, now: float | None = None) -> list[AlarmRow]:
        """Critical alarms waiting longer than the escalation time sound again (once per that
        time each), flash the taskbar and show in the banner as overdue."""
        now = time.time() if now is None else now
        after = self.escalate_after_min() * 60
        self.overdue = [r for r in self.model.critical_unacked() if now - r.at >= after]
        due = [r for r in self.overdue if now - self._escalated_at.get(r.push_id, r.at) >= after]
        # Only the alarms overdue now are remembered: one that left the table (its bound) or
        # was acknowledged elsewhere must not stay here for the rest of the shift (issue 26).
        waiting = {r.push_id for r in self.overdue}
        self._escalated_at = {k: t for k, t in self._escalated_at.items() if k in waiting}
        for r in due:
            self._escalated_at[r.push_id] = now
        if due:
            n = len(self.overdue)
            self.sound.alarm()
            QApplication.alert(self.window())
            self._tray_message(f"{n} critical alarm{'s' if n != 1 else ''} overdue",
                               f"Waiting for acknowledgement for over "
                               f"{self.escalate_after_min()} minutes")
            self.banner.show()
        self._update_status()
        return due

    def _show_notification(self, title: str, message: str) -> None:
        self.sound.alarm()
        self._tray_message(title, message)
        # The banner also shows in the panel: a tray balloon is easy to miss.
        self.banner_label.setToolTip(f"{title}\n{message}")
        self.banner.show()
        self._update_status()

    def _tray_message(self, title: str, message: str) -> None:
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return
        if self._tray is None:
            icon = self.window().windowIcon()
            if icon.isNull():
                icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            self._tray = QSystemTrayIcon(icon, self)
            self._tray.setToolTip("SealDesk")
            self._tray.show()
        self._tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Critical, 10_000)

    # -- what the window asks ------------------------------------------------------------------

    def file_actions(self) -> list[QAction]:
        """Export alarms, and the shift handover report."""
        report = QAction("Shift report…", self)
        report.setToolTip("Alarms of a shift — raised, acknowledged (by whom, why), still open "
                          "— with a handover note, as PDF or CSV")
        report.triggered.connect(lambda: open_shift_report(self.ctx, self.window()))
        return [*super().file_actions(), report]

    def quit_warning(self) -> str:
        n = len(self.model.critical_unacked())
        if not n:
            return ""
        return (f"{thousands(n)} critical alarm{'s are' if n != 1 else ' is'} not acknowledged. "
                "They stay in the journal and come back at the next start.")

    def settings_page(self) -> QWidget:
        """File › Settings › Alarms: severities, escalation and sound."""
        page = QWidget()
        lay = QVBoxLayout(page)
        editor = SeverityEditor(self.severity_table)
        editor.sig_table_changed.connect(self.apply_severities)
        lay.addWidget(editor, 1)
        form = QFormLayout()
        escalate = QSpinBox()
        escalate.setRange(1, 240)
        escalate.setSuffix(" min")
        escalate.setValue(self.escalate_after_min())
        escalate.setToolTip("A critical alarm waiting this long sounds again and shows overdue")
        escalate.valueChanged.connect(lambda v: self.ctx.settings.setValue(SETTINGS_ESCALATE, v))
        form.addRow("Sound again after", escalate)
        sound_on = QCheckBox("Sound for critical alarms")
        sound_on.setChecked(self.sound.enabled)
        sound_on.toggled.connect(
            lambda on: self.ctx.settings.setValue(SETTINGS_SOUND, "true" if on else "false"))
        form.addRow("Sound", sound_on)
        volume = QSlider(Qt.Orientation.Horizontal)
        volume.setRange(0, 100)
        volume.setValue(self.sound.volume)
        volume.valueChanged.connect(self.sound.set_volume)
        test = QPushButton("Test sound")
        test.clicked.connect(self.sound.play)
        row = QHBoxLayout()
        row.addWidget(volume, 1)
        row.addWidget(test)
        form.addRow("Volume", row)
        lay.addLayout(form)
        lay.addWidget(bounds_page(self.ctx.settings, self.bound_settings(),
                                  "Memory: the newest alarms are kept; the journal keeps every "
                                  "one.", embedded=True))
        page.editor, page.escalate, page.sound_on, page.volume = editor, escalate, sound_on, volume
        return page

    def bound_settings(self) -> list[tuple[Bound, Any]]:
        return [*super().bound_settings(), (UNACKNOWLEDGED, self.set_unacknowledged_kept)]

    def bounds(self) -> list[Held]:
        return [*super().bounds(), Held("alarms: overdue ones remembered (escalation)",
                                        len(self._escalated_at), self.max_rows)]

    def set_unacknowledged_kept(self, n: int) -> None:
        """Unacknowledged alarms kept in memory (Settings › Alarms), applied at once."""
        self.ctx.fleet.set_max_unacknowledged(n)
        self._update_status()

    # -- end -----------------------------------------------------------------------------------

    def shutdown(self) -> None:
        self.notifier.stop()
        self._escalation.stop()
        self._mute_clock.stop()
        self.sound.close()
        super().shutdown()
        if self._tray is not None:
            self._tray.hide()


class SeverityChips(QObject):
    """▲ critical (3) ◆ warning (12) ● info (0): one click shows only that severity, a second
    click all again; Ctrl+click adds or takes one away. The counts are of waiting alarms."""

    sig_severities_chosen = Signal(object)
    """The severities to show (a frozenset), or None for all."""

    def __init__(self) -> None:
        super().__init__()
        self.buttons: list[QToolButton] = []
        for severity in Severity:
            button = QToolButton(text=severity.label)
            button.setCheckable(True)
            button.setToolTip(f"Only {severity.value} alarms (Ctrl+click: add or remove)")
            button.setProperty("severity", severity.value)
            button.clicked.connect(lambda _on=False, sv=severity: self._clicked(sv))
            self.buttons.append(button)
        self.chosen: frozenset[Severity] | None = None

    def _clicked(self, severity: Severity) -> None:
        adding = bool(QApplication.keyboardModifiers() & Qt.KeyboardModifier.ControlModifier)
        current = set(self.chosen or ())
        if adding:
            current ^= {severity}
        else:
            current = set() if current == {severity} else {severity}
        self.choose(frozenset(current) or None)

    def choose(self, severities: frozenset[Severity] | None) -> None:
        self.chosen = severities
        for button, severity in zip(self.buttons, Severity, strict=True):
            button.setChecked(bool(severities) and severity in severities)
        self.sig_severities_chosen.emit(severities)

    def count(self, model: AlarmTableModel, waiting) -> None:
        counts = dict.fromkeys(Severity, 0)
        for row in waiting:
            counts[model.severity(row)] += 1
        for button, severity in zip(self.buttons, Severity, strict=True):
            button.setText(f"{severity.label} {counts[severity]:,}")

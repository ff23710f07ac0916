"""The alarm panel: live alarms, filters, acknowledgement that survives a restart, and critical
alarms that sound, notify and stay red until someone acknowledges them."""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QStyle,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from app.fleet.state import DEFAULT_CRITICAL_ALARMS, FleetChange
from app.protocol.codes import ALARM_TYPES
from app.ui.context import AppContext
from app.ui.panels.alarms.model import (
    ACK,
    ALARM,
    CODE,
    CSV_HEADER,
    DESCRIPTION,
    DEVICE,
    POSITION,
    SPEED,
    TIME,
    AlarmFilterProxy,
    AlarmRow,
    AlarmTableModel,
    row_from_entry,
    rows_from_journal,
)
from app.ui.panels.alarms.notify import CriticalNotifier
from app.ui.settings_dialog import sound_enabled
from app.ui.widgets.history_loader import HistoryLoader
from app.ui.widgets.live_format import thousands
from app.ui.widgets.live_panel import LiveTablePanel

log = logging.getLogger(__name__)

SETTINGS_CRITICAL = "alarms/critical"
SETTINGS_HEADER = "alarms/header_v2"  # v2: Acknowledged moved after Code
SETTINGS_MAX_ROWS = "alarms/max_rows"
SETTINGS_HISTORY = "alarms/history_rows"
ACK_KEYS = {
    Qt.Key.Key_Space.value,
    QKeySequence("Ctrl+Shift+A")[0].toCombined(),
}
DEFAULT_WIDTHS = {TIME: 120, DEVICE: 110, ALARM: 240, CODE: 50, ACK: 150, POSITION: 150,
                  SPEED: 70, DESCRIPTION: 160}


def load_critical(settings) -> set[int] | None:
    """The saved critical alarm codes, or None when the user never chose."""
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


def save_critical(settings, codes: set[int]) -> None:
    settings.setValue(SETTINGS_CRITICAL, ",".join(str(c) for c in sorted(codes)))


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
            lambda: self.set_codes(set(DEFAULT_CRITICAL_ALARMS))
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

    model: AlarmTableModel
    proxy: AlarmFilterProxy

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 max_rows: int | None = None, history: int | None = None) -> None:
        super().__init__(ctx, parent, max_rows=max_rows, history=history)
        self._apply_saved_critical()

        self.model = AlarmTableModel(lambda: self.ctx.fleet.critical_alarms, self.max_rows, self)
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
        ctx.acknowledgements.sig_acknowledged.connect(self._on_acknowledged)
        self._go_live()

    # -- building -----------------------------------------------------------------------

    def _build(self) -> None:
        layout = self._new_layout()
        self.unacked_box = QCheckBox("Unacknowledged only")
        self.unacked_box.toggled.connect(self.proxy.set_unacked_only)
        self.critical_button = QPushButton("Critical types…")
        self.critical_button.setToolTip("Choose which alarm types are critical")
        self.critical_button.clicked.connect(self.edit_critical_types)
        layout.addLayout(self._filter_bar(extra=[self.unacked_box],
                                          buttons=[self.critical_button]))

        self.banner = QFrame()
        self.banner.setObjectName("criticalBanner")
        self.banner.setStyleSheet(
            "#criticalBanner { background: #b3261e; border-radius: 3px; }"
            " #criticalBanner QLabel { color: white; font-weight: bold; }"
        )
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(8, 4, 4, 4)
        self.banner_label = QLabel()
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        show_button = QPushButton("Show unacknowledged")
        show_button.clicked.connect(lambda: self.unacked_box.setChecked(True))
        dismiss = QPushButton("Dismiss")
        dismiss.clicked.connect(self.banner.hide)
        banner_layout.addWidget(self.banner_label, 1)
        banner_layout.addWidget(show_button)
        banner_layout.addWidget(dismiss)
        self.banner.hide()
        layout.addWidget(self.banner)

        layout.addWidget(self._table_view(), 1)

        self.ack_action = QAction("Acknowledge selected", self)
        self.ack_action.setShortcuts([QKeySequence(Qt.Key.Key_Space),
                                      QKeySequence("Ctrl+Shift+A")])
        self.ack_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.ack_action.triggered.connect(self.acknowledge_selected)
        self.view.addAction(self.ack_action)
        self.view.installEventFilter(self)  # the same keys when no shortcut map applies

        self.ack_button = QPushButton("Acknowledge selected")
        self.ack_button.setToolTip("Space or Ctrl+Shift+A")
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.ack_all_button = QPushButton("Acknowledge all shown…")
        self.ack_all_button.setToolTip("Acknowledge every unacknowledged alarm the filters show")
        self.ack_all_button.clicked.connect(self.acknowledge_visible)
        layout.addLayout(self._footer([self.ack_button, self.ack_all_button]))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.view and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.keyCombination().toCombined() in ACK_KEYS
        ):
            self.acknowledge_selected()
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

    def _on_history_page(self, rows: list[AlarmRow]) -> None:
        self.model.add_rows(rows)  # the status follows on the next tick
        self.hold.update()

    def _on_tick(self) -> None:
        super()._on_tick()
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
        if critical:
            parts.append(f"{thousands(critical)} critical")
        if not self.history_done:
            parts.append("loading history…")
        self.status_label.setText(" · ".join(parts))
        if not critical:
            if not self.banner.isHidden():
                self.banner.hide()
        elif not self.banner.isHidden():
            text = (f"⚠ {thousands(critical)} critical alarm{'s' if critical != 1 else ''} "
                    "waiting for acknowledgement")
            latest = self._latest_critical
            if latest is not None and latest.acked_at is None:
                text += f" — latest: {latest.name} on {latest.device} at " \
                        f"{time.strftime('%H:%M:%S', time.localtime(latest.at))}"
            self.banner_label.setText(text)

    # -- selection --------------------------------------------------------------------------

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        menu = QMenu(self)
        menu.addAction(self.ack_action)
        if index.isValid():
            row = self.model.row_at(self.proxy.mapToSource(index).row())
            n = len(self._device_unacked(row.device))
            act = menu.addAction(f"Acknowledge all alarms of {row.device} ({n})")
            act.setEnabled(n > 0)
            act.triggered.connect(lambda: self.acknowledge_device(row.device))
            menu.addSeparator()
            only = menu.addAction(f"Show only {row.device}")
            only.triggered.connect(lambda: self.device_edit.setText(row.device))
            copy = menu.addAction("Copy row")
            copy.triggered.connect(lambda: QApplication.clipboard().setText(
                "\t".join(self.model.display(row, c) for c in range(self.model.columnCount()))))
        menu.exec(self.view.viewport().mapToGlobal(pos))

    # -- acknowledging ---------------------------------------------------------------------

    def _device_unacked(self, device: str) -> list[int]:
        ids = {r.push_id for r in self.model.unacked.values() if r.device == device}
        ids.update(self.ctx.fleet.unacknowledged_of(device))
        return sorted(ids)

    def acknowledge(self, push_ids: list[int]) -> list[int]:
        """Acknowledge those of these alarms still waiting (`ctx.acknowledgements` tells every
        view, this table included, and stores it in the journal)."""
        return self.ctx.acknowledgements.acknowledge(
            i for i in push_ids if i in self.model.unacked or i in self.ctx.fleet.unacknowledged)

    def _on_acknowledged(self, push_ids: list[int], at: float, by: str) -> None:
        """Acknowledged here or in another panel: the rows say so, the banner counts down."""
        self.model.mark_acknowledged(push_ids, at, by)
        self._update_status()

    def acknowledge_selected(self) -> list[int]:
        return self.acknowledge([r.push_id for r in self.selected_rows()
                                 if r.acked_at is None])

    def acknowledge_device(self, device: str) -> list[int]:
        return self.acknowledge(self._device_unacked(device))

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

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    # -- critical alarms -------------------------------------------------------------------

    def _apply_saved_critical(self) -> None:
        saved = load_critical(self.ctx.settings)
        if saved is not None:
            self.set_critical_codes(saved, save=False)

    def set_critical_codes(self, codes: set[int], *, save: bool = True) -> None:
        """The dispatcher's choice of critical types: the fleet applies it (the rule is
        its own), the settings keep it, the table redraws what changed."""
        changed = self.ctx.fleet.set_critical_alarms(codes)
        if save:
            save_critical(self.ctx.settings, set(codes))
        if hasattr(self, "model"):
            self.model.critical_changed(changed)
            self._update_status()

    def edit_critical_types(self) -> None:
        dialog = CriticalTypesDialog(set(self.ctx.fleet.critical_alarms), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.set_critical_codes(dialog.codes())

    def _show_notification(self, title: str, message: str) -> None:
        if sound_enabled(self.ctx.settings):
            QApplication.beep()
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                icon = self.window().windowIcon()
                if icon.isNull():
                    icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
                self._tray = QSystemTrayIcon(icon, self)
                self._tray.setToolTip("SealDesk")
                self._tray.show()
            self._tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Critical, 10_000)
        # The banner also shows in the panel: a tray balloon is easy to miss.
        self.banner_label.setToolTip(f"{title}\n{message}")
        self.banner.show()
        self._update_status()

    # -- end -----------------------------------------------------------------------------------

    def shutdown(self) -> None:
        self.notifier.stop()
        super().shutdown()
        if self._tray is not None:
            self._tray.hide()

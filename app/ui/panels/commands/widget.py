"""The command console panel: compose → (confirm) → send → watch the reply, with history,
unsolicited replies, bulk sends and the audit export.

Nothing is ever re-sent automatically. "Retry" is an explicit action that composes a new
command with a new serial and goes through the same confirmation as the original.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QItemSelectionModel, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.commands import audit
from app.commands.builder import Command, CommandError, mask_secrets
from app.commands.replies import label_reply
from app.commands.tracker import PRUNE_EVERY, TrackedCommand, UnsolicitedReply
from app.fleet.state import FleetChange
from app.journal.url import JOURNAL_ERRORS
from app.protocol.redact import MASK, mask_reply
from app.ui.bounds import COMMAND_HISTORY, Held, bounds_page
from app.ui.command_history import make_provider
from app.ui.context import AppContext
from app.ui.panel import Panel
from app.ui.panels.commands.bulk import BulkDialog
from app.ui.panels.commands.compose import ERROR_STYLE, MUTED_STYLE, ComposeWidget
from app.ui.panels.commands.confirm import ConfirmDialog, mono_font
from app.ui.panels.commands.console import CommandConsole, SendRefused
from app.ui.panels.commands.history_model import (
    ROW_ROLE,
    STATE_COLOURS,
    STATE_WORDS,
    HistoryFilter,
    HistoryModel,
    HistoryRow,
    UnsolicitedModel,
)
from app.ui.widgets.elide import elide_cells
from app.ui.widgets.flow import FlowLayout
from app.ui.widgets.reload import Reload

log = logging.getLogger(__name__)

# The composer never asks for more height than this: a template with many parameters
# scrolls instead, so the panel still shares a laptop's column with the lock's detail.
COMPOSE_MAX_MIN_H = 180

HISTORY_WIDTHS = (64, 100, 104, 230, 240, 80, 48, 70, 70)
NARROW = 1000  # below this width the reply pane goes under the table
# Another desk's commands read back when the audit changes: those made this long ago or since
# (a command is open for its time-out, a minute or so; room for clocks that disagree).
OTHERS_WINDOW_S = 600.0


def masked_audit_row(row):
    """An audit row as an export writes it: the command text and the reply without the
    unlock password (the journal keeps both as they were)."""
    return replace(row, text=mask_secrets(row.text, mask=MASK),
                   reply=mask_reply(row.name, row.reply))


class CommandsPanel(Panel):
    KEY = "commands"
    TITLE = "Commands"
    SHORTCUT = "Ctrl+7"
    sig_command_updated = Signal(str)  # device id whose command history changed
    sig_export_finished = Signal(str, int, str)  # path, rows, error

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CommandsPanel")
        self.ctx = ctx
        self.console = CommandConsole(ctx, self)
        # The detail pane shows the selected lock's last commands (from the audit table).
        ctx.detail_sections.add("commands", make_provider(
            ctx.journal_path, shown_text=ctx.reveal.command, shown_reply=ctx.reveal.reply))
        self.confirm_dialog: ConfirmDialog | None = None
        self.bulk_dialog: BulkDialog | None = None
        self._follow: str | None = None  # history key to select once it appears
        self._last_sent: str | None = None  # its outcome is reported under the Send button

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.compose = ComposeWidget(ctx, self.console, self)
        # A template with many parameters is taller than a laptop's column shared with the
        # lock's detail: the form scrolls, the Send row and the history stay in view.
        self.compose_scroll = QScrollArea(self)
        self.compose_scroll.setWidget(self.compose)
        self.compose_scroll.setWidgetResizable(True)
        self.compose_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.compose_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.compose_scroll.setSizePolicy(QSizePolicy.Policy.Preferred,
                                          QSizePolicy.Policy.Maximum)
        lay.addWidget(self.compose_scroll)
        self._fit_compose()
        self.compose.template_combo.currentIndexChanged.connect(
            lambda _i: QTimer.singleShot(0, self._fit_compose))

        actions = FlowLayout()
        self.send_button = QPushButton("Send  (Ctrl+Return)")
        self.send_button.setObjectName("commands_send")
        self.send_button.setDefault(True)
        self.bulk_button = QPushButton("Send to selection…")
        self.bulk_button.setObjectName("commands_bulk_open")
        self.bulk_button.setToolTip("The same command to every device selected in the tree "
                                    "(or a pasted list), paced, with a summary")
        self.timeout_label = QLabel("")
        self.timeout_label.setStyleSheet(MUTED_STYLE)
        actions.addWidget(self.send_button)
        actions.addWidget(self.bulk_button)
        actions.addStretch(1)
        actions.addWidget(self.timeout_label)
        lay.addLayout(actions)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)

        # -- history + reply -------------------------------------------------------------
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)
        hist = QWidget()
        hl = QVBoxLayout(hist)
        hl.setContentsMargins(0, 4, 0, 0)
        bar = FlowLayout()
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("commands_search")
        self.search_edit.setPlaceholderText("Search device, command text, state…")
        self.search_edit.setClearButtonEnabled(True)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Send the selected command again, with a new serial "
                                     "(never automatic)")
        self.retry_button.setEnabled(False)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Export the audit (journal) rows matching the search")
        bar.addWidget(self.search_edit, 1)
        bar.addWidget(self.retry_button)
        bar.addWidget(self.export_button)
        hl.addLayout(bar)

        # Commands kept in the history: a bound (Settings › Commands); the audit has them all.
        self.model = HistoryModel(COMMAND_HISTORY.value(ctx.settings), parent=self)
        self.model.shown_text = ctx.reveal.command  # unlock passwords masked unless revealed
        self.proxy = HistoryFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("commands_history")
        elide_cells(self.table, (HistoryModel.DEVICE,))
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        h = self.table.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        h.setStretchLastSection(True)
        for c, w in enumerate(HISTORY_WIDTHS):
            self.table.setColumnWidth(c, w)

        reply = QWidget()
        rl = QVBoxLayout(reply)
        rl.setContentsMargins(6, 0, 0, 0)
        self.reply_title = QLabel("Select a command to see its reply.")
        self.reply_title.setWordWrap(True)
        self.reply_title.setTextFormat(Qt.TextFormat.RichText)
        self.reply_note = QLabel("")
        self.reply_note.setWordWrap(True)
        self.reply_note.setStyleSheet(MUTED_STYLE)
        self.reply_table = QTableWidget(0, 2)
        self.reply_table.setObjectName("commands_reply")
        self.reply_table.setHorizontalHeaderLabels(["Field", "Value"])
        self.reply_table.verticalHeader().hide()
        self.reply_table.verticalHeader().setDefaultSectionSize(22)
        self.reply_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.reply_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Interactive)
        self.reply_table.horizontalHeader().setStretchLastSection(True)
        self.reply_table.setWordWrap(True)
        rl.addWidget(self.reply_title)
        rl.addWidget(self.reply_note)
        rl.addWidget(self.reply_table, 1)
        rl.addStretch(0)
        self.reply_table.hide()

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(reply)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        hl.addWidget(self.splitter, 1)
        self.tabs.addTab(hist, "History")

        self.unsolicited_model = UnsolicitedModel(parent=self)
        self.unsolicited_table = QTableView()
        self.unsolicited_table.setObjectName("commands_unsolicited")
        self.unsolicited_table.setModel(self.unsolicited_model)
        self.unsolicited_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.unsolicited_table.verticalHeader().hide()
        self.unsolicited_table.horizontalHeader().setStretchLastSection(True)
        for c, w in enumerate((118, 120, 90, 420)):
            self.unsolicited_table.setColumnWidth(c, w)
        un = QWidget()
        ul = QVBoxLayout(un)
        ul.setContentsMargins(0, 4, 0, 0)
        note = QLabel("Replies that matched no open command: late answers, or commands sent "
                      "by someone else.")
        note.setStyleSheet(MUTED_STYLE)
        note.setWordWrap(True)
        ul.addWidget(note)
        ul.addWidget(self.unsolicited_table, 1)
        self.tabs.addTab(un, "Unsolicited (0)")

        # -- wiring ------------------------------------------------------------------------
        self.send_button.clicked.connect(self.send_current)
        self.compose.sig_send_requested.connect(self.send_current)
        self.compose.sig_preview_changed.connect(self._preview_changed)
        self.send_action = QAction("Send", self)
        self.send_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.send_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.send_action.triggered.connect(self.send_current)
        self.addAction(self.send_action)
        self.bulk_button.clicked.connect(self.open_bulk)
        self.search_edit.textChanged.connect(self.proxy.set_needle)
        self.retry_button.clicked.connect(self.retry_selected)
        self.export_button.clicked.connect(self._export_clicked)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_selected())
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.unsolicited_table.selectionModel().selectionChanged.connect(
            lambda *_: self._show_unsolicited())
        self.model.sig_rows_changed.connect(self._rows_changed)
        self.console.sig_command_changed.connect(self._on_command)
        self.console.sig_unsolicited_received.connect(self._on_unsolicited)
        self.sig_export_finished.connect(self._export_done)
        ctx.selection.sig_device_selected.connect(self._on_device_selected)
        ctx.navigator.sig_show_device_requested.connect(self._on_show_device)
        ctx.reveal.sig_reveal_changed.connect(self._on_reveal_changed)
        self.unsolicited_model.shown_reply = ctx.reveal.reply
        self._batches = ctx.feed.view_batches()  # this view's turn
        self._batches.connect(self._on_batch)
        self._devices_timer = QTimer(self, interval=1000, singleShot=True,
                                     timeout=self.compose.refresh_devices)
        ctx.connections.sig_state_changed.connect(lambda *_: self.compose.refresh_profiles())

        self.model.load(HistoryRow.from_audit(r)
                        for r in self.console.history(min(1000, self.model.max_rows)))
        # On a desk, the commands other desks send (and their replies) join the history.
        self._others_conn = None  # used by one reload at a time
        self._others_shown: dict[int, audit.AuditRow] = {}  # as last upserted
        self._others = Reload(self._read_others, self._show_others, self)
        ctx.shared.sig_table_changed.connect(self._on_shared_change)
        if ctx.selection.device_id:
            self.compose.set_device(ctx.selection.device_id)
        self._update_timeout_label()
        self._preview_changed()

    # ---- other desks ---------------------------------------------------------------------

    def _on_shared_change(self, table: str) -> None:
        if self.ctx.shared.concerns(table, "command"):
            self._others.request()

    def _read_others(self) -> list[audit.AuditRow]:  # a reload thread
        for attempt in (1, 2):  # the second on a new connection: the old may be dropped
            try:
                if self._others_conn is None:
                    self._others_conn = audit.connect(self.ctx.journal_path)
                return self.console.others(self._others_conn, time.time() - OTHERS_WINDOW_S)
            except JOURNAL_ERRORS:
                conn, self._others_conn = self._others_conn, None
                if conn is not None:
                    conn.close()
                if attempt == 2:
                    raise
        return []

    def _show_others(self, rows: list[audit.AuditRow]) -> None:
        shown = self._others_shown
        for r in rows:
            if shown.get(r.id) != r:  # new, or changed since (sent → answered…)
                shown[r.id] = r
                self.model.upsert(HistoryRow.from_audit(r))
        if len(shown) > 2000:  # bounded: only the newest can still change
            keep = {r.id for r in rows}
            self._others_shown = {i: r for i, r in shown.items() if i in keep}

    # ---- inputs from the app -------------------------------------------------------------

    def _on_device_selected(self, device_id: str) -> None:
        if device_id:
            self.compose.set_device(device_id)

    def _on_reveal_changed(self, _shown: bool) -> None:
        """Secrets shown or masked again: the history's text and the reply pane follow."""
        for model in (self.model, self.unsolicited_model):
            n = model.rowCount()
            if n:
                model.dataChanged.emit(model.index(0, 0), model.index(n - 1,
                                                                     model.columnCount() - 1))
        self._show_selected()

    def _on_show_device(self, panel: str, device_id: str) -> None:
        """'Send a command…' from anywhere: this device, the command to choose next."""
        if panel == self.KEY and device_id:
            self.compose.set_device(device_id)
            self.compose.template_combo.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_batch(self, change: FleetChange) -> None:
        # Pairing is done on the writer thread (see console.py); here only the pickers.
        if change.new_devices:
            # the completer's list is rebuilt at most once a second while devices pour in
            if not self._devices_timer.isActive():
                self._devices_timer.start()
            if self.compose.device() in change.new_devices:
                self.compose._device_changed(self.compose.device())
        if change.new_sublocks and any(d == self.compose.device()
                                       for d, _ in change.new_sublocks):
            self.compose._refresh_sublocks()

    def _update_timeout_label(self) -> None:
        self.timeout_label.setText(f"reply timeout {self.console.tracker.timeout_s:g} s")

    def _preview_changed(self) -> None:
        self.send_button.setEnabled(self.compose.command is not None
                                    and bool(self.compose.profile()))
        self.bulk_button.setEnabled(self.compose.template() is not None
                                    or bool(self.compose.free_edit.text().strip()))

    # ---- sending -------------------------------------------------------------------------

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")

    def send_current(self) -> None:
        self.compose.update_preview()
        c = self.compose.command
        if c is None:
            self._say(f"Not sent: {self.compose.error}", error=True)
            return
        profile = self.compose.profile()
        if not profile:
            self._say("Not sent: no connected profile.", error=True)
            return
        self._send_checked(c, profile)

    def _send_checked(self, c: Command, profile: str) -> None:
        """Dangerous commands go through the typed confirmation first; others straight out."""
        if c.dangerous:
            self._confirm(c, lambda: self._publish(c, profile))
        else:
            self._publish(c, profile)

    def _confirm(self, c: Command, then: Callable[[], None]) -> None:
        if self.confirm_dialog is not None:
            self.confirm_dialog.deleteLater()
        dlg = ConfirmDialog(expected=c.device, reason=c.reason,
                            texts=[self.ctx.reveal.command(c.text)],
                            target=f"device {c.device}", parent=self)
        self.confirm_dialog = dlg
        dlg.accepted.connect(then)
        dlg.rejected.connect(lambda: self._say(f"Cancelled: nothing sent to {c.device}."))
        dlg.open()

    def _publish(self, c: Command, profile: str) -> int | None:
        try:
            cid = self.console.send(c, profile)
        except SendRefused as exc:
            self._say(f"Not sent: {exc}", error=True)
            return None
        tc = self.console.tracker.get(cid)
        if tc.state.value == "failed":
            self._say(f"Not sent: {tc.reason}", error=True)
        else:
            self._say(f"Sent {self.ctx.reveal.command(c.text)} to {c.device} via {profile}; "
                      f"waiting for {c.name} "
                      f"(up to {self.console.tracker.timeout_s:g} s).")
        self._follow = self._last_sent = f"t{cid}"
        self.compose.update_preview()  # the next serial
        return cid

    # ---- tracker → views -------------------------------------------------------------------

    def _on_command(self, tc: TrackedCommand) -> None:
        self.model.upsert(HistoryRow.from_tracked(tc, self.console.tracker.timeout_s))

    def _on_unsolicited(self, u: UnsolicitedReply) -> None:
        self.unsolicited_model.add([u])
        self.tabs.setTabText(1, f"Unsolicited ({self.unsolicited_model.rowCount()})")

    def _rows_changed(self, keys: list[str]) -> None:
        devices = []
        for k in keys:
            r = self.model.row_by_key(k)
            if r is not None and r.device not in devices:
                devices.append(r.device)
        if self._last_sent in keys:
            self._report(self.model.row_by_key(self._last_sent))
        if self._follow in keys:
            self.select_key(self._follow)
            self._follow = None
        else:
            self._show_selected()
        for d in devices:
            self.sig_command_updated.emit(d)

    def _report(self, row: HistoryRow | None) -> None:
        """The outcome of the last command sent from here, in words, under the Send button."""
        if row is None or row.state in ("queued", "sent"):
            return
        word = STATE_WORDS.get(row.state, row.state)
        colour = STATE_COLOURS.get(row.state)
        text = f"{self.ctx.reveal.command(row.text)} → {row.device}: {word.upper()}"
        if row.state == "answered" and row.answered_in is not None:
            text += f" in {row.answered_in:.2f} s — {row.outcome()}"
        elif row.reason:
            text += f" — {row.outcome()}"
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {colour.name()};" if colour else "")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        want = Qt.Orientation.Vertical if self.width() < NARROW else Qt.Orientation.Horizontal
        if self.splitter.orientation() != want:
            self.splitter.setOrientation(want)
            total = sum(self.splitter.sizes()) or 600
            table = total * 2 // 5 if want == Qt.Orientation.Vertical else total * 3 // 5
            self.splitter.setSizes([table, total - table])

    def select_key(self, key: str) -> None:
        r = self.model.display_row_of(key)
        if r < 0:
            return
        pi = self.proxy.mapFromSource(self.model.index(r, 0))
        if pi.isValid():
            self.table.selectionModel().setCurrentIndex(
                pi, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            self.table.scrollTo(pi)
        self._show_selected()

    def selected_row(self) -> HistoryRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.proxy.data(rows[0], ROW_ROLE)

    # ---- the reply pane --------------------------------------------------------------------

    def _fill_fields(self, fields: list[tuple[str, str]]) -> None:
        t = self.reply_table
        t.setRowCount(len(fields))
        for i, (label, value) in enumerate(fields):
            a, b = QTableWidgetItem(label), QTableWidgetItem(value)
            a.setToolTip(label)
            b.setToolTip(value)
            b.setFont(mono_font())
            t.setItem(i, 0, a)
            t.setItem(i, 1, b)
        # A reply has a few dozen fields at most: fitting the rows to wrapped text is cheap.
        fm = t.fontMetrics()
        widest = max((fm.horizontalAdvance(label) for label, _ in fields), default=80)
        t.setColumnWidth(0, min(widest + 18, max(120, t.viewport().width() // 3)))
        t.resizeRowsToContents()
        t.setVisible(bool(fields))  # no empty grid under "timed out": the words say it all

    def _show_selected(self) -> None:
        row = self.selected_row()
        self.retry_button.setEnabled(row is not None and not row.open)
        if row is None:
            return
        colour = STATE_COLOURS.get(row.state)
        word = STATE_WORDS.get(row.state, row.state)
        text = self.ctx.reveal.command(row.text)
        head = (f"<span style='color:{colour.name() if colour else ''}; font-weight:bold'>"
                f"{word.upper()}</span> &nbsp;<code>{text}</code> → <b>{row.device}</b>")
        reply = self.ctx.reveal.reply(row.reply_type or row.name, row.reply)
        if row.state == "answered":
            t = row.answered_in
            note = f"{row.reply_type or row.name} reply" + (f" in {t:.2f} s" if t is not None
                                                             else "")
            fields = label_reply(row.reply_type or row.name, reply)
        elif row.state == "failed":
            note = f"Failed: {row.reason}"
            fields = label_reply("", reply) if reply is not None else []
        elif row.state == "timed_out":
            why = row.reason or "no reply"
            note = (f"{why[:1].upper() + why[1:]}. The device may be asleep or out of coverage "
                    "and may still act on it. Nothing is re-sent automatically: use Retry "
                    "(new serial) if needed.")
            fields = []
        elif row.audit_id is not None:
            note = "No outcome recorded: sent in an earlier session that closed before a reply."
            fields = []
        else:
            note = f"Waiting for the {row.name} reply…"
            fields = []
        self.reply_title.setText(head)
        self.reply_note.setText(note + f"  ·  serial {row.serial or '—'} · {row.operator} · "
                                f"{row.profile}")
        self._fill_fields(fields)

    def _show_unsolicited(self) -> None:
        rows = self.unsolicited_table.selectionModel().selectedRows()
        if not rows:
            return
        u: UnsolicitedReply = self.unsolicited_model.data(rows[0], ROW_ROLE)
        self.reply_title.setText(f"<b>UNSOLICITED</b> {u.command_type or ''} from "
                                 f"<b>{u.device}</b>")
        self.reply_note.setText("Matched no open command.")
        self._fill_fields(label_reply(u.command_type or "",
                                      self.ctx.reveal.reply(u.command_type, u.content)))

    # ---- retry -----------------------------------------------------------------------------

    def retry_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        if row.open:
            self._say("Still waiting for this command's outcome; retry once it has one.",
                      error=True)
            return
        try:
            if row.tracker_id is not None and self.console.tracker.has(row.tracker_id):
                c = self.console.retry(row.tracker_id)
            else:
                c = self.console.retry_audit(row.text, row.device)
        except (ValueError, CommandError) as exc:
            self._say(f"Cannot retry: {exc}", error=True)
            return
        profiles = self.console.connected_profiles()
        profile = row.profile if row.profile in profiles else self.compose.profile()
        self._send_checked(c, profile)

    def _context_menu(self, pos: QPoint) -> None:
        idx = self.table.indexAt(pos)
        if not idx.isValid():
            return
        row: HistoryRow = self.proxy.data(idx, ROW_ROLE)
        menu = QMenu(self)
        retry = QAction("Retry (new serial)", menu)
        retry.setEnabled(not row.open)
        retry.triggered.connect(self.retry_selected)
        menu.addAction(retry)
        copy = QAction("Copy command text", menu)
        copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(
            self.ctx.reveal.command(row.text)))
        menu.addAction(copy)
        show = QAction(f"Select {row.device} in the tree", menu)
        show.triggered.connect(lambda: self.ctx.selection.select(row.device))
        menu.addAction(show)
        edit = QAction("Edit as free text", menu)
        edit.triggered.connect(lambda: self._edit_as_text(row))
        menu.addAction(edit)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def _edit_as_text(self, row: HistoryRow) -> None:
        self.compose.set_device(row.device)
        text = self.ctx.reveal.command(row.text)  # a masked password is typed again
        if row.serial is not None:  # drop the old serial: a new one is put in when sent
            parts = text.strip("()").split(",")
            text = ",".join(parts[3:]) if len(parts) >= 5 else text
        self.compose.set_free_text(text)

    # ---- bulk ------------------------------------------------------------------------------

    def open_bulk(self, devices: list[str] | None = None) -> BulkDialog | None:
        tpl = self.compose.template()
        describe = tpl.label if tpl is not None else self.compose.free_edit.text().strip()
        ids = list(devices) if devices else list(self.ctx.selection.device_ids)
        if self.bulk_dialog is not None:
            self.bulk_dialog.close()
            self.bulk_dialog.deleteLater()
        dlg = BulkDialog(self.console, self.compose.build_command, ids, describe,
                         self.compose.profile(), self)
        self.bulk_dialog = dlg
        dlg.show()
        return dlg

    # ---- export ----------------------------------------------------------------------------

    def _export_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export command audit", "commands.csv",
                                              "CSV (*.csv)")
        if path:
            self.export_audit(path)

    def export_audit(self, path: str, needle: str | None = None) -> threading.Thread:
        """The journal rows matching the search box (or all), written off the GUI thread."""
        needle = self.search_edit.text().strip() if needle is None else needle
        is_device = needle in self.ctx.fleet.devices
        journal = self.ctx.journal_path
        mask = not self.ctx.reveal.shown

        def run() -> None:
            try:
                conn = audit.connect(journal)
                try:
                    rows = audit.search(conn, device=needle if is_device else None,
                                        text=None if is_device or not needle else needle,
                                        limit=10_000_000)
                    if mask:  # the file leaves the desk: no unlock password in it
                        rows = [masked_audit_row(r) for r in rows]
                    n = audit.export_csv(rows, path)
                finally:
                    conn.close()
            except Exception as exc:
                self.sig_export_finished.emit(path, 0, str(exc))
                return
            self.sig_export_finished.emit(path, n, "")

        self._say(f"Exporting to {path}…")
        t = threading.Thread(target=run, name="command-export", daemon=True)
        t.start()
        return t

    def _export_done(self, path: str, n: int, error: str) -> None:
        if error:
            self._say(f"Export failed: {error}", error=True)
        else:
            self._say(f"Exported {n} command(s) to {path}.")

    # ---- life --------------------------------------------------------------------------------

    def _fit_compose(self) -> None:
        """The whole form when it is short; a scrolling one past COMPOSE_MAX_MIN_H."""
        need = self.compose.sizeHint().height() + 2 * self.compose_scroll.frameWidth()
        self.compose_scroll.setMinimumHeight(min(need, COMPOSE_MAX_MIN_H))
        self.compose_scroll.updateGeometry()

    # ---- bounds (issue 26) ---------------------------------------------------------------

    def set_history_rows(self, n: int) -> None:
        """Commands kept in the history and by the tracker (Settings › Commands), at once."""
        self.model.set_max_rows(n)
        self.console.tracker.set_max_closed(n)

    def settings_page(self) -> QWidget:
        return bounds_page(self.ctx.settings, [(COMMAND_HISTORY, self.set_history_rows)],
                           "The history keeps the newest commands in memory; the journal's "
                           "audit keeps every one.")

    def bounds(self) -> list[Held]:
        tracker = self.console.tracker
        return [Held("commands: rows in the history", self.model.rowCount(),
                     self.model.max_rows),
                Held("commands: with an outcome, kept by the tracker", tracker.closed_count(),
                     tracker.max_closed + PRUNE_EVERY)]

    def shutdown(self) -> None:
        if self.bulk_dialog is not None:
            self.bulk_dialog.cancel()
        self.model.flush()
        self.console.close()
        if self._others_conn is not None and not self._others.running:
            self._others_conn.close()


__all__ = ["CommandsPanel"]

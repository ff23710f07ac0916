"""One package per panel. Panels never call each other: they share an AppContext.

`PANELS` is the one list the main window builds from, in View-menu order. Adding a panel is a
new package with a `Panel` subclass (app/ui/panel.py) and one line here; workspaces
(app/ui/workspaces.py) say where it goes.
"""

PANELS: tuple[str, ...] = (
    "app.ui.panels.connection.widget:ConnectionPanel",
    "app.ui.panels.devices.widget:DevicesPanel",
    "app.ui.panels.detail.widget:DetailPanel",
    "app.ui.panels.alarms.widget:AlarmsPanel",
    "app.ui.panels.events.widget:EventsPanel",
    "app.ui.panels.pushlog.widget:PushLogPanel",
    "app.ui.panels.commands.widget:CommandsPanel",
    "app.ui.panels.charts.widget:ChartsPanel",
    "app.ui.panels.map.widget:MapPanel",
    "app.ui.panels.commissioning.widget:CommissioningPanel",
)

"""PyInstaller runtime hook: `SealDesk -m app.<module> ARGS…` runs that module, as `python -m`.

Frozen, sys.executable is SealDesk itself, so code that starts a helper with
`[sys.executable, "-m", "app.brokers", …]` (BrokerProcess("amqtt"), used by `bench` when
mosquitto is absent) would otherwise open the window with a bad argument. Only modules of the
app package are run this way.
"""

import sys

if getattr(sys, "frozen", False) and len(sys.argv) >= 3 and sys.argv[1] == "-m" \
        and sys.argv[2].startswith("app."):
    import runpy

    _module = sys.argv[2]
    sys.argv = [sys.executable, *sys.argv[3:]]
    try:
        runpy.run_module(_module, run_name="__main__", alter_sys=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(0)

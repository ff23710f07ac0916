"""`record`: subscribe, journal every push, show progress, end with one summary line.

With `--webhook-port` it also receives the platform's webhook POSTs into the same journal;
with `--webhook-port` and no `--access-key` it records webhooks only.

Team mode (issue 23): `--journal postgresql://…` records into a shared journal, and
`--share GROUP` subscribes as one member of a shared subscription, so that several recorders
split the intake. Each member needs its own client id (`claim.py` refuses a second one):
mosquitto 2.0 keeps a stopped member's unacknowledged pushes, and its share of new ones, in
that client id's session (measured: tests/team/test_record_share.py), so the members still
running take that session over (`takeover.py`), and the stopped one rejoins when it starts
again. A broker drops what passes its queue limit for a client (`max_queued_messages`, 1000
by default: measured, 2 000 of 6 000 lost while one member of two was away and nobody took
over). Recorders without --share on one shared journal are the other way: each takes every
push, the journal keeps each once, and one that stops loses nothing.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from app.cli.claim import Claim, ClientIdInUse, claim_client_id, claim_client_id_here
from app.cli.common import (
    add_connection_args,
    resolve_secrets,
    settings_from_args,
    webhook_header_from_env,
)
from app.cli.takeover import Takeover, group_tag, member_name
from app.gctune import tune_for_throughput
from app.journal.url import display as shown
from app.journal.url import is_journal_url
from app.journal.writer import RETRYING, JournalHealth
from app.pipeline import Recorder
from app.transport.settings import ConnectionSettings, shared_filters
from app.transport.state import ConnectionState, Phase
from app.webhook import WebhookServer
from app.webhook.options import add_webhook_args, webhook_config

_SHARE_HELP = (
    "share the intake with the other recorders of GROUP: subscribe with "
    "$share/GROUP/upload/KEY/# so that the broker hands each push to one of them (mosquitto "
    ">= 2, EMQX). Use a shared journal (--journal postgresql://…), where a push delivered "
    "twice is stored once, and give each recorder its own --client-id. mosquitto 2.0 keeps "
    "what it had for a recorder that stops (its unacknowledged pushes, its share of new "
    "ones) in its session; the others take that session over within seconds (they connect "
    "as it, journal what it held, leave the group in its name) and it rejoins when started "
    "again with its client id. Meanwhile a broker that limits what it queues for a client "
    "drops past that limit (mosquitto: max_queued_messages, 1000 by default; 0 for none)")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="subscribe and journal every push")
    # --access-key is required unless --webhook-port is given: checked in run().
    add_connection_args(p, need_key=False)
    p.add_argument("--topic", action="append", metavar="FILTER",
                   help="topic filter (repeatable; default upload/KEY/#)")
    p.add_argument("--journal", required=True,
                   help="SQLite journal file (created if missing), or a shared PostgreSQL "
                   "journal: postgresql://USER@HOST/DB (password from PGPASSFILE or "
                   "~/.pgpass, never the command line)")
    p.add_argument("--share", metavar="GROUP", default=None, help=_SHARE_HELP)
    p.add_argument("--count", type=int, default=None, help="stop after N pushes")
    p.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    p.add_argument("--connect-timeout", type=float, default=15.0,
                   help="give up if the first connection fails for this long (default 15 s)")
    p.add_argument("--move-aside", action="store_true",
                   help="if the journal is damaged, move it aside (kept for `salvage`) and "
                   "start a new one")
    p.add_argument("--integrity-check", action="store_true",
                   help="check the journal fully on open (slow on a big journal; the default "
                   "is SQLite's quick_check, bounded to a few seconds)")
    add_webhook_args(p)
    for action in p._actions:  # the shared option, said as a recorder needs it
        if action.dest == "client_id":
            action.help = ("this recorder's MQTT client id (default: one per machine and "
                           "access key). Every recorder needs its own, the same each time it "
                           "starts: the broker keeps its session — pushes it has not "
                           "acknowledged — under that id; required with --share")
    p.set_defaults(func=run)


def _open_checked(args: argparse.Namespace) -> bool:
    """Refuse a damaged journal (or move it aside with --move-aside); False when refused."""
    from app.journal.check import JournalDamaged, check_journal, move_aside

    try:
        check_journal(args.journal, full=args.integrity_check)
    except JournalDamaged as exc:
        if not args.move_aside:
            print(f"sealdesk: error: {exc}; not recording into it. Rerun with --move-aside "
                  f"to keep it aside and start a new journal, or copy what is readable with "
                  f"`python main.py salvage --journal {args.journal} --out NEW.sqlite`",
                  file=sys.stderr)
            return False
        moved = move_aside(args.journal)
        print(f"journal: {exc}; moved aside to {moved}, starting a new one", file=sys.stderr)
    return True


def _start_webhook(args: argparse.Namespace, recorder: Recorder) -> WebhookServer:
    """Start the receiver; prints where it listens (stderr) — or why it cannot (raises)."""
    server = WebhookServer(webhook_config(args), recorder.writer.submit).start_in_thread()
    paths = ", ".join(f"{path} ({kind})" for path, kind in server.config.paths.items())
    print(f"webhook: listening on {server.url} — {paths}, {server.config.catch_all} (any)",
          file=sys.stderr, flush=True)
    if server.exposed:
        print(f"webhook: warning: {server.config.bind} is reachable from the network"
              + ("" if server.config.header_name else "; no header is required"),
              file=sys.stderr, flush=True)
    return server


def run(args: argparse.Namespace) -> int:
    if args.count is not None and args.count <= 0:
        print("sealdesk: error: --count must be positive", file=sys.stderr)
        return 2
    resolve_secrets(args)  # the access key from $SEALDESK_ACCESS_KEY, the password…
    webhook_header_from_env(args)
    use_webhook = args.webhook_port is not None
    use_mqtt = bool(args.access_key) or not use_webhook
    if use_mqtt and not args.access_key:
        print("sealdesk: error: the following arguments are required: --access-key "
              "(or $SEALDESK_ACCESS_KEY, or --webhook-port to record webhooks only)",
              file=sys.stderr)
        return 2
    if use_webhook:
        try:
            webhook_config(args)
        except ValueError as exc:
            print(f"sealdesk: error: {exc}", file=sys.stderr)
            return 2
    settings = settings_from_args(args, role="recorder") if use_mqtt else None
    if args.share is not None:
        problem = _share_problem(args, settings)
        if problem:
            print(f"sealdesk: error: {problem}", file=sys.stderr)
            return 2
        assert settings is not None
        settings = settings.with_topics(list(shared_filters(args.share, settings.topics)))
    shared_journal = is_journal_url(args.journal)
    if shared_journal and (args.move_aside or args.integrity_check):
        print("sealdesk: error: --move-aside and --integrity-check are for a SQLite journal "
              "file; PostgreSQL checks its own", file=sys.stderr)
        return 2
    if not shared_journal and not _open_checked(args):
        return 1
    claim: Claim | None = None
    if settings is not None:
        try:
            # A client id is one broker's: the same id on two brokers is no clash.
            broker = f"{settings.host}:{settings.port}"
            name = (member_name(group_tag(broker, args.share), settings.client_id)
                    if args.share else None)
            claim = (claim_client_id(args.journal, settings.client_id, broker, name)
                     if shared_journal else claim_client_id_here(settings.client_id, broker))
        except ClientIdInUse as exc:
            print(f"sealdesk: error: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:  # the journal's server, or the lock file, out of reach
            where = f"journal {shown(args.journal)}" if shared_journal else "a lock file"
            print(f"sealdesk: error: cannot open {where}: {exc}", file=sys.stderr)
            return 1
    try:
        return _record(args, settings, use_webhook)
    finally:
        if claim is not None:
            claim.close()


def _share_problem(args: argparse.Namespace, settings: ConnectionSettings | None) -> str:
    """Why --share cannot go as asked ("" when it can)."""
    if settings is None:
        return "--share needs an MQTT connection (--access-key)"
    try:
        shared_filters(args.share, settings.topics)
    except ValueError as exc:
        return str(exc)
    if not args.client_id:
        return ("--share needs --client-id: each recorder of the group needs its own, the "
                "same every time it starts (the broker keeps its pushes under that id)")
    if args.clean_session:
        return ("--share with --clean-session would lose pushes: the broker forgets a "
                "stopped member's share instead of keeping it for its return")
    if settings.qos != 1:
        return "--share needs --qos 1: at QoS 0 a stopped member's pushes are lost"
    return ""


def _stop_on_sigterm(done: threading.Event):
    """End as Ctrl-C does on SIGTERM — what a service manager (systemd, docker stop) sends:
    the last acknowledgements go out and the summary line is printed. Returns the function
    that puts the previous handler back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # only the main thread may set a handler (tests call run())
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: done.set())
    return lambda: signal.signal(signal.SIGTERM, previous)


def _record(args: argparse.Namespace, settings: ConnectionSettings | None,
            use_webhook: bool) -> int:
    """Record until --count, --duration, Ctrl-C or a stopped journal; the exit code."""
    tune_for_throughput()
    try:
        recorder = Recorder.for_record(args.journal).start()
    except Exception as exc:
        print(f"sealdesk: error: cannot open journal {shown(args.journal)}: {exc}",
              file=sys.stderr)
        return 1
    webhook: WebhookServer | None = None
    if use_webhook:
        try:
            webhook = _start_webhook(args, recorder)
        except Exception as exc:  # port taken, certificate unreadable…
            print(f"sealdesk: error: cannot start the webhook receiver on "
                  f"{args.webhook_bind}:{args.webhook_port}: {exc}", file=sys.stderr)
            recorder.stop()
            return 1
    tty = sys.stderr.isatty()
    failed: list[ConnectionState] = []  # the last attempt that failed, and why
    where = f"{settings.host}:{settings.port}" if settings is not None else ""

    settled = threading.Event()  # connected, or a certificate that will never be trusted
    giving_up = threading.Event()

    def on_state(state: ConnectionState) -> None:
        if giving_up.is_set():
            return  # hanging up is not news: the error line is the last line
        if state.phase in (Phase.WAITING, Phase.REFUSED):
            failed[:] = [state]
        if state.untrusted or state.phase is Phase.CONNECTED:
            settled.set()
        if not state.untrusted:  # the error line says it, without a retry that will not come
            print(f"\r{where}: {state.describe()}", file=sys.stderr)

    if settings is not None:
        transport = recorder.connect(settings, on_state)
        settled.wait(args.connect_timeout)
        if not transport.wait_connected(0):
            giving_up.set()
            # What went wrong, not the countdown to a retry that record will not make.
            why = failed[0].why() if failed else "no answer"
            if webhook is not None:
                webhook.stop()
            recorder.stop()
            print(f"sealdesk: error: could not connect to {where} ({why})", file=sys.stderr)
            return 1

    takeover = None
    if settings is not None and args.share and is_journal_url(args.journal):
        takeover = Takeover(args.journal, recorder, settings, args.share).start()
    started = time.monotonic()
    done = threading.Event()
    stats = recorder.writer.stats
    stopped: list[JournalHealth] = []

    def on_health(health: JournalHealth) -> None:  # the writer's thread
        if health.stopped:
            stopped[:] = [health]
            done.set()  # end now: nothing more can be journaled, so nothing acknowledged
        elif health.state == RETRYING:
            print(f"\r{health.describe()}", file=sys.stderr, flush=True)
        else:
            print("\rjournal: writing again", file=sys.stderr, flush=True)

    recorder.add_health_listener(on_health)
    if recorder.health.stopped:
        on_health(recorder.health)
    if args.count:
        recorder.writer.add_commit_listener(
            lambda n: done.set() if stats.written + n >= args.count else None)
        if stats.written >= args.count:  # a resumed session's pushes may already be in
            done.set()
    restore = _stop_on_sigterm(done)
    try:
        while not done.is_set():
            elapsed = time.monotonic() - started
            if args.duration is not None and elapsed >= args.duration:
                break
            if tty:
                rate = stats.written / elapsed if elapsed > 0 else 0.0
                print(f"\rrecorded {stats.written} ({stats.with_errors} with errors), "
                      f"{rate:,.0f} msg/s   ", end="", file=sys.stderr, flush=True)
            done.wait(0.5 if args.duration is None else min(0.5, args.duration - elapsed))
    except KeyboardInterrupt:
        pass
    finally:
        restore()
        if takeover is not None:
            takeover.stop()  # a session taken over is drained and hung up first
        if webhook is not None:
            webhook.stop()  # first: requests in flight still get their commit and their 200
        recorder.stop()
    elapsed = time.monotonic() - started
    if tty:
        print(file=sys.stderr)
    if stopped:
        print(f"sealdesk: error: journal {shown(args.journal)} stopped: "
              f"{stopped[0].cause}; "
              f"{stats.written} pushes journaled, the rest stay unacknowledged with the broker",
              file=sys.stderr)
        return 1
    if webhook is not None:
        print(f"webhook: {webhook.stats.describe()}", file=sys.stderr)
    print(f"recorded {stats.written} messages ({stats.with_errors} with errors) in {elapsed:.1f} s")
    return 0

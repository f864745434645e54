"""The clinic's command line: `clinic db upgrade`, `clinic handoffs list|show|resolve`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from clinic.handoff import list_handoffs, resolve_handoff
from clinic.profile import current_clinic
from clinic.settings import load_settings
from clinic.store import upgrade_database
from clinic.transcripts import conversation_lines


def _db_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    upgrade_database(settings.database_url)
    print(f"database ready: {_safe_url(settings.database_url)}")
    return 0


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _handoffs_list(args: argparse.Namespace) -> int:
    settings = load_settings()
    profile = current_clinic(settings.clinic_file)
    handoffs = list_handoffs(settings.database_url, status=None if args.all else "open")
    if not handoffs:
        print("no open handoffs" if not args.all else "no handoffs")
        return 0
    for h in handoffs:
        created = h.created_at.astimezone(profile.tz).strftime("%a %d %b %H:%M")
        reply_by = (
            h.reply_by.astimezone(profile.tz).strftime("%a %d %b %H:%M") if h.reply_by else "-"
        )
        print(
            f"{h.reference}  {h.status:8}  {h.reason:15}  {h.channel:10}  "
            f"asked {created}  reply by {reply_by}  conversation {h.conversation_id}"
        )
    return 0


def _handoffs_show(args: argparse.Namespace) -> int:
    settings = load_settings()
    profile = current_clinic(settings.clinic_file)
    matches = [
        h
        for h in list_handoffs(settings.database_url, status=None)
        if h.reference == args.reference.upper()
    ]
    if not matches:
        print(f"no handoff {args.reference}", file=sys.stderr)
        return 1
    handoff = matches[0]
    print(
        f"{handoff.reference} ({handoff.status}): {handoff.reason} on {handoff.channel}, "
        f"conversation {handoff.conversation_id}"
    )
    for line in conversation_lines(settings.tracker_database_url, handoff.conversation_id):
        at = line.at.astimezone(profile.tz).strftime("%H:%M")
        print(f"  {at} {line.speaker:9} {line.text}")
    return 0


def _handoffs_resolve(args: argparse.Namespace) -> int:
    settings = load_settings()
    if resolve_handoff(settings.database_url, args.reference, datetime.now(timezone.utc)):
        print(f"{args.reference.upper()} resolved")
        return 0
    print(f"no open handoff {args.reference}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run one clinic command."""
    parser = argparse.ArgumentParser(prog="clinic", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    db = commands.add_parser("db", help="the clinic database").add_subparsers(
        dest="action", required=True
    )
    db.add_parser("upgrade", help="create or upgrade the schema").set_defaults(run=_db_upgrade)

    handoffs = commands.add_parser("handoffs", help="conversations waiting for staff")
    actions = handoffs.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="open handoffs, newest first")
    listing.add_argument("--all", action="store_true", help="include resolved ones")
    listing.set_defaults(run=_handoffs_list)
    show = actions.add_parser("show", help="one handoff with its conversation")
    show.add_argument("reference")
    show.set_defaults(run=_handoffs_show)
    resolve = actions.add_parser("resolve", help="mark a handoff as dealt with")
    resolve.add_argument("reference")
    resolve.set_defaults(run=_handoffs_resolve)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

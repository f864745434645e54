"""The clinic's command line (`python -m clinic ...`):

    db upgrade                       create or upgrade the clinic database
    handoffs list|show|resolve       conversations waiting for staff
    purge [--days N] [--dry-run]     remove what is older than the retention period (daily)
    staff add|list|revoke NAME       staff API tokens, one per member of staff
    audit [--limit N]                who read or erased patients' records

Each prints what it did; a refusal goes to standard error with exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from clinic.handoff import list_handoffs, resolve_handoff
from clinic.privacy import audit_entries, purge
from clinic.profile import current_clinic
from clinic.settings import load_settings
from clinic.staff import StaffError, issue_token, revoke_token, staff_members
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


def _purge(args: argparse.Namespace) -> int:
    settings = load_settings()
    days = args.days or current_clinic(settings.clinic_file).data_protection.retention_days
    result = purge(
        settings.database_url,
        settings.tracker_database_url,
        days,
        datetime.now(timezone.utc),
        dry_run=args.dry_run,
    )
    verb = "would remove" if args.dry_run else "removed"
    counts = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in result.counts.items())
    print(f"retention {days} days (before {result.cutoff:%Y-%m-%d %H:%M} UTC): {verb} {counts}")
    return 0


def _staff_add(args: argparse.Namespace) -> int:
    token = issue_token(load_settings().database_url, args.name, datetime.now(timezone.utc))
    print(f"staff token for {args.name} (shown once; only its hash is kept):\n{token}")
    return 0


def _staff_list(args: argparse.Namespace) -> int:
    members = staff_members(load_settings().database_url)
    if not members:
        print("no staff tokens yet: python -m clinic staff add NAME")
    for member in members:
        state = f"revoked {member.revoked_at:%Y-%m-%d}" if member.revoked_at else "active"
        used = member.last_used_at and f"last used {member.last_used_at:%Y-%m-%d %H:%M}"
        issued = f"issued {member.created_at:%Y-%m-%d}"
        print(f"{member.name:30}  {state:18}  {issued}  {used or 'unused'}")
    return 0


def _staff_revoke(args: argparse.Namespace) -> int:
    revoke_token(load_settings().database_url, args.name, datetime.now(timezone.utc))
    print(f"{args.name}'s token is revoked")
    return 0


def _audit(args: argparse.Namespace) -> int:
    for entry in reversed(audit_entries(load_settings().database_url, limit=args.limit)):
        print(
            f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.actor:24}  {entry.action:13}  "
            f"{entry.subject}  {entry.detail or ''}"
        )
    return 0


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

    retention = commands.add_parser(
        "purge", help="remove conversations and health records older than the retention period"
    )
    retention.add_argument(
        "--days", type=int, help="override clinic.yml's data_protection.retention_days"
    )
    retention.add_argument("--dry-run", action="store_true", help="only count what would go")
    retention.set_defaults(run=_purge)

    staff = commands.add_parser("staff", help="staff API tokens").add_subparsers(
        dest="action", required=True
    )
    add = staff.add_parser("add", help="issue a token to a new member of staff")
    add.add_argument("name")
    add.set_defaults(run=_staff_add)
    staff.add_parser("list", help="members of staff and their tokens' state").set_defaults(
        run=_staff_list
    )
    revoke = staff.add_parser("revoke", help="revoke a member of staff's token")
    revoke.add_argument("name")
    revoke.set_defaults(run=_staff_revoke)

    audit = commands.add_parser("audit", help="the audit log, oldest of the last N first")
    audit.add_argument("--limit", type=int, default=100)
    audit.set_defaults(run=_audit)

    args = parser.parse_args(argv)
    if args.command == "purge" and args.days is not None and args.days < 1:
        parser.error("--days must be at least 1")
    try:
        return args.run(args)
    except StaffError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

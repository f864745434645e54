"""`python -m stack`: run Rasa, the action server and the gateway in one terminal; Ctrl-C
stops all three.

`python -m stack --shell` runs the action server and talks to the assistant in this terminal.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from stack.processes import (
    BIN,
    QUIET_ENV,
    ROOT,
    ProcessGroup,
    StartupFailed,
    action_server,
    gateway_server,
    rasa_server,
    serve_until_interrupted,
)

MODEL = ROOT / "models" / "current.tar.gz"


def _banner(rasa_port: int, actions_port: int, gateway_port: int) -> str:
    rest = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    gateway = f"http://127.0.0.1:{gateway_port}"
    return f"""
  The assistant is ready.
    Gateway             {gateway}  (API docs {gateway}/docs, health {gateway}/health)
      website demo      {gateway}/  (the voice widget: <script src="{gateway}/widget.js">)
      clinic API        {gateway}/api/slots, {gateway}/api/consultations
      staff API         {gateway}/api/staff/...  (a token each: make staff-token NAME="...")
      channels          {gateway}/webhooks/telegram, /webhooks/whatsapp,
                        /webhooks/twilio/messaging, /webhooks/twilio/voice
                        (each answers 503 until its settings are set: see .env.example;
                        `make channel-urls` prints what to paste into Meta's and Twilio's consoles)
    Rasa REST channel   POST {rest}
                        body {{"sender": "<conversation id>", "message": "<text>"}}
    Action server       http://127.0.0.1:{actions_port}/health
  Try it:
    curl -s {rest} -H 'Content-Type: application/json' \\
         -d '{{"sender": "try-1", "message": "does microneedling hurt?"}}'
  Staff: `make handoffs` lists patients waiting for a person; `make purge` applies retention.
  Press Ctrl-C to stop everything.
"""


def run_stack(rasa_port: int, actions_port: int, gateway_port: int) -> int:
    """Start everything, print the URLs, and wait for Ctrl-C or a process to fail."""
    group = ProcessGroup(
        [
            action_server(actions_port),
            rasa_server(MODEL, rasa_port),
            gateway_server(gateway_port, {"RASA_URL": f"http://127.0.0.1:{rasa_port}"}),
        ]
    )
    return serve_until_interrupted(
        "Starting the action server, Rasa and the gateway (Rasa takes about half a minute)...",
        group.start,
        lambda: _banner(rasa_port, actions_port, gateway_port),
        group.first_exited,
        group.stop,
    )


def run_shell(actions_port: int, rasa_port: int) -> int:
    """The action server in the background and `rasa shell` in the foreground."""
    with open(os.devnull, "w") as quiet:
        return _shell_with_actions(
            ProcessGroup([action_server(actions_port)], log=quiet), rasa_port
        )


def _shell_with_actions(group: ProcessGroup, rasa_port: int) -> int:
    try:
        group.start()
    except StartupFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        return subprocess.call(
            [
                str(BIN / "rasa"),
                "shell",
                "--model",
                str(MODEL),
                "--endpoints",
                str(ROOT / "endpoints.yml"),
                "--port",
                str(rasa_port),
            ],
            cwd=ROOT,
            env={**os.environ, **QUIET_ENV},
        )
    except KeyboardInterrupt:
        return 0
    finally:
        group.stop()


def main() -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shell", action="store_true", help="talk to the assistant here")
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    parser.add_argument("--actions-port", type=int, default=5055)
    parser.add_argument(
        "--gateway-port", type=int, default=int(os.environ.get("GATEWAY_PORT", 8000))
    )
    args = parser.parse_args()
    if not MODEL.exists():
        print(f"error: no trained model at {MODEL}; run `make train`", file=sys.stderr)
        return 1
    if args.shell:
        return run_shell(args.actions_port, args.rasa_port + 1)
    return run_stack(args.rasa_port, args.actions_port, args.gateway_port)


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bookbay_local [--host H] [--port P] [--shop-file F]``: run the local stack until stopped."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from types import FrameType

from bookbay_local.stack import DEFAULT_SHOP_FILE, DEFAULT_TEMPLATE, LocalStack

READY = "Bookbay local stack ready at {url}"


def _default_port() -> int:
    raw = os.environ.get("PORT", "3000")
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"error: PORT must be a number, not {raw!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bookbay_local",
        description="Run Bookbay locally: moto, the template's resources and functions, a local API "
        "Gateway, the stream sender and the scheduler, seeded with a shop. Ctrl-C stops it.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=None, help="port (default $PORT or 3000; 0 = any free port)"
    )
    parser.add_argument(
        "--shop-file", type=Path, default=DEFAULT_SHOP_FILE, help="shop file to seed the stack with"
    )
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    port = args.port if args.port is not None else _default_port()

    # Powertools warns on every flush without application metrics; locally metrics are off anyway.
    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
    stopping = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    stack = LocalStack(host=args.host, port=port, shop_file=args.shop_file, template=args.template)
    try:
        stack.start()
    except OSError as exc:
        print(f"error: cannot start the local stack on {args.host}:{port}: {exc}", file=sys.stderr)
        if port:
            print("       (set PORT or pass --port to use another port; 0 = any free port)", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"error: cannot start the local stack: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1

    url = stack.base_url
    lines = [
        f"Moto endpoint: {stack.moto_url} (AWS_ENDPOINT_URL)",
        f"Seeded:        {stack.seed_summary or 'nothing (no shop file)'}",
        f"API:           {url}/v1/shop",
        f"Swagger UI:    {url}/swagger",
        f"Outbox page:   {url}/_local/outbox",
        f"Messages JSON: {url}/_local/messages",
    ]
    for logical_id, error in stack.load_errors.items():
        lines.append(f"Not loaded:    {logical_id} ({error}); its routes answer 502")
    lines.append(READY.format(url=url))
    print("\n".join(lines), flush=True)

    try:
        stopping.wait()
    finally:
        print("Stopping the local stack...", flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

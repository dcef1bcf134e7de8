"""A mail catcher for local runs: a real SMTP server on loopback (aiosmtpd) that keeps every
message it receives as an ``.eml`` file, so a developer can read what notify sent.

    python -m notify.devmail --port 1025 --dir ./.mail

Point notify at it with ``SMTP_HOST=127.0.0.1 SMTP_PORT=1025``. aiosmtpd is a development and
test dependency (``pip install qa-notify[test]``), never needed in production.
"""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from typing import Any


class SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            self.count += 1
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{self.count:05d}.eml"
        (self.folder / name).write_bytes(envelope.content)
        print(f"mail for {', '.join(envelope.rcpt_tos)} saved as {name}", flush=True)
        return "250 2.0.0 OK"


def main() -> None:
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=Path(".mail"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(SaveToFolder(args.dir), hostname=args.host, port=args.port)
    controller.start()
    print(f"SMTP on {args.host}:{args.port}; messages saved under {args.dir.resolve()}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

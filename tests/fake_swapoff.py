"""A fake swapoff for fake roots (see tests/fakes.py): ``fake_swapoff.py ROOT [--] DEVICE`` (or ``run``, in-process,
see fake_tool.py) removes DEVICE's line from ROOT/proc/swaps as the kernel would, or fails like util-linux's swapoff
when DEVICE is not active. Every call is appended to ROOT/fake/swapoff.calls."""

import sys
from pathlib import Path

from fake_tool import Outcome, failure, main, record


def run(argv: list[str], _stdin: str) -> Outcome:
    """ROOT [swapoff arguments]."""
    root, args = Path(argv[0]), argv[1:]
    record(root, "swapoff", " ".join(["swapoff", *args]) + "\n")
    devices = [a for a in args if a != "--"]
    swaps = root / "proc/swaps"
    lines = swaps.read_text().splitlines(keepends=True) if swaps.exists() else []
    kept = [line for line in lines[1:] if line.split()[0] not in devices]
    if len(kept) == len(lines[1:]):
        return failure(f"swapoff: {devices[0]}: swapoff failed: Invalid argument", 255)
    swaps.write_text("".join(lines[:1] + kept))
    return Outcome(0)


if __name__ == "__main__":
    sys.exit(main(run))

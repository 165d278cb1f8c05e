"""A fake swapoff for fake roots (see tests/fakes.py): ``fake_swapoff.py ROOT [--] DEVICE`` removes DEVICE's line
from ROOT/proc/swaps as the kernel would, or fails like util-linux's swapoff when DEVICE is not active. Every call is
appended to ROOT/fake/swapoff.calls."""

import sys
from pathlib import Path


def main(root: Path, args: list[str]) -> int:
    calls = root / "fake" / "swapoff.calls"
    calls.parent.mkdir(parents=True, exist_ok=True)
    with calls.open("a") as log:
        log.write(" ".join(["swapoff", *args]) + "\n")
    devices = [a for a in args if a != "--"]
    swaps = root / "proc/swaps"
    lines = swaps.read_text().splitlines(keepends=True) if swaps.exists() else []
    kept = [line for line in lines[1:] if line.split()[0] not in devices]
    if len(kept) == len(lines[1:]):
        print(f"swapoff: {devices[0]}: swapoff failed: Invalid argument", file=sys.stderr)
        return 255
    swaps.write_text("".join(lines[:1] + kept))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))

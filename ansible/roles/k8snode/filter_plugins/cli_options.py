"""The k8snode_cli_options filter: a mapping of k8snode option names to values, as command-line words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def cli_options(options: Mapping[str, Any]) -> list[str]:
    """The command-line words for ``options``, in their order.

    ``{"pod-subnet": "10.244.0.0/16", "strict-arp": True, "lb": ""}`` gives
    ``["--pod-subnet=10.244.0.0/16", "--strict-arp"]``. Empty strings and None are left out, True gives the
    bare flag, False its ``--no-`` form, and each item of a list gives its own ``--name=item``.
    """
    words = []
    for name, value in options.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is None or item == "":
                continue
            if item is True:
                words.append(f"--{name}")
            elif item is False:
                words.append(f"--no-{name}")
            else:
                words.append(f"--{name}={item}")
    return words


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"k8snode_cli_options": cli_options}

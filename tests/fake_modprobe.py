"""A fake modprobe that behaves like kmod's on a fake root (see tests/fakes.py).

Usage: fake_modprobe.py ROOT [modprobe arguments] (or ``run``, in-process, see fake_tool.py). It reads
ROOT/lib/modules/<release>/modules.dep and modules.builtin, and updates ROOT/proc/modules as the kernel would. Like
the real one, without -a only the first name is a module: the other words are passed to it as parameters, and the
kernel logs "<module>: unknown parameter '<word>' ignored" (to ROOT/var/log/dmesg here). Modules listed in
ROOT/fake/refuse are refused as a kernel refuses an insert; modules listed in ROOT/fake/vanish are "loaded" with
exit 0 but never appear in /proc/modules (a modprobe that lies, to test the verification after it). Loading
br_netfilter adds its /proc/sys/net/bridge keys. Every call is appended to ROOT/fake/modprobe.calls.

Removal follows kmod (tools/modprobe.c, rmmod_all and rmmod_do_module) and `man modprobe` (kmod 30):
- "-r, --remove ... If the modules it depends on are also unused, modprobe will try to remove them too.": after a
  module goes, each module in its dependency list (modules.dep lists them all, as depmod writes it) whose refcount
  is now 0 is removed; failures there are not errors.
- "Unlike insertion, more than one module can be specified on the command line": with -r every word is a module,
  and the exit status is 1 when any of them failed.
- "--first-time  Normally, modprobe will succeed (and do nothing) if told to insert a module which is already
  present or to remove a module which isn't present.": removing a module that is not loaded succeeds silently;
  with --first-time it fails with "Module NAME is not in kernel.".
- A built-in module fails with "Module NAME is builtin.", a module with users with "Module NAME is in use.".
"""

import sys
from pathlib import Path

from fake_tool import Outcome, failure, main, record


def run(argv: list[str], _stdin: str) -> Outcome:
    """ROOT [modprobe arguments]."""
    root, args = Path(argv[0]), argv[1:]
    record(root, "modprobe", " ".join(["modprobe", *args]) + "\n")
    flags = {a for a in args if a.startswith("-") and a != "--"}
    words = [a for a in args if not a.startswith("-")]
    if not words:
        return failure("modprobe: ERROR: missing module name.")
    kernel = Kernel(root)
    if "-r" in flags or "--remove" in flags:
        code = max(kernel.remove(normal(name), first_time="--first-time" in flags) for name in words)
    elif "-a" in flags or "--all" in flags:
        code = max(kernel.load(normal(name)) for name in words)
    else:
        for parameter in words[1:]:
            if "=" not in parameter:
                kernel.dmesg(f"{normal(words[0])}: unknown parameter '{parameter}' ignored")
        code = kernel.load(normal(words[0]))
    return Outcome(code, "", "".join(kernel.errors))


class Kernel:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.release = (root / "proc/sys/kernel/osrelease").read_text().strip()
        moddir = root / "lib/modules" / self.release
        self.deps: dict[str, list[str]] = {}
        if (moddir / "modules.dep").exists():
            for line in (moddir / "modules.dep").read_text().splitlines():
                if ":" in line:
                    path, _, deps = line.partition(":")
                    self.deps[module_of(path)] = [module_of(d) for d in deps.split()]
        builtin = moddir / "modules.builtin"
        self.builtin = {module_of(p) for p in builtin.read_text().split()} if builtin.exists() else set()
        self.refused = listed(root / "fake" / "refuse")
        self.vanishing = listed(root / "fake" / "vanish")
        self.errors: list[str] = []
        """What modprobe prints on stderr."""

    def fail(self, message: str) -> int:
        self.errors.append(message + "\n")
        return 1

    @property
    def proc_modules(self) -> Path:
        return self.root / "proc/modules"

    def loaded(self) -> dict[str, list[str]]:
        """name -> fields of its /proc/modules line: size, refcount, users, state, address."""
        if not self.proc_modules.exists():
            return {}
        rows = [line.split(" ") for line in self.proc_modules.read_text().splitlines() if line.strip()]
        return {row[0]: row[1:] for row in rows}

    def save(self, loaded: dict[str, list[str]]) -> None:
        self.proc_modules.write_text("".join(" ".join([name, *fields]) + "\n" for name, fields in loaded.items()))

    def load(self, name: str, user: str | None = None) -> int:
        missing = f"modprobe: FATAL: Module {name} not found in directory /lib/modules/{self.release}"
        if not self.proc_modules.exists():
            return self.fail(missing)
        loaded = self.loaded()
        if name in self.builtin:
            return 0
        if name not in loaded:
            if name not in self.deps:
                return self.fail(missing)
            if name in self.refused:
                return self.fail(f"modprobe: ERROR: could not insert '{name}': Operation not permitted")
            if name in self.vanishing:
                return 0
            for dep in self.deps[name]:
                if self.load(dep, user=name):
                    return 1
            loaded = self.loaded()
            loaded[name] = ["16384", "0", "-", "Live", "0x0000000000000000"]
            self.add_sysctls(name)
        if user is not None:
            fields = loaded[name]
            users = [u for u in fields[2].split(",") if u not in ("-", "")]
            fields[1] = str(int(fields[1]) + 1)
            fields[2] = ",".join([*users, user]) + ","
        self.save(loaded)
        return 0

    def add_sysctls(self, name: str) -> None:
        """The /proc/sys entries a module brings: br_netfilter's bridge keys, on by default as in the kernel."""
        if name == "br_netfilter":
            bridge = self.root / "proc/sys/net/bridge"
            bridge.mkdir(parents=True, exist_ok=True)
            for key in ("bridge-nf-call-iptables", "bridge-nf-call-ip6tables", "bridge-nf-call-arptables"):
                (bridge / key).write_text("1\n")

    def remove(self, name: str, *, first_time: bool = False) -> int:
        loaded = self.loaded()
        if name in self.builtin:
            return self.fail(f"modprobe: FATAL: Module {name} is builtin.")
        if name not in loaded:
            if name not in self.deps:
                return self.fail(f"modprobe: FATAL: Module {name} not found.")
            return self.fail(f"modprobe: FATAL: Module {name} is not in kernel.") if first_time else 0
        if int(loaded[name][1]) > 0:
            return self.fail(f"modprobe: FATAL: Module {name} is in use.")
        self.unload(name)
        for dep in self.closure(name):
            fields = self.loaded().get(dep)
            if fields is not None and int(fields[1]) == 0:
                self.unload(dep)
        return 0

    def unload(self, name: str) -> None:
        loaded = self.loaded()
        del loaded[name]
        for fields in loaded.values():
            users = [u for u in fields[2].split(",") if u not in ("-", "")]
            if name in users:
                users.remove(name)
                fields[1] = str(int(fields[1]) - 1)
                fields[2] = ",".join(users) + "," if users else "-"
        self.save(loaded)

    def closure(self, name: str) -> list[str]:
        """Every module ``name`` depends on, directly or not: the list depmod writes into modules.dep."""
        found: dict[str, None] = {}
        for dep in self.deps.get(name, []):
            found[dep] = None
            found.update(dict.fromkeys(self.closure(dep)))
        return list(found)

    def dmesg(self, message: str) -> None:
        log = self.root / "var/log/dmesg"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as handle:
            handle.write(message + "\n")


def module_of(path: str) -> str:
    return normal(path.rsplit("/", 1)[-1].split(".ko", 1)[0])


def listed(path: Path) -> set[str]:
    return set(path.read_text().split()) if path.exists() else set()


def normal(name: str) -> str:
    return name.replace("-", "_")


if __name__ == "__main__":
    sys.exit(main(run))

"""A fake modprobe that behaves like kmod's on a fake root (see tests/fakes.py).

Usage: fake_modprobe.py ROOT [modprobe arguments]. It reads ROOT/lib/modules/<release>/modules.dep and
modules.builtin, and updates ROOT/proc/modules as the kernel would. Like the real one, without -a only the first
name is a module: the other words are passed to it as parameters, and the kernel logs
"<module>: unknown parameter '<word>' ignored" (to ROOT/var/log/dmesg here). Modules listed in ROOT/fake/refuse
are refused as a kernel refuses an insert. Loading br_netfilter adds its /proc/sys/net/bridge keys. Every call
is appended to ROOT/fake/modprobe.calls.
"""

import sys
from pathlib import Path


def main(root: Path, args: list[str]) -> int:
    calls = root / "fake" / "modprobe.calls"
    calls.parent.mkdir(parents=True, exist_ok=True)
    with calls.open("a") as log:
        log.write(" ".join(["modprobe", *args]) + "\n")
    flags = {a for a in args if a.startswith("-") and a != "--"}
    words = [a for a in args if not a.startswith("-")]
    if not words:
        return fail("modprobe: ERROR: missing module name.")
    kernel = Kernel(root)
    if "-r" in flags or "--remove" in flags:
        names = words if "-a" in flags or "--all" in flags else words[:1]
        return max(kernel.remove(normal(name)) for name in names)
    if "-a" in flags or "--all" in flags:
        return max(kernel.load(normal(name)) for name in words)
    for parameter in words[1:]:
        if "=" not in parameter:
            kernel.dmesg(f"{normal(words[0])}: unknown parameter '{parameter}' ignored")
    return kernel.load(normal(words[0]))


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
        refuse = root / "fake" / "refuse"
        self.refused = set(refuse.read_text().split()) if refuse.exists() else set()

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
            return fail(missing)
        loaded = self.loaded()
        if name in self.builtin:
            return 0
        if name not in loaded:
            if name not in self.deps:
                return fail(missing)
            if name in self.refused:
                return fail(f"modprobe: ERROR: could not insert '{name}': Operation not permitted")
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

    def remove(self, name: str) -> int:
        loaded = self.loaded()
        if name in self.builtin:
            return fail(f"modprobe: FATAL: Module {name} is builtin.")
        if name not in loaded:
            return fail(f"modprobe: FATAL: Module {name} is not currently loaded")
        if int(loaded[name][1]) > 0:
            return fail(f"modprobe: FATAL: Module {name} is in use.")
        del loaded[name]
        for fields in loaded.values():
            users = [u for u in fields[2].split(",") if u not in ("-", "")]
            if name in users:
                users.remove(name)
                fields[1] = str(int(fields[1]) - 1)
                fields[2] = ",".join(users) + "," if users else "-"
        self.save(loaded)
        return 0

    def dmesg(self, message: str) -> None:
        log = self.root / "var/log/dmesg"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as handle:
            handle.write(message + "\n")


def module_of(path: str) -> str:
    return normal(path.rsplit("/", 1)[-1].split(".ko", 1)[0])


def normal(name: str) -> str:
    return name.replace("-", "_")


def fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))

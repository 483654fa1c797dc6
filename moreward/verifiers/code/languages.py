"""The languages the sandbox can run, and how to build and run each one.

Python runs in the sandbox's warm interpreter (a fork, no ``exec``), which is what
makes it fast. C and C++ use the system compilers; JavaScript, Java and Rust are
offered only when their toolchain is on the machine (:func:`available_languages`).
Compilation happens inside the box, under its own limits, so a compile bomb is
contained like any other program.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from ...errors import ConfigError

__all__ = ["Language", "available_languages", "get_language", "language_for_tag"]


@dataclass(frozen=True)
class Language:
    """How to build and run one language inside the box.

    Args:
        name: the canonical name (``python``, ``c``, ``cpp``, ``javascript``, ``java``, ``rust``).
        tags: code-fence tags that name this language.
        source_name: the file the source is written to (Java derives it from the class).
        compile: the compiler's argv, or ``None`` when there is nothing to compile.
        run: the program's argv (``{mem}`` is replaced by the memory limit in MiB).
        paths: host paths the toolchain needs inside the box (read-only).
        extra_processes: threads/processes the runtime itself needs on top of the limit.
        vm_extra_mb: address space the runtime reserves beyond its heap (for RLIMIT_AS).
    """

    name: str
    tags: tuple[str, ...]
    source_name: str
    compile: tuple[str, ...] | None
    run: tuple[str, ...]
    paths: tuple[str, ...] = ()
    extra_processes: int = 0
    vm_extra_mb: int = 64

    def prepare(self, source: str, memory_mb: int) -> tuple[str, list[str] | None, list[str]]:
        """The source file name, compile argv and run argv for ``source``."""
        source_name = self.source_name
        main = "Main"
        if self.name == "java":
            m = re.search(r"public\s+(?:final\s+)?class\s+([A-Za-z_$][\w$]*)", source)
            if m:
                main = m.group(1)
                source_name = f"{main}.java"
        sub = {"{src}": source_name, "{mem}": str(max(16, memory_mb * 3 // 4)), "{main}": main}

        def fill(argv: tuple[str, ...]) -> list[str]:
            out = []
            for arg in argv:
                for k, v in sub.items():
                    arg = arg.replace(k, v)
                out.append(arg)
            return out

        return source_name, fill(self.compile) if self.compile else None, fill(self.run)


_TAGS = {
    "python": ("python", "py", "python3"),
    "c": ("c",),
    "cpp": ("cpp", "c++", "cc", "cxx"),
    "javascript": ("javascript", "js", "node", "nodejs"),
    "java": ("java",),
    "rust": ("rust", "rs"),
}
_JVM = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Xshare:auto")


def _which(name: str, resolve: bool = True) -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/bin", "/usr/bin", "/bin",
                            os.path.expanduser("~/.cargo/bin")])
    found = shutil.which(name, path=path)
    return (os.path.realpath(found) if resolve else found) if found else None


def _outside_usr(*paths: str | None) -> tuple[str, ...]:
    out = []
    for p in paths:
        if p and not p.startswith(("/usr/", "/etc/")):
            out.append(os.path.dirname(p))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _detect() -> dict[str, Language]:
    langs = {"python": Language("python", _TAGS["python"], "main.py", None, ())}
    gcc, gpp = _which("gcc"), _which("g++")
    if gcc:
        langs["c"] = Language("c", _TAGS["c"], "main.c", (gcc, "-O2", "-pipe", "-std=gnu17", "-o", "main", "{src}", "-lm"),
                              ("/tmp/main",), _outside_usr(gcc))
    if gpp:
        langs["cpp"] = Language("cpp", _TAGS["cpp"], "main.cpp", (gpp, "-O2", "-pipe", "-std=gnu++17", "-o", "main", "{src}"),
                                ("/tmp/main",), _outside_usr(gpp))
    node = _which("node")
    if node:
        langs["javascript"] = Language("javascript", _TAGS["javascript"], "main.js", None,
                                       (node, "--max-old-space-size={mem}", "/tmp/main.js"), _outside_usr(node),
                                       extra_processes=32, vm_extra_mb=4096)
    javac, java = _which("javac"), _which("java")
    if javac and java:
        langs["java"] = Language(
            "java", _TAGS["java"], "Main.java",
            (javac, "-J-Xmx512m", *(f"-J{o}" for o in _JVM), "-encoding", "UTF-8", "-d", ".", "{src}"),
            (java, "-Xmx{mem}m", "-Xss64m", *_JVM, "-cp", "/tmp", "{main}"),
            _outside_usr(javac, java), extra_processes=64, vm_extra_mb=4096,
        )
    rustc = _which("rustc", resolve=False)  # often a rustup proxy: ask it where the real one is
    if rustc:
        try:
            sysroot = subprocess.run([rustc, "--print", "sysroot"], capture_output=True, text=True, timeout=30,
                                     check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            sysroot = ""
        real = os.path.join(sysroot, "bin", "rustc")
        if sysroot and os.path.exists(real) and gcc:
            langs["rust"] = Language("rust", _TAGS["rust"], "main.rs",
                                     (real, "-O", "--edition", "2021", "-o", "main", "{src}"),
                                     ("/tmp/main",), (sysroot,), extra_processes=16)
    return langs


def available_languages() -> list[str]:
    """The languages whose toolchain is on this machine (Python always)."""
    return list(_detect())


def get_language(name: str) -> Language:
    """The :class:`Language` called ``name`` (or one of its fence tags).

    Raises:
        ConfigError: unknown, or its toolchain is not installed; names the available ones.
    """
    key = language_for_tag(name)
    langs = _detect()
    if key is None or key not in langs:
        known = ", ".join(langs)
        what = "is not installed here" if key else "is not a supported language"
        raise ConfigError(f"language {name!r} {what}; available: {known}")
    return langs[key]


def language_for_tag(tag: str) -> str | None:
    """The canonical language name for a code-fence tag, or ``None``."""
    t = tag.strip().lower()
    for name, tags in _TAGS.items():
        if t == name or t in tags:
            return name
    return None

"""The project's dependency manager (uv, poetry, pip), its declared dependencies and its venv."""

from __future__ import annotations

import os
import re

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(spec: str) -> dict | None:
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[([^\]]*)\])?", spec)
    if not m:
        return None
    extras = [normalize(e) for e in (m.group(3) or "").split(",") if e.strip()]
    return {"name": normalize(m.group(1)), "extras": extras}


def read_toml(path: str) -> dict:
    if tomllib is None:
        return {}
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, ValueError):
        return {}


def read_requirements(path: str) -> str:
    """requirements.txt as pip reads it: a BOM names the encoding (UTF-8, UTF-16, UTF-32), else UTF-8."""
    with open(path, "rb") as fh:
        data = fh.read()
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace")
    return data.decode("utf-8", errors="replace")


def find_venv(root: str) -> dict | None:
    for name in (".venv", "venv", "env", ".env-venv"):
        d = os.path.join(root, name)
        if os.path.isfile(os.path.join(d, "pyvenv.cfg")):
            py = os.path.join(d, "Scripts", "python.exe") if os.name == "nt" else os.path.join(d, "bin", "python")
            installed = set()
            for lib in ("lib", "Lib"):
                base = os.path.join(d, lib)
                if not os.path.isdir(base):
                    continue
                for sub in os.listdir(base):
                    sp = os.path.join(base, sub, "site-packages") if sub.startswith("python") else os.path.join(base, "site-packages") if sub == "site-packages" else None
                    if sp and os.path.isdir(sp):
                        for entry in os.listdir(sp):
                            if entry.endswith(".dist-info"):
                                installed.add(normalize(entry[: -len(".dist-info")].rsplit("-", 1)[0]))
            with open(os.path.join(d, "pyvenv.cfg"), encoding="utf-8", errors="replace") as fh:
                made_by_uv = any(line.split("=")[0].strip() == "uv" for line in fh)
            return {"dir": name, "python": py, "installed": sorted(installed), "madeBy": "uv" if made_by_uv else "venv"}
    return None


def detect_manager(root: str) -> dict:
    pyproject_path = os.path.join(root, "pyproject.toml")
    pyproject = read_toml(pyproject_path) if os.path.exists(pyproject_path) else {}
    tool = pyproject.get("tool", {})
    deps = [r for r in (requirement(s) for s in pyproject.get("project", {}).get("dependencies", [])) if r]
    venv = find_venv(root)
    if os.path.exists(os.path.join(root, "uv.lock")) or "uv" in tool:
        kind, why = "uv", "uv.lock" if os.path.exists(os.path.join(root, "uv.lock")) else "[tool.uv] in pyproject.toml"
    elif "poetry" in tool or os.path.exists(os.path.join(root, "poetry.lock")):
        kind, why = "poetry", "[tool.poetry] in pyproject.toml" if "poetry" in tool else "poetry.lock"
        deps += [{"name": normalize(n), "extras": []} for n in tool.get("poetry", {}).get("dependencies", {}) if n != "python"]
    elif "project" in pyproject and not (venv and venv["madeBy"] == "venv"):
        kind, why = "uv", "pyproject.toml with a [project] table"
    elif "project" in pyproject and not os.path.exists(os.path.join(root, "requirements.txt")):
        # A venv made by `python -m venv` and `pip install`, no uv.lock: pip it stays.
        kind, why = "pip", f"pyproject.toml with a [project] table and {venv['dir']}/ made by python -m venv (no uv.lock)"
    elif os.path.exists(os.path.join(root, "requirements.txt")):
        kind, why = "pip", "requirements.txt" + (f" and {venv['dir']}/" if venv else "")
        for line in read_requirements(os.path.join(root, "requirements.txt")).splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-"):
                r = requirement(line)
                if r:
                    deps.append(r)
    else:
        kind, why = "unknown", "no uv.lock, pyproject.toml or requirements.txt"
    manifest = None
    if kind == "pip":
        manifest = "requirements.txt" if os.path.exists(os.path.join(root, "requirements.txt")) else "pyproject.toml"
    return {"kind": kind, "evidence": why, "dependencies": deps, "venv": venv, "manifest": manifest}


# ---------------------------------------------------------------- alembic

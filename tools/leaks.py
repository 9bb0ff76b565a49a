"""What Dockling may leave behind on a machine, and a check that it did not.

snapshot() records the kernel objects that carry Dockling's name (mounts, cgroups,
network namespaces, links, firewall rules, running dockling processes); new_since()
lists those that appeared since, which is what a test run must not leave.
"""
import os
import subprocess
from pathlib import Path


def _lines(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return []


def _mounts():
    try:
        text = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        fields = line.split()
        if "dockling" in line or (" overlay " in line and "dockling" in line):
            found.append(f"mount {fields[4]}")
    return found


def _cgroups():
    found = []
    base = Path("/sys/fs/cgroup")
    if base.is_dir():
        for dirpath, dirnames, _ in os.walk(base):
            depth = dirpath[len(str(base)):].count("/")
            if depth >= 5:
                dirnames[:] = []
                continue
            for name in dirnames:
                # dockling's own cgroups, and every container's cgroup below them
                if "dockling" in name.lower() or "dockling" in Path(dirpath).name.lower():
                    found.append(f"cgroup {dirpath}/{name}")
    return found


ROOT = Path(__file__).resolve().parent.parent


def _processes():
    """Running dockling binaries of this tree (not another checkout's)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            exe = os.readlink(proc / "exe")
        except OSError:
            continue
        if exe.startswith(str(ROOT) + "/") and "/bin/dockling" in exe:
            found.append(f"process {proc.name} ({exe})")
    return found


def snapshot():
    items = set(_mounts()) | set(_cgroups()) | set(_processes())
    items |= {f"netns {line.split()[0]}" for line in _lines(["ip", "netns", "list"]) if line.strip()}
    items |= {f"link {line.split(':')[1].strip()}" for line in _lines(["ip", "-o", "link"])
              if "dockling" in line.lower()}
    rules = _lines(["iptables-save"]) + _lines(["nft", "list", "ruleset"])
    items |= {f"firewall {line.strip()}" for line in rules if "dockling" in line.lower()}
    return items


def new_since(before):
    return sorted(snapshot() - before)

"""The machine a benchmark ran on, printed at the top of every benchmark's output."""

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """Return the CPU's model name from /proc/cpuinfo, or what platform reports."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_machine() -> None:
    """Print the CPU, the core count, the Python version and the load average."""
    print(f"machine: {cpu_model()}, {os.cpu_count()} logical cores")
    print(f"python: {platform.python_version()} on {platform.platform()}")
    # Other work on the machine slows every figure; the load shows how much.
    print(f"load average: {os.getloadavg()[0]:.1f}", flush=True)

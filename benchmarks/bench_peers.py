"""clawrouter-images against what people would use instead, side by side in one run.

The peers (the OpenAI SDK, blockrun-llm, hermes-plugin-clawrouter) are installed with this
project into a throwaway virtualenv, never into the project's own dependencies; one stub
server in a separate process answers everyone.  Prints:

- per-call median and p90 of raw ``httpx.Client``, ``ImageClient``, ``AsyncImageClient``
  (sequential), OpenAI ``images.generate``, blockrun-llm ``ImageClient.generate`` and
  hermes-plugin-clawrouter's ``image_generate`` tool;
- async fan-out (64 concurrent x 30 rounds) of ``AsyncImageClient``, raw
  ``httpx.AsyncClient`` and ``AsyncOpenAI``;
- import times, each adapter's in a process that already imported its framework's agents,
  and client construction time.

Targets: sync per call <= 1.05x raw httpx; fan-out >= AsyncOpenAI; importing the core
adds <= 15 ms to httpx + pydantic; each adapter adds <= 20 ms to its framework's agents;
building a client for an http:// URL loads no certificates.

Run: ``python benchmarks/bench_peers.py [--env DIR] [--calls N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _harness import stub_server

ROOT = Path(__file__).resolve().parents[1]
PEERS = ("openai", "blockrun-llm", "hermes-plugin-clawrouter")
# The adapters' own distributions, from this checkout (not published yet).
ADAPTERS = tuple(
    str(ROOT / "integrations" / name)
    for name in ("langchain-clawrouter", "llama-index-tools-clawrouter")
)


def prepare_env(env: Path) -> Path:
    """A virtualenv with this project (the demo's extras: both frameworks' agents) and the
    peers; reused if it exists."""
    python = env / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"{ROOT}[demo]", *ADAPTERS, *PEERS],
            check=True,
        )
    else:  # a reused environment gets this checkout's code, not what it had before
        pip = [str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall"]
        subprocess.run([*pip, str(ROOT), *ADAPTERS], check=True)
    return python


def _print_report(report: dict[str, Any]) -> None:
    per_call = report["per_call"]
    raw = per_call["raw httpx.Client"]["median_us"]
    print("\nper call, sequential (us)")
    print(f"  {'client':34} {'median':>9} {'p90':>9} {'vs raw httpx':>13}")
    for name, row in per_call.items():
        print(
            f"  {name:34} {row['median_us']:9.1f} {row['p90_us']:9.1f} {row['median_us'] / raw:12.2f}x"
        )
    print("\nasync fan-out, 64 concurrent x 30 rounds (req/s, median of 3)")
    for name, rate in report["fan_out"].items():
        print(f"  {name:34} {rate:9.0f}")
    imports = report["imports_ms"]
    print("\nimport time in a fresh interpreter (ms, median of 5)")
    for name, ms in imports.items():
        print(f"  {name:34} {ms:9.1f}")
    print(
        "  targets: clawrouter_images after httpx + pydantic <= 15 ms (aim 10); "
        "each adapter after its framework's agents <= 20 ms"
    )
    print("\nclient construction (ms, median of 20)")
    for name, row in report["construction"].items():
        certs = "loads certificates" if row["loads_certificates"] else "no certificates"
        print(f"  {name:34} {row['median_ms']:9.3f}  {certs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", type=Path, help="virtualenv to create or reuse for the peers")
    parser.add_argument("--calls", type=int, default=100, help="calls per round and contender")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="also print the raw JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        python = prepare_env(args.env or Path(scratch) / "peers-env")
        worker = Path(__file__).with_name("_peers_worker.py")
        with stub_server() as base:
            # The worker must not find ~/.blockrun sessions or a wallet of the user's.
            env = {**os.environ, "HOME": scratch, "HERMES_CLAWROUTER_AUTOSPAWN": "0"}
            output = subprocess.run(
                [str(python), str(worker), base, str(args.calls), str(args.rounds)],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            ).stdout
    report = json.loads(output)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )
    _print_report(report)
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

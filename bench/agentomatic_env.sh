#!/usr/bin/env bash
# Agentomatic 1.16 in the benchmark's own environment, bench/.venv-agentomatic
# (gitignored), never among threadstore's dependencies. bench/run.py finds it
# there and times Agentomatic's SQLAlchemyStore in a subprocess
# (bench/agentomatic_side.py) on its own database next to threadstore's.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv-agentomatic
.venv-agentomatic/bin/python -m pip install -q --upgrade pip
.venv-agentomatic/bin/python -m pip install -q 'agentomatic[db]==1.16.0' asyncpg
.venv-agentomatic/bin/python -c "import agentomatic.storage.sqlalchemy" && echo "bench/.venv-agentomatic ready"

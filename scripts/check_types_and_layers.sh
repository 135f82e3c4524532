#!/usr/bin/env bash
# The type checker (mypy with django-stubs: mypy.ini) and the import contracts (import-linter:
# .importlinter) over the product code. Sets up .venv with requirements-test.txt as ./test does.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
bootstrap requirements-test.txt
echo "== Types (mypy)"
# django-stubs' plugin loads the settings: DEBUG=1 lets them load without a SECRET_KEY.
DEBUG=1 .venv/bin/mypy
echo "== Layers (import-linter)"
.venv/bin/lint-imports

#!/usr/bin/env bash
# A typical npm-distributed agent (claude, codex, gemini, ...): needs npm, which the
# version-check image has even when the host does not. Needs network access.
set -euo pipefail
npm view @anthropic-ai/claude-code version

# Sourced by the other scripts: a .venv with exactly the locked dependencies (uv installs it in seconds).
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
# Use the system CA bundle (a proxy's CA is trusted there); uv ignores pip.conf.
export UV_SYSTEM_CERTS=1
# Compile bytecode at install: with PYTHONDONTWRITEBYTECODE set, every connector start would recompile.
export UV_COMPILE_BYTECODE=1
uv sync --frozen --quiet


# Sourced by the report scripts: the headless Chromium command line.
# Debian's `chromium` package; --no-sandbox because CI runs as root; the network flags stop
# Chromium's own background connections, which this machine's closed network refuses.
CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
chromium_flags=(
  --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --hide-scrollbars
)

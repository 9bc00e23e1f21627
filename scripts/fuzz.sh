#!/usr/bin/env bash
# Fuzzes what Deskhand reads from the outside, with cargo-fuzz (libFuzzer):
#   scripts/fuzz.sh inbound_event 300   # the inbound event decoder, for 300 s
#   scripts/fuzz.sh mime_message 300    # MIME extraction
# Installs cargo-fuzz on first use. The sanitizer flags are nightly-only; RUSTC_BOOTSTRAP
# lets the stable toolchain accept them. New inputs go to fuzz/corpus/<target> (not
# committed); crashes to fuzz/artifacts/<target>.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export PATH="$HOME/.cargo/bin:$PATH"
target=${1:?usage: scripts/fuzz.sh inbound_event|mime_message [seconds]}
seconds=${2:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p "corpus/$target"
RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$target" "corpus/$target" "seeds/$target" -- \
  -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=1048576
